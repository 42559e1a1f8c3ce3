"""How views read requests and answer refusals: one rule each, for every view.

- ``id_from``: the one way to read an id (or a position) that a browser sent.
- ``ShortFileNames``: a multipart body with an absurd file name is still read.
- ``refused``: a service's refusal becomes a 403 or a message on the page it came from.
"""

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, multipartparser
from django_htmx.middleware import HtmxDetails

from sandbox.errors import DomainError, NotAllowed


class AuthenticatedRequest(HttpRequest):
    """What a view behind ``login_required`` receives (for type checking)."""

    user: User
    htmx: HtmxDetails


def refused(request: HttpRequest, error: DomainError, *, back_to: str) -> HttpResponse:
    """A role that may not act gets a 403 page with the reason; anything else (wrong
    state, bad input) goes back to the page it came from with the message shown."""
    if isinstance(error, NotAllowed):
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return HttpResponseRedirect(back_to, status=303)


# Ids -------------------------------------------------------------------------------------

# Every number of up to 18 digits fits a PostgreSQL bigint (whose largest, 9,223,372,036,
# 854,775,807, has 19), so a lookup with it can never overflow; and it is far inside
# Python's 4,300-digit limit on reading an int from text.
MAX_ID_DIGITS = 18
# [0-9], not \d or str.isdigit(): those also take '²' (which int() then refuses) and
# '١٢٣' (which int() reads as 123).
_ID = re.compile(f"[0-9]{{1,{MAX_ID_DIGITS}}}")


def id_from(value: object) -> int | None:
    """An id (or a box's position) as a request sent it: ASCII digits only, at most 18 of
    them, else None. Views answer None with a 404 or a message, never a 500."""
    if isinstance(value, str) and _ID.fullmatch(value):
        return int(value)
    return None


# Uploads with absurd file names --------------------------------------------------------------

# Part headers longer than this are rewritten, well before Django's parser refuses them
# (MAX_TOTAL_HEADER_SIZE, 1 KB, counted with the part's line breaks); real ones are ~150.
_LONG_PART_HEADERS = multipartparser.MAX_TOTAL_HEADER_SIZE // 2  # type: ignore[attr-defined]
# How much of a rewritten file name is kept, from its end so the extension survives: only
# a hint for messages ("even though its name ends in .png"). Stored files get random names.
_FILE_NAME_HINT = 60
# Headers are looked for this far past a boundary, at most; past it the part is passed on
# as it came (and Django refuses the body, as it always did).
_HEADERS_READ_LIMIT = 1024 * 1024
_FILE_NAME_PARAMETER = re.compile(
    rb';[ \t]*filename\*?[ \t]*=[ \t]*("(?:[^"\\\r\n]|\\.)*"?|[^;\r\n]*)', re.IGNORECASE
)


class ShortFileNames(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS. Django's multipart parser refuses the whole body,
    with a bare 400, when one part's headers pass 1 KB, as a 5,000-character file name
    makes them. It is a constant in django.http.multipartparser, not a setting, and the
    CSRF check reads the body before any view runs, so no view could catch it: the
    trainee lost everything they had typed. This handler parses the body with Django's
    own parser instead, reading it through _ShortPartHeaders, which shortens such file
    names (and drops a part whose headers are long for any other reason)."""

    def handle_raw_input(  # type: ignore[override]  # django-stubs say str; Django sends bytes
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> tuple[Any, Any]:
        assert self.request is not None
        others = [handler for handler in self.request.upload_handlers if handler is not self]
        stream = _ShortPartHeaders(input_data, boundary)
        return multipartparser.MultiPartParser(META, stream, others, encoding).parse()  # type: ignore[arg-type]


def _short_file_name(match: re.Match[bytes]) -> bytes:
    name = match.group(1).strip(b'"').replace(b"\\", b"/").rpartition(b"/")[2]
    # Plain characters only: what is left is a hint, never a path or a second parameter.
    hint = re.sub(rb"[^A-Za-z0-9._ -]", b"_", name[-_FILE_NAME_HINT:]).strip(b". ")
    return b'; filename="' + (hint or b"file") + b'"'


def _shortened(headers: bytes) -> bytes:
    """A part's headers, as they came unless too long for Django's parser."""
    if len(headers) <= _LONG_PART_HEADERS:
        return headers
    headers = _FILE_NAME_PARAMETER.sub(_short_file_name, headers)
    if len(headers) <= _LONG_PART_HEADERS:
        return headers
    # Long for another reason (a field name of thousands of characters, say): no field of
    # ours is named like that, so the part goes unnamed, and Django skips an unnamed part.
    return b"\r\nContent-Disposition: form-data"


class _ShortPartHeaders:
    """A multipart body read through unchanged, except each part's headers (from a
    boundary to the blank line after it) go through _shortened."""

    def __init__(self, stream: Any, boundary: bytes) -> None:
        self._stream = stream
        self._delimiter = b"--" + boundary
        self._pending = b""  # read, not yet looked at
        self._ready = bytearray()  # looked at, not yet handed on
        self._in_headers = False
        self._ended = False

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._ready) < size) and (self._pending or not self._ended):
            self._step()
        size = len(self._ready) if size < 0 else size
        out = bytes(self._ready[:size])
        del self._ready[:size]
        return out

    def _step(self) -> None:
        if self._in_headers:
            end = self._pending.find(b"\r\n\r\n")
            if end != -1:
                self._hand_on(end + 4, _shortened(self._pending[:end]) + b"\r\n\r\n")
                self._in_headers = False
                return
            if self._ended or len(self._pending) > _HEADERS_READ_LIMIT:
                self._hand_on(len(self._pending))
                self._in_headers = False
                return
        else:
            start = self._pending.find(self._delimiter)
            if start != -1:
                self._hand_on(start + len(self._delimiter))
                self._in_headers = True
                return
            # Keep what could be the start of a delimiter cut in two by the read.
            keep = 0 if self._ended else len(self._delimiter) - 1
            self._hand_on(max(0, len(self._pending) - keep))
            if self._ended:
                return
        chunk = self._stream.read(64 * 1024)
        self._ended = not chunk
        self._pending += chunk

    def _hand_on(self, count: int, replacement: bytes | None = None) -> None:
        self._ready += self._pending[:count] if replacement is None else replacement
        self._pending = self._pending[count:]
