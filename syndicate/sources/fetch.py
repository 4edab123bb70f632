"""A local path or an http(s) URL → the bytes of a feed, defensively.

Everything from outside is hostile: only http, https and regular local files
are read; connecting and each read have timeouts and the whole download has a
deadline, kept by a timer; at most `max_redirects` redirects are followed, each one checked
again for its scheme; the size cap holds while the body streams in and again
while a gzip body is inflated (so neither an endless body nor a gzip bomb can
fill memory). Every failure is a FetchError naming the location and the fix.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import stat
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urljoin, urlsplit

from syndicate import __version__
from syndicate.errors import FetchError
from syndicate.urls import DEFAULT_MAX_BYTES, HTTP_SCHEMES, names_http_url, scheme_of

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 5
USER_AGENT = f"syndicate/{__version__} (feed import)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.1"
)
_GZIP_MAGIC = b"\x1f\x8b"
_REDIRECTS = {301, 302, 303, 307, 308}


class HttpStatusError(FetchError):
    """The server answered with an error status (kept in `status`: a 404 ends a WordPress ?paged= walk)."""

    def __init__(self, message: str, *, path: str | None = None, status: int = 0) -> None:
        super().__init__(message, path=path)
        self.status = status


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch brought back; `url` is where it finally came from (after redirects)."""

    data: bytes
    url: str
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # the server answered 304 to our etag / last_modified


@dataclass(frozen=True, slots=True)
class Remembered:
    """A remote feed as an earlier fetch got it: where from, its validators and its bytes."""

    url: str
    etag: str | None
    last_modified: str | None
    data: bytes


class FeedMemory(Protocol):
    """Somewhere the last answer for a URL is kept (the build cache's SourceMemory)."""

    def recall(self, location: str) -> Remembered | None: ...

    def remember(self, location: str, fetched: Fetched) -> None: ...


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    connect_timeout: float = 5.0  # seconds to open the connection
    read_timeout: float = 10.0  # seconds of silence allowed between two reads
    deadline: float = 30.0  # seconds for the whole download, redirects included: a trickling server is cut off
    max_redirects: int = MAX_REDIRECTS


def is_url(location: str) -> bool:
    """True for an http(s) URL; a malformed one (such as http://[::1) is an error, not a file name."""
    if not names_http_url(location):
        return False
    try:
        scheme_of(location)
    except ValueError as exc:
        raise FetchError(f"not a valid URL ({exc}); check it", path=location) from None
    return True


