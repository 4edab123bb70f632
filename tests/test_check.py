"""`syndicate check`: every built feed parses back and passes our strict rules; broken feeds are caught."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT, build_site, copy_example_site
from hypothesis import given
from hypothesis import strategies as st

from syndicate.cli.main import main
from syndicate.config import load_config
from syndicate.feeds.check import check_directory, check_feed, html_url_problems, is_rfc822, is_rfc3339
from syndicate.sources.rss_atom import feedparser_problems

DATA = Path(__file__).parent / "data" / "feeds"


def good_rss(items: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>T</title><link>https://x.example/</link><description>D</description>
<atom:link href="https://x.example/rss.xml" rel="self" type="application/rss+xml"/>
{items}</channel></rss>"""


GOOD_ITEM = """<item><title>One</title><link>https://x.example/1/</link><guid isPermaLink="false">id-1</guid>
<pubDate>Mon, 15 Apr 2013 14:00:00 -0700</pubDate><description>&lt;p&gt;&lt;a href="https://x.example/a"&gt;a&lt;/a&gt;&lt;/p&gt;</description></item>"""


def good_atom(entries: str, author: str = "<author><name>A</name></author>") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>https://x.example/atom.xml</id><title>T</title>
<updated>2013-04-15T14:00:00-07:00</updated>{author}<link href="https://x.example/atom.xml" rel="self"/>
{entries}</feed>"""


GOOD_ENTRY = """<entry><id>tag:x.example,2013:one</id><title>One</title><updated>2013-04-15T14:00:00-07:00</updated>
<link href="https://x.example/1/"/><content type="html">&lt;p&gt;hi&lt;/p&gt;</content></entry>"""


def good_json(items: Sequence[Mapping[str, object]]) -> str:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "T",
            "feed_url": "https://x.example/feed.json",
            "items": items,
        }
    )


GOOD_JSON_ITEM = {
    "id": "tag:x.example,2013:one",
    "url": "https://x.example/1/",
    "content_html": "<p>hi</p>",
    "date_published": "2013-04-15T14:00:00-07:00",
}


def test_built_example_site_has_no_problems(tmp_path: Path) -> None:
    config = load_config(copy_example_site(tmp_path / "site"), output_dir=tmp_path / "out")
    build_site(config)
    problems, count = check_directory(tmp_path / "out")
    assert problems == []
    feed_files = [p for p in (tmp_path / "out").rglob("*") if p.name in ("rss.xml", "atom.xml", "feed.json")]
    assert count == len(feed_files) >= 3 * 11  # site, one category, nine tags


def test_repository_feeds_have_no_problems() -> None:
    problems, count = check_directory(REPO_ROOT / "feeds")
    assert problems == []
    assert count > 0


def test_the_wordpress_sample_passes() -> None:
    problems = check_feed((REPO_ROOT / "samples" / "wordpress-general.xml").read_bytes(), "wordpress-general.xml")
    assert problems == []


def test_problems_name_the_file_and_the_item(tmp_path: Path) -> None:
    bad_items = (
        GOOD_ITEM
        + """
