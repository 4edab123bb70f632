"""Every feed syndicate writes, parsed back: by feedparser, by lxml with strict checks, against the JSON Feed schema.

The example site (samples/) is built once per module; small throwaway sites test
the edge cases (drafts, limits, odd tag names, collisions, forbidden characters).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import feedparser
import jsonschema
import lxml.html
import pytest
from conftest import EXAMPLE_TODAY, TEST_DATA, build_site, copy_example_site, make_site, output_files, post_text
from lxml import etree

from syndicate.config import Config, load_config
from syndicate.errors import BuildError
from syndicate.text import slugify

LA = ZoneInfo("America/Los_Angeles")
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
FEED_NAMES = {"rss.xml": "rss", "atom.xml": "atom", "feed.json": "json"}
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
SCHEMA = json.loads((TEST_DATA / "schemas" / "jsonfeed-1.1.json").read_text(encoding="utf-8"))

# The example site, newest first: (title, local publication time, tags). Every post is in category General.
EXAMPLE_POSTS = [
    ("Liveblogs from the 2013 OpenStack Summit", "2013-04-23 09:00", ["OpenStack"]),
    (
        "More Reliable, More Resilient, More Redundant: OpenStack High Availability in Grizzly and Beyond",
        "2013-04-18 13:30",
        ["OpenStack"],
    ),
    ("OpenStack Back to the Enterprise: Keep Calm and Boldly Go", "2013-04-18 10:00", ["OpenStack", "Cloud Computing"]),
    ("Networking in the Cloud: An SDN Primer", "2013-04-17 14:00", ["Networking", "OpenStack", "SDN"]),
    ("OpenStack Capacity Planning", "2013-04-17 10:00", ["OpenStack"]),
    ("Building HA OpenStack with Puppet in 20 Minutes", "2013-04-16 15:00", ["OpenStack", "Puppet", "Automation"]),
    ("Considerations for Building a Private Cloud, Folsom Update", "2013-04-16 11:00", ["OpenStack"]),
    ("Nicira NVP Deep Dive", "2013-04-15 16:30", ["Networking", "OpenStack"]),
    ("Getting From Grizzly to Havana: a DevOps Upgrade Pattern", "2013-04-15 14:00", ["OpenStack"]),
    ("Win a Signed Copy of VMware vSphere Design, 2nd Edition", "2013-04-01 08:00", ["Books", "VMware", "vSphere"]),
]


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LA)


# ---------------------------------------------------------------- reading outputs back


def feed_paths(out: Path) -> list[str]:
    return sorted(rel for rel in output_files(out) if rel.rsplit("/", 1)[-1] in FEED_NAMES)


def parse_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser)


def rss_items(root: etree._Element) -> list[etree._Element]:
    return root.findall("channel/item")


def atom_entries(root: etree._Element) -> list[etree._Element]:
    return root.findall("atom:entry", NS)


def text_of(element: etree._Element | None) -> str:
    assert element is not None
    return element.text or ""


def items_of(out: Path, rel: str) -> list[dict[str, Any]]:
    """A feed's items in a common shape: id, title, link, published (aware), content HTML, tags."""
    data = (out / rel).read_bytes()
    fmt = FEED_NAMES[rel.rsplit("/", 1)[-1]]
    if fmt == "json":
        return [
            {
                "id": i["id"],
                "title": i["title"],
                "link": i["url"],
                "published": datetime.fromisoformat(i["date_published"]),
                "content": i["content_html"],
                "tags": i.get("tags", []),
            }
            for i in json.loads(data)["items"]
        ]
    root = parse_xml(data)
    if fmt == "rss":
        return [
            {
                "id": text_of(i.find("guid")),
                "title": text_of(i.find("title")),
                "link": text_of(i.find("link")),
                "published": parsedate_to_datetime(text_of(i.find("pubDate"))),
                "content": (i.findtext("content:encoded", namespaces=NS) or "") + (i.findtext("description") or ""),
                "tags": [c.text for c in i.findall("category")],
            }
            for i in rss_items(root)
        ]
    return [
        {
            "id": text_of(e.find("atom:id", NS)),
            "title": text_of(e.find("atom:title", NS)),
            "link": entry_link(e),
            "published": datetime.fromisoformat(text_of(e.find("atom:published", NS))),
            "content": (e.findtext("atom:content", namespaces=NS) or "")
            + (e.findtext("atom:summary", namespaces=NS) or ""),
            "tags": [c.get("term") for c in e.findall("atom:category", NS)],
        }
        for e in atom_entries(root)
    ]


