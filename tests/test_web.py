"""The web side through real HTTP on loopback: one-click unsubscribe and the output preview."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import build_site, copy_example_site

from syndicate.config import Config, load_config
from syndicate.subscribers import store as subs
from syndicate.subscribers.tokens import make_token
from syndicate.web import wsgi as web

SECRET = b"test-secret-0123456789abcdef"
NOW = datetime(2013, 4, 29, 9, 0, tzinfo=UTC)


class Server:
    def __init__(self, app: web.WSGIApplication) -> None:
        self.httpd = web.local_server(app, "127.0.0.1", 0)
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("web")
    config = load_config(copy_example_site(root / "site"), output_dir=root / "out")
    build_site(config)
    return config


@pytest.fixture
def config(built: Config, tmp_path: Path) -> Config:
    from dataclasses import replace

    return replace(built, database=tmp_path / "subscribers.sqlite3")  # a fresh list per test


@pytest.fixture
def server(config: Config) -> Iterator[Server]:
    running = Server(web.make_app(config, preview=True, secret=SECRET, clock=lambda: NOW))
    yield running
    running.stop()


def database(config: Config) -> sqlite3.Connection:
    assert config.database is not None
    return subs.connect(config.database)


def subscriber(config: Config, address: str = "ann@example.org") -> tuple[subs.Subscriber, str]:
    _, sub = subs.add(database(config), address, "Ann <b>Lee</b>", NOW)
    return sub, f"/unsubscribe?token={make_token(SECRET, sub.id, sub.nonce)}"


def status_of(config: Config, address: str = "ann@example.org") -> str:
    found = subs.find(database(config), address)
    assert found is not None
    return found.status


ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


# ------------------------------------------------------------------------------------------ unsubscribe


def test_get_shows_a_page_and_changes_nothing(config: Config, server: Server) -> None:
    _, path = subscriber(config)
    status, headers, body = server.request("GET", path)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    page = body.decode()
    assert "ann@example.org" in page and 'name="action" value="unsubscribe"' in page
    assert status_of(config) == "subscribed"  # a link scanner's GET must not unsubscribe anyone


def test_one_click_post_unsubscribes_at_once(config: Config, server: Server) -> None:
    _, path = subscriber(config)
    status, _, body = server.request("POST", path, b"List-Unsubscribe=One-Click", ONE_CLICK)
    assert status == 200 and b"no more digests" in body
    assert status_of(config) == "unsubscribed"
    again, _, _ = server.request("POST", path, b"List-Unsubscribe=One-Click", ONE_CLICK)
    assert again == 200 and status_of(config) == "unsubscribed"  # clients retry: same answer
    page = server.request("GET", path)[2].decode()
    assert 'value="resubscribe"' in page


def test_one_click_as_multipart_form_data(config: Config, server: Server) -> None:
    _, path = subscriber(config)
    boundary = "----syndicate-test"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        f"One-Click\r\n--{boundary}--\r\n"
    ).encode()
    status, _, _ = server.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 200 and status_of(config) == "unsubscribed"


def test_resubscribe_from_the_page_only_asks_for_confirmation(config: Config, server: Server) -> None:
    """The old link's "subscribe again" sends a confirmation email (tests/test_subscribe.py follows it);
    by itself it subscribes nobody, and the same link keeps unsubscribing."""
    _, old_path = subscriber(config)
    server.request("POST", old_path, b"List-Unsubscribe=One-Click", ONE_CLICK)
    status, _, body = server.request("POST", old_path, b"action=resubscribe", ONE_CLICK)
    assert status == 200 and b"Check your inbox" in body
    assert status_of(config) == "unsubscribed"
    subs.add(database(config), "ann@example.org", None, NOW, resubscribe=True)  # as a confirmation does
    replay = server.request("POST", old_path, b"List-Unsubscribe=One-Click", ONE_CLICK)
    assert replay[0] == 200 and b"no more digests" in replay[2]
    assert status_of(config) == "unsubscribed"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "1.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAA",
        "not-a-token",
        "%0d%0aSet-Cookie:%20x=1",
    ],
)
def test_forged_tokens_change_nothing(config: Config, server: Server, token: str) -> None:
    subscriber(config)
    status, headers, body = server.request(
        "POST", f"/unsubscribe?token={token}", b"List-Unsubscribe=One-Click", ONE_CLICK
    )
    assert status == 400 and b"does not work" in body and "set-cookie" not in headers
    assert status_of(config) == "subscribed"
    assert server.request("GET", f"/unsubscribe?token={token}")[0] == 400


def test_token_for_someone_else_with_edited_id_is_forged(config: Config, server: Server) -> None:
    sub, _ = subscriber(config)
    other, _ = subscriber(config, "bob@example.org")
    token = make_token(SECRET, sub.id, sub.nonce)
    edited = f"{other.id}." + token.split(".", 1)[1]
    assert server.request("POST", f"/unsubscribe?token={edited}", b"", ONE_CLICK)[0] == 400
    assert status_of(config, "bob@example.org") == "subscribed"


def test_names_and_addresses_are_escaped_on_the_page(config: Config, server: Server) -> None:
    _, path = subscriber(config)
    page = server.request("GET", path)[2].decode()
    assert "<b>" not in page.split("<body>", 1)[1]


def test_unset_secret_answers_503(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNDICATE_SECRET", raising=False)
    running = Server(web.make_app(config, preview=False))
    try:
        _, path = subscriber(config)
        assert running.request("POST", path, b"", ONE_CLICK)[0] == 503
        assert status_of(config) == "subscribed"
        assert running.request("GET", "/index.html")[0] == 404  # no preview in production mode
    finally:
        running.stop()


def test_secret_from_the_given_environment(config: Config) -> None:
    running = Server(web.make_app(config, environ={"SYNDICATE_SECRET": SECRET.decode()}))
    try:
        _, path = subscriber(config)
        assert running.request("POST", path, b"List-Unsubscribe=One-Click", ONE_CLICK)[0] == 200
        assert status_of(config) == "unsubscribed"
    finally:
        running.stop()


def test_unreadable_database_answers_503(config: Config, server: Server) -> None:
    _, path = subscriber(config)
    assert config.database is not None
    for leftover in config.database.parent.glob(config.database.name + "*"):
        leftover.unlink()
    config.database.write_bytes(b"not a database " * 100)
    status, _, body = server.request("POST", path, b"List-Unsubscribe=One-Click", ONE_CLICK)
    assert status == 503 and b"try again later" in body


def test_module_level_app_reads_the_site_from_the_environment(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Path(str(config.database))
    site_copy = copy_example_site(db.parent / "prod")
    site_copy.write_text(f'database = "{db}"\n' + site_copy.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("SYNDICATE_SITE", str(site_copy.parent))
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET.decode())
    running = Server(type(web.app)())  # a fresh `syndicate.web.wsgi:app`, configured on its first request
    try:
        _, path = subscriber(config)
        assert running.request("POST", path, b"List-Unsubscribe=One-Click", ONE_CLICK)[0] == 200
        assert status_of(config) == "unsubscribed"
    finally:
        running.stop()


# ------------------------------------------------------------------------------------------ preview


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/newsletter/2013-W16/issue.txt", "text/plain; charset=utf-8"),
        ("/newsletter/2013-W16/issue.eml", "message/rfc822"),
        ("/newsletter/atom.xml", "application/atom+xml; charset=utf-8"),
    ],
)
def test_media_types(config: Config, server: Server, path: str, media_type: str) -> None:
    status, headers, body = server.request("GET", path)
    assert status == 200, path
    assert headers["content-type"] == media_type
    target = config.output_dir / (path.lstrip("/") or "index.html")
    if target.is_dir():
        target = target / "index.html"
    assert body == target.read_bytes() and int(headers["content-length"]) == len(body)


def test_json_feed_is_served_as_written(config: Config, server: Server) -> None:
    body = server.request("GET", "/feed.json")[2]
    assert json.loads(body)["version"] == "https://jsonfeed.org/version/1.1"


def test_conditional_get_with_etag_and_last_modified(config: Config, server: Server) -> None:
    status, headers, _ = server.request("GET", "/atom.xml")
    etag, modified = headers["etag"], headers["last-modified"]
    assert status == 200 and etag.startswith('"') and modified.endswith("GMT")

    assert server.request("GET", "/atom.xml", headers={"If-None-Match": etag})[:1] == (304,)
    status, headers304, body = server.request("GET", "/atom.xml", headers={"If-None-Match": f'"x", W/{etag}'})
    assert status == 304 and body == b"" and headers304["etag"] == etag
    assert server.request("GET", "/atom.xml", headers={"If-None-Match": '"other"'})[0] == 200
    assert server.request("GET", "/atom.xml", headers={"If-Modified-Since": modified})[0] == 304
    long_ago = formatdate(0, usegmt=True)
    assert server.request("GET", "/atom.xml", headers={"If-Modified-Since": long_ago})[0] == 200
    # If-None-Match wins over If-Modified-Since
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert server.request("GET", "/atom.xml", headers=both)[0] == 200
    assert server.request("GET", "/atom.xml", headers={"If-Modified-Since": "garbage"})[0] == 200


def test_changed_file_gets_a_new_etag(config: Config, server: Server, tmp_path: Path) -> None:
    extra = config.output_dir / "extra.txt"
    extra.write_text("one\n", encoding="utf-8")
    try:
        first = server.request("GET", "/extra.txt")[1]["etag"]
        extra.write_text("two, longer\n", encoding="utf-8")
        later = time.time() + 5
        os.utime(extra, (later, later))
        status, headers, body = server.request("GET", "/extra.txt", headers={"If-None-Match": first})
        assert status == 200 and body == b"two, longer\n" and headers["etag"] != first
    finally:
        extra.unlink()


def test_gzip_when_asked(config: Config, server: Server) -> None:
    plain = server.request("GET", "/rss.xml")
    assert "content-encoding" not in plain[1] and plain[1]["vary"] == "Accept-Encoding"
    status, headers, body = server.request("GET", "/rss.xml", headers={"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain[2] and int(headers["content-length"]) == len(body)
    assert headers["etag"] != plain[1]["etag"]  # another representation, another tag
    assert server.request("GET", "/rss.xml", headers={"Accept-Encoding": "gzip;q=0"})[1].get("content-encoding") is None
    assert server.request("GET", "/rss.xml", headers={"Accept-Encoding": "identity"})[1].get("content-encoding") is None
    revalidate = {"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]}
    assert server.request("GET", "/rss.xml", headers=revalidate)[0] == 304


def test_head_sends_headers_only(config: Config, server: Server) -> None:
    get = server.request("GET", "/atom.xml")
    status, headers, body = server.request("HEAD", "/atom.xml")
    assert status == 200 and body == b""
    assert headers["content-length"] == str(len(get[2])) and headers["etag"] == get[1]["etag"]


@pytest.mark.parametrize(
    "path",
    [
        "/../secret-up.txt",
        "/%2e%2e/secret-up.txt",
        "/%2E%2E%2Fsecret-up.txt",
        "/tags/../../secret-up.txt",
        "/..%5csecret-up.txt",
        "/../site/syndicate.toml",
        "//etc/passwd",
        "/etc/passwd",
        "/.syndicate-manifest",
        "/%00",
        "/outside-link/secret.txt",
        "/outside-file.txt",
        "/%ff",
    ],
)
def test_no_way_out_of_the_output_directory(config: Config, server: Server, path: str) -> None:
    (config.output_dir.parent / "secret-up.txt").write_text("secret", encoding="utf-8")
    secret_dir = config.output_dir.parent / "secret-dir"
    secret_dir.mkdir(exist_ok=True)
    (secret_dir / "secret.txt").write_text("secret", encoding="utf-8")
    for name, target in (("outside-link", secret_dir), ("outside-file.txt", secret_dir / "secret.txt")):
        link = config.output_dir / name
        if not link.is_symlink():
            link.symlink_to(target)
    try:
        status, _, body = server.request("GET", path)
        assert status == 404 and b"secret" not in body and b"[site]" not in body
    finally:
        for name in ("outside-link", "outside-file.txt"):
            (config.output_dir / name).unlink()


def test_directory_without_slash_redirects(server: Server) -> None:
    status, headers, _ = server.request("GET", "/newsletter")
    assert status == 301 and urlsplit(headers["location"]).path == "/newsletter/"
    assert server.request("GET", "/newsletter/")[0] == 200


def test_preview_is_read_only(server: Server) -> None:
    status, headers, _ = server.request("POST", "/rss.xml", b"x")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert server.request("GET", "/missing.xml")[0] == 404


def test_many_concurrent_conditional_gets(server: Server) -> None:
    etag = server.request("GET", "/atom.xml")[1]["etag"]
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            status = server.request("GET", "/atom.xml", headers={"If-None-Match": etag})[0]
            with lock:
                results.append(status)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [304] * 100