<item><title></title><link>/relative/</link><pubDate>15 April 2013</pubDate>
<description>&lt;img src="/img.png"&gt;&lt;a href="javascript:x()"&gt;x&lt;/a&gt;</description></item>
<item><title>Three</title><link>https://x.example/3/</link><guid isPermaLink="false">id-1</guid>
<pubDate>Tue, 15 Apr 2013 14:00:00 -0700</pubDate>
<enclosure url="https://x.example/a.mp3" length="?" type=""/></item>"""
    )
    (tmp_path / "rss.xml").write_text(good_rss(bad_items), encoding="utf-8")
    problems, count = check_directory(tmp_path)
    assert count == 1
    where = f"{tmp_path / 'rss.xml'}: "
    assert all(p.startswith(where) for p in problems)
    found = [p[len(where) :] for p in problems]
    for expected in [
        "item 2: no title",
        "item 2: link '/relative/' is not an absolute URL",
        "item 2: no guid",
        "item 2: pubDate '15 April 2013' is not an RFC 822 date",
        "item 2: relative URL '/img.png' in content (src); feed readers need absolute URLs",
        "item 2: unsafe URL 'javascript:x()' in content (href)",
        "item 3: pubDate 'Tue, 15 Apr 2013 14:00:00 -0700' is not an RFC 822 date",  # 15 April 2013 was a Monday
        "item 3: enclosure length '?' is not a number of bytes",
        "item 3: enclosure has no type",
        "item 3: id 'id-1' repeats item 1's; ids must be unique",
        "item 2: feedparser finds no title, no id",
    ]:
        assert expected in found, (expected, found)
    assert not any(p.startswith("item 1:") for p in found)


def test_short_numeric_guids_are_flagged() -> None:
    item = GOOD_ITEM.replace("id-1", "42")
    assert check_feed(good_rss(item).encode(), "rss.xml") == [
        "item 1: guid '42' is a short number, not unique enough for feed readers"
    ]


def test_rss_channel_problems(tmp_path: Path) -> None:
    text = (
        good_rss(GOOD_ITEM)
        .replace("<title>T</title>", "")
        .replace('<atom:link href="https://x.example/rss.xml" rel="self" type="application/rss+xml"/>', "")
    )
    problems = check_feed(text.encode(), "rss.xml")
    assert problems is not None
    assert "channel has no title" in problems
    assert 'channel has no <atom:link rel="self">' in problems


def test_atom_problems() -> None:
    entries = (
        GOOD_ENTRY
        + """<entry><id>not an iri</id><title>Two</title><updated>2013-04-15 14:00</updated>