def entry_link(entry: etree._Element) -> str:
    """The entry's one alternate link (RFC 4287: a link without rel is an alternate link)."""
    (link,) = [x for x in entry.findall("atom:link", NS) if x.get("rel", "alternate") == "alternate"]
    return link.get("href") or ""


def urls_in_html(fragment: str) -> Iterator[str]:
    if not fragment.strip():
        return
    for element in lxml.html.fragment_fromstring(fragment, create_parent="div").iter():
        for attribute in ("href", "src"):
            if element.get(attribute) is not None:
                yield element.get(attribute)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path]:
    folder = tmp_path_factory.mktemp("example")
    out = folder / "out"
    config = load_config(copy_example_site(folder / "site"), output_dir=out)
    build_site(config, EXAMPLE_TODAY)
    return config, out


def url_of(config: Config, rel: str) -> str:
    return config.output_url + rel


def home_of(config: Config, rel: str) -> str:
    """The page a feed links to: the site for the site feeds, the feed index for a tag's or category's."""
    return config.site.url if "/" not in rel else config.output_url


# ---------------------------------------------------------------- validity of every feed


def test_every_xml_feed_parses_cleanly_with_feedparser(example: tuple[Config, Path]) -> None:
    _, out = example
    xml_feeds = [rel for rel in feed_paths(out) if rel.endswith(".xml")]
    assert len(xml_feeds) >= 2 * 11  # site + General + 9 tags, in RSS and Atom
    for rel in xml_feeds:
        parsed = feedparser.parse((out / rel).read_bytes())
        assert parsed.bozo == 0, f"{rel}: {parsed.get('bozo_exception')}"
        assert parsed.version in ("rss20", "atom10"), rel
        for entry in parsed.entries:
            assert entry.get("title"), rel
            assert entry.get("id"), rel
            assert urlsplit(entry.get("link", "")).scheme == "https", rel
            assert entry.get("published_parsed"), rel


def test_every_xml_output_is_well_formed(example: tuple[Config, Path]) -> None:
    _, out = example
    for rel, data in output_files(out).items():
        if rel.endswith((".xml", ".opml")):
            parse_xml(data)  # raises on any well-formedness error
            declaration = data.split(b"\n", 1)[0]
            assert declaration.startswith(b"<?xml version="), rel
            assert b"encoding='UTF-8'" in declaration or b'encoding="UTF-8"' in declaration, rel


def test_rss_strict(example: tuple[Config, Path]) -> None:
    config, out = example
    for rel in feed_paths(out):
        if not rel.endswith("rss.xml") or rel.startswith("newsletter/"):
            continue
        root = parse_xml((out / rel).read_bytes())
        assert root.tag == "rss" and root.get("version") == "2.0"
        channel = root.find("channel")
        assert channel is not None
        assert channel.findtext("title") and channel.findtext("description")
        assert channel.findtext("link") == home_of(config, rel)
        self_links = channel.findall("atom:link[@rel='self']", NS)
        assert [link.get("href") for link in self_links] == [url_of(config, rel)], rel
        assert RFC822.match(channel.findtext("lastBuildDate") or ""), rel
        items = rss_items(root)
        assert items, rel
        for item in items:
            assert item.findtext("title")
            assert urlsplit(item.findtext("link") or "").scheme == "https"
            assert item.findtext("description")
            assert item.findtext("content:encoded", namespaces=NS)
            assert item.findtext("dc:creator", namespaces=NS) == "Example Author"
            assert "General" in [c.text for c in item.findall("category")]
            guid = item.find("guid")
            assert guid is not None and (guid.text or "").startswith("tag:")
            assert guid.get("isPermaLink") == "false"
            pub = item.findtext("pubDate") or ""
            assert RFC822.match(pub), pub
            assert pub.endswith("-0700"), "April in Los Angeles is PDT"


