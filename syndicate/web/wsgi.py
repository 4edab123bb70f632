"""The web side: one-click unsubscribe (RFC 8058) and a preview of the output directory.

`app` is a WSGI application for any WSGI server (gunicorn, uWSGI, mod_wsgi):
it reads syndicate.toml from $SYNDICATE_SITE (a folder or the file itself) or
the current folder, on the first request. `make_app(config, preview=True)` is
what `syndicate serve` runs: the same unsubscribe endpoint plus the output
directory as a feed reader would see it from a real server.

Unsubscribing: a POST to the List-Unsubscribe URL (token in the query string,
any body; mail clients send `List-Unsubscribe=One-Click`) unsubscribes at once.
A GET never changes anything, because mail scanners fetch links on their own;
it shows a page with a button (unsubscribe, or re-subscribe when already out).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import socketserver
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, quote, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from syndicate.config import Config, find_config, load_config
from syndicate.errors import SyndicateError
from syndicate.newsletter.issue import unsubscribe_url
from syndicate.subscribers import store as subs
from syndicate.subscribers.tokens import StaleToken, TokenError, check_current, make_token, read_token, secret_from_env
from syndicate.templating import render

MAX_FORM_BYTES = 16 * 1024
GZIP_MIN_BYTES = 512
_CACHE_FILES = 512  # metadata of this many files kept (ETag, media type, gzip body)
_CACHE_GZIP_BYTES = 2 * 1024 * 1024  # gzip bodies larger than this are not kept

Clock = Callable[[], datetime]


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str, value: str) -> Response:
        self.headers.append((name, value))
        return self


def _text_response(status: int, text: str) -> Response:
    return Response(status, [("Content-Type", "text/plain; charset=utf-8")], text.encode("utf-8"))


def _request_path(environ: WSGIEnvironment) -> str | None:
    """PATH_INFO as text (WSGI hands it over as latin-1-decoded bytes); None when not UTF-8."""
    raw = str(environ.get("PATH_INFO", "") or "/")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


# ------------------------------------------------------------------------------------------ unsubscribe

_PAGE_HEADERS = [
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),  # the token is in the URL
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    ("X-Frame-Options", "DENY"),
]

_HEADINGS = {
    "confirm": "Unsubscribe?",
    "unsubscribed": "You are unsubscribed",
    "resubscribed": "You are subscribed again",
    "invalid": "This link does not work",
    "stale": "This link has expired",
    "unavailable": "Unsubscribing is not available right now",
}


class Unsubscribe:
    """The List-Unsubscribe endpoint: verify the token, then act (POST) or show the page (GET)."""

    def __init__(self, config: Config, secret: bytes | None, clock: Clock) -> None:
        self.config = config
        self.path = urlsplit(unsubscribe_url(config)).path or "/unsubscribe"
        self._secret = secret
        self.clock = clock

    def matches(self, path: str) -> bool:
        return path.rstrip("/") == self.path.rstrip("/")

    def _page(self, status: int, state: str, *, email: str = "", action: str = "", message: str = "") -> Response:
        body = render(
            self.config.templates_dir,
            "unsubscribe.html",
            site=self.config.site,
            state=state,
            heading=_HEADINGS[state],
            email=email,
            action=action,
            message=message,
        )
        headers = [("Content-Type", "text/html; charset=utf-8"), *_PAGE_HEADERS]
        return Response(status, headers, body.encode("utf-8"))

    def _action(self, sub: subs.Subscriber, secret: bytes) -> str:
        return f"{quote(self.path)}?token={make_token(secret, sub.id, sub.nonce)}"

    def handle(self, environ: WSGIEnvironment, method: str) -> Response:
        if method not in ("GET", "HEAD", "POST"):
            return _text_response(405, "use GET or POST\n").header("Allow", "GET, HEAD, POST")
        try:
            secret = self._secret if self._secret is not None else secret_from_env()
        except SyndicateError as exc:
            _log(environ, f"syndicate: unsubscribe endpoint disabled: {exc}")
            return self._page(503, "unavailable", message="Please try again later, or reply to the message instead.")
        token = (parse_qs(str(environ.get("QUERY_STRING", ""))).get("token") or [""])[0]
        if not token:
            return self._page(
                400,
                "invalid",
                message="This link carries no token: it may come from a test copy, or it was cut short. "
                "Use the unsubscribe link at the end of a digest you received.",
            )
        conn = subs.connect(subs.database_path(self.config.database))
        try:
            try:
                claim = read_token(secret, token)
                current = subs.get(conn, claim.subscriber_id)
                check_current(claim, current.nonce if current else None)
            except TokenError as exc:
                stale = isinstance(exc, StaleToken)
                hint = (
                    "You have subscribed again since this message was sent; use the link in a newer message."
                    if stale
                    else "The link is not valid; it may have been cut short or changed. "
                    "Use the unsubscribe link at the end of a digest you received."
                )
                return self._page(410 if stale else 400, "stale" if stale else "invalid", message=hint)
            assert current is not None
            if method == "POST":
                fields = _form_fields(environ)
                if fields is None:
                    return _text_response(413, "request body too large\n")
                return self._post(conn, current, fields.get("action", ""), secret)
            state = "confirm" if current.status == "subscribed" else "unsubscribed"
            return self._page(200, state, email=current.email, action=self._action(current, secret))
        finally:
            conn.close()

    def _post(self, conn: sqlite3.Connection, sub: subs.Subscriber, action: str, secret: bytes) -> Response:
        if action == "resubscribe":
            updated = subs.set_status(conn, sub.id, "subscribed", self.clock())
            state = "resubscribed"
        else:  # RFC 8058 one-click (any body), or our own form's "unsubscribe"
            updated = (
                subs.set_status(conn, sub.id, "unsubscribed", self.clock()) if sub.status != "unsubscribed" else sub
            )
            state = "unsubscribed"
        current = updated or sub
        return self._page(200, state, email=current.email, action=self._action(current, secret))


def _form_fields(environ: WSGIEnvironment) -> dict[str, str] | None:
    """The POST body's fields (urlencoded or multipart); None when it is too large."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_FORM_BYTES:
        return None
    stream: IO[bytes] = environ["wsgi.input"]
    body = stream.read(length) if length > 0 else b""
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if content_type.lower().startswith("multipart/form-data"):
        # Gmail sends the one-click POST as multipart/form-data
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        fields: dict[str, str] = {}
        if message.is_multipart():
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if isinstance(name, str) and isinstance(payload, bytes):
                    fields[name] = payload.decode("utf-8", "replace")
        return fields
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _log(environ: WSGIEnvironment, message: str) -> None:
    errors = environ.get("wsgi.errors") or sys.stderr
    errors.write(message + "\n")
    errors.flush()


