"""Small sites written the way each generator's own documentation says, built as they are.

Hugo (YAML, TOML and JSON front matter, bundles, publishDate and expiryDate),
Jekyll (a site folder with `_posts`, its date spellings, HTML posts,
`excerpt_separator`), Eleventy (dated bundles, directory data files,
permalink, eleventyExcludeFromCollections) and Pelican (`Key: value`
metadata and reStructuredText). Every build's feeds go through the judges:
syndicate's strict checker, feedparser, the JSON Feed schema, and the W3C
validator's warning about two Atom entries with one `updated`.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
from conftest import TEST_DATA, build_site, make_site
from lxml import etree

from syndicate.build.site import BuildResult
from syndicate.config import Config
from syndicate.feeds.check import check_directory

ATOM = "{http://www.w3.org/2005/Atom}"
SCHEMA = json.loads((TEST_DATA / "schemas" / "jsonfeed-1.1.json").read_text(encoding="utf-8"))
TODAY = date(2013, 4, 30)


def judged_build(config: Config, today: date = TODAY) -> BuildResult:
    """Build, then judge every feed written; returns the build's result."""
    result = build_site(config, today)
    out = config.output_dir
    problems, count = check_directory(out)
    assert problems == [] and count > 0, problems
    for path in sorted(out.rglob("*")):
        if path.name == "atom.xml":
            root = etree.fromstring(path.read_bytes())
            stamps = Counter(e.findtext(f"{ATOM}updated") for e in root.iter(f"{ATOM}entry"))
            assert [s for s, n in stamps.items() if n > 1] == [], f"{path}: two entries share atom:updated"
        if path.name in ("atom.xml", "rss.xml"):
            parsed = feedparser.parse(path.read_bytes())
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        if path.name == "feed.json":
            errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(json.loads(path.read_bytes())))
            assert errors == [], (path, errors)
    return result


def site_items(config: Config) -> dict[str, dict[str, Any]]:
    """The site's JSON Feed items by title."""
    feed = json.loads((config.output_dir / "feed.json").read_bytes())
    return {item["title"]: item for item in feed["items"]}


# ---------------------------------------------------------------- Hugo


HUGO = {
    # a byte-order mark and blank lines before the fence, as editors on Windows leave them
    "yaml-post.md": "\ufeff\n\n---\ntitle: YAML post\ndate: 2013-04-10T09:00:00-07:00\ntags: [go]\n---\n"
    "Before the fold.\n\n<!--more-->\n\nAfter the fold.\n",
    "toml-post.md": "+++\ntitle = 'TOML post'\ndate = 2013-04-01T10:00:00-07:00\n"
    "publishDate = 2013-04-11T10:00:00-07:00\nlastmod = 2013-04-12T10:00:00-07:00\ncategories = ['Notes']\n+++\n"
    "Published on the eleventh.\n",
    "json-post.md": '{\n   "title": "JSON post",\n   "date": "2013-04-12T08:00:00-07:00",\n'
    '   "draft": false,\n   "params": {"author": "John Smith"}\n}\nWritten with JSON front matter.\n',
    "bundle-post/index.md": "---\ntitle: Bundle post\ndate: 2013-04-13\n---\n![A photo](photo.jpg)\n",
    "_index.md": "---\ntitle: Posts\n---\nThe section's list page.\n",
    "expired.md": "---\ntitle: Expired post\ndate: 2013-04-02\nexpiryDate: 2013-04-20\n---\nGone.\n",
    "later.md": "---\ntitle: Later post\ndate: 2013-04-14\npublishDate: 2013-05-20\n---\nNot yet.\n",
    "draft.md": "---\ntitle: Draft post\ndate: 2013-04-14\ndraft: true\n---\nNot yet.\n",
    "unlisted.md": "---\ntitle: Unlisted\ndate: 2013-04-14\nbuild:\n  list: never\n---\nIn no list.\n",
    "headless/index.md": "---\ntitle: Headless\ndate: 2013-04-14\nheadless: true\n---\nNo page.\n",
    "lastmod-only.md": "---\ntitle: Only lastmod\nlastmod: 2013-04-09T08:00:00-07:00\n---\nHugo dates it by lastmod.\n",
    "capitals.md": "---\nTitle: Capital keys\nDate: 2013-04-15T12:00:00Z\nTags: [Hugo]\n---\n"
    "Hugo reads keys in any case.\n",
}