def test_atom_strict(example: tuple[Config, Path]) -> None:
    config, out = example
    for rel in feed_paths(out):
        if not rel.endswith("atom.xml") or rel.startswith("newsletter/"):
            continue
        root = parse_xml((out / rel).read_bytes())
        assert root.tag == "{http://www.w3.org/2005/Atom}feed"
        assert root.findtext("atom:id", namespaces=NS)
        assert root.findtext("atom:title", namespaces=NS)
        assert RFC3339.match(root.findtext("atom:updated", namespaces=NS) or "")
        assert root.findtext("atom:author/atom:name", namespaces=NS) == "Example Author"
        assert [x.get("href") for x in root.findall("atom:link[@rel='self']", NS)] == [url_of(config, rel)]
        assert [x.get("href") for x in root.findall("atom:link[@rel='alternate']", NS)] == [home_of(config, rel)]
        entries = atom_entries(root)
        assert entries, rel
        for entry in entries:
            assert (entry.findtext("atom:id", namespaces=NS) or "").startswith("tag:")
            assert entry.findtext("atom:title", namespaces=NS)
            for name in ("updated", "published"):
                assert RFC3339.match(entry.findtext(f"atom:{name}", namespaces=NS) or ""), name
            assert entry.findtext("atom:author/atom:name", namespaces=NS)
            assert "General" in [c.get("term") for c in entry.findall("atom:category", NS)]
            summary = entry.find("atom:summary", NS)
            content = entry.find("atom:content", NS)
            assert summary is not None and summary.get("type") == "html" and summary.text
            assert content is not None and content.get("type") == "html" and content.text
            assert urlsplit(entry_link(entry)).scheme == "https"


def test_json_feed_schema_and_required_fields(example: tuple[Config, Path]) -> None:
    config, out = example
    validator = jsonschema.Draft202012Validator(SCHEMA)
    json_feeds = [rel for rel in feed_paths(out) if rel.endswith("feed.json")]
    assert json_feeds
    for rel in json_feeds:
        feed = json.loads((out / rel).read_bytes())
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(feed)]
        assert not errors, f"{rel}: {errors}"
        assert feed["feed_url"] == url_of(config, rel)
        if rel.startswith("newsletter/"):
            continue
        assert feed["home_page_url"] == home_of(config, rel)
        for item in feed["items"]:
            for key in (
                "id",
                "url",
                "title",
                "content_html",
                "summary",
                "date_published",
                "date_modified",
                "tags",
                "authors",
            ):
                assert item.get(key), f"{rel}: {item.get('id')} has no {key}"
            assert item["authors"] == [{"name": "Example Author"}]


def test_schema_rejects_what_the_spec_forbids() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    good = {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [{"id": "1", "content_text": "x"}]}
    assert validator.is_valid(good)
    bad_items: list[dict[str, Any]] = [
        {"content_text": "no id"},
        {"id": "1"},  # no content at all
        {"id": "1", "content_text": "x", "date_published": "Mon, 15 Apr 2013 10:00:00 -0700"},
        {"id": "1", "content_text": "x", "date_published": "2013-04-15T10:00:00"},  # no offset
        {"id": "1", "content_text": "x", "tags": "a, b"},
        {"id": "1", "content_text": "x", "authors": [{}]},
        {"id": "1", "content_text": "x", "attachments": [{"url": "https://e.org/a.mp3"}]},
        {"id": "1", "content_text": "x", "summery": "typo"},
    ]
    for item in bad_items:
        assert not validator.is_valid({**good, "items": [item]}), item
    assert not validator.is_valid({**good, "version": "https://jsonfeed.org/version/1"})
    assert not validator.is_valid({"version": good["version"], "items": []})
    assert validator.is_valid({**good, "_extension": {"anything": 1}})


# ---------------------------------------------------------------- meaning


def test_site_feed_has_the_ten_posts_newest_first(example: tuple[Config, Path]) -> None:
    _, out = example
    expected = [(title, local(when)) for title, when, _ in EXAMPLE_POSTS]
    for rel in ("rss.xml", "atom.xml", "feed.json"):
        items = items_of(out, rel)
        assert [(i["title"], i["published"]) for i in items] == expected, rel
        for item in items:
            assert item["published"].utcoffset() == timedelta(hours=-7), rel


def test_dates_are_written_in_each_formats_own_way(example: tuple[Config, Path]) -> None:
    _, out = example
    rss = parse_xml((out / "rss.xml").read_bytes())
    assert rss_items(rss)[0].findtext("pubDate") == "Tue, 23 Apr 2013 09:00:00 -0700"
    atom = parse_xml((out / "atom.xml").read_bytes())
    assert atom_entries(atom)[0].findtext("atom:published", namespaces=NS) == "2013-04-23T09:00:00-07:00"
    item = json.loads((out / "feed.json").read_bytes())["items"][0]
    assert (item["date_published"], item["date_modified"]) == ("2013-04-23T09:00:00-07:00", "2013-04-23T09:00:00-07:00")