def fetch(
    location: str,
    *,
    limits: Limits | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """Read `location` (a path or an http(s) URL) under `limits`; raise FetchError on any failure."""
    limits = limits or Limits()
    if is_url(location):  # raises for a malformed http(s) URL
        return _fetch_url(location, limits, etag, last_modified)
    try:
        scheme = scheme_of(location)
    except ValueError:  # malformed, and not http(s) (is_url raised for those): read as a file name
        scheme = ""
    if len(scheme) > 1 and not Path(location).exists():  # one letter: a Windows drive, so a path
        raise FetchError(
            f"cannot read {scheme}: addresses; give an http:// or https:// URL or a local file", path=location
        )
    return _read_file(Path(location), location, limits.max_bytes)


def fetch_bytes(location: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    return fetch(location, limits=Limits(max_bytes=max_bytes)).data


def _too_big(location: str, max_bytes: int) -> FetchError:
    return FetchError(
        f"larger than {_size(max_bytes)} (the max_feed_bytes limit); "
        "raise max_feed_bytes in syndicate.toml if the feed really is that big",
        path=location,
    )


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MB"
    if count >= 1024 and count % 1024 == 0:
        return f"{count // 1024} KB"
    return f"{count} bytes"


def read_regular(path: Path, shown: str, max_bytes: int, what: str = "feed file") -> bytes:
    """At most max_bytes + 1 bytes of a regular file. A FIFO, device or socket is refused before any read:
    it is opened without blocking (opening a FIFO would wait for a writer) and looked at through its handle,
    so nothing can be swapped in between the look and the read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise FetchError(f"is a folder, not a {what}; give the path of the {what} itself", path=shown)
        if not stat.S_ISREG(status.st_mode):
            raise FetchError(f"is a device, FIFO or socket, not a {what}; give the path of a real file", path=shown)
        os.set_blocking(fd, True)
        # os.read sized by the file (a buffered file's read(max_bytes + 1) allocates all of max_bytes
        # first: 8 MB for each post, a quarter of a build's scan); the loop reads a file that grew
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, max(status.st_size + 1, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def _read_file(path: Path, shown: str, max_bytes: int) -> Fetched:
    try:
        data = read_regular(path, shown, max_bytes)
    except FileNotFoundError:
        raise FetchError("file not found; check the path", path=shown) from None
    except PermissionError:
        raise FetchError("permission denied; check the file's permissions", path=shown) from None
    except OSError as exc:
        raise FetchError(f"cannot read: {exc.strerror or exc}", path=shown) from None
    if len(data) > max_bytes:
        raise _too_big(shown, max_bytes)
    if data.startswith(_GZIP_MAGIC):
        data = _inflate_all([data], "gzip", max_bytes, shown)
    return Fetched(data, str(path))


def _fetch_url(location: str, limits: Limits, etag: str | None, last_modified: str | None) -> Fetched:
    """The download runs in a thread of its own and this one waits at most `deadline` for it: one timer
    over connecting, the headers and the body, whatever the server trickles. At the deadline the
    connection is closed under the download, which ends at its next read."""
    import httpx  # here, not at the top: ~35 ms of start-up that builds from local files never need

    timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    client = httpx.Client(timeout=timeout, follow_redirects=False, headers=headers)
    outcome: list[Fetched | BaseException] = []

    def download() -> None:
        try:
            outcome.append(_download(client, location, limits, time.monotonic()))
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcome.append(exc)

    worker = threading.Thread(target=download, name="syndicate-fetch", daemon=True)
    worker.start()
    worker.join(limits.deadline)
    if worker.is_alive() or not outcome:
        with contextlib.suppress(Exception):  # closing under a running request may complain; it is ending
            client.close()
        raise _too_slow(location, limits)
    client.close()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _too_slow(location: str, limits: Limits) -> FetchError:
    return FetchError(
        f"the download took longer than {limits.deadline:g} s; the server is too slow, try again later",
        path=location,
    )


def _download(client: httpx.Client, location: str, limits: Limits, started: float) -> Fetched:
    import httpx

    url = location
    seen = {url}
    try:
        for _hop in range(limits.max_redirects + 1):
            with client.stream("GET", url) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = _next_hop(location, url, response.headers["location"], seen)
                    continue
                return _body(location, url, response, limits, started)
        raise FetchError(
            f"more than {limits.max_redirects} redirects (last to {url}); use the feed's final address",
            path=location,
        )
    except httpx.TimeoutException as exc:
        what = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
        raise FetchError(
            f"timed out {what} ({url}); the server is too slow or down, try again later", path=location
        ) from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"not a valid URL: {exc}", path=location) from None
    except httpx.TransportError as exc:
        raise FetchError(f"cannot download {url}: {_reason(exc)}", path=location) from None


def _next_hop(location: str, current: str, target: str, seen: set[str]) -> str:
    try:
        following = urljoin(current, target.strip())
        scheme = scheme_of(following)
    except ValueError:
        raise FetchError(f"{current} redirects to a malformed address {target!r}", path=location) from None
    if scheme not in HTTP_SCHEMES:
        raise FetchError(f"refusing a redirect from {current} to {following}: only http(s) is followed", path=location)
    if _inside(following) and urlsplit(following).hostname != urlsplit(location).hostname:
        raise FetchError(
            f"refusing a redirect from {current} to {following}, a private, loopback or link-local address; "
            "if that really is the feed, give its address itself",
            path=location,
        )
    if following in seen:
        raise FetchError(
            f"redirect loop: {current} sends back to {following}; the server is misconfigured", path=location
        )
    seen.add(following)
    return following


def _inside(url: str) -> bool:
    """Whether the URL's host is (or its name resolves to) an address on this machine or a private
    network: a feed on the internet must not send the fetch there (cloud metadata, a router's admin page)."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:  # a name: what it resolves to now (a name that does not resolve fails later, as usual)
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return False
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found}
    return any(not a.is_global or a.is_multicast for a in addresses)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.rsplit("] ", 1)[-1] if text else type(exc).__name__


def _body(location: str, url: str, response: httpx.Response, limits: Limits, started: float) -> Fetched:
    etag = response.headers.get("etag")
    modified = response.headers.get("last-modified")
    if response.status_code == 304:
        return Fetched(b"", url, etag=etag, last_modified=modified, not_modified=True)
    if response.status_code >= 400:
        reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        where = "" if url == location else f" (at {url})"
        status = response.status_code
        if status >= 500:
            raise HttpStatusError(f"the server answered {reason}{where}; try again later", path=location, status=status)
        raise HttpStatusError(f"the server answered {reason}{where}; check the address", path=location, status=status)
    if response.status_code != 200:
        raise FetchError(f"unexpected answer HTTP {response.status_code} from {url}", path=location)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise _too_big(location, limits.max_bytes)
    raw = b"".join(_capped(response.iter_raw(), location, limits, started))  # each read as it comes
    data = raw
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise FetchError(f"the server sent {coding}-compressed data, which cannot be read", path=location)
        data = _inflate_all([data], coding, limits.max_bytes, location)
    if data.startswith(_GZIP_MAGIC):  # a .gz file served as is
        data = _inflate_all([data], "gzip", limits.max_bytes, location)
    return Fetched(data, url, response.headers.get("content-type", ""), etag, modified)


def _capped(chunks: Iterable[bytes], location: str, limits: Limits, started: float) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limits.max_bytes:
            raise _too_big(location, limits.max_bytes)
        if time.monotonic() - started > limits.deadline:  # the watchdog has given up: stop reading
            raise _too_slow(location, limits)
        yield chunk


def _inflate_all(chunks: Iterable[bytes], coding: str, max_bytes: int, location: str) -> bytes:
    return b"".join(_inflate(chunks, coding, max_bytes, location))


def _inflate(chunks: Iterable[bytes], coding: str, max_bytes: int, location: str) -> Iterator[bytes]:
    """Decompress gzip or deflate data, never producing more than max_bytes."""
    # gzip: header + checksum; deflate: zlib-wrapped, though some servers send it raw (wbits -15)
    wbits = 16 + zlib.MAX_WBITS if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    total = 0
    first = True
    try:
        for chunk in chunks:
            pending = chunk
            while pending:
                if first and wbits == zlib.MAX_WBITS and pending[:1] and (pending[0] & 0x0F) != 8:
                    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                first = False
                out = inflater.decompress(pending, max_bytes + 1 - total)
                total += len(out)
                if total > max_bytes:
                    raise _too_big(location, max_bytes)
                yield out
                if inflater.eof and inflater.unused_data:  # several gzip members, one after another
                    pending = inflater.unused_data
                    inflater = zlib.decompressobj(wbits)
                    if not pending.strip(b"\x00"):
                        break
                else:
                    pending = inflater.unconsumed_tail
        tail = inflater.flush(max_bytes + 1 - total)
        total += len(tail)
        if total > max_bytes:
            raise _too_big(location, max_bytes)
        yield tail
    except zlib.error as exc:
        raise FetchError(f"the {coding} data is corrupt ({exc}); download it again", path=location) from None