def test_hugo_content_folder_builds_as_hugo_reads_it(tmp_path: Path) -> None:
    config = make_site(tmp_path, HUGO)
    result = judged_build(config)
    items = site_items(config)
    assert sorted(items) == ["Bundle post", "Capital keys", "JSON post", "Only lastmod", "TOML post", "YAML post"]
    assert items["Only lastmod"]["date_published"] == "2013-04-09T08:00:00-07:00"
    assert items["TOML post"]["date_published"].startswith("2013-04-11T10:00:00")  # publishDate
    assert items["TOML post"]["date_modified"].startswith("2013-04-12T10:00:00")
    assert "Before the fold." in items["YAML post"]["summary"] and "After" not in items["YAML post"]["summary"]
    assert items["JSON post"]["content_html"] == "<p>Written with JSON front matter.</p>"
    assert items["Capital keys"]["tags"] == ["Hugo"]
    assert items["Bundle post"]["url"].endswith("/bundle-post/")
    assert result.future == 1  # "Later post"; the draft is not counted and the expired post is gone
    before_expiry = make_site(tmp_path / "again", HUGO)
    build_site(before_expiry, date(2013, 4, 19))
    assert "Expired post" in site_items(before_expiry)


# ---------------------------------------------------------------- Jekyll


JEKYLL = {
    "_config.yml": "title: A Jekyll blog\n",
    "about.md": "---\nlayout: page\ntitle: About\n---\nNot a post.\n",
    "index.html": "---\nlayout: home\n---\n",
    "_drafts/unfinished.md": "---\ntitle: Unfinished\n---\nLater.\n",
    "_posts/2013-04-10-welcome-to-jekyll.markdown": "---\nlayout: post\ntitle: Welcome to Jekyll!\n"
    "date: 2013-04-10 18:30:22 2013 -0800\ncategories: jekyll update\n---\n"
    "You’ll find this post in your `_posts` directory.\n",
    "_posts/2013-04-11-first-of-the-day.md": "---\ntitle: First of the day\n---\nA date from the file name only.\n",
    "_posts/2013-04-11-second-of-the-day.md": "---\ntitle: Second of the day\n---\nThe same day.\n",
    "_posts/2013-04-12-written-in-html.html": "---\ntitle: Written in HTML\n---\n<p>An <em>HTML</em> post.</p>\n",
    "_posts/2013-04-13-hidden.md": "---\ntitle: Hidden\npublished: false\n---\nNot published.\n",
    "_posts/2013-04-14-with-excerpt.md": "---\ntitle: With an excerpt\nexcerpt_separator: <!--cut-->\n---\n"
    "The excerpt.\n\nStill the excerpt.\n<!--cut-->\nThe rest.\n",
    "travel/asia/_posts/2013-04-15-tokyo.md": "---\ntitle: Tokyo\ncategories: [Food]\n---\nRamen.\n",
}


