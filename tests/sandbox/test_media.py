"""sandbox.media: uploads checked against X's rules and re-encoded with no metadata.

Every image is made here with Pillow; no binary fixtures. No database.
"""

import io
import struct
import time
import warnings
import zlib
from typing import Literal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile, PngImagePlugin, TiffImagePlugin
from PIL.ExifTags import GPS, IFD, Base

from sandbox import media
from sandbox.media import CleanImage, InvalidImage, clean_image, validate_alt_text

MB = 1024 * 1024
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SANDPIT-XMP-CREATOR</x:xmpmeta>'
LATITUDE_SECONDS = struct.pack(">II", 1237, 100)  # 12.37", as Pillow writes it (big-endian)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def photo(name: str = "ward.jpg") -> SimpleUploadedFile:
    """A phone photo, as uploaded, that says where it was taken."""
    data = encode(Image.new("RGB", (64, 48), "green"), "JPEG", exif=revealing_exif())
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def reopen(clean: CleanImage) -> Image.Image:
    image = Image.open(io.BytesIO(clean.data))
    image.load()
    return image


def revealing_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: where, when and on what the photo was taken."""
    exif = Image.Exif()
    exif[Base.Orientation] = orientation
    exif[Base.Make] = "Acme Cam"
    exif[Base.DateTime] = "2025:03:14 09:26:53"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "N"
    gps[GPS.GPSLatitude] = (
        TiffImagePlugin.IFDRational(51, 1),
        TiffImagePlugin.IFDRational(30, 1),
        TiffImagePlugin.IFDRational(1237, 100),
    )
    gps[GPS.GPSLongitudeRef] = "W"
    gps[GPS.GPSLongitude] = (
        TiffImagePlugin.IFDRational(0, 1),
        TiffImagePlugin.IFDRational(7, 1),
        TiffImagePlugin.IFDRational(3, 1),
    )
    gps[GPS.GPSMapDatum] = "SANDPIT-DATUM"
    return exif


def two_tone(size: tuple[int, int] = (40, 20)) -> Image.Image:
    """Red on the left, blue on the right, so rotation shows."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    return image


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of under 100 bytes whose header claims width by height: a decompression bomb."""
    data = bytearray(encode(Image.new("1", (8, 8)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)  # IHDR's width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # IHDR's CRC
    return bytes(data)


def assert_no_metadata(clean: CleanImage) -> None:
    image = reopen(clean)
    assert not image.getexif()
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"} & set(image.info)
    for secret in (b"Exif", b"Acme Cam", b"SANDPIT-DATUM", LATITUDE_SECONDS, b"SANDPIT-XMP"):
        assert secret not in clean.data


# Metadata -----------------------------------------------------------------------------------


def test_a_photos_exif_goes_gps_and_all_and_it_stays_the_right_way_up() -> None:
    # Orientation 6: the camera was on its side; turn 90° clockwise to view.
    photo = encode(two_tone(), "JPEG", exif=revealing_exif(orientation=6), xmp=XMP)
    assert b"Exif" in photo and b"SANDPIT-DATUM" in photo and LATITUDE_SECONDS in photo

    clean = clean_image(photo, filename="ward.jpg")

    assert_no_metadata(clean)
    assert (clean.width, clean.height) == (20, 40)
    upright = reopen(clean).convert("RGB")
    assert upright.size == (20, 40)
    red, blue = upright.getpixel((10, 5)), upright.getpixel((10, 35))
    assert isinstance(red, tuple) and isinstance(blue, tuple)
    assert red[0] > 200 and red[2] < 60  # the left (red) half is now on top
    assert blue[2] > 200 and blue[0] < 60


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_and_xmp_go_from_other_formats_too(fmt: str) -> None:
    params: dict[str, object] = {"exif": revealing_exif(), "xmp": XMP}
    if fmt == "PNG":  # Pillow writes PNG XMP as an iTXt chunk
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        params = {"exif": revealing_exif(), "pnginfo": info}
    upload = encode(two_tone(), fmt, **params)
    assert b"SANDPIT-DATUM" in upload and b"SANDPIT-XMP" in upload

    assert_no_metadata(clean_image(upload))


def test_png_text_chunks_go() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "SANDPIT-AUTHOR")
    info.add_text("Comment", "SANDPIT-ZTXT " * 20, zip=True)
    info.add_itxt("Description", "SANDPIT-ITXT", lang="en")
    upload = encode(two_tone(), "PNG", pnginfo=info)

    clean = clean_image(upload)

    image = reopen(clean)
    assert isinstance(image, PngImagePlugin.PngImageFile)
    assert image.text == {}
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"SANDPIT"):
        assert chunk not in clean.data


def test_jpeg_and_gif_comments_go() -> None:
    for fmt in ("JPEG", "GIF"):
        clean = clean_image(encode(two_tone(), fmt, comment=b"SANDPIT-COMMENT"))
        assert b"SANDPIT-COMMENT" not in clean.data
        assert "comment" not in reopen(clean).info


def test_an_embedded_colour_profile_is_baked_into_the_pixels_then_dropped() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    upload = encode(two_tone(), "JPEG", icc_profile=profile)
    assert b"ICC_PROFILE" in upload

    clean = clean_image(upload)

    assert b"ICC_PROFILE" not in clean.data
    assert "icc_profile" not in reopen(clean).info


def test_a_broken_colour_profile_is_dropped_without_fuss() -> None:
    clean = clean_image(encode(two_tone(), "PNG", icc_profile=b"not a profile" * 20))
    assert "icc_profile" not in reopen(clean).info


# Formats --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("JPEG", "image/jpeg", ".jpg"),
        ("PNG", "image/png", ".png"),
        ("GIF", "image/gif", ".gif"),
        ("WEBP", "image/webp", ".webp"),
    ],
)
def test_each_allowed_format_comes_back_as_itself(
    fmt: str, content_type: str, extension: str
) -> None:
    # The name says JPEG for all of them: only the content counts.
    clean = clean_image(encode(two_tone((64, 48)), fmt), filename="photo.jpg")

    assert (clean.content_type, clean.extension) == (content_type, extension)
    assert (clean.width, clean.height) == (64, 48)
    image = reopen(clean)
    assert image.format == fmt
    assert image.size == (64, 48)
    left = image.convert("RGB").getpixel((5, 24))
    assert isinstance(left, tuple) and left[0] > 200  # still red on the left


def test_a_phone_jpeg_holding_two_pictures_keeps_the_main_one() -> None:
    upload = encode(two_tone(), "MPO", save_all=True, append_images=[Image.new("RGB", (8, 8))])
    assert Image.open(io.BytesIO(upload)).format == "MPO"

    clean = clean_image(upload)

    assert clean.content_type == "image/jpeg"
    assert reopen(clean).format == "JPEG"
    assert (clean.width, clean.height) == (40, 20)


def test_cmyk_becomes_rgb() -> None:
    clean = clean_image(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"))
    image = reopen(clean)
    assert image.mode == "RGB"
    red = image.getpixel((4, 4))
    assert isinstance(red, tuple) and red[0] > 200 and red[1] < 60


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF"])
def test_transparency_is_kept(fmt: str) -> None:
    image = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    image.putpixel((0, 0), (0, 0, 255, 255))
    clean = reopen(clean_image(encode(image, fmt))).convert("RGBA")
    corner, rest = clean.getpixel((0, 0)), clean.getpixel((5, 5))
    assert isinstance(corner, tuple) and isinstance(rest, tuple)
    assert corner[3] == 255 and rest[3] == 0


def test_a_palette_png_stays_a_palette_png_with_its_transparency() -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.putpixel((0, 0), 0)
    upload = encode(image, "PNG", transparency=0)

    clean = reopen(clean_image(upload))

    assert clean.mode == "P"
    rgba = clean.convert("RGBA")
    assert rgba.getpixel((0, 0)) == (0, 0, 0, 0)
    assert rgba.getpixel((4, 4)) == (255, 0, 0, 255)


def test_a_16_bit_greyscale_png_keeps_its_greys() -> None:
    upload = encode(Image.new("I;16", (8, 8), 32768), "PNG")

    grey = reopen(clean_image(upload)).convert("L").getpixel((4, 4))

    assert grey == 128  # not clipped to white


def test_an_animated_gif_keeps_its_frames_timing_and_looping_but_not_its_comment() -> None:
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "lime", "blue")]
    upload = encode(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300],
        loop=0,
        comment=b"SANDPIT-COMMENT",
    )

    clean = clean_image(upload)

    assert b"SANDPIT-COMMENT" not in clean.data
    image = Image.open(io.BytesIO(clean.data))
    assert getattr(image, "n_frames", 1) == 3
    assert image.info.get("loop") == 0
    seen = []
    for index in range(3):
        image.seek(index)
        seen.append((image.convert("RGB").getpixel((5, 5)), image.info.get("duration")))
    assert seen == [((255, 0, 0), 100), ((0, 255, 0), 200), ((0, 0, 255), 300)]


def test_a_gif_with_too_many_frames_is_refused() -> None:
    frames = [Image.new("L", (4, 4), shade % 256) for shade in range(media.MAX_GIF_FRAMES + 1)]
    upload = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])

    with pytest.raises(InvalidImage) as raised:
        clean_image(upload)

    assert raised.value.message.startswith("This GIF is too long or too large for us to process")


# Not images, or not ones X takes ----------------------------------------------------------------


def test_a_pdf_renamed_png_is_named_as_a_pdf() -> None:
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"

    with pytest.raises(InvalidImage) as raised:
        clean_image(pdf)
    assert raised.value.message == (
        "This file is a PDF, not an image. Upload a JPEG, PNG, GIF or WebP."
    )

    with pytest.raises(InvalidImage) as raised:
        clean_image(pdf, filename="Scan 3.PNG")
    assert raised.value.message == (
        "This file is a PDF, not an image, even though its name ends in .png. "
        "Upload a JPEG, PNG, GIF or WebP."
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (b"PK\x03\x04" + bytes(40), "This file is a ZIP file or an Office document, not an image."),
        (b"\xef\xbb\xbf\n <!DOCTYPE html><html>", "This file is a web page (HTML), not an image."),
        (bytes(4) + b"ftypisom" + bytes(20), "This file is a video, not an image."),
        (
            bytes([0, 0, 0, 24]) + b"ftypheic" + bytes(20),
            "This image is an HEIC photo (the format iPhones use by default), which X "
            "doesn't accept.",
        ),
        (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            "This image is an SVG drawing, which X doesn't accept.",
        ),
        (encode(two_tone(), "TIFF"), "This image is a TIFF file, which X doesn't accept."),
        (encode(two_tone(), "BMP"), "This image is a BMP file, which X doesn't accept."),
    ],
)
def test_other_kinds_of_file_are_named(upload: bytes, message: str) -> None:
    with pytest.raises(InvalidImage) as raised:
        clean_image(upload)
    assert raised.value.message.startswith(message)


def _truncated_jpeg() -> bytes:
    photo = encode(Image.effect_noise((200, 200), 60).convert("RGB"), "JPEG")
    return photo[: len(photo) // 2]


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(bytes(1000), id="zeros"),
        pytest.param(bytes(range(256)) * 4, id="random-ish"),
        pytest.param(_truncated_jpeg(), id="truncated-jpeg"),
        pytest.param(b"\x89PNG\r\n\x1a\n", id="png-signature-only"),
        pytest.param(b"GIF89a", id="gif-signature-only"),
        pytest.param(encode(two_tone(), "PNG")[:60], id="truncated-png"),
    ],
)
def test_damaged_or_unknown_files_are_refused_in_plain_words(upload: bytes) -> None:
    with pytest.raises(InvalidImage) as raised:
        clean_image(upload)
    assert raised.value.message == (
        "We couldn't read this file as an image: it may be damaged or incomplete, or not an "
        "image at all. Upload a JPEG, PNG, GIF or WebP."
    )


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidImage, match=r"^This file is empty\."):
        clean_image(b"")


# Size -------------------------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_quickly_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = png_declaring(30_000, 30_000)  # 900 million pixels in under 100 bytes
    loads: list[object] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self))

    started = time.perf_counter()
    with pytest.raises(InvalidImage) as raised:
        clean_image(bomb)

    assert time.perf_counter() - started < 2
    assert loads == []
    assert raised.value.message.startswith(
        "This image is too large to open safely (30,000×30,000 pixels)."  # noqa: RUF001
    )


@pytest.mark.parametrize("action", ["ignore", "error"])
def test_pillows_warning_band_is_refused_whether_or_not_warnings_are_errors(
    action: Literal["ignore", "error"],
) -> None:
    # 100 million pixels: Pillow warns rather than refusing; where warnings are errors the
    # warning is what arrives.
    with warnings.catch_warnings():
        warnings.simplefilter(action, Image.DecompressionBombWarning)
        with pytest.raises(InvalidImage, match="too large to open safely"):
            clean_image(png_declaring(10_000, 10_000))


def test_our_pixel_ceiling_is_below_pillows() -> None:
    assert (Image.MAX_IMAGE_PIXELS or 0) > media.MAX_PIXELS
    with pytest.raises(InvalidImage) as raised:
        clean_image(png_declaring(7000, 7000))  # 49 million: Pillow would open it
    assert raised.value.message.startswith(
        "This image is too large to open safely (7,000×7,000 pixels)."  # noqa: RUF001
    )


def test_nothing_global_is_changed() -> None:
    limit, filters = Image.MAX_IMAGE_PIXELS, list(warnings.filters)
    for upload in (png_declaring(30_000, 30_000), png_declaring(7000, 7000), b"x"):
        with pytest.raises(InvalidImage):
            clean_image(upload)
    assert limit == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((9000, 10), "This image is 9,000×10 pixels; X accepts up to 8,192 pixels on each side."),  # noqa: RUF001
        ((3, 100), "This image is only 3×100 pixels; X needs at least 4×4."),  # noqa: RUF001
    ],
)
def test_dimensions_outside_xs_limits_are_refused(size: tuple[int, int], message: str) -> None:
    with pytest.raises(InvalidImage) as raised:
        clean_image(encode(Image.new("L", size), "PNG"))
    assert raised.value.message.startswith(message)


def test_the_largest_and_smallest_sides_x_takes_are_accepted() -> None:
    assert clean_image(encode(Image.new("L", (8192, 4)), "PNG")).width == 8192


def padded(fmt: str, total: int) -> bytes:
    """A valid image followed by filler (decoders ignore bytes after the image's end)."""
    image = encode(two_tone(), fmt)
    return image + bytes(total - len(image))


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (padded("JPEG", 12 * MB), "This image is 12 MB; X accepts images up to 5 MB."),
        (padded("PNG", 5 * MB + 1), "This image is 5.1 MB; X accepts images up to 5 MB."),
        (padded("GIF", 16 * MB), "This GIF is 16 MB; X accepts GIFs up to 15 MB."),
    ],
)
def test_files_over_xs_size_limits_are_refused(upload: bytes, message: str) -> None:
    with pytest.raises(InvalidImage) as raised:
        clean_image(upload)
    assert raised.value.message == f"{message} Make it smaller and try again."