def test_tag_feeds_hold_exactly_the_posts_with_that_tag(example: tuple[Config, Path]) -> None:
    _, out = example
    all_tags = {tag for _, _, tags in EXAMPLE_POSTS for tag in tags}
    assert len(all_tags) == 9
    tag_dirs = {rel.split("/")[1] for rel in feed_paths(out) if rel.startswith("tags/")}
    assert tag_dirs == {slugify(tag) for tag in all_tags}
    for tag in all_tags:
        expected = [title for title, _, tags in EXAMPLE_POSTS if tag in tags]
        for name in FEED_NAMES:
            items = items_of(out, f"tags/{slugify(tag)}/{name}")
            assert [i["title"] for i in items] == expected, (tag, name)
            assert all(tag in i["tags"] for i in items)
    atom = parse_xml((out / "tags" / "cloud-computing" / "atom.xml").read_bytes())
    assert atom.findtext("atom:title", namespaces=NS) == "Example Blog: Cloud Computing"


def test_category_general_has_all_ten(example: tuple[Config, Path]) -> None:
    _, out = example
    assert {rel.split("/")[1] for rel in feed_paths(out) if rel.startswith("categories/")} == {"general"}
    for name in FEED_NAMES:
        assert [i["title"] for i in items_of(out, f"categories/general/{name}")] == [t for t, _, _ in EXAMPLE_POSTS]


def test_items_carry_their_tags_and_category(example: tuple[Config, Path]) -> None:
    _, out = example
    for rel in ("rss.xml", "atom.xml", "feed.json"):
        assert [i["tags"] for i in items_of(out, rel)] == [["General", *tags] for _, _, tags in EXAMPLE_POSTS], rel


def test_ids_are_tag_uris_and_agree_across_formats(example: tuple[Config, Path]) -> None:
    _, out = example
    ids = {rel: [i["id"] for i in items_of(out, rel)] for rel in ("rss.xml", "atom.xml", "feed.json")}
    assert ids["rss.xml"] == ids["atom.xml"] == ids["feed.json"]
    assert len(set(ids["atom.xml"])) == 10
    assert ids["atom.xml"][-1] == "tag:blog.example.org,2013-04-01:vsphere-design-book-giveaway"
    for value in ids["atom.xml"]:
        assert re.fullmatch(r"tag:blog\.example\.org,2013-04-\d{2}:[a-z0-9-]+", value), value


def test_ids_survive_title_edits_and_moving_the_output(tmp_path: Path) -> None:
    posts = {"2013-04-15-grizzly.md": post_text("Grizzly to Havana", "2013-04-15 14:00:00")}
    first = make_site(tmp_path / "a", posts)
    build_site(first)
    edited = {
        "2013-04-15-grizzly.md": post_text(
            "From Grizzly to Havana, revised", "2013-04-15 14:00:00", updated="2013-04-20"
        )
    }
    second = make_site(tmp_path / "b", edited, output={"dir": "elsewhere", "url": "https://cdn.example.net/feeds/"})
    build_site(second)
    before = items_of(first.output_dir, "atom.xml")
    after = items_of(second.output_dir, "atom.xml")
    assert before[0]["title"] != after[0]["title"]
    assert before[0]["id"] == after[0]["id"] == "tag:blog.example.org,2013-04-15:grizzly"
    assert (
        json.loads((second.output_dir / "feed.json").read_bytes())["feed_url"]
        == "https://cdn.example.net/feeds/feed.json"
    )


def test_explicit_id_is_kept(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"p.md": post_text("T", id="urn:uuid:0f3c1d7e-2b7a-4f61-9a55-8d0f7f2c9b11")})
    build_site(config)
    rss = parse_xml((config.output_dir / "rss.xml").read_bytes())
    guid = rss_items(rss)[0].find("guid")
    assert guid is not None and guid.text == "urn:uuid:0f3c1d7e-2b7a-4f61-9a55-8d0f7f2c9b11"
    assert guid.get("isPermaLink") == "false"