def test_jekyll_site_folder_builds_as_jekyll_reads_it(tmp_path: Path) -> None:
    config = make_site(tmp_path, JEKYLL)
    judged_build(config)
    items = site_items(config)
    assert sorted(items) == [
        "First of the day",
        "Second of the day",
        "Tokyo",
        "Welcome to Jekyll!",
        "With an excerpt",
        "Written in HTML",
    ]
    assert items["Welcome to Jekyll!"]["date_published"] == "2013-04-10T18:30:22-08:00"
    assert items["Welcome to Jekyll!"]["tags"] == ["jekyll", "update"]
    assert set(items["Tokyo"]["tags"]) == {"travel", "asia", "Food"}  # folders above _posts, then its own
    assert items["Written in HTML"]["content_html"] == "<p>An <em>HTML</em> post.</p>"
    assert "Still the excerpt." in items["With an excerpt"]["summary"]
    assert "The rest" not in items["With an excerpt"]["summary"]
    first, second = items["First of the day"], items["Second of the day"]
    assert first["date_published"][:10] == second["date_published"][:10] == "2013-04-11"
    assert first["date_published"] != second["date_published"]


def test_date_only_posts_get_the_same_times_on_every_build(tmp_path: Path) -> None:
    posts = {f"2013-04-11-post-{n}.md": f"---\ntitle: Post {n}\n---\nText {n}.\n" for n in range(12)}
    config = make_site(tmp_path / "a", posts)
    judged_build(config)
    again = make_site(tmp_path / "b", dict(reversed(posts.items())))
    judged_build(again)
    assert (config.output_dir / "atom.xml").read_bytes() == (again.output_dir / "atom.xml").read_bytes()


# ---------------------------------------------------------------- Eleventy


ELEVENTY = {
    "posts.json": json.dumps({"layout": "layouts/post.njk", "tags": "posts", "author": "Data Author"}),
    "first-post/2013-04-10-index.md": "---\ntitle: First post\n---\nFrom a dated bundle.\n",
    "second-post/2013-04-11-index.md": "---\ntitle: Second post\ntags: [css]\n---\nAnother dated bundle.\n",
    "third/index.md": "---\ntitle: Third post\ndate: 2013-04-12\n---\nAn undated bundle name.\n",
    "third/third.11tydata.json": json.dumps({"author": "Bundle Author"}),
    "2013-04-13-linked.md": '---\ntitle: Linked\npermalink: "/blog/{{ page.fileSlug }}/"\n---\nWith a permalink.\n',
    "2013-04-14-excluded.md": "---\ntitle: Excluded\neleventyExcludeFromCollections: true\n---\nNot listed.\n",
    "2013-04-14-no-page.md": "---\ntitle: No page\npermalink: false\n---\nNot written.\n",
    # a listing template beside the posts: front matter, but no title or date; not a post
    "archive.html": "---\nlayout: base.njk\npagination: {data: collections.posts, size: 10}\n---\n<ul></ul>\n",
}


def test_eleventy_posts_folder_builds_as_eleventy_reads_it(tmp_path: Path) -> None:
    config = make_site(tmp_path, ELEVENTY)
    judged_build(config)
    items = site_items(config)
    assert sorted(items) == ["First post", "Linked", "Second post", "Third post"]
    assert items["First post"]["url"].endswith("/2013/04/10/first-post/")
    assert items["Second post"]["url"].endswith("/2013/04/11/second-post/")
    assert items["Second post"]["tags"] == ["css"]  # the data file's "posts" is a collection, not a topic
    assert [a["name"] for a in items["First post"]["authors"]] == ["Data Author"]
    assert [a["name"] for a in items["Third post"]["authors"]] == ["Bundle Author"]
    assert items["Linked"]["url"] == "https://blog.example.org/blog/linked/"


def test_many_dated_bundles_keep_their_folder_names(tmp_path: Path) -> None:
    posts = {f"post-{n:02d}/2013-04-{n + 1:02d}-index.md": f"---\ntitle: Post {n}\n---\nText.\n" for n in range(28)}
    config = make_site(tmp_path, posts, feeds={"max_items": 100})
    judged_build(config)
    assert len(site_items(config)) == 28


def test_a_data_file_change_rebuilds_its_posts(tmp_path: Path) -> None:
    config = make_site(tmp_path, ELEVENTY)
    build_site(config)
    (tmp_path / "posts" / "posts.json").write_text(json.dumps({"author": "Someone Else"}), encoding="utf-8")
    build_site(config)
    assert [a["name"] for a in site_items(config)["First post"]["authors"]] == ["Someone Else"]


