"""Fetching feeds over real HTTP on loopback and from local files: limits, redirects, errors."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicate.build.feed_source import read_configured_feed
from syndicate.build.site import build
from syndicate.config import load_config
from syndicate.errors import FetchError, SourceError
from syndicate.sources.feed import parse_feed_bytes
from syndicate.sources.fetch import Limits, fetch, fetch_bytes

DATA = Path(__file__).parent / "data" / "feeds"
RSS = (DATA / "rss20.xml").read_bytes()
UTC = ZoneInfo("UTC")

RELATIVE_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Relative</title><link>/</link><description>d</description>
<item><title>One</title><link>posts/one/</link><guid isPermaLink="false">one</guid>
<pubDate>Mon, 01 Jun 2020 10:00:00 +0000</pubDate>
<description>&lt;p&gt;&lt;img src="pic.png"&gt;&lt;/p&gt;</description></item>
<item><title>Two, no link</title><guid isPermaLink="false">two</guid>
<pubDate>Tue, 02 Jun 2020 10:00:00 +0000</pubDate>
<description>&lt;p&gt;&lt;a href="other/"&gt;other&lt;/a&gt;&lt;/p&gt;</description></item>
</channel></rss>"""

HTML_PAGE = b"""<!DOCTYPE html><html><head><title>Home</title>
<link rel="alternate" type="application/atom+xml" href="/atom.xml"></head><body><p>Hi</p></body></html>"""


ASKED: list[tuple[str, str | None]] = []  # every request: path and the If-None-Match it carried


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def send_body(self, body: bytes, content_type: str = "application/rss+xml", **headers: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, target: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path
        ASKED.append((path, self.headers.get("If-None-Match")))
        if path == "/feed.xml":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_body(RSS, ETag='"v1"', Last_Modified="Sun, 12 May 2019 18:00:00 GMT")
        elif path == "/gzip.xml":
            assert "gzip" in self.headers.get("Accept-Encoding", "")
            self.send_body(gzip.compress(RSS), Content_Encoding="gzip")
        elif path == "/deflate.xml":
            self.send_body(zlib.compress(RSS), Content_Encoding="deflate")
        elif path == "/feed.xml.gz":
            self.send_body(gzip.compress(RSS), "application/gzip")
        elif path == "/brotli.xml":
            self.send_body(b"not really brotli", Content_Encoding="br")
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            self.redirect(f"/hop/{left - 1}" if left > 0 else "/relative.xml", 301 if left % 2 else 307)
        elif path == "/loop-a":
            self.redirect("/loop-b")
        elif path == "/loop-b":
            self.redirect(f"http://127.0.0.1:{self.server.server_port}/loop-a")  # type: ignore[attr-defined]
        elif path == "/to-ftp":
            self.redirect("ftp://127.0.0.1/feed.xml")
        elif path == "/to-file":
            self.redirect("file:///etc/passwd")
        elif path == "/missing":
            self.send_error(404, "Not Found")
        elif path == "/broken":
            self.send_error(500, "Internal Server Error")
        elif path == "/slow":
            time.sleep(3)
            with contextlib.suppress(OSError):  # the client gave up long ago
                self.send_body(RSS)
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"<item>" + b"x" * 8192 + b"</item>")
            except OSError:
                return
        elif path == "/declared-huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
            self.wfile.write(b"<rss>")
        elif path == "/gzip-bomb":
            self.send_body(gzip.compress(b"\0" * (20 * 1024 * 1024)), Content_Encoding="gzip")
        elif path == "/text-plain.xml":
            self.send_body(RSS, "text/plain")  # a server that gets the type wrong
        elif path == "/html-labelled.json":
            self.send_body((DATA / "jsonfeed11.json").read_bytes(), "text/html; charset=iso-8859-1")
        elif path == "/relative.xml":
            self.send_body(RELATIVE_FEED)
        elif path == "/page":
            self.send_body(HTML_PAGE, "text/html; charset=utf-8")
        else:
            self.send_error(404, "Not Found")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---------------------------------------------------------------- HTTP


def test_plain_fetch_returns_bytes_url_and_validators(server: str) -> None:
    got = fetch(f"{server}/feed.xml")
    assert got.data == RSS
    assert got.url == f"{server}/feed.xml"
    assert got.content_type == "application/rss+xml"
    assert got.etag == '"v1"'
    assert got.last_modified == "Sun, 12 May 2019 18:00:00 GMT"
    assert not got.not_modified