def test_every_url_in_content_is_absolute(example: tuple[Config, Path]) -> None:
    _, out = example
    seen = 0
    for rel in feed_paths(out):
        for item in items_of(out, rel) if not rel.startswith("newsletter/") else []:
            for url in urls_in_html(item["content"]):
                seen += 1
                assert urlsplit(url).scheme in ("https", "http", "mailto"), (rel, url)
    assert seen > 0


def test_relative_links_and_images_are_resolved_against_the_post(tmp_path: Path) -> None:
    body = (
        "[up](../other/) ![chart](img/chart.png) [root](/about/) [here](#notes) [mail](mailto:a@example.org)\n\n"
        '<a href="javascript:alert(1)">bad</a> <script>alert(1)</script> <img src="//cdn.example.net/x.png">\n'
    )
    config = make_site(tmp_path, {"2013-04-15-a.md": post_text("A", body=body)})
    build_site(config)
    for rel in ("rss.xml", "atom.xml", "feed.json"):
        (item,) = items_of(config.output_dir, rel)
        assert item["link"] == "https://blog.example.org/2013/04/15/a/"
        urls = set(urls_in_html(item["content"]))
        assert {
            "https://blog.example.org/2013/04/15/other/",
            "https://blog.example.org/2013/04/15/a/img/chart.png",
            "https://blog.example.org/about/",
            "https://blog.example.org/2013/04/15/a/#notes",
            "mailto:a@example.org",
            "https://cdn.example.net/x.png",
        } <= urls, rel
        assert not any("javascript" in u for u in urls)
        tree = lxml.html.fragment_fromstring(item["content"], create_parent="div")
        assert not tree.xpath("//script | //*[@*[starts-with(name(), 'on')]]")


def test_feed_updated_is_its_newest_items(tmp_path: Path) -> None:
    posts = {
        "old.md": post_text("Old", "2013-04-10 10:00:00", tags=["t"], updated="2013-04-25 08:00:00"),
        "new.md": post_text("New", "2013-04-20 10:00:00", tags=["t"]),
        "other.md": post_text("Other", "2013-04-22 10:00:00", tags=["u"]),
    }
    config = make_site(tmp_path, posts)
    build_site(config)
    out = config.output_dir
    for rel, expected in (
        ("atom.xml", "2013-04-25T08:00:00-07:00"),
        ("tags/t/atom.xml", "2013-04-25T08:00:00-07:00"),
        ("tags/u/atom.xml", "2013-04-22T10:00:00-07:00"),
    ):
        root = parse_xml((out / rel).read_bytes())
        assert root.findtext("atom:updated", namespaces=NS) == expected, rel
        newest = max(datetime.fromisoformat(u.text or "") for u in root.findall("atom:entry/atom:updated", NS))
        assert datetime.fromisoformat(expected) == newest
    rss = parse_xml((out / "tags/u/rss.xml").read_bytes())
    assert rss.findtext("channel/lastBuildDate") == "Mon, 22 Apr 2013 10:00:00 -0700"
    item = next(i for i in json.loads((out / "feed.json").read_bytes())["items"] if i["title"] == "Old")
    assert item["date_modified"] == "2013-04-25T08:00:00-07:00"


def test_drafts_and_future_posts_are_in_no_output(tmp_path: Path) -> None:
    posts = {
        "visible.md": post_text("Visible post", "2013-04-15 10:00:00", tags=["shared"]),
        "late-today.md": post_text("Late today", "2013-04-30 23:30:00", tags=["shared"]),
        "utc-today.md": post_text("Utc evening", "2013-05-01T05:00:00Z", tags=["shared"]),  # 22:00 on the 30th in LA
        "draft.md": post_text("Zebradraft", "2013-04-14 10:00:00", tags=["shared", "zebratag"], draft=True),
        "unpublished.md": post_text("Zebrajekyll", "2013-04-14 11:00:00", tags=["shared"], published=False),
        "future.md": post_text("Zebrafuture", "2013-05-01 00:00:00", tags=["shared"], categories=["Zebracat"]),
        "future-utc.md": post_text("Zebraoffset", "2013-04-30T23:30:00-10:00", tags=["shared"]),  # 02:30 on 1 May in LA
    }
    config = make_site(tmp_path, posts)
    result = build_site(config, EXAMPLE_TODAY)
    assert result.posts == 3
    files = output_files(config.output_dir)
    for rel, data in files.items():
        assert b"zebra" not in data.lower(), f"{rel} shows a hidden post"
    titles = [i["title"] for i in items_of(config.output_dir, "tags/shared/atom.xml")]
    assert titles == ["Late today", "Utc evening", "Visible post"]
    assert not any(rel.startswith("categories/") for rel in files)
    # the same site a day later shows the future posts: the check above can fail
    build_site(config, EXAMPLE_TODAY + timedelta(days=1))
    assert b"Zebrafuture" in (config.output_dir / "atom.xml").read_bytes()
    assert (config.output_dir / "categories" / "zebracat" / "atom.xml").exists()


