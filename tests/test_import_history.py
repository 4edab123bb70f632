"""Import reads a feed's whole history (RFC 5005 pages and archives, WordPress ?paged=N) from a real HTTP
server, says when a feed looks truncated, dates undated items from the feed's own dates, never 1970, and
reads dates written in other languages."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from conftest import build_site, write_site
from import_server import Answer, serving

from syndicate.build.importing import ImportExtras, import_feed
from syndicate.cli.main import main
from syndicate.config import load_config
from syndicate.sources.feed import parse_feed_bytes

ZUTC = ZoneInfo("UTC")
START = datetime(2019, 1, 1, 12, 0, tzinfo=UTC)
WORDPRESS = "<generator>https://wordpress.org/?v=6.4.2</generator>"


def rss(numbers: range, *, links: str = "", channel: str = "", dated: bool = True) -> bytes:
    """An RSS 2.0 feed whose items are numbered, newest first, each a day after the one before it."""
    items = "".join(
        f"<item><title>Post {n}</title><link>https://blog.example.org/post-{n}/</link>"
        f'<guid isPermaLink="false">post-{n}</guid>'
        + (f"<pubDate>{(START + timedelta(days=n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>" if dated else "")
        + f"<description>Text {n}.</description></item>"
        for n in sorted(numbers, reverse=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
        f"<channel><title>Blog</title><link>https://blog.example.org/</link><description>d</description>{channel}"
        f"{links}{items}</channel></rss>"
    ).encode()


def atom_link(rel: str, href: str) -> str:
    return f'<atom:link rel="{rel}" href="{href}"/>'


def imported(source: str, tmp_path: Path, **extras: object) -> tuple[list[str], list[str], list[str]]:
    """(sorted file names, warnings, notes) of importing `source` into tmp_path/posts."""
    warnings: list[str] = []
    result = import_feed(
        source, tmp_path / "posts", tz=ZUTC, warn=warnings.append, durable=False, extras=ImportExtras(**extras)
    )
    assert result.errors == ()
    return sorted(p.path.name for p in result.files), warnings, list(result.notes)


# ---------------------------------------------------------------- the whole history


def test_rfc5005_next_links_are_followed_page_after_page(tmp_path: Path) -> None:
    with serving() as server:
        server.answers["/feed.xml"] = Answer(rss(range(7, 10), links=atom_link("next", "/feed.xml?page=2")))
        server.answers["/feed.xml?page=2"] = Answer(rss(range(4, 7), links=atom_link("next", "/feed.xml?page=3")))
        # the last page points back at the first: read once, not forever
        server.answers["/feed.xml?page=3"] = Answer(rss(range(1, 4), links=atom_link("next", "/feed.xml")))
        names, warnings, notes = imported(server.url("/feed.xml"), tmp_path)
        assert len(names) == 9 and warnings == []
        assert notes == ["read 3 pages of the feed, 9 items in all"]
        assert server.asked == ["/feed.xml", "/feed.xml?page=2", "/feed.xml?page=3"]
        names, warnings, _ = imported(server.url("/feed.xml"), tmp_path / "bound", max_pages=2)
        assert len(names) == 6
        assert warnings == [
            f"{server.url('/feed.xml')}: stopped after 2 pages; pass --max-pages to read further "
            f"({server.url('/feed.xml?page=3')} is next)"
        ]


def test_rfc5005_prev_archive_links_and_json_feed_next_url(tmp_path: Path) -> None:
    with serving() as server:
        server.answers["/current.xml"] = Answer(rss(range(5, 7), links=atom_link("prev-archive", "/2019.xml")))
        server.answers["/2019.xml"] = Answer(
            rss(range(3, 5), links=atom_link("prev-archive", "/2018.xml") + atom_link("current", "/current.xml"))
        )
        server.answers["/2018.xml"] = Answer(rss(range(1, 3)))
        names, _, _ = imported(server.url("/current.xml"), tmp_path / "a")
        assert len(names) == 6
        page = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": []}
        first = dict(
            page, next_url="/j2.json", items=[{"id": "a", "title": "A", "date_published": "2020-01-02T00:00:00Z"}]
        )
        second = dict(
            page, items=[{"id": "b", "title": "B", "date_published": "2020-01-01T00:00:00Z", "content_text": "x"}]
        )
        server.answers["/j.json"] = Answer(json.dumps(first).encode(), "application/feed+json")
        server.answers["/j2.json"] = Answer(json.dumps(second).encode(), "application/feed+json")
        names, _, _ = imported(server.url("/j.json"), tmp_path / "b")
        assert names == ["2020-01-01-b.md", "2020-01-02-a.md"]


def test_wordpress_feeds_are_walked_with_paged_until_a_404(tmp_path: Path) -> None:
    with serving() as server:
        server.answers["/feed/"] = Answer(rss(range(14, 24), channel=WORDPRESS))
        server.answers["/feed/?paged=2"] = Answer(rss(range(4, 14), channel=WORDPRESS))
        server.answers["/feed/?paged=3"] = Answer(rss(range(1, 4), channel=WORDPRESS))
        names, warnings, notes = imported(server.url("/feed/"), tmp_path / "all")
        assert len(names) == 23 and warnings == []
        assert notes == ["read 3 pages of the feed, 23 items in all"]
        assert server.asked[-1] == "/feed/?paged=4"  # answered 404: the end
        names, warnings, _ = imported(server.url("/feed/"), tmp_path / "bound", max_pages=2)
        assert len(names) == 20
        assert warnings == [f"{server.url('/feed/')}: stopped after 2 pages; pass --max-pages to read further"]


def test_a_site_that_ignores_paged_is_not_read_twice(tmp_path: Path) -> None:
    with serving() as server:
        for path in ("/feed/", "/feed/?paged=2"):
            server.answers[path] = Answer(rss(range(1, 11), channel="<generator>http://wordpress.com/</generator>"))
        names, warnings, notes = imported(server.url("/feed/"), tmp_path)
        assert len(names) == 10 and notes == []
        assert warnings == []  # it was asked for more, and there was none
        assert server.asked == ["/feed/", "/feed/?paged=2"]


def test_a_page_that_fails_keeps_the_pages_before_it(tmp_path: Path) -> None:
    with serving() as server:
        server.answers["/feed.xml"] = Answer(rss(range(3, 5), links=atom_link("next", "/broken.xml")))
        server.answers["/broken.xml"] = Answer(b"oops", "text/plain", 500)
        names, warnings, _ = imported(server.url("/feed.xml"), tmp_path)
        assert len(names) == 2
        assert len(warnings) == 1 and "HTTP 500" in warnings[0] and "the pages before it were kept" in warnings[0]


def test_a_feed_that_looks_truncated_is_reported(tmp_path: Path) -> None:
    with serving() as server:
        server.answers["/ghost/rss/"] = Answer(rss(range(1, 16)))
        server.answers["/short.xml"] = Answer(rss(range(1, 8)))
        _, warnings, _ = imported(server.url("/ghost/rss/"), tmp_path / "a")
        assert warnings == [
            f"{server.url('/ghost/rss/')}: exactly 15 items and no link to older ones: the feed looks truncated "
            "(WordPress serves 10, Ghost 15, Blogger 25 by default); import the blog's export "
            "(WordPress: Tools → Export), or raise the number of items in the feed and import again"
        ]
        _, warnings, _ = imported(server.url("/short.xml"), tmp_path / "b")
        assert warnings == []


# ---------------------------------------------------------------- dates without inventing them


def test_undated_items_take_the_servers_last_modified(tmp_path: Path) -> None:
    with serving() as server:
        server.answers["/feed.xml"] = Answer(
            rss(range(1, 3), dated=False), headers={"Last-Modified": "Wed, 15 May 2019 10:00:00 GMT"}
        )
        runner = CliRunner()
        result = runner.invoke(main, ["import", server.url("/feed.xml"), "--into", str(tmp_path), "--assume-date"])
        assert result.exit_code == 0, result.output
        assert "dated from the server's Last-Modified header (2019-05-15T10:00:00+00:00)" in result.output
        # the feed's first item is the newest
        assert sorted(p.name for p in tmp_path.iterdir()) == ["2019-05-15-post-1.md", "2019-05-15-post-2.md"]
        assert "date: 2019-05-15 09:59:59+00:00" in (tmp_path / "2019-05-15-post-1.md").read_text(encoding="utf-8")


def test_undated_items_take_the_channel_date_before_anything_else(tmp_path: Path) -> None:
    data = rss(range(1, 2), dated=False, channel="<lastBuildDate>Sun, 12 May 2019 20:00:00 +0200</lastBuildDate>")
    warnings: list[str] = []
    posts, errors = parse_feed_bytes(data, "f.xml", ZUTC, warnings.append, assume_date=True)
    assert errors == [] and posts[0].published == datetime(2019, 5, 12, 20, 0, tzinfo=timezone(timedelta(hours=2)))
    assert "dated from the channel's lastBuildDate" in warnings[0]


def test_assume_date_on_a_local_file_uses_its_time_and_never_builds_a_1970_issue(tmp_path: Path) -> None:
    feed = tmp_path / "old.xml"
    feed.write_bytes(rss(range(1, 3), dated=False))
    stamp = datetime(2013, 4, 16, 9, 0, tzinfo=UTC).timestamp()
    os.utime(feed, (stamp, stamp))
    config_path = write_site(tmp_path / "site", {})
    into = tmp_path / "site" / "posts"
    result = CliRunner().invoke(
        main, ["import", str(feed), "--into", str(into), "--assume-date", "--site", str(config_path)]
    )
    assert result.exit_code == 0, result.output
    assert "dated from the file's modification time (2013-04-16T09:00:00+00:00)" in result.output
    config = load_config(config_path, output_dir=tmp_path / "out")
    assert build_site(config).posts == 2
    built = [str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")]
    assert built and not any("1970" in name or "1969" in name for name in built)
    written = (tmp_path / "out" / "rss.xml").read_text(encoding="utf-8")
    assert "Tue, 16 Apr 2013" in written and "1970" not in written and "1969" not in written


def test_dates_in_other_languages_are_read() -> None:
    portuguese = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title><link>https://b.example.org/</link>'
        b"<description>d</description><language>pt-BR</language>"
        b"<item><title>Um</title><guid>um</guid><pubDate>Seg, 24 Set 2018 10:00:00 +0000</pubDate></item>"
        b"<item><title>Dois</title><guid>dois</guid><pubDate>Ter, 25 Set 2018 08:30:00 -0300</pubDate></item>"
        b"</channel></rss>"
    )
    posts, errors = parse_feed_bytes(portuguese, "pt.xml", ZUTC, lambda m: None)
    assert errors == []
    assert [p.published for p in posts] == [
        datetime(2018, 9, 24, 10, 0, tzinfo=UTC),
        datetime(2018, 9, 25, 8, 30, tzinfo=timezone(timedelta(hours=-3))),
    ]
    german = portuguese.replace(b"<language>pt-BR</language>", b"").replace(
        b"Seg, 24 Set 2018 10:00:00 +0000", b"Mo, 03 Dez 2018 08:00:00 +0100"
    )
    posts, errors = parse_feed_bytes(german, "de.xml", ZUTC, lambda m: None)  # no language given: any is tried
    assert posts[0].published == datetime(2018, 12, 3, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    nonsense = portuguese.replace(b"Seg, 24 Set 2018 10:00:00 +0000", b"someday soon")
    posts, errors = parse_feed_bytes(nonsense, "x.xml", ZUTC, lambda m: None)
    assert [p.title for p in posts] == ["Dois"] and "has no date" in str(errors[0])
