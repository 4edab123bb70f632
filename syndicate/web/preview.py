"""The preview: the output directory read-only over HTTP, as a feed reader would see it
from a real server (media types, ETag and Last-Modified with 304 answers, gzip)."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote
from wsgiref.types import WSGIEnvironment

from syndicate.web.http import (
    GZIP_MIN_BYTES,
    Response,
    accepts_gzip,
    compressible,
    gzipped,
    media_type,
    not_modified,
    text_response,
)

_CACHE_FILES = 512  # metadata of this many files kept (ETag, media type, gzip body)
_CACHE_GZIP_BYTES = 2 * 1024 * 1024  # gzip bodies larger than this are not kept


@dataclass(frozen=True, slots=True)
class _Meta:
    identity: tuple[int, int, int]  # inode, size, mtime (ns): when it changes, so did the file
    etag: str  # without quotes
    media_type: str
    mtime: float


class Preview:
    """A read-only view of the output directory, with the caching HTTP a feed reader relies on."""

    def __init__(self, root: Path, private: tuple[Path, ...] = ()) -> None:
        self.root = root
        # the site's own files (config, database, cache) are never served, even when a link leads to them
        self.private = tuple(p.resolve() for p in private)
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
        if any(target == p or target.is_relative_to(p) for p in self.private):
            return None
        return target

    def handle(self, environ: WSGIEnvironment, method: str, path: str) -> Response:
        if method not in ("GET", "HEAD"):
            return text_response(405, "the preview is read-only\n").header("Allow", "GET, HEAD")
        target = self._locate(path)
        if target is not None and target.is_dir():
            if not path.endswith("/"):
                # from the cleaned parts: "//host" would be a link to another host
                clean = "/".join(p for p in path.split("/") if p)
                location = quote(str(environ.get("SCRIPT_NAME", "")).rstrip("/") + "/" + clean + "/")
                return text_response(301, "moved\n").header("Location", location)
            target = self._locate(path + "index.html")
        if target is None or not target.is_file():
            return text_response(404, "not found\n")
        try:
            with target.open("rb") as handle:
                st = os.fstat(handle.fileno())
                data = handle.read()
        except OSError:
            return text_response(404, "not found\n")
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

    def _gzip_body(self, key: str, meta: _Meta, data: bytes) -> bytes:
        with self._lock:
            cached = self._gzip.get(key)
        if cached is not None and cached[0] == meta.identity:
            return cached[1]
        packed = gzipped(data)
        if len(packed) <= _CACHE_GZIP_BYTES:
            with self._lock:
                self._gzip[key] = (meta.identity, packed)
        return packed

    def _respond(self, environ: WSGIEnvironment, key: str, meta: _Meta, data: bytes) -> Response:
        can_gzip = compressible(meta.media_type)
        use_gzip = (
            can_gzip and len(data) >= GZIP_MIN_BYTES and accepts_gzip(str(environ.get("HTTP_ACCEPT_ENCODING", "")))
        )
        etag = f'"{meta.etag}-gz"' if use_gzip else f'"{meta.etag}"'
        headers = [
            ("Content-Type", meta.media_type),
            ("ETag", etag),
            ("Last-Modified", formatdate(meta.mtime, usegmt=True)),
            ("Cache-Control", "no-cache"),  # a preview: always revalidate (cheap, thanks to 304)
            ("X-Content-Type-Options", "nosniff"),
        ]
        if can_gzip:
            headers.append(("Vary", "Accept-Encoding"))
        if not_modified(environ, meta.etag, meta.mtime):
            return Response(304, headers)
        body = self._gzip_body(key, meta, data) if use_gzip else data
        if use_gzip:
            headers.append(("Content-Encoding", "gzip"))
        return Response(200, headers, body)