def test_etag_gives_not_modified(server: str) -> None:
    first = fetch(f"{server}/feed.xml")
    again = fetch(f"{server}/feed.xml", etag=first.etag)
    assert again.not_modified
    assert again.data == b""
    assert fetch(f"{server}/feed.xml", etag='"old"').data == RSS


@pytest.mark.parametrize("path", ["/gzip.xml", "/deflate.xml", "/feed.xml.gz"])
def test_compressed_bodies_are_inflated(server: str, path: str) -> None:
    assert fetch_bytes(f"{server}{path}") == RSS


def test_unknown_content_encoding_is_an_error(server: str) -> None:
    with pytest.raises(FetchError, match="br-compressed"):
        fetch(f"{server}/brotli.xml")


def test_five_redirects_are_followed_and_the_final_url_is_the_base(server: str) -> None:
    got = fetch(f"{server}/hop/4")  # 5 redirects
    assert got.url == f"{server}/relative.xml"
    posts, errors = parse_feed_bytes(got.data, got.url, UTC, lambda m: None)
    assert errors == []
    one = next(p for p in posts if p.id == "one")
    assert one.url == f"{server}/posts/one/"


def test_six_redirects_are_too_many(server: str) -> None:
    with pytest.raises(FetchError, match="more than 5 redirects") as info:
        fetch(f"{server}/hop/5")
    assert info.value.path == f"{server}/hop/5"


def test_redirect_loop_is_reported(server: str) -> None:
    with pytest.raises(FetchError, match="redirect loop"):
        fetch(f"{server}/loop-a")


@pytest.mark.parametrize("path", ["/to-ftp", "/to-file"])
def test_redirect_to_another_scheme_is_refused(server: str, path: str) -> None:
    with pytest.raises(FetchError, match="only http"):
        fetch(f"{server}{path}")


def test_not_found_names_the_url_and_the_status(server: str) -> None:
    with pytest.raises(FetchError) as info:
        fetch(f"{server}/missing")
    text = str(info.value)
    assert text.startswith(f"{server}/missing: ")
    assert "HTTP 404" in text and "check the address" in text


def test_server_error_says_try_again(server: str) -> None:
    with pytest.raises(FetchError, match=r"HTTP 500.*try again later"):
        fetch(f"{server}/broken")


def test_slow_server_times_out(server: str) -> None:
    with pytest.raises(FetchError, match="timed out"):
        fetch(f"{server}/slow", limits=Limits(read_timeout=0.3))


def test_endless_body_stops_at_the_size_cap(server: str) -> None:
    with pytest.raises(FetchError, match=r"larger than 100 KB.*max_feed_bytes"):
        fetch(f"{server}/endless", limits=Limits(max_bytes=100 * 1024))


def test_endless_body_stops_at_the_deadline(server: str) -> None:
    with pytest.raises(FetchError, match="took longer than"):
        fetch(f"{server}/endless", limits=Limits(max_bytes=10**12, deadline=0.2))


def test_declared_length_over_the_cap_is_refused_before_reading(server: str) -> None:
    with pytest.raises(FetchError, match="larger than"):
        fetch(f"{server}/declared-huge", limits=Limits(max_bytes=1024 * 1024))


def test_gzip_bomb_is_capped_while_inflating(server: str) -> None:
    with pytest.raises(FetchError, match="larger than 1 MB"):
        fetch(f"{server}/gzip-bomb", limits=Limits(max_bytes=1024 * 1024))


@pytest.mark.parametrize("path", ["/text-plain.xml", "/html-labelled.json"])
def test_wrong_content_type_does_not_matter(server: str, path: str) -> None:
    got = fetch(f"{server}{path}")
    posts, _errors = parse_feed_bytes(got.data, got.url, UTC, lambda m: None)
    assert posts


def test_connection_refused_is_a_fetch_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="cannot download"):
        fetch(f"http://127.0.0.1:{port}/feed.xml", limits=Limits(connect_timeout=2))


def test_html_page_is_one_clear_error_with_its_feed_address(server: str, tmp_path: Path) -> None:
    config = load_config(_site(tmp_path, f"{server}/page"))
    posts, errors = read_configured_feed(config.sources[0], config, lambda m: None)
    assert posts == []
    assert len(errors) == 1
    assert isinstance(errors[0], SourceError)
    assert "HTML page, not a feed" in str(errors[0])
    assert f"{server}/atom.xml" in str(errors[0])