def test_max_items(tmp_path: Path) -> None:
    posts = {
        f"p{n}.md": post_text(f"Post {n}", f"2013-04-{10 + n} 10:00:00", tags=["t"], categories=["c"]) for n in range(5)
    }
    config = make_site(tmp_path, posts, feeds={"max_items": 2})
    build_site(config)
    for rel in feed_paths(config.output_dir):
        if rel.startswith("newsletter/"):
            continue
        assert [i["title"] for i in items_of(config.output_dir, rel)] == ["Post 4", "Post 3"], rel


def test_summary_only_feeds(tmp_path: Path) -> None:
    body = "The summary part.\n\n<!-- more -->\n\nZebrabody after the fold.\n"
    config = make_site(tmp_path, {"p.md": post_text("T", body=body, tags=["t"])}, feeds={"full_content": False})
    build_site(config)
    out = config.output_dir
    for rel in feed_paths(out):
        if rel.startswith("newsletter/"):
            continue
        data = (out / rel).read_bytes()
        assert b"Zebrabody" not in data, rel
        assert b"The summary part." in data, rel
        if rel.endswith("rss.xml"):
            item = rss_items(parse_xml(data))[0]
            assert item.find("content:encoded", NS) is None
            assert "The summary part." in (item.findtext("description") or "")
        elif rel.endswith("atom.xml"):
            entry = atom_entries(parse_xml(data))[0]
            assert entry.find("atom:content", NS) is None
            summary = entry.find("atom:summary", NS)
            assert summary is not None and summary.get("type") == "html"
        else:
            item = json.loads(data)["items"][0]
            assert "The summary part." in item["content_html"]
            assert jsonschema.Draft202012Validator(SCHEMA).is_valid(json.loads(data))


def test_full_content_carries_the_text_after_the_fold(tmp_path: Path) -> None:
    body = "The summary part.\n\n<!-- more -->\n\nZebrabody after the fold.\n"
    config = make_site(tmp_path, {"p.md": post_text("T", body=body)})
    build_site(config)
    for rel in ("rss.xml", "atom.xml", "feed.json"):
        assert b"Zebrabody" in (config.output_dir / rel).read_bytes()
    item = json.loads((config.output_dir / "feed.json").read_bytes())["items"][0]
    assert item["summary"] == "The summary part."
    assert "<!--" not in item["content_html"]


def test_characters_xml_forbids_never_reach_a_feed(tmp_path: Path) -> None:
    front = (
        "---\n"
        'title: "Bad\\0chars\\vin\\uFFFEtitle\\x1b"\n'
        "date: 2013-04-15 10:00:00\n"
        'tags: ["tag\\vone", "plain"]\n'
        'summary: "sum\\vmary \\uFFFF"\n'
        'author: "Ann\\x01 Author"\n'
        "---\n"
    )
    body = (
        "Raw \x0b vertical tab, raw \ufffe noncharacter, raw \x1f unit separator.\n\n"
        "Entities &#11; &#xFFFE; &#xffff; &#0; &#x1; &#55296; and fine &#233;.\n\n"
        '<abbr title="x&#11;y&#xFFFE;">abbr</abbr> `code \x0c here`\n'
    )
    config = make_site(tmp_path, {"p.md": front + body})
    build_site(config)
    out = config.output_dir
    for rel, data in output_files(out).items():
        text = data.decode("utf-8")
        assert not XML_FORBIDDEN.search(text), f"{rel}: {XML_FORBIDDEN.findall(text)!r}"
        assert not re.search(r"&#(0*(11|0|1|55296)|x0*(b|fffe|ffff|1|0));", text, re.I), rel
        if rel.endswith(".xml"):
            parse_xml(data)
            assert feedparser.parse(data).bozo == 0, rel
        if rel.endswith(".json"):
            json.loads(text)
    (item,) = items_of(out, "atom.xml")
    assert item["title"] == "Bad chars intitle"  # controls become spaces, noncharacters vanish
    assert "fine é" in item["content"]