def test_a_broken_data_file_is_named(tmp_path: Path) -> None:
    config = make_site(tmp_path, {**ELEVENTY, "posts.json": '{"layout": "x",}'})
    result = build_site_errors(config)
    assert any("posts/posts.json:1: Eleventy data file is not valid JSON" in e for e in result)


def test_eleventys_file_time_dates_are_refused_with_what_to_write(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"x.md": "---\ntitle: T\ndate: Last Modified\n---\nText.\n"})
    (error,) = build_site_errors(config)
    assert error.startswith("posts/x.md:3: date: ") and "write the date, such as 2013-04-15" in error


def build_site_errors(config: Config) -> list[str]:
    from syndicate.build.site import build
    from syndicate.errors import BuildFailed

    try:
        build(config, TODAY, lambda m: None, durable=False)
    except BuildFailed as exc:
        return [str(e) for e in exc.errors]
    return []


# ---------------------------------------------------------------- Pelican


PELICAN_RST = """\
My super title
##############

:date: 2013-04-10 10:20
:modified: 2013-04-11 18:40
:tags: thats, awesome
:category: yeah
:slug: my-super-post
:authors: Metaireau, Alexis; Doyle, Conan
:summary: Short version for index and feeds

This is the content of my super blog post.

.. include:: /etc/passwd

.. raw:: html

   <script>alert(1)</script>

A second paragraph with `a link <https://example.org/>`_.
"""

PELICAN = {
    "my-super-post.rst": PELICAN_RST,
    "markdown-post.md": "Title: My super Markdown post\nDate: 2013-04-12 10:20\nModified: 2013-04-13 19:30\n"
    "Category: Python\nTags: pelican, publishing tool; pelican, bird\nSlug: my-markdown-post\n"
    "Authors: Alexis Metaireau, Conan Doyle\nSummary: Short version\n    on two lines\n\nThis is the content.\n",
    "draft.md": "Title: A draft\nDate: 2013-04-14 10:20\nStatus: draft\n\nNot yet.\n",
    "rst-draft.rst": "A draft in rST\n##############\n\n:date: 2013-04-14\n:status: draft\n\nNot yet.\n",
    "pages/about.md": "Title: About\n\nPelican's pages have no date and are not articles.\n",
    "birds/in-a-folder.md": "Title: In a folder\nDate: 2013-04-13 09:00\n\nIts folder is its category.\n",
}


def test_pelican_content_builds_as_pelican_reads_it(tmp_path: Path) -> None:
    config = make_site(tmp_path, PELICAN)
    judged_build(config)
    items = site_items(config)
    assert sorted(items) == ["In a folder", "My super Markdown post", "My super title"]
    assert items["In a folder"]["tags"] == ["birds"]
    rst, md = items["My super title"], items["My super Markdown post"]
    assert rst["url"].endswith("/2013/04/10/my-super-post/")
    assert rst["date_published"] == "2013-04-10T10:20:00-07:00"
    assert rst["date_modified"] == "2013-04-11T18:40:00-07:00"
    assert set(rst["tags"]) == {"thats", "awesome", "yeah"}
    assert [a["name"] for a in rst["authors"]] == ["Metaireau, Alexis", "Doyle, Conan"]
    assert rst["summary"] == "Short version for index and feeds"
    assert "content of my super blog post" in rst["content_html"]
    assert "root:" not in rst["content_html"] and "<script" not in rst["content_html"]
    assert '<a href="https://example.org/"' in rst["content_html"]
    assert set(md["tags"]) == {"pelican, publishing tool", "pelican, bird", "Python"}
    assert [a["name"] for a in md["authors"]] == ["Alexis Metaireau", "Conan Doyle"]
    assert md["summary"] == "Short version on two lines"
    assert md["url"].endswith("/my-markdown-post/")
