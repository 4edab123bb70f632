"""The web parts against a careless or hostile client: redirects stay on the host, bad dates
are ignored, chunked bodies are read or refused, private files are never served, and the
preview server bounds its connections and their silence."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import build_site, copy_example_site
from test_subscribe import SECRET as GUNICORN_SECRET
from test_subscribe_gunicorn import gunicorn_site

from syndicate.config import Config, load_config
from syndicate.subscribers import store as subs
from syndicate.subscribers.tokens import make_token
from syndicate.web import wsgi as web
from syndicate.web.http import dechunk

SECRET = b"test-secret-0123456789abcdef"
__all__ = ["gunicorn_site"]  # test_subscribe_gunicorn's fixture, used here


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("safety-web")
    config = load_config(copy_example_site(root / "site"), output_dir=root / "out")
    build_site(config)
    return config


class Running:
    def __init__(self, config: Config, **options: float) -> None:
        app = web.make_app(config, preview=True, secret=SECRET)
        self.httpd = web.local_server(app, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def raw(self, request: bytes, timeout: float = 10) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(built: Config, tmp_path: Path) -> Iterator[Running]:
    running = Running(replace(built, database=tmp_path / "subscribers.sqlite3"))
    yield running
    running.stop()


def header(response: bytes, name: str) -> str:
    for line in response.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        key, _, value = line.decode("latin-1").partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return ""


@pytest.mark.parametrize("path", ["//tags", "/%2F%2Ftags", "/%2f/tags", "///tags"])
def test_no_redirect_leaves_the_host(server: Running, path: str) -> None:
    response = server.raw(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
    assert response.startswith(b"HTTP/1.0 301")
    assert header(response, "location") == "/tags/"


@pytest.mark.parametrize(
    "date", ["Sun, 06 Nov 99999999999 08:49:37 GMT", "Sun, 06 Nov 0000 08:49:37 GMT", "yesterday", "Sun, 99 Foo"]
)
def test_a_malformed_if_modified_since_is_ignored(server: Running, date: str) -> None:
    response = server.raw(f"GET /rss.xml HTTP/1.0\r\nIf-Modified-Since: {date}\r\n\r\n".encode())
    assert response.startswith(b"HTTP/1.0 200"), response[:100]


def test_a_chunked_body_the_server_cannot_read_is_refused_with_411(server: Running) -> None:
    body = b"9\r\naction=no\r\n0\r\n\r\n"
    request = b"POST /unsubscribe?token=x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
    response = server.raw(request + b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + body)
    assert b" 411 " in response.split(b"\r\n", 1)[0]


def test_a_chunked_body_a_server_decodes_is_read() -> None:
    # gunicorn decodes chunked bodies and marks the stream as ending (wsgi.input_terminated)
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True, "wsgi.input": io.BytesIO(b"a=1")}
    assert dechunk(environ) is None
    assert environ["CONTENT_LENGTH"] == "3" and environ["wsgi.input"].read() == b"a=1"
    huge = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True, "wsgi.input": io.BytesIO(b"a" * 10**6)}
    refused = dechunk(huge)
    assert refused is not None and refused.status == 413


def test_private_files_are_never_served_even_inside_the_output(built: Config, tmp_path: Path) -> None:
    private = built.output_dir / "subscribers.sqlite3"
    private.write_bytes(b"SQLite format 3\x00 addresses")
    running = Running(replace(built, database=private))
    try:
        response = running.raw(b"GET /subscribers.sqlite3 HTTP/1.0\r\n\r\n")
        assert response.startswith(b"HTTP/1.0 404") and b"addresses" not in response
    finally:
        running.stop()
        private.unlink()


def test_idle_connections_are_capped_and_dropped(built: Config, tmp_path: Path) -> None:
    running = Running(replace(built, database=tmp_path / "s.sqlite3"), timeout=1.0, connections=4)
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", running.port)) for _ in range(40)]
    try:
        time.sleep(0.5)
        assert threading.active_count() - before <= 4, "one thread per connection, beyond the cap"
        for sock in idle:
            sock.settimeout(5)
        started = time.monotonic()
        assert all(sock.recv(1) == b"" for sock in idle), "every idle connection is closed"
        assert time.monotonic() - started < 4
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.2)
    assert running.raw(b"GET /rss.xml HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200"), "serving again once they are gone"
    running.stop()


def test_a_chunked_resubscribe_under_gunicorn_is_read_not_taken_for_an_unsubscribe(
    gunicorn_site: tuple[Path, Any, Any, Any, Path],
) -> None:
    site, http, *_ = gunicorn_site
    config = load_config(site)
    assert config.database is not None
    conn = subs.connect(config.database)
    _, sub = subs.add(conn, "reader@example.org", "Reader", datetime(2013, 4, 1, tzinfo=UTC))
    body = b"action=resubscribe"
    request = (
        (
            f"POST /unsubscribe?token={make_token(GUNICORN_SECRET, sub.id, sub.nonce)} HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", http.port), timeout=30) as sock:
        sock.sendall(request)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    current = subs.get(conn, sub.id)
    assert current is not None and current.status == "subscribed", "the body was read: a resubscribe, not a leave"
