"""Icons, post images, links between feeds and pages, per-author feeds and code classes (issue 19, items 1, 2, 6).

Each feature goes through a build of a small site and is read back the way readers
read it: feedparser, lxml with strict parsing, the JSON Feed schema, and `syndicate
check` (whose rules are those of the W3C validator and stricter).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import lxml.html
from conftest import TEST_DATA, build_site, make_site, post_text
from lxml import etree

from syndicate.config import Config
from syndicate.feeds.check import check_directory

SCHEMA = json.loads((TEST_DATA / "schemas" / "jsonfeed-1.1.json").read_text(encoding="utf-8"))
ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
SITE = {"icon": "/icon.png", "logo": "https://cdn.example.org/logo.png"}


def strict(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def built(tmp_path: Path, posts: dict[str, str], **overrides: dict[str, Any]) -> tuple[Config, Path, list[str]]:
    config = make_site(tmp_path, posts, **overrides)
    warnings: list[str] = []
    build_site(config, warnings=warnings)
    out = config.output_dir
    problems, _ = check_directory(out)
    assert problems == []
    for rel in out.rglob("feed.json"):
        assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(json.loads(rel.read_bytes()))) == []
    for rel in [*out.rglob("rss.xml"), *out.rglob("atom.xml")]:
        strict(rel.read_bytes())
    return config, out, warnings


POSTS = {
    "a.md": post_text("With a cover", "2013-04-15 10:00:00", image="cover.jpg", tags=["Cloud"]),
    "cover.jpg": "not really a JPEG, but a file",
    "b.md": post_text("Plain", "2013-04-16 10:00:00", tags=["Cloud", "Go"]),
}


def test_site_icon_and_logo_reach_every_format(tmp_path: Path) -> None:
    _, out, _ = built(tmp_path, POSTS, site=SITE)
    rss = feedparser.parse((out / "rss.xml").read_bytes())
    assert rss.feed.image.href == "https://cdn.example.org/logo.png"
    root = strict((out / "rss.xml").read_bytes())
    assert root.findtext("channel/image/title") == root.findtext("channel/title")  # the validator compares them
    assert root.findtext("channel/image/link") == root.findtext("channel/link")
    atom = feedparser.parse((out / "atom.xml").read_bytes())
    assert atom.feed.icon == "https://blog.example.org/icon.png"
    assert atom.feed.logo == "https://cdn.example.org/logo.png"
    feed = json.loads((out / "feed.json").read_bytes())
    assert feed["icon"] == feed["favicon"] == "https://blog.example.org/icon.png"
    tag = json.loads((out / "tags" / "go" / "feed.json").read_bytes())
    assert tag["icon"] == "https://blog.example.org/icon.png"
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    assert page.xpath("//head/link[@rel='icon']/@href") == ["https://blog.example.org/icon.png"]


def test_without_icons_no_image_elements(tmp_path: Path) -> None:
    _, out, _ = built(tmp_path, {"b.md": POSTS["b.md"]})
    assert b"<image>" not in (out / "rss.xml").read_bytes()
    assert b"xmlns:media" not in (out / "rss.xml").read_bytes()  # no image in any item: no namespace either
    assert "icon" not in json.loads((out / "feed.json").read_bytes())


def test_a_bad_icon_is_a_config_error(tmp_path: Path) -> None:
    import pytest

    from syndicate.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[site\] icon must be an image URL"):
        make_site(tmp_path, POSTS, site={"icon": "ftp://x.example/i.png"})


def test_post_image_is_media_content_and_thumbnail(tmp_path: Path) -> None:
    _, out, warnings = built(tmp_path, POSTS)
    assert not [w for w in warnings if "image" in w]
    image = "https://blog.example.org/2013/04/15/a/cover.jpg"
    for name in ("rss.xml", "atom.xml", "tags/cloud/rss.xml", "tags/cloud/atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        by_title = {e.title: e for e in parsed.entries}
        assert by_title["With a cover"].media_thumbnail[0]["url"] == image, name
        assert by_title["With a cover"].media_content[0]["url"] == image
        assert by_title["With a cover"].media_content[0]["medium"] == "image"
        assert by_title["With a cover"].media_content[0]["type"] == "image/jpeg"
        assert "media_thumbnail" not in by_title["Plain"]
    # a feed whose items carry no image declares no media namespace
    assert b"xmlns:media" not in (out / "tags" / "go" / "atom.xml").read_bytes()
    items = json.loads((out / "feed.json").read_bytes())["items"]
    assert [i.get("image") for i in items] == [None, image]


def test_a_missing_local_image_is_a_warning_naming_post_and_path(tmp_path: Path) -> None:
    posts = {
        "a.md": post_text("Cover gone", image="img/cover.png", body="![a chart](charts/q1.svg) and ![ok](here.png)"),
        "here.png": "x",
        "b.md": post_text("Remote", "2013-04-16", image="https://cdn.example.org/x.png", body="![x](/abs/y.png)"),
    }
    _, _, warnings = built(tmp_path, posts)
    missing = [w for w in warnings if "not found" in w]
    assert missing == [
        f"posts/a.md: image img/cover.png not found (looked in {tmp_path / 'posts'}); fix the path or add the file",
        f"posts/a.md: image charts/q1.svg not found (looked in {tmp_path / 'posts'}); fix the path or add the file",
    ]


def test_tag_feeds_link_to_the_tag_page_when_configured(tmp_path: Path) -> None:
    config, out, _ = built(tmp_path, POSTS, feeds={"tag_url": "/tags/{slug}/"})
    assert feedparser.parse((out / "tags/go/rss.xml").read_bytes()).feed.link == "https://blog.example.org/tags/go/"
    atom = strict((out / "tags/go/atom.xml").read_bytes())
    alternate = [x.get("href") for x in atom.findall(f"{ATOM}link") if x.get("rel") == "alternate"]
    assert alternate == ["https://blog.example.org/tags/go/"]
    assert json.loads((out / "tags/go/feed.json").read_bytes())["home_page_url"] == "https://blog.example.org/tags/go/"
    assert feedparser.parse((out / "rss.xml").read_bytes()).feed.link == config.site.url


def test_tag_feeds_link_to_the_feed_index_otherwise(tmp_path: Path) -> None:
    config, out, _ = built(tmp_path, POSTS)
    assert feedparser.parse((out / "tags/go/rss.xml").read_bytes()).feed.link == config.output_url
    assert feedparser.parse((out / "rss.xml").read_bytes()).feed.link == config.site.url


def test_a_tag_url_without_slug_is_a_config_error(tmp_path: Path) -> None:
    import pytest

    from syndicate.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[feeds\] tag_url must be a pattern containing \{slug\}"):
        make_site(tmp_path, POSTS, feeds={"tag_url": "/tags/"})


def test_index_head_advertises_only_the_site_feeds(tmp_path: Path) -> None:
    config, out, _ = built(tmp_path, POSTS)
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    head = page.xpath("//head/link[@rel='alternate']/@href")
    assert sorted(head) == sorted(config.output_url + n for n in ("rss.xml", "atom.xml", "feed.json"))
    body = set(page.xpath("//body//a/@href"))
    assert config.output_url + "tags/go/atom.xml" in body
    opml = strict((out / "feeds.opml").read_bytes())
    assert config.output_url + "tags/go/atom.xml" in opml.xpath("//outline/@xmlUrl")


def test_per_author_feeds_only_with_more_than_one_author(tmp_path: Path) -> None:
    _, out, _ = built(tmp_path, POSTS)
    assert not (out / "authors").exists()
    posts = {**POSTS, "c.md": post_text("Guest post", "2013-04-17 10:00:00", author="Guest Writer")}
    config, out, _ = built(tmp_path / "two", posts)
    assert sorted(p.name for p in (out / "authors").iterdir()) == ["example-author", "guest-writer"]
    guest = feedparser.parse((out / "authors/guest-writer/atom.xml").read_bytes())
    assert [e.title for e in guest.entries] == ["Guest post"]
    own = feedparser.parse((out / "authors/example-author/atom.xml").read_bytes())
    assert [e.title for e in own.entries] == ["Plain", "With a cover"]
    opml = strict((out / "feeds.opml").read_bytes())
    assert config.output_url + "authors/guest-writer/atom.xml" in opml.xpath("//outline/@xmlUrl")
    page = lxml.html.fromstring((out / "index.html").read_bytes())
    assert "Authors" in page.xpath("//h2/text()")


def test_code_blocks_carry_a_language_class(tmp_path: Path) -> None:
    body = '```rust\nfn main() {}\n```\n\n<pre lang="x"><code class="evil">raw</code></pre>\n'
    _, out, _ = built(tmp_path, {"a.md": post_text("Code", body=body)})
    html = json.loads((out / "feed.json").read_bytes())["items"][0]["content_html"]
    assert '<pre><code class="language-rust">fn main() {}' in html
    assert "lang=" not in html and "evil" not in html


def test_the_digest_and_its_issue_page_lead_with_the_image_and_its_alt_text(tmp_path: Path) -> None:
    import email
    import email.policy

    from click.testing import CliRunner

    from syndicate.cli.main import main

    posts = {
        "a.md": post_text("With a cover", "2013-04-15 10:00:00", image="cover.jpg", image_alt="A rack of servers"),
        "cover.jpg": "x",
        "b.md": post_text("Plain", "2013-04-16 10:00:00"),
    }
    config = make_site(tmp_path, posts)
    out = tmp_path / "issue"
    args = ["digest", "--site", str(config.path), "--week", "2013-W16", "--out", str(out)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    message = email.message_from_bytes((out / "issue.eml").read_bytes(), policy=email.policy.default)
    html_part = message.get_body(("html",))
    assert html_part is not None
    for page in (
        lxml.html.fromstring(html_part.get_content()),
        lxml.html.fromstring((out / "index.html").read_bytes()),
    ):
        (image,) = page.xpath("//img[contains(@class, 'lead-image')]")
        assert image.get("src") == "https://blog.example.org/2013/04/15/a/cover.jpg"
        assert image.get("alt") == "A rack of servers"
        assert image.get("width") == "552" and "max-width: 552px" in image.get("style")


def test_first_image_stands_in_for_a_missing_image_when_configured(tmp_path: Path) -> None:
    body = 'Intro.\n\n![a chart](charts/q1.png "Q1")\n\n![later](https://cdn.example.org/later.png)\n'
    posts = {
        "a.md": post_text("Charts", body=body),
        "charts/q1.png": "x",
        "b.md": post_text("No pictures", "2013-04-16"),
    }
    _, out, _ = built(tmp_path / "on", posts, feeds={"first_image": True})
    first = "https://blog.example.org/2013/04/15/a/charts/q1.png"
    for name in ("rss.xml", "atom.xml"):
        by_title = {e.title: e for e in feedparser.parse((out / name).read_bytes()).entries}
        assert by_title["Charts"].media_thumbnail[0]["url"] == first
        assert "media_thumbnail" not in by_title["No pictures"]
    assert [i.get("image") for i in json.loads((out / "feed.json").read_bytes())["items"]] == [None, first]
    _, out, _ = built(tmp_path / "off", posts)
    assert b"media:" not in (out / "rss.xml").read_bytes()
    assert "image" not in json.loads((out / "feed.json").read_bytes())["items"][1]


def test_an_empty_newsletter_feed_is_dated_by_the_newest_post_not_1970(tmp_path: Path) -> None:
    # before the first issue is sent the newsletter's feeds hold no items; 1970 is a validator warning
    _, out, _ = built(tmp_path, POSTS)
    atom = strict((out / "newsletter" / "atom.xml").read_bytes())
    assert atom.findall(f"{ATOM}entry") == []
    assert atom.findtext(f"{ATOM}updated") == "2013-04-16T10:00:00-07:00"
    rss = strict((out / "newsletter" / "rss.xml").read_bytes())
    assert rss.findtext("channel/lastBuildDate") == "Tue, 16 Apr 2013 10:00:00 -0700"