<link rel="alternate" href="2/"/><content type="html">&lt;img src="pic.png"&gt;</content></entry>
<entry><id>tag:x.example,2013:one</id><title>Three</title><updated>2013-04-15T14:00:00Z</updated></entry>"""
    )
    text = good_atom(entries, author="").replace('<link href="https://x.example/atom.xml" rel="self"/>', "")
    problems = check_feed(text.encode(), "atom.xml")
    assert problems is not None
    for expected in [
        'feed has no <link rel="self">',
        "feed has no author (and not every entry has one)",
        "item 2: id 'not an iri' is not a full URI (such as a tag: URI or an absolute URL)",
        "item 2: updated '2013-04-15 14:00' is not an RFC 3339 date",
        "item 2: alternate link '2/' is not an absolute URL",
        "item 2: relative URL 'pic.png' in content (src); feed readers need absolute URLs",
        "item 3: no alternate link",
        "item 3: id 'tag:x.example,2013:one' repeats item 1's; ids must be unique",
    ]:
        assert expected in problems, (expected, problems)
    assert check_feed(good_atom(GOOD_ENTRY).encode(), "atom.xml") == []


def test_json_feed_problems() -> None:
    items: list[Mapping[str, object]] = [
        GOOD_JSON_ITEM,
        {"id": 2, "url": "/2/", "content_html": '<a href="x">x</a>', "date_published": "yesterday"},
        {"id": "tag:x.example,2013:one", "url": "https://x.example/3/", "tags": "x"},
    ]
    problems = check_feed(good_json(items).encode(), "feed.json")
    assert problems is not None
    for expected in [
        "item 2: id must be a non-empty string, got 2",
        "item 2: url '/2/' is not an absolute URL",
        "item 2: relative URL 'x' in content (href); feed readers need absolute URLs",
        "item 2: date_published 'yesterday' is not an RFC 3339 date",
        "item 3: no content_html or content_text",
        "item 3: no date_published",
        "item 3: tags must be a list of strings",
        "item 3: id 'tag:x.example,2013:one' repeats item 1's; ids must be unique",
    ]:
        assert expected in problems, (expected, problems)
    assert check_feed(good_json([GOOD_JSON_ITEM]).encode(), "feed.json") == []
    wrong = json.loads(good_json([GOOD_JSON_ITEM]))
    wrong["version"] = "https://jsonfeed.org/version/2"
    assert check_feed(json.dumps(wrong).encode(), "feed.json") == [
        "version 'https://jsonfeed.org/version/2' is not 'https://jsonfeed.org/version/1.1'"
    ]


def test_files_that_are_not_feeds(tmp_path: Path) -> None:
    (tmp_path / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset><url><loc>x</loc></url></urlset>', encoding="utf-8"
    )
    (tmp_path / "data.json").write_text('{"a": 1}', encoding="utf-8")
    (tmp_path / "broken.xml").write_text("<not closed", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "rss.xml").write_text("junk", encoding="utf-8")
    (tmp_path / "feed.json").write_text('{"a": 1}', encoding="utf-8")
    (tmp_path / "atom.xml").write_text("<html><body>oops</body></html>", encoding="utf-8")
    (tmp_path / "rss.xml").write_text("<rss version='2.0'><channel>", encoding="utf-8")
    problems, count = check_directory(tmp_path)
    assert count == 3  # the three files named like feeds
    assert f"{tmp_path / 'feed.json'}: not a JSON Feed (no jsonfeed.org version)" in problems
    assert f"{tmp_path / 'atom.xml'}: root element <html> is not rss, feed or rdf:RDF: not a feed" in problems
    assert any(p.startswith(f"{tmp_path / 'rss.xml'}: not well-formed XML") for p in problems)


def test_entity_declarations_are_reported_not_expanded(tmp_path: Path) -> None:
    problems = check_feed((DATA / "xxe.xml").read_bytes(), "rss.xml")
    assert problems is not None
    assert not any("root:" in p for p in problems)
    assert any("internal subset" in p for p in problems)
    bomb = check_feed((DATA / "billion-laughs.xml").read_bytes(), "rss.xml")
    assert bomb is not None and bomb[0].startswith("not well-formed XML")


def test_feedparser_problems() -> None:
    assert feedparser_problems(good_rss(GOOD_ITEM).encode()) == []
    problems = feedparser_problems((DATA / "bozo.xml").read_bytes())
    assert problems[0].startswith("feedparser: not well-formed")
    undated = feedparser_problems((DATA / "rss20.xml").read_bytes())
    assert "item 2: feedparser finds no id" in undated and "item 3: feedparser finds no date" in undated


def test_html_url_problems() -> None:
    assert html_url_problems('<p><a href="https://x.example/">x</a> <a href="mailto:me@x.example">m</a></p>') == []
    assert html_url_problems('<a href="#top">t</a>') == [
        "relative URL '#top' in content (href); feed readers need absolute URLs"
    ]
    assert html_url_problems('<img src="https:///nohost.png">') == [
        "URL 'https:///nohost.png' in content has no host (src)"
    ]


MOMENTS = st.builds(
    lambda d, minutes: d.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31)),
    st.integers(min_value=-23 * 60, max_value=23 * 60),
)


@given(MOMENTS)
def test_dates_we_write_pass_the_date_checks(moment: datetime) -> None:
    assert is_rfc822(format_datetime(moment.replace(microsecond=0)))
    assert is_rfc3339(moment.isoformat())
    assert is_rfc3339(moment.replace(microsecond=0).isoformat())


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 15 Apr 2013 14:00:00",
        "Mon, 15 Apr 13 14:00:00 GMT",
        "2013-04-15T14:00:00Z",
        "Mon, 31 Apr 2013 14:00:00 GMT",
    ],
)
def test_bad_rfc822(value: str) -> None:
    assert not is_rfc822(value)


@pytest.mark.parametrize(
    "value",
    [
        "2013-04-15",
        "2013-04-15T14:00:00",
        "2013-04-15t14:00:00z",
        "2013-02-30T14:00:00Z",
        "Mon, 15 Apr 2013 14:00:00 GMT",
    ],
)
def test_bad_rfc3339(value: str) -> None:
    assert not is_rfc3339(value)


def test_check_command(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "rss.xml").write_text(good_rss(GOOD_ITEM), encoding="utf-8")
    ok = runner.invoke(main, ["check", str(tmp_path / "good")])
    assert ok.exit_code == 0, ok.output
    assert "checked 1 feeds" in ok.output and "no problems" in ok.output
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "feed.json").write_text(good_json([{**GOOD_JSON_ITEM, "url": "/x"}]), encoding="utf-8")
    bad = runner.invoke(main, ["check", str(tmp_path / "bad")])
    assert bad.exit_code == 1
    assert f"{tmp_path / 'bad' / 'feed.json'}: item 1: url '/x' is not an absolute URL" in bad.output