# ---------------------------------------------------------------- tag paths


ODD_TAGS = [
    "../etc",
    "C#",
    "C++",
    "Über",
    "CON",
    "%2e%2e",
    "x" * 300,
    "a/b\\c",
    ".",
    "..",
    "nul",
    "index",
    "   spaced   out  ",
]


def test_odd_tag_names_get_safe_unique_paths(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", {"p.md": post_text("Tagged", tags=ODD_TAGS)})
    build_site(config)
    out = config.output_dir.resolve()
    files = output_files(out)
    tag_dirs = sorted({rel.split("/")[1] for rel in files if rel.startswith("tags/")})
    assert len(tag_dirs) == len(ODD_TAGS)
    for slug in tag_dirs:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug), slug
        assert len(slug) <= 90
        assert slug not in ("con", "nul", "index")
    for rel in files:
        assert (out / rel).resolve().is_relative_to(out)
    assert not (tmp_path / "site" / "etc").exists() and not (tmp_path / "etc").exists()
    titles = {}
    for slug in tag_dirs:
        root = parse_xml((out / "tags" / slug / "atom.xml").read_bytes())
        titles[root.findtext("atom:title", namespaces=NS)] = slug
    assert set(titles) == {f"Example Blog: {' '.join(t.split())}" for t in ODD_TAGS}
    assert titles["Example Blog: C#"] == "c-sharp"
    assert titles["Example Blog: C++"] == "c-plus-plus"
    assert titles["Example Blog: Über"] == "uber"
    assert titles["Example Blog: ../etc"] == "etc"


def test_tag_paths_are_predictable(tmp_path: Path) -> None:
    one = make_site(tmp_path / "one", {"p.md": post_text("T", tags=ODD_TAGS)})
    two = make_site(tmp_path / "two", {"q.md": post_text("Other", "2013-04-16", tags=list(reversed(ODD_TAGS)))})
    build_site(one)
    build_site(two)
    assert sorted(p for p in output_files(one.output_dir) if p.startswith("tags/")) == sorted(
        p for p in output_files(two.output_dir) if p.startswith("tags/")
    )


def test_long_tag_names_that_share_a_start_get_their_own_paths(tmp_path: Path) -> None:
    long_a, long_b = "x" * 300, "x" * 299
    config = make_site(tmp_path, {"p.md": post_text("T", tags=[long_a, long_b])})
    build_site(config)
    folders = sorted(p.name for p in (config.output_dir / "tags").iterdir())
    assert len(folders) == 2 and all(len(name) <= 80 for name in folders)


@pytest.mark.parametrize(
    ("first", "second"),
    [("Über", "Uber"), ("../etc", "etc"), ("C++", "c-plus-plus"), ("C#", "C sharp")],
)
def test_colliding_tag_names_are_an_error_naming_both(tmp_path: Path, first: str, second: str) -> None:
    posts = {"a.md": post_text("A", tags=[first]), "b.md": post_text("B", "2013-04-16 10:00:00", tags=[second])}
    config = make_site(tmp_path, posts)
    with pytest.raises(BuildError) as err:
        build_site(config)
    message = str(err.value)
    assert repr(first) in message and repr(second) in message
    assert "posts/a.md" in message and "posts/b.md" in message
    assert f"tags/{slugify(first)}/" in message
    assert not config.output_dir.exists() or not output_files(config.output_dir), (
        "nothing is written when the build fails"
    )


def test_colliding_category_names(tmp_path: Path) -> None:
    posts = {
        "a.md": post_text("A", categories=["Cloud & Co"]),
        "b.md": post_text("B", "2013-04-16", categories=["Cloud and Co"]),
    }
    with pytest.raises(BuildError, match=r"'Cloud & Co'.*'Cloud and Co'|'Cloud and Co'.*'Cloud & Co'"):
        build_site(make_site(tmp_path, posts))


