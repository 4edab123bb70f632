"""WebSub (issue 19, item 3): hub links in every feed, and `syndicate ping` / `build --ping`
telling real HTTP hubs on loopback exactly which feeds the last build changed."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import feedparser
import pytest
from click.testing import CliRunner, Result
from conftest import output_files, post_text, write_site
from lxml import etree

from syndicate.config import load_config
from syndicate.feeds.check import check_directory


class Hub:
    """A tiny hub: records each publish request's form fields; answers `status` after `delay` seconds."""

    def __init__(self, status: int = 204, delay: float = 0.0) -> None:
        self.requests: list[list[tuple[str, str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                fields = parse_qsl(self.rfile.read(length).decode("ascii"))
                time.sleep(delay)
                hub.requests.append(fields)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def topics(self) -> set[str]:
        (request,) = self.requests
        assert ("hub.mode", "publish") in request
        urls = [value for key, value in request if key == "hub.url"]
        assert len(urls) == len(set(urls))
        return set(urls)


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub()
    yield server
    server.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hub"


def cli(*args: object) -> Result:
    from syndicate.cli.main import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


POSTS = {
    "a.md": post_text("First", "2013-04-15 10:00:00", tags=["Cloud"]),
    "b.md": post_text("Second", "2013-04-16 10:00:00", tags=["Go"]),
}


def feed_bytes(out: Path) -> dict[str, bytes]:
    names = ("rss.xml", "atom.xml", "feed.json")
    return {rel: data for rel, data in output_files(out).items() if rel.rsplit("/", 1)[-1] in names}


def test_every_feed_names_its_hubs(tmp_path: Path) -> None:
    hubs = ["https://hub.example.net/", "https://websub.example.com/hub"]
    config_path = write_site(tmp_path, POSTS, feeds={"hubs": hubs})
    assert cli("build", "--site", config_path).exit_code == 0
    out = load_config(config_path).output_dir
    assert check_directory(out)[0] == []
    feeds = feed_bytes(out)
    assert "tags/go/rss.xml" in feeds and "newsletter/atom.xml" in feeds
    for rel, data in feeds.items():
        if rel.endswith(".json"):
            assert json.loads(data)["hubs"] == [{"type": "WebSub", "url": hub} for hub in hubs], rel
            continue
        parsed = feedparser.parse(data)
        assert [link.href for link in parsed.feed.links if link.rel == "hub"] == hubs, rel
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        if root.tag == "rss":  # the channel link stays the page, not a hub
            assert root.findtext("channel/link") != hubs[-1]


def test_ping_names_exactly_the_feeds_the_last_build_changed(tmp_path: Path, hub: Hub) -> None:
    config_path = write_site(tmp_path, POSTS, feeds={"hubs": [hub.url]})
    config = load_config(config_path)
    assert cli("build", "--site", config_path).exit_code == 0
    result = cli("ping", "--site", config_path)
    assert result.exit_code == 0, result.output
    first = feed_bytes(config.output_dir)
    assert hub.topics() == {config.output_url + rel for rel in first}  # the first build wrote every feed
    n = len(first)
    assert result.output == f"hub {hub.url}: notified of {n} feeds (HTTP 204)\n"

    # an edit to the post tagged Go: the feeds it is in change, the Cloud tag's do not
    (tmp_path / "posts" / "b.md").write_text(post_text("Second, edited", "2013-04-16 10:00:00", tags=["Go"]))
    hub.requests.clear()
    assert cli("build", "--site", config_path).exit_code == 0
    second = feed_bytes(config.output_dir)
    changed = {rel for rel in second if first.get(rel) != second[rel]}
    assert "tags/go/atom.xml" in changed and "tags/cloud/atom.xml" not in changed
    assert cli("ping", "--site", config_path).exit_code == 0
    assert hub.topics() == {config.output_url + rel for rel in changed}

    # a build that changed nothing: nothing to tell
    hub.requests.clear()
    assert cli("build", "--site", config_path).exit_code == 0
    result = cli("ping", "--site", config_path)
    assert result.exit_code == 0 and result.output == "the last build changed no feed: no hub notified\n"
    assert hub.requests == []


def test_build_ping_reports_one_line_per_hub_and_fails_when_one_fails(tmp_path: Path, hub: Hub) -> None:
    broken = Hub(status=500)
    refused = closed_port_url()
    config_path = write_site(tmp_path, POSTS, feeds={"hubs": [broken.url, refused, hub.url]})
    result = cli("build", "--ping", "--site", config_path)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("hub ")]
    assert len(lines) == 3
    assert lines[0] == f"hub {broken.url}: not notified: it answered HTTP 500 Internal Server Error"
    assert lines[1].startswith(f"hub {refused}: not notified: ") and "refused" in lines[1]
    assert lines[2].startswith(f"hub {hub.url}: notified of ")
    assert "hubs not notified; run 'syndicate ping' to try again" in result.output
    assert len(broken.requests) == 1 and len(hub.requests) == 1
    broken.close()


def test_a_slow_hub_is_given_up_on_in_bounded_time(tmp_path: Path) -> None:
    slow = Hub(delay=5)
    config_path = write_site(tmp_path, POSTS, feeds={"hubs": [slow.url]})
    assert cli("build", "--site", config_path).exit_code == 0
    started = time.monotonic()
    result = cli("ping", "--site", config_path, "--timeout", "0.5")
    assert time.monotonic() - started < 3
    assert result.exit_code == 1
    assert f"hub {slow.url}: not notified: " in result.output and "no answer within 0.5 s" in result.output
    slow.close()


def test_ping_before_any_build_and_without_hubs(tmp_path: Path) -> None:
    config_path = write_site(tmp_path, POSTS)
    result = cli("ping", "--site", config_path)
    assert result.exit_code == 1
    assert "run 'syndicate build' first" in result.output
    assert "Traceback" not in result.output
    assert cli("build", "--site", config_path).exit_code == 0
    result = cli("ping", "--site", config_path)
    assert result.exit_code == 0 and result.output == "no hubs to notify: list them in [feeds] hubs\n"


@pytest.mark.parametrize("bad", ["ftp://hub.example/", "not a url", 3])
def test_bad_hubs_are_config_errors(tmp_path: Path, bad: object) -> None:
    config_path = write_site(tmp_path, POSTS, feeds={"hubs": [bad]})
    result = cli("build", "--site", config_path)
    assert result.exit_code == 1
    assert "[feeds] hubs must be a list of absolute http(s) URLs" in result.output
