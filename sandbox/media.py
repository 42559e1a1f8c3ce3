"""Images attached to practice posts: checked against X's rules, then stripped of metadata.

A photo's EXIF can say where it was taken (GPS), when, and on which phone, so a trainee's
photo outside a ward could give away where a patient lives. clean_image therefore never
passes the uploaded bytes on: it decodes the pixels and encodes them afresh, and the new
file holds the picture and nothing else.

The type comes from the content, sniffed by Pillow, never from the file name or the
browser's content type. Anything wrong with a file, down to random bytes, comes back as an
InvalidImage whose message is written for the trainee, to show as it is.

Pure: no models and no settings, so forms and services can both call it.
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass

from PIL import (
    GifImagePlugin,
    Image,
    ImageCms,
    ImageOps,
    ImageSequence,
    JpegImagePlugin,
    PngImagePlugin,
    WebPImagePlugin,
)

__all__ = [
    "ALT_TEXT_MAX",
    "CONTENT_TYPES",
    "MAX_BYTES",
    "MAX_DIMENSION",
    "MAX_GIF_BYTES",
    "MAX_GIF_FRAMES",
    "MAX_IMAGES_PER_POST",
    "MAX_PIXELS",
    "MIN_DIMENSION",
    "CleanImage",
    "InvalidImage",
    "clean_image",
    "validate_alt_text",
]

MAX_IMAGES_PER_POST = 4
ALT_TEXT_MAX = 1000

_MB = 1024 * 1024
MAX_BYTES = 5 * _MB  # X's limit for a still image
MAX_GIF_BYTES = 15 * _MB  # X's limit for a GIF
MAX_DIMENSION = 8192  # X's largest width or height
MIN_DIMENSION = 4  # X's smallest width or height

# Our own ceiling, not X's: how much we will decode on a web worker. 40 million pixels is
# 160 MB as RGBA, and more than any real photo under 5 MB has; Pillow's own bomb limit
# (89 million warns, 179 million refuses) is far too generous for that. An animated GIF's
# frames count together, since all of them are held to re-encode it.
MAX_PIXELS = 40_000_000
# Also ours: a GIF of thousands of tiny frames would stay under MAX_PIXELS yet take long
# enough to decode to tie up a worker.
MAX_GIF_FRAMES = 300

JPEG_QUALITY = 90
# Re-encoding at 90 can make a file saved at a lower quality bigger, even past X's limit;
# try these in turn before turning the trainee away.
_LOSSY_QUALITIES = (JPEG_QUALITY, 80, 70)


@dataclass(frozen=True)
class _Format:
    pillow: str
    content_type: str
    extension: str
    max_bytes: int
    modes: tuple[str, ...]  # what the encoder writes as it is; others are converted
    alpha: bool


_JPEG = _Format("JPEG", "image/jpeg", ".jpg", MAX_BYTES, ("L", "RGB"), alpha=False)
_PNG = _Format(
    "PNG", "image/png", ".png", MAX_BYTES, ("1", "L", "LA", "P", "RGB", "RGBA"), alpha=True
)
_GIF = _Format("GIF", "image/gif", ".gif", MAX_GIF_BYTES, ("L", "P"), alpha=True)
_WEBP = _Format("WEBP", "image/webp", ".webp", MAX_BYTES, ("RGB", "RGBA"), alpha=True)

# Pillow's format name -> what we write. Phones' JPEGs that carry a second picture
# (a depth map, a preview) open as MPO; only the main picture is kept.
_FORMATS = {"JPEG": _JPEG, "MPO": _JPEG, "PNG": _PNG, "GIF": _GIF, "WEBP": _WEBP}
# Handing Pillow only these keeps its other parsers (EPS, TIFF, ...) away from uploads.
_PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
CONTENT_TYPES = tuple(dict.fromkeys(f.content_type for f in _FORMATS.values()))

_BY = "\N{MULTIPLICATION SIGN}"  # "6,000 by 4,000 pixels", as people write it
_UPLOAD = "Upload a JPEG, PNG, GIF or WebP."
_UNREADABLE = (
    "We couldn't read this file as an image: it may be damaged or incomplete, or not an "
    f"image at all. {_UPLOAD}"
)


class InvalidImage(ValueError):
    """Why an image (or its alt text) can't be attached, in words for the trainee."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image with no metadata. extension has its dot, as in ".jpg"."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def clean_image(data: bytes, *, filename: str = "") -> CleanImage:
    """Check an upload against X's rules and return it re-encoded without metadata.

    The EXIF orientation is applied to the pixels first, so a photo taken on its side
    still shows the right way up once the EXIF is gone. An embedded colour profile is
    likewise baked into the pixels as sRGB. Animated GIFs keep their frames, timings and
    looping; animated PNG and WebP keep their first frame only.

    filename is used only to word a message ("even though its name ends in .png"); it
    never decides the type. Raises InvalidImage, and nothing else, whatever the bytes.
    """
    if not data:
        raise InvalidImage("This file is empty. Choose the image again and upload it.")
    image = _open(data, filename)
    try:
        with image:
            fmt = _FORMATS[image.format or ""]
            if len(data) > fmt.max_bytes:
                raise InvalidImage(_too_many_bytes(len(data), fmt))
            _check_size(image.size)
            if fmt is _GIF and getattr(image, "is_animated", False):
                encoded, (width, height) = _encode_animation(image)
            else:
                encoded, (width, height) = _encode_still(image, fmt)
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # A GIF's canvas can grow frame by frame, past the size its header gave.
        raise InvalidImage(_too_large(None)) from exc
    except Exception as exc:
        # Pillow reports damaged data with many exception types (OSError, SyntaxError,
        # ValueError, struct.error, ...), none of which a trainee should ever see.
        raise InvalidImage(_UNREADABLE) from exc
    if len(encoded) > fmt.max_bytes:
        raise InvalidImage(_too_many_bytes(len(encoded), fmt, cleaned=True))
    return CleanImage(encoded, fmt.content_type, fmt.extension, width, height)