def test_a_gif_may_be_bigger_than_a_still_image() -> None:
    assert clean_image(padded("GIF", 6 * MB)).content_type == "image/gif"


def test_exactly_the_limit_is_allowed() -> None:
    assert clean_image(padded("JPEG", media.MAX_BYTES)).content_type == "image/jpeg"


# Never anything but InvalidImage ---------------------------------------------------------------

_VALID = [encode(two_tone((16, 8)), fmt) for fmt in ("JPEG", "PNG", "GIF", "WEBP")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_give_a_clean_image_or_invalid_image(data: bytes) -> None:
    try:
        assert isinstance(clean_image(data), CleanImage)
    except InvalidImage as exc:
        assert exc.message


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_VALID),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    st.integers(min_value=0),
)
def test_damaged_real_images_give_a_clean_image_or_invalid_image(
    image: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    # Random bytes rarely get past the signature; damage to a real image reaches the decoders.
    damaged = bytearray(image)
    for position, value in flips:
        damaged[position % len(damaged)] = value
    damaged = damaged[: max(1, len(damaged) - cut % len(damaged))]
    try:
        clean_image(bytes(damaged))
    except InvalidImage as exc:
        assert exc.message


# Alt text ----------------------------------------------------------------------------------------


def test_alt_text_is_stripped() -> None:
    assert validate_alt_text("  Two nurses at the ward's front desk.\n") == (
        "Two nurses at the ward's front desk."
    )


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_alt_text_is_required_and_the_message_says_why(text: str) -> None:
    with pytest.raises(InvalidImage) as raised:
        validate_alt_text(text)
    assert "blind and partially sighted people" in raised.value.message


def test_alt_text_may_be_exactly_the_limit() -> None:
    text = "é" * media.ALT_TEXT_MAX  # characters, not bytes
    assert validate_alt_text(f" {text} ") == text


@pytest.mark.parametrize(
    ("over", "words"), [(1, "1 character too long"), (1234, "1,234 characters")]
)
def test_alt_text_over_the_limit_says_by_how_much(over: int, words: str) -> None:
    with pytest.raises(InvalidImage) as raised:
        validate_alt_text("a" * (media.ALT_TEXT_MAX + over))
    assert words in raised.value.message
    assert "1,000" in raised.value.message


# The rest of the contract ----------------------------------------------------------------------


def test_the_limits() -> None:
    assert media.MAX_IMAGES_PER_POST == 4
    assert media.ALT_TEXT_MAX == 1000
    assert media.MAX_BYTES == 5 * MB
    assert media.MAX_GIF_BYTES == 15 * MB
    assert set(media.CONTENT_TYPES) == {"image/jpeg", "image/png", "image/gif", "image/webp"}


def test_invalid_image_is_a_value_error_with_a_message() -> None:
    error = InvalidImage("Nope.")
    assert isinstance(error, ValueError)
    assert error.message == str(error) == "Nope."


def test_a_clean_image_cannot_be_changed() -> None:
    clean = clean_image(encode(two_tone(), "PNG"))
    with pytest.raises(AttributeError):
        clean.data = b""
