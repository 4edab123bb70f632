"""Hostile input past the catalogue (issue 18's audit): each case is one line and exit 1 through the
real command line, never a traceback, and leaks nothing. One test per finding."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import TEST_DATA, post_text, write_site
from test_safety_env import one_line_error, syndicate

from syndicate.errors import FetchError, SourceError
from syndicate.feeds.check import check_feed
from syndicate.sources.fetch import fetch
from syndicate.sources.generators import merged_data
from syndicate.sources.json_feed import json_items
from syndicate.sources.markdown import read_post_bytes

LONG = "1" + "0" * 5000  # past CPython's 4,300-digit limit on int(): int() raises ValueError, no reader's error
GOOD = {"a.md": post_text("A good post")}


def one_error_naming(tmp_path: Path, name: str, text: str) -> str:
    config = write_site(tmp_path / "site", {**GOOD, name: text})
    done = syndicate("build", "--site", config, "--today", "2030-01-01")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"error: posts/{name}:"), done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+++\ntitle = " + "[" * 5000 + "\n+++\nBody.\n", "nested more than"),
        ('{"title": ' + "[" * 5000 + "}\nBody.\n", "nested more than"),
        (f"---\ntitle: T\ndate: 2013-04-15\nweight: {LONG}\n---\nBody.\n", "4,300 digits"),
        (f'+++\ntitle = "T"\nweight = {LONG}\n+++\nBody.\n', "4,300 digits"),
        (f'{{"title": "T", "weight": {LONG}}}\nBody.\n', "4,300 digits"),
        ("---\ntitle: T\ndate: 2013-04-20 08:00-30:0\n---\nBody.\n", "cannot read '2013-04-20 08:00-30:0' as a date"),
    ],
    ids=["toml-deep", "json-deep", "yaml-long-number", "toml-long-number", "json-long-number", "offset-of-30-hours"],
)
def test_front_matter_too_deep_with_a_number_too_long_or_an_impossible_offset_is_one_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in one_error_naming(tmp_path, "bad.md", text)


@pytest.mark.parametrize(("extra", "expected"), [("x = " + "[" * 5000, "nested too deeply"), (f"x = {LONG}", "4,300")])
def test_a_config_too_deep_or_with_a_number_too_long_is_one_line(tmp_path: Path, extra: str, expected: str) -> None:
    config = write_site(tmp_path / "site", GOOD)
    config.write_text(extra + "\n" + config.read_text())
    assert expected in one_line_error(syndicate("build", "--site", config))


def test_a_json_feed_with_a_number_too_long_is_a_source_error() -> None:
    data = f'{{"version": "https://jsonfeed.org/version/1.1", "items": [], "x": {LONG}}}'.encode()
    with pytest.raises(SourceError, match="not a JSON Feed"):
        json_items(data, "https://example.org/feed.json", None, print)  # type: ignore[arg-type]


def test_an_eleventy_data_file_with_a_number_too_long_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not valid JSON"):
        merged_data([("posts/posts.json", f'{{"x": {LONG}}}'.encode())])


class Redirecting(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        targets = {"/metadata": "http://169.254.169.254/latest/", "/intranet": "http://10.0.0.1/admin"}
        targets["/home"] = "http://localhost:1/feed.xml"
        targets["/self"] = f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"
        if self.path in targets:
            self.send_response(302)
            self.send_header("Location", targets[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def redirecting() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/metadata", "/intranet", "/home"])
def test_a_feed_never_redirects_the_fetch_to_a_private_address(redirecting: str, path: str) -> None:
    with pytest.raises(FetchError, match="private, loopback or link-local"):
        fetch(redirecting + path)


def test_a_redirect_within_the_feeds_own_host_is_followed(redirecting: str) -> None:
    assert fetch(redirecting + "/self").data.startswith(b"<rss")


@pytest.mark.parametrize("where", ["home", "site", "posts", "public", ".git/x"])  # "/" is refused as home is
@pytest.mark.parametrize("command", [("digest", "--out"), ("send", "--dry-run")])
def test_digest_and_dry_run_never_write_among_the_sites_or_the_users_files(
    tmp_path: Path, where: str, command: tuple[str, str]
) -> None:
    config = write_site(tmp_path / "site", GOOD)
    home = tmp_path / "home"
    home.mkdir()
    folder = {"home": home, "site": config.parent, "posts": config.parent / "posts"}.get(where, config.parent / where)
    env = {"HOME": str(home), "SYNDICATE_SECRET": "s" * 40, "PATH": "/usr/bin:/bin"}
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    done = syndicate(command[0], "--site", config, "--week", "2013-W16", command[1], folder, env=env)
    assert f"{command[1]} {folder} " in one_line_error(done)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_check_reports_a_json_feed_with_a_number_too_long() -> None:
    data = f'{{"version": "https://jsonfeed.org/version/1.1", "items": [], "x": {LONG}}}'.encode()
    problems = check_feed(data, "feed.json")
    assert problems is not None and any("not valid JSON" in p for p in problems)


@pytest.mark.parametrize("linked", [False, True])
def test_a_database_that_is_a_fifo_is_refused_and_nothing_is_created_beside_it(tmp_path: Path, linked: bool) -> None:
    config = write_site(tmp_path / "site", GOOD)
    fifo = tmp_path / "elsewhere" / "pipe"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    if linked:  # as a link to a device would: SQLite follows it and writes its journal beside the target
        (tmp_path / "site" / "subscribers.sqlite3").symlink_to(fifo)
    name = "subscribers.sqlite3" if linked else str(fifo)
    config.write_text(f'database = "{name}"\n' + config.read_text())
    line = one_line_error(syndicate("subscribers", "list", "--site", config, env={"SYNDICATE_SECRET": "s" * 40}))
    assert "device, FIFO or socket" in line
    assert sorted(p.name for p in fifo.parent.iterdir()) == ["pipe"], "no journal beside it"


def test_an_eleventy_data_file_linked_from_outside_the_posts_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"summary": "MY-PRIVATE-NOTES"}')
    config = write_site(tmp_path / "site", {"notes/a.md": post_text("A post")})
    (config.parent / "posts" / "notes" / "notes.json").symlink_to(secret)
    assert syndicate("build", "--site", config, "--today", "2030-01-01").returncode == 0
    published = [p.read_bytes() for p in (config.parent / "public").rglob("*") if p.is_file()]
    assert published and not any(b"MY-PRIVATE-NOTES" in data for data in published)


@pytest.mark.parametrize("name", ["atheris-offset-of-30-hours.md", "atheris-date-with-two-times.md"])
def test_dates_atheris_found_are_a_source_error(name: str) -> None:
    """Found by bench/fuzz.py --engine atheris --target markdown: dateutil reads an offset of a day or more
    ("08:00-30:0", "11:3-04-25 08:00:00"), which datetime refuses only later, as a ValueError."""
    data = (TEST_DATA / "hostile" / name).read_bytes()
    with pytest.raises(SourceError, match="as a date"):
        read_post_bytes(data, "posts/fuzz.md", ZoneInfo("America/Los_Angeles"), "2013-04-15-fuzz")


@pytest.mark.parametrize(("name", "shown"), [("a\nb.md", "a\\nb.md"), ("\u202egnp.md", "\\u202egnp.md")])
def test_a_file_name_with_a_newline_or_a_bidi_override_is_shown_escaped_on_one_line(
    tmp_path: Path, name: str, shown: str
) -> None:
    config = write_site(tmp_path / "site", {**GOOD, name: "---\ntitle: [\n---\n"})
    done = syndicate("build", "--site", config, "--today", "2030-01-01")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    first, *rest = done.stderr.strip().split("\n")
    assert first.startswith(f"error: posts/{shown}:3: ") and len(rest) == 1, done.stderr


def test_an_export_replaces_only_an_earlier_export_never_a_users_file(tmp_path: Path) -> None:
    config = write_site(tmp_path / "site", GOOD)
    env = {"SYNDICATE_SECRET": "s" * 40}
    assert syndicate("subscribers", "add", "a@example.org", "--site", config, env=env).returncode == 0
    backup = tmp_path / "backup.csv"
    assert syndicate("subscribers", "export", backup, "--site", config, env=env).returncode == 0
    assert syndicate("subscribers", "export", backup, "--site", config, env=env).returncode == 0, "its own: replaced"
    mine, pipe = tmp_path / "accounts.csv", tmp_path / "pipe.csv"
    mine.write_text("my,own\nspreadsheet,1\n")
    os.mkfifo(pipe)
    for path in (mine, pipe):
        line = one_line_error(syndicate("subscribers", "export", path, "--site", config, env=env))
        assert f"{path}: is already there and is not an export of syndicate" in line
    assert mine.read_text() == "my,own\nspreadsheet,1\n" and pipe.is_fifo()
