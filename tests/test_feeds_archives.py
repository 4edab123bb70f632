"""RFC 5005 archives and JSON Feed next_url (issue 19, item 4): the chain is walked the way a
client walks it, from the subscription document through prev-archive (or next_url), after
adding, editing and deleting posts."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import jsonschema
import pytest
from conftest import TEST_DATA, build_site, make_site, post_text
from lxml import etree

from syndicate.build.ping import last_changed_feeds
from syndicate.config import Config
from syndicate.feeds.check import check_directory

SCHEMA = json.loads((TEST_DATA / "schemas" / "jsonfeed-1.1.json").read_text(encoding="utf-8"))
FH = "{http://purl.org/syndication/history/1.0}"
FEEDS = {"max_items": 3, "archives": True, "archive_size": 2}


def post(n: int, title: str = "") -> str:
    return post_text(title or f"Post {n}", f"2013-03-{n:02d} 10:00:00", tags=["Odd" if n % 2 else "Even"])


def local(config: Config, url: str) -> Path:
    assert url.startswith(config.output_url), url
    return config.output_dir / url.removeprefix(config.output_url)


def walk_xml(config: Config, rel: str) -> tuple[list[str], list[str]]:
    """(every entry id, every document's URL) from the subscription document back through prev-archive."""
    ids: list[str] = []
    seen: list[str] = []
    url: str | None = config.output_url + rel
    while url is not None:
        seen.append(url)
        data = local(config, url).read_bytes()
        etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        parsed = feedparser.parse(data)
        assert not parsed.bozo, url
        ids += [entry.id for entry in parsed.entries]
        links = {link.rel: link.href for link in parsed.feed.links}
        if len(seen) > 1:  # an archive document: marked, and pointing back at the feed
            assert links["current"] == config.output_url + rel
            assert FH + "archive" in {child.tag for child in etree.fromstring(data).iter()}
        url = links.get("prev-archive")
        assert url not in seen
    return ids, seen


def walk_json(config: Config, rel: str) -> list[str]:
    ids: list[str] = []
    url: str | None = config.output_url + rel
    while url is not None:
        feed = json.loads(local(config, url).read_bytes())
        assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(feed)) == []
        ids += [item["id"] for item in feed["items"]]
        url = feed.get("next_url")
    return ids


def check_chains(config: Config, titles: set[str], folder: str = "") -> None:
    problems, _ = check_directory(config.output_dir)
    assert problems == []
    for name in ("rss.xml", "atom.xml"):
        ids, _ = walk_xml(config, folder + name)
        assert len(ids) == len(set(ids)) == len(titles), name  # every post exactly once
    json_ids = walk_json(config, folder + "feed.json")
    assert len(json_ids) == len(set(json_ids)) == len(titles)
    items = []
    url: str | None = config.output_url + folder + "feed.json"
    while url is not None:
        feed = json.loads(local(config, url).read_bytes())
        items += feed["items"]
        url = feed.get("next_url")
    assert {item["title"] for item in items} == titles


def pages(config: Config) -> dict[str, bytes]:
    return {p.relative_to(config.output_dir).as_posix(): p.read_bytes() for p in config.output_dir.rglob("archive/*/*")}


def test_the_chain_holds_every_post_once_through_adding_editing_and_deleting(tmp_path: Path) -> None:
    posts = {f"p{n}.md": post(n) for n in range(1, 10)}
    config = make_site(tmp_path, posts, feeds=FEEDS)
    build_site(config)
    titles = {f"Post {n}" for n in range(1, 10)}
    check_chains(config, titles)
    # 9 posts, 3 kept: three full pages of 2, oldest first; the feed keeps the newest 3
    assert len(feedparser.parse((config.output_dir / "atom.xml").read_bytes()).entries) == 3
    _, documents = walk_xml(config, "atom.xml")
    assert [d.removeprefix(config.output_url) for d in documents] == [
        "atom.xml",
        "archive/3/atom.xml",
        "archive/2/atom.xml",
        "archive/1/atom.xml",
    ]
    first = pages(config)

    # a new post: no full page changes
    (tmp_path / "posts" / "p10.md").write_text(post(10), encoding="utf-8")
    build_site(config)
    titles.add("Post 10")
    check_chains(config, titles)
    assert pages(config) == first
    assert not [url for url in last_changed_feeds(config) or [] if "/archive/" in url]  # hubs hear of feeds only

    # another: a fourth page is archived; the older pages stay byte for byte, the third gains next-archive
    (tmp_path / "posts" / "p11.md").write_text(post(11), encoding="utf-8")
    build_site(config)
    titles.add("Post 11")
    check_chains(config, titles)
    second = pages(config)
    for rel, data in first.items():
        assert second[rel] == data or rel.startswith("archive/3/"), rel
    third_page = feedparser.parse(second["archive/3/atom.xml"])
    assert {link.rel: link.href for link in third_page.feed.links}["next-archive"].endswith("archive/4/atom.xml")
    assert [e.title for e in third_page.entries] == ["Post 6", "Post 5"]

    # an edit to an archived post reaches its page, and only that page
    (tmp_path / "posts" / "p2.md").write_text(post(2, "Post 2, corrected"), encoding="utf-8")
    build_site(config)
    titles = (titles - {"Post 2"}) | {"Post 2, corrected"}
    check_chains(config, titles)
    changed = {rel for rel, data in pages(config).items() if second.get(rel) != data}
    assert changed == {"archive/1/rss.xml", "archive/1/atom.xml", "archive/1/feed.json"}

    # deleting posts: the chain still holds every remaining post once, and empty pages go away
    for n in (1, 2, 3, 4, 5):
        (tmp_path / "posts" / f"p{n}.md").unlink()
    build_site(config)
    titles = {f"Post {n}" for n in range(6, 12)}
    check_chains(config, titles)
    assert sorted(p.name for p in (config.output_dir / "archive").iterdir()) == ["1"]


def test_tag_feeds_get_archives_when_asked(tmp_path: Path) -> None:
    posts = {f"p{n}.md": post(n) for n in range(1, 12)}
    config = make_site(tmp_path, posts, feeds={**FEEDS, "archive_tags": True})
    build_site(config)
    check_chains(config, {f"Post {n}" for n in range(1, 12, 2)}, "tags/odd/")
    assert (config.output_dir / "tags" / "odd" / "archive" / "1" / "atom.xml").is_file()
    index = (config.output_dir / "index.html").read_text(encoding="utf-8")
    opml = (config.output_dir / "feeds.opml").read_text(encoding="utf-8")
    assert "archive/" not in index and "archive/" not in opml  # pages are found through the feeds


def test_without_archives_the_feed_keeps_max_items(tmp_path: Path) -> None:
    config = make_site(tmp_path, {f"p{n}.md": post(n) for n in range(1, 10)}, feeds={"max_items": 3})
    build_site(config)
    assert not (config.output_dir / "archive").exists()
    assert "next_url" not in json.loads((config.output_dir / "feed.json").read_bytes())
    assert b"prev-archive" not in (config.output_dir / "rss.xml").read_bytes()


def test_archive_size_must_be_positive(tmp_path: Path) -> None:
    from syndicate.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[feeds\] archive_size must be a whole number of posts"):
        make_site(tmp_path, {"a.md": post(1)}, feeds={"archives": True, "archive_size": 0})