def test_item_without_link_resolves_against_the_feed_url(server: str, tmp_path: Path) -> None:
    config = load_config(_site(tmp_path, f"{server}/relative.xml"))
    posts, errors = read_configured_feed(config.sources[0], config, lambda m: None)
    assert errors == []
    two = next(p for p in posts if p.id == "two")
    assert two.url is None
    assert f'href="{server}/other/"' in two.body


def _site(root: Path, feed: str) -> Path:
    path = root / "syndicate.toml"
    path.write_text(
        f"""[site]
title = "From a feed"
url = "https://mirror.example.org/"
timezone = "UTC"
author = {{ name = "Mirror", email = "mirror@example.org" }}

[[sources]]
feed = "{feed}"

[output]
dir = "out"

[digest]
enabled = false
""",
        encoding="utf-8",
    )
    return path


def test_build_from_a_feed_url(server: str, tmp_path: Path) -> None:
    from lxml import etree

    config = load_config(_site(tmp_path, f"{server}/gzip.xml"))
    result = build(config, date(2019, 6, 1), lambda m: None, keep_going=True, durable=False)
    # two dated items come in; the undated one is reported, not silently dropped
    assert result.posts == 2
    assert len(result.errors) == 1 and "no date" in str(result.errors[0])
    rss = etree.fromstring((tmp_path / "out" / "rss.xml").read_bytes())
    guids = [g.text for g in rss.iter("guid")]
    assert guids == [
        "https://garden.example.com/2019/05/tomatoes-and-basil/",
        "https://garden.example.com/2019/05/no-guid/",
    ]
    content = (tmp_path / "out" / "rss.xml").read_text(encoding="utf-8")
    assert "https://garden.example.com/varieties/roma" in content
    assert "alert(1)" not in content


def test_a_remote_source_is_asked_with_its_etag_and_a_304_reuses_the_last_copy(server: str, tmp_path: Path) -> None:
    from syndicate.store.layout import CACHE_DIR

    config = load_config(_site(tmp_path, f"{server}/feed.xml"))

    def build_and_read() -> tuple[int, dict[str, bytes]]:
        result = build(config, date(2019, 6, 1), lambda m: None, keep_going=True, durable=False)
        out = tmp_path / "out"
        return result.posts, {p.name: p.read_bytes() for p in sorted(out.glob("*.*"))}

    ASKED.clear()
    first = build_and_read()
    assert first[0] > 0 and b"<item>" in first[1]["rss.xml"]
    (tmp_path / "syndicate.toml").write_text(  # a config change: the build cannot skip reading the source
        (tmp_path / "syndicate.toml").read_text(encoding="utf-8").replace("From a feed", "From a feed, again"),
        encoding="utf-8",
    )
    config = load_config(tmp_path / "syndicate.toml")
    second = build_and_read()
    asked = [inm for path, inm in ASKED if path == "/feed.xml"]
    assert asked == [None, '"v1"'], asked  # the second build sent the validator and got a 304
    assert second[0] == first[0]
    assert second[1]["rss.xml"] == first[1]["rss.xml"].replace(b"From a feed", b"From a feed, again")
    # a damaged copy is never used: the feed is fetched in full again
    for body in (tmp_path / CACHE_DIR).glob("sources-*/*.body"):
        body.write_bytes(b"<rss>not what was fetched</rss>")
    ASKED.clear()
    assert build_and_read() == second
    assert [inm for path, inm in ASKED if path == "/feed.xml"] == [None]


# ---------------------------------------------------------------- local files and schemes


def test_local_file(tmp_path: Path) -> None:
    got = fetch(str(DATA / "rss20.xml"))
    assert got.data == RSS
    assert got.url == str(DATA / "rss20.xml")


def test_local_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml.gz"
    path.write_bytes(gzip.compress(RSS))
    assert fetch_bytes(str(path)) == RSS


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="file not found") as info:
        fetch(str(tmp_path / "nope.xml"))
    assert info.value.path == str(tmp_path / "nope.xml")


def test_folder_is_not_a_feed(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="is a folder"):
        fetch(str(tmp_path))


def test_local_file_over_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(FetchError, match="larger than 1 KB"):
        fetch(str(path), limits=Limits(max_bytes=1024))


def test_endless_device_stops_at_the_cap() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(FetchError, match="device, FIFO or socket"):  # refused before any read
        fetch("/dev/zero", limits=Limits(max_bytes=4096))


@pytest.mark.parametrize("location", ["ftp://example.org/feed.xml", "file:///etc/passwd", "gopher://x/1"])
def test_other_schemes_are_refused(location: str) -> None:
    with pytest.raises(FetchError, match="http:// or https://"):
        fetch(location)