def validate_alt_text(text: str) -> str:
    """The alt text, stripped; raises InvalidImage if it's missing or too long.

    Length counts characters (code points), not bytes.
    """
    cleaned = text.strip()
    if not cleaned:
        raise InvalidImage(
            "Describe this image (alt text). It's how blind and partially sighted people "
            "know what the image shows."
        )
    if len(cleaned) > ALT_TEXT_MAX:
        over = len(cleaned) - ALT_TEXT_MAX
        raise InvalidImage(
            f"This description is {over:,} character{'s' if over != 1 else ''} too long: X "
            f"allows {ALT_TEXT_MAX:,}. Keep to what the image shows and why it matters."
        )
    return cleaned


# Opening and checking -----------------------------------------------------------------


def _open(data: bytes, filename: str) -> Image.Image:
    """Sniff the content; reads the header only, so nothing big is decoded yet."""
    try:
        return Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses past 179 million pixels itself, and warns past 89 million (an
        # exception only where warnings are errors). Past 40 million we refuse anyway.
        raise InvalidImage(_too_large(_declared_size(data))) from exc
    except Image.UnidentifiedImageError as exc:
        raise InvalidImage(_not_allowed(data, filename)) from exc
    except Exception as exc:
        raise InvalidImage(_UNREADABLE) from exc


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    # Before the per-side limits: "too large to open safely" is the truer reason for a
    # bomb, whatever its shape.
    if width * height > MAX_PIXELS:
        raise InvalidImage(_too_large(size))
    if width > MAX_DIMENSION or height > MAX_DIMENSION:
        raise InvalidImage(
            f"This image is {width:,}{_BY}{height:,} pixels; X accepts up to {MAX_DIMENSION:,} "
            "pixels on each side. Resize it and try again."
        )
    if width < MIN_DIMENSION or height < MIN_DIMENSION:
        raise InvalidImage(
            f"This image is only {width}{_BY}{height} pixels; X needs at least "
            f"{MIN_DIMENSION}{_BY}{MIN_DIMENSION}. Upload a larger image."
        )


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """The size a refused file claims, for the message. Pillow's bomb check lives in
    Image.open, so a format's own class reads the header without it."""
    plugins = (
        PngImagePlugin.PngImageFile,
        JpegImagePlugin.JpegImageFile,
        GifImagePlugin.GifImageFile,
        WebPImagePlugin.WebPImageFile,
    )
    for plugin in plugins:
        with contextlib.suppress(Exception):
            return plugin(io.BytesIO(data)).size
    return None


# Re-encoding ------------------------------------------------------------------------------


def _encode_still(image: Image.Image, fmt: _Format) -> tuple[bytes, tuple[int, int]]:
    image.load()
    picture = _upright(image)
    picture = _in_srgb(picture, image.info.get("icc_profile"))
    picture = _without_metadata(_encodable(picture, fmt))
    if fmt in (_JPEG, _WEBP):
        for quality in _LOSSY_QUALITIES:
            encoded = _save(picture, fmt.pillow, quality=quality, optimize=True)
            if len(encoded) <= fmt.max_bytes:
                break
    else:
        encoded = _save(picture, fmt.pillow, optimize=True)
    return encoded, picture.size


def _encode_animation(image: Image.Image) -> tuple[bytes, tuple[int, int]]:
    loop = image.info.get("loop")  # absent: play once
    frames: list[Image.Image] = []
    durations: list[int] = []
    pixels = 0
    for frame in ImageSequence.Iterator(image):
        pixels += frame.width * frame.height
        if len(frames) == MAX_GIF_FRAMES or pixels > MAX_PIXELS:
            raise InvalidImage(
                "This GIF is too long or too large for us to process: we take up to "
                f"{MAX_GIF_FRAMES} frames and {MAX_PIXELS // 1_000_000} million pixels in "
                f"all (width {_BY} height {_BY} frames). Shorten it or make it smaller and "
                "try again."
            )
        durations.append(frame.info.get("duration", 0))
        # Pillow hands over each frame already composited onto the canvas, so every
        # frame is whole and disposal 2 (clear before the next) plays it back as it was.
        frames.append(_without_metadata(frame.convert("RGBA")))
    params: dict[str, object] = {"duration": durations, "disposal": 2}
    if loop is not None:
        params["loop"] = loop
    encoded = _save(frames[0], "GIF", save_all=True, append_images=frames[1:], **params)
    return encoded, frames[0].size


def _upright(image: Image.Image) -> Image.Image:
    """Turn the pixels the way the EXIF orientation says; a copy either way."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        # EXIF too broken to read has no orientation we could honour, and it is about to
        # be dropped anyway.
        return image.copy()


def _in_srgb(picture: Image.Image, icc: bytes | None) -> Image.Image:
    """Bake an embedded colour profile into the pixels, as sRGB.

    The profile itself is dropped (it carries free text, such as the maker's name), and
    without this a CMYK or Display P3 photo would come out in the wrong colours.
    """
    if not icc or picture.mode not in ("RGB", "RGBA", "CMYK"):
        return picture
    try:
        converted = ImageCms.profileToProfile(
            picture,
            ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGBA" if picture.mode == "RGBA" else "RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return picture  # a broken profile: keep the pixels as they are
    return converted or picture


def _encodable(picture: Image.Image, fmt: _Format) -> Image.Image:
    if picture.mode in ("I", "I;16", "I;16B", "I;16L"):
        # 16-bit greyscale PNG: convert("L") would clip everything bright to white.
        picture = picture.convert("I").point(lambda value: value / 256, "L")
    if picture.mode in fmt.modes:
        return picture
    alpha = fmt.alpha and picture.has_transparency_data
    return picture.convert("RGBA" if alpha else "RGB")


def _without_metadata(picture: Image.Image) -> Image.Image:
    """The encoders write whatever .info holds: EXIF, XMP, ICC profile, comments, text.
    Keep only transparency, which is part of the picture."""
    picture.info = {k: v for k, v in picture.info.items() if k == "transparency"}
    return picture


def _save(picture: Image.Image, pillow_format: str, **params: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, pillow_format, **params)
    return out.getvalue()


# Messages -------------------------------------------------------------------------------


def _too_large(size: tuple[int, int] | None) -> str:
    pixels = f" ({size[0]:,}{_BY}{size[1]:,} pixels)" if size else ""
    return (
        f"This image is too large to open safely{pixels}. Resize it to "
        f"{MAX_PIXELS // 1_000_000} million pixels or fewer (for example 6,000{_BY}4,000) and "
        "try again."
    )


def _too_many_bytes(size: int, fmt: _Format, *, cleaned: bool = False) -> str:
    noun = "GIF" if fmt is _GIF else "image"
    start = f"Once cleaned, this {noun} is" if cleaned else f"This {noun} is"
    return (
        f"{start} {_megabytes(size)}; X accepts {noun}s up to {_megabytes(fmt.max_bytes)}. "
        "Make it smaller and try again."
    )


def _megabytes(size: int) -> str:
    # Rounded up, so a file just over the limit never reads as "5.0 MB" against "5 MB".
    tenths = math.ceil(size * 10 / _MB)
    return f"{tenths // 10} MB" if tenths % 10 == 0 else f"{tenths / 10:.1f} MB"


# What a file is, by its first bytes, for a better message than "can't read it".
_NOT_IMAGES = {
    b"%PDF-": "a PDF",
    b"PK\x03\x04": "a ZIP file or an Office document",  # .docx, .xlsx and .pptx are ZIPs
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "an Office document",  # .doc, .xls, .ppt
    b"{\\rtf": "a Rich Text document",
    b"\x1a\x45\xdf\xa3": "a video",  # WebM, MKV
}
_OTHER_IMAGES = {
    b"II*\x00": "a TIFF file",
    b"MM\x00*": "a TIFF file",
    b"BM": "a BMP file",
    b"8BPS": "a Photoshop file",
}
_HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_AVIF_BRANDS = (b"avif", b"avis")
_IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "gif", "webp")


def _not_allowed(data: bytes, filename: str) -> str:
    kind, is_image = _what_it_is(data[:1024])
    if kind is None:
        return _UNREADABLE
    if is_image:
        return (
            f"This image is {kind}, which X doesn't accept. Save it as a JPEG or PNG and try again."
        )
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    hint = f", even though its name ends in .{extension}" if extension in _IMAGE_EXTENSIONS else ""
    return f"This file is {kind}, not an image{hint}. {_UPLOAD}"


def _what_it_is(head: bytes) -> tuple[str | None, bool]:
    """(a description, whether it's an image) or (None, False) when we can't tell."""
    for magic, kind in _NOT_IMAGES.items():
        if head.startswith(magic):
            return kind, False
    for magic, kind in _OTHER_IMAGES.items():
        if head.startswith(magic):
            return kind, True
    if head[4:8] == b"ftyp":  # the ISO family: HEIC and AVIF photos, MP4 and MOV videos
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "an HEIC photo (the format iPhones use by default)", True
        if brand in _AVIF_BRANDS:
            return "an AVIF file", True
        return "a video", False
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)", False
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "an SVG drawing", True
    return None, False