def test_tag_names_differing_only_in_case_merge(tmp_path: Path) -> None:
    posts = {
        "a.md": post_text("A", "2013-04-15 10:00:00", tags=["OpenStack"]),
        "b.md": post_text("B", "2013-04-16 10:00:00", tags=["openstack"]),
        "c.md": post_text("C", "2013-04-17 10:00:00", tags=["OpenStack"]),
    }
    config = make_site(tmp_path, posts)
    build_site(config)
    out = config.output_dir
    assert sorted({rel.split("/")[1] for rel in output_files(out) if rel.startswith("tags/")}) == ["openstack"]
    root = parse_xml((out / "tags" / "openstack" / "atom.xml").read_bytes())
    assert root.findtext("atom:title", namespaces=NS) == "Example Blog: OpenStack"
    assert [i["title"] for i in items_of(out, "tags/openstack/atom.xml")] == ["C", "B", "A"]


def test_a_tag_and_a_category_may_share_a_name(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"a.md": post_text("A", tags=["General"], categories=["General"])})
    build_site(config)
    assert (config.output_dir / "tags" / "general" / "rss.xml").exists()
    assert (config.output_dir / "categories" / "general" / "rss.xml").exists()


# ---------------------------------------------------------------- duplicates


def test_duplicate_slugs_name_both_files(tmp_path: Path) -> None:
    posts = {"2013/a.md": post_text("A", slug="same"), "2014/b.md": post_text("B", "2013-04-16", slug="same")}
    with pytest.raises(BuildError) as err:
        build_site(make_site(tmp_path, posts))
    assert "posts/2013/a.md" in str(err.value) and "posts/2014/b.md" in str(err.value)
    assert "slug" in str(err.value)


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    posts = {"a.md": post_text("A", id="urn:x:1"), "b.md": post_text("B", "2013-04-16", id="urn:x:1")}
    with pytest.raises(BuildError) as err:
        build_site(make_site(tmp_path, posts))
    assert "posts/a.md" in str(err.value) and "posts/b.md" in str(err.value)
    assert "'urn:x:1'" in str(err.value)


def test_duplicate_links_name_both_files(tmp_path: Path) -> None:
    posts = {
        "a.md": post_text("A", url="/same/"),
        "b.md": post_text("B", "2013-04-16", url="https://blog.example.org/same/"),
    }
    with pytest.raises(BuildError) as err:
        build_site(make_site(tmp_path, posts))
    assert "posts/a.md" in str(err.value) and "posts/b.md" in str(err.value)


def test_a_draft_does_not_collide_with_its_published_twin(tmp_path: Path) -> None:
    posts = {"a.md": post_text("A", slug="same"), "b.md": post_text("B", "2013-04-16", slug="same", draft=True)}
    config = make_site(tmp_path, posts)
    assert build_site(config).posts == 1


# ---------------------------------------------------------------- index.html and OPML


def all_feed_urls(config: Config, out: Path) -> set[str]:
    return {url_of(config, rel) for rel in feed_paths(out)}


def test_index_page_has_autodiscovery_for_the_site_feeds(example: tuple[Config, Path]) -> None:
    config, out = example
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    links = page.xpath("//head/link[@rel='alternate']")
    media = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml", "feed.json": "application/feed+json"}
    # autodiscovery offers a reader the site's feeds only; every other feed is listed in the body
    site_feeds = {url_of(config, name) for name in media}
    assert {link.get("href") for link in links} == site_feeds
    assert len(links) == len(site_feeds)
    for link in links:
        assert link.get("type") == media[link.get("href").rsplit("/", 1)[-1]]
        assert link.get("title")
    body_links = {a.get("href") for a in page.xpath("//body//a[@href]")}
    assert all_feed_urls(config, out) <= body_links
    assert "feeds.opml" in body_links


def test_opml_lists_every_feed(example: tuple[Config, Path]) -> None:
    config, out = example
    root = parse_xml((out / "feeds.opml").read_bytes())
    assert root.tag == "opml" and root.get("version") == "2.0"
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert len(urls) == len(set(urls))
    assert set(urls) <= all_feed_urls(config, out)
    # one subscription per feed (site, each category, each tag), not one per format
    feed_dirs = {rel.rsplit("/", 1)[0] if "/" in rel else "" for rel in feed_paths(out)}
    listed_dirs = {u.removeprefix(config.output_url).rpartition("/")[0] for u in urls}
    assert listed_dirs == feed_dirs
    for outline in root.iter("outline"):
        if outline.get("xmlUrl"):
            assert outline.get("type") == "rss" and outline.get("text") and outline.get("htmlUrl") == config.site.url
