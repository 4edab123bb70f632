"""HTTP details shared by the endpoints: the response, request paths, error logging,
media types, gzip, and conditional GET (the caching a feed reader relies on)."""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from wsgiref.types import WSGIEnvironment

GZIP_MIN_BYTES = 512

_BY_SUFFIX = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".eml": "message/rfc822",  # RFC 2046 defines no charset parameter for it
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
}
_XML_ROOTS = {
    "rss": "application/rss+xml; charset=utf-8",
    "feed": "application/atom+xml; charset=utf-8",
    "opml": "text/x-opml; charset=utf-8",
}
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_COMPRESSIBLE = (
    "text/",
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/xml",
    "image/svg+xml",
    "message/rfc822",
)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str, value: str) -> Response:
        self.headers.append((name, value))
        return self


def text_response(status: int, text: str) -> Response:
    return Response(status, [("Content-Type", "text/plain; charset=utf-8")], text.encode("utf-8"))


def request_path(environ: WSGIEnvironment) -> str | None:
    """PATH_INFO as text (WSGI hands it over as latin-1-decoded bytes); None when not UTF-8."""
    raw = str(environ.get("PATH_INFO", "") or "/")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def log_error(environ: WSGIEnvironment, message: str) -> None:
    """One line to the server's error log."""
    errors = environ.get("wsgi.errors") or sys.stderr
    errors.write(message + "\n")
    errors.flush()


def media_type(name: str, head: bytes) -> str:
    """The media type of an output file from its name, looking inside .xml and .json files."""
    suffix = os.path.splitext(name)[1].lower()
    if suffix == ".xml":
        match = _FIRST_ELEMENT.search(head)
        root = match[1].decode("ascii", "replace").rsplit(":", 1)[-1].lower() if match else ""
        return _XML_ROOTS.get(root, "application/xml; charset=utf-8")
    if suffix == ".json":
        if b"jsonfeed.org/version/" in head:
            return "application/feed+json; charset=utf-8"
        return "application/json"
    return _BY_SUFFIX.get(suffix, "application/octet-stream")


def compressible(media: str) -> bool:
    """Whether gzip is worth offering for this media type (text, not images that are compressed already)."""
    return media.startswith(_COMPRESSIBLE)


def gzipped(data: bytes) -> bytes:
    """The gzip body; mtime 0 so the same file always gives the same bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def accepts_gzip(header: str) -> bool:
    """True when Accept-Encoding allows gzip (explicitly or by `*`) with a q above zero."""
    found: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                q = float(match[1])
            except ValueError:
                q = 0.0
        found[name.strip().lower()] = q
    if "gzip" in found:
        return found["gzip"] > 0
    return found.get("*", 0.0) > 0


def not_modified(environ: WSGIEnvironment, etag: str, mtime: float) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since; either representation's tag matches."""
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        if str(inm).strip() == "*":
            return True
        tags = {t.strip().removeprefix("W/") for t in str(inm).split(",")}
        return bool(tags & {f'"{etag}"', f'"{etag}-gz"'})
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims:
        try:
            since = parsedate_to_datetime(str(ims))
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return int(mtime) <= since.timestamp()
        except (TypeError, ValueError, IndexError, OverflowError, OSError):
            return False  # RFC 9110 13.1.3: a date that cannot be read is ignored
    return False


def dechunk(environ: WSGIEnvironment, limit: int = 64 * 1024) -> Response | None:
    """A chunked request body is read (when the server decodes it and marks the stream as ending)
    or refused with 411, never taken for an empty body. On reading, CONTENT_LENGTH is set."""
    if "chunked" not in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower() or environ.get("CONTENT_LENGTH"):
        return None
    if not environ.get("wsgi.input_terminated"):
        return text_response(411, "send the body with a Content-Length\n")
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return text_response(413, "request body too large\n")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return None
