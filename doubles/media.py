"""What the platform doubles share for images: reading a multipart/form-data body, and
telling an image's type and size from its bytes (as the platforms do, rather than
trusting the name or the declared type). Standard library only, like the doubles.
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class FormPart:
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")


def multipart_form(content_type: str, body: bytes) -> dict[str, list[FormPart]]:
    """The fields of a multipart/form-data body, by name (a name may repeat), or {} when
    the body is not multipart/form-data."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, list[FormPart]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        declared = part.get("Content-Type")
        fields.setdefault(name, []).append(
            FormPart(
                data=payload if isinstance(payload, bytes) else b"",
                filename=part.get_filename(),
                content_type=part.get_content_type() if declared else None,
            )
        )
    return fields


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes really are (PNG, JPEG, GIF or WebP), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from the image header, or None when it cannot be read."""
    try:
        kind = sniff_image(data)
        if kind == "image/png":
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if kind == "image/gif":
            width, height = struct.unpack("<HH", data[6:10])
            return width, height
        if kind == "image/jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the segments to the first start-of-frame marker, which holds the size.
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def images_html(images: list[tuple[str, str, int | None, int | None]]) -> str:
    """<img> elements for a post page, from (src, alt text, width, height)."""
    return "".join(
        f'<p><img src="{html.escape(src)}" alt="{html.escape(alt)}"'
        f"{f' width={width} height={height}' if width and height else ''}></p>\n"
        for src, alt, width, height in images
    )