# ------------------------------------------------------------------------------------------ preview

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


@dataclass(frozen=True, slots=True)
class _Meta:
    identity: tuple[int, int, int]  # inode, size, mtime (ns): when it changes, so did the file
    etag: str  # without quotes
    media_type: str
    mtime: float


class Preview:
    """A read-only view of the output directory, with the caching HTTP a feed reader relies on."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._meta: dict[str, _Meta] = {}
        self._gzip: dict[str, tuple[tuple[int, int, int], bytes]] = {}
        self._lock = threading.Lock()

    def _locate(self, path: str) -> Path | None:
        """The file for a request path, or None when it is outside the directory, hidden or missing."""
        if "\x00" in path or "\\" in path:
            return None
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") or p.startswith(".") for p in parts):
            return None
        try:
            root = self.root.resolve(strict=True)
            target = root.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return None
        if target != root and not target.is_relative_to(root):
            return None  # a symlink pointing out of the output directory
        return target

    def handle(self, environ: WSGIEnvironment, method: str, path: str) -> Response:
        if method not in ("GET", "HEAD"):
            return _text_response(405, "the preview is read-only\n").header("Allow", "GET, HEAD")
        target = self._locate(path)
        if target is not None and target.is_dir():
            if not path.endswith("/"):
                location = quote(str(environ.get("SCRIPT_NAME", "")) + path + "/")
                return _text_response(301, "moved\n").header("Location", location)
            target = self._locate(path + "index.html")
        if target is None or not target.is_file():
            return _text_response(404, "not found\n")
        try:
            with target.open("rb") as handle:
                st = os.fstat(handle.fileno())
                data = handle.read()
        except OSError:
            return _text_response(404, "not found\n")
        meta = self._describe(str(target), (st.st_ino, st.st_size, st.st_mtime_ns), st.st_mtime, data)
        return self._respond(environ, str(target), meta, data)

    def _describe(self, key: str, identity: tuple[int, int, int], mtime: float, data: bytes) -> _Meta:
        with self._lock:
            meta = self._meta.get(key)
        if meta is not None and meta.identity == identity:
            return meta
        meta = _Meta(identity, hashlib.sha256(data).hexdigest()[:32], media_type(key, data[:2048]), mtime)
        with self._lock:
            if len(self._meta) >= _CACHE_FILES:
                self._meta.clear()
                self._gzip.clear()
            self._meta[key] = meta
        return meta

    def _gzipped(self, key: str, meta: _Meta, data: bytes) -> bytes:
        with self._lock:
            cached = self._gzip.get(key)
        if cached is not None and cached[0] == meta.identity:
            return cached[1]
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        if len(packed) <= _CACHE_GZIP_BYTES:
            with self._lock:
                self._gzip[key] = (meta.identity, packed)
        return packed

    def _respond(self, environ: WSGIEnvironment, key: str, meta: _Meta, data: bytes) -> Response:
        compressible = meta.media_type.startswith(_COMPRESSIBLE)
        use_gzip = (
            compressible and len(data) >= GZIP_MIN_BYTES and accepts_gzip(str(environ.get("HTTP_ACCEPT_ENCODING", "")))
        )
        etag = f'"{meta.etag}-gz"' if use_gzip else f'"{meta.etag}"'
        headers = [
            ("Content-Type", meta.media_type),
            ("ETag", etag),
            ("Last-Modified", formatdate(meta.mtime, usegmt=True)),
            ("Cache-Control", "no-cache"),  # a preview: always revalidate (cheap, thanks to 304)
            ("X-Content-Type-Options", "nosniff"),
        ]
        if compressible:
            headers.append(("Vary", "Accept-Encoding"))
        if not_modified(environ, meta.etag, meta.mtime):
            return Response(304, headers)
        body = self._gzipped(key, meta, data) if use_gzip else data
        if use_gzip:
            headers.append(("Content-Encoding", "gzip"))
        return Response(200, headers, body)


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
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return int(mtime) <= since.timestamp()
    return False


# ------------------------------------------------------------------------------------------ the app


class SyndicateApp:
    def __init__(self, config: Config, *, preview: bool, secret: bytes | None, clock: Clock) -> None:
        self.config = config
        self.unsubscribe = Unsubscribe(config, secret, clock)
        self.preview = Preview(config.output_dir) if preview else None

    def respond(self, environ: WSGIEnvironment) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = _request_path(environ)
        if path is None:
            return _text_response(404, "not found\n")
        if self.unsubscribe.matches(path):
            return self.unsubscribe.handle(environ, method)
        if self.preview is not None:
            return self.preview.handle(environ, method, path)
        return _text_response(404, "not found\n")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self.respond(environ)
        except Exception as exc:  # one failing request must not take the server down
            _log(environ, f"syndicate: error answering {environ.get('PATH_INFO', '')!r}: {exc!r}")
            response = _text_response(500, "internal error\n")
        headers = [h for h in response.headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(response.body))))
        status = HTTPStatus(response.status)
        start_response(f"{status.value} {status.phrase}", headers)
        if response.status == 304 or str(environ.get("REQUEST_METHOD", "")).upper() == "HEAD":
            return [b""]
        return [response.body]


def make_app(
    config: Config, *, preview: bool = False, secret: bytes | None = None, clock: Clock | None = None
) -> WSGIApplication:
    """The WSGI application for `config`. Without `secret`, SYNDICATE_SECRET is read when needed."""
    tz = config.site.timezone
    return SyndicateApp(config, preview=preview, secret=secret, clock=clock or (lambda: datetime.now(tz)))


class _LazyApp:
    """`syndicate.web:app`: configured on the first request, from $SYNDICATE_SITE or the current folder."""

    def __init__(self) -> None:
        self._app: WSGIApplication | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self._app
        if app is None:
            with self._lock:
                if self._app is None:
                    try:
                        site = Path(os.environ.get("SYNDICATE_SITE") or ".")
                        self._app = make_app(load_config(find_config(site)))
                    except SyndicateError as exc:
                        _log(environ, f"syndicate: cannot start: {exc}")
                        start_response("500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")])
                        return [b"the server is not configured\n"]
                app = self._app
        return app(environ, start_response)


app: WSGIApplication = _LazyApp()


# ------------------------------------------------------------------------------------------ local server


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # bursts of feed readers revalidating at once


class _Handler(WSGIRequestHandler):
    log: Callable[[str], None] | None = None

    def log_message(self, format: str, *args: object) -> None:
        if self.log is not None:
            self.log(f"{self.address_string()} {format % args}")


def local_server(
    application: WSGIApplication, host: str, port: int, log: Callable[[str], None] | None = None
) -> ThreadingWSGIServer:
    """A threaded wsgiref server (for previews and tests; use a real WSGI server in production)."""
    handler = type("Handler", (_Handler,), {"log": staticmethod(log) if log else None})
    server_class: type[ThreadingWSGIServer] = ThreadingWSGIServer
    if ":" in host:
        import socket

        server_class = type("ThreadingWSGIServer6", (ThreadingWSGIServer,), {"address_family": socket.AF_INET6})
    return make_server(host, port, application, server_class=server_class, handler_class=handler)
