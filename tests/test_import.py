"""Reading existing feeds into Posts, and `syndicate import` into Markdown files."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLE_TODAY, REPO_ROOT, build_site, copy_example_site, write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.build.importing import import_feed, imported_markdown
from syndicate.cli.main import main
from syndicate.config import load_config
from syndicate.errors import BuildError, SourceError
from syndicate.model import Author, Enclosure, Post
from syndicate.render.entry import render_entry
from syndicate.render.links import post_link
from syndicate.render.markdown_html import render_markdown
from syndicate.render.sanitize import html_to_text, sanitize_html
from syndicate.sources.feed import parse_feed_bytes
from syndicate.sources.markdown import read_markdown_dir
from syndicate.sources.markdown_file import markdown_safe_html
from syndicate.sources.yaml_text import FrontMatterLoader, dump_front_matter
from syndicate.text import one_line

DATA = Path(__file__).parent / "data" / "feeds"
WORDPRESS = REPO_ROOT / "samples" / "wordpress-general.xml"
LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
ZUTC = ZoneInfo("UTC")


def read(name: str, tz: ZoneInfo = BERLIN, *, assume_date: bool = False) -> tuple[list[Post], list[str], list[str]]:
    """Posts, error messages and warnings for one file of tests/data/feeds."""
    warnings: list[str] = []
    posts, errors = parse_feed_bytes(
        (DATA / name).read_bytes(), str(DATA / name), tz, warnings.append, assume_date=assume_date
    )
    return posts, [str(e) for e in errors], warnings


def by_id(posts: list[Post]) -> dict[str | None, Post]:
    return {p.id: p for p in posts}


def offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# ---------------------------------------------------------------- every format into the same Post


def test_rss_091_needs_assume_date() -> None:
    posts, errors, _ = read("rss091.xml")
    assert posts == []
    assert len(errors) == 2
    assert all("has no date" in e and "--assume-date" in e for e in errors)
    assert errors[0].startswith(f"{DATA / 'rss091.xml'}#item-1: ")


def test_rss_091_with_assume_date_uses_the_channel_date_in_feed_order() -> None:
    posts, errors, warnings = read("rss091.xml", assume_date=True)
    assert errors == []
    channel = datetime(2002, 7, 6, 9, 30, tzinfo=UTC)
    assert [p.published for p in posts] == [channel, channel - timedelta(seconds=1)]
    assert [p.title for p in posts] == ["Ferry timetable changes", "Café reopens on the quay"]
    assert posts[1].id == posts[1].url == "http://harbour.example.net/notes/cafe-reopens.html"
    assert posts[1].slug == "cafe-reopens"
    assert "café by the slipway" in posts[1].body
    assert any("2 items have no date" in w for w in warnings)


def test_rss_10_rdf() -> None:
    posts, errors, _ = read("rss10.rdf")
    assert errors == []
    calibration, scope = posts
    assert calibration.id == calibration.url == "https://lab.example.com/2004/03/calibration"
    assert calibration.title == "Calibrating the spectrometer"
    assert calibration.published == datetime(2004, 3, 2, 17, 45, tzinfo=offset(1))
    assert calibration.published.utcoffset() == timedelta(hours=1)
    assert calibration.authors == (Author("Ada Example"),)
    assert calibration.tags == ("instruments",)
    assert "<em>loose cable</em>" in calibration.body
    assert calibration.summary == "<p>Two days lost to a loose cable.</p>"  # inline-only HTML becomes a paragraph
    assert scope.body == "<p>Four channels, finally.</p>" and scope.summary is None
    assert scope.slug == "new-scope"


def test_rss_20() -> None:
    posts, errors, _ = read("rss20.xml")
    assert len(errors) == 1 and "#item-3" in errors[0] and "'Undated musing' has no date" in errors[0]
    tomatoes, no_guid = posts
    assert tomatoes.title == "Tomatoes & basil"
    assert tomatoes.id == "https://garden.example.com/2019/05/tomatoes-and-basil/"
    assert tomatoes.published == datetime(2019, 5, 12, 18, 30, tzinfo=offset(2))
    assert tomatoes.authors == (Author("Sam Gardener", "gardener@garden.example.com"),)
    # plain <category> and domain="post_tag" are tags; domain="category" is a category
    assert tomatoes.tags == ("Vegetables", "herbs")
    assert tomatoes.categories == ("Planting",)
    assert tomatoes.image == "https://garden.example.com/img/tomatoes-thumb.jpg"
    assert tomatoes.enclosures == (Enclosure("https://garden.example.com/img/tomatoes.jpg", 48213, "image/jpeg"),)
    assert tomatoes.body_format == "html"
    # no guid: the link is the id
    assert no_guid.id == no_guid.url == "https://garden.example.com/2019/05/no-guid/"


def test_rss_20_undated_item_with_assume_date_takes_the_channel_date() -> None:
    posts, errors, _ = read("rss20.xml", assume_date=True)
    assert errors == []
    undated = by_id(posts)["garden-undated-1"]
    # lastBuildDate minus one second per position (it is the third item)
    assert undated.published == datetime(2019, 5, 12, 20, 0, tzinfo=offset(2)) - timedelta(seconds=2)


def test_atom_03() -> None:
    (post,), errors, _ = read("atom03.xml")
    assert errors == []
    assert post.id == "tag:diary.example.org,2005:snow-again"
    assert post.published == datetime(2005, 1, 10, 8, 0, tzinfo=offset(-5))
    assert post.updated == datetime(2005, 1, 10, 11, 0, tzinfo=offset(-5))
    assert post.body == "<p>Ten more centimetres overnight.</p>"
    assert post.authors == (Author("Pat Diarist"),)  # the feed's author


def test_atom_10() -> None:
    posts, errors, _ = read("atom10.xml")
    assert errors == []
    birds, rain = posts
    assert birds.title == "Birds at dawn"  # type="html" title as plain text
    assert birds.url == "https://notes.example.com/blog/2020/06/birds-at-dawn/"  # xml:base applied
    assert birds.published == datetime(2020, 6, 1, 5, 10, tzinfo=offset(2))
    assert birds.updated == datetime(2020, 6, 2, 10, 0, tzinfo=offset(2))
    # feedparser would give Kim Guest Robin's email; it must not
    assert birds.authors == (Author("Robin Field", "robin@notes.example.com"), Author("Kim Guest"))
    assert birds.tags == ("birds", "mornings")
    assert birds.categories == ("Nature",)  # scheme .../categories/
    assert birds.summary == "<p>Counting species before sunrise &amp; coffee.</p>"
    assert birds.enclosures == (
        Enclosure("https://notes.example.com/blog/media/dawn-chorus.ogg", 1200000, "audio/ogg"),
    )
    # entry without published: updated is the publication date
    assert rain.published == datetime(2020, 5, 28, 19, 0, tzinfo=UTC) and rain.updated is None
    assert rain.authors == (Author("Robin Field", url="https://notes.example.com/"),)


def test_json_feed_10() -> None:
    posts, errors, _ = read("jsonfeed10.json")
    assert errors == []
    trains, hello = posts
    assert trains.id == "2"
    assert trains.title == "The train was late. Then it was early. <Nobody> expected that."  # untitled: first words
    assert trains.body == "<p>The train was late.</p>\n<p>Then it was early. &lt;Nobody&gt; expected that.</p>"
    assert trains.authors == (Author("Lee Micro", url="https://micro.example.org/about"),)  # the feed's author
    assert trains.slug == "trains"
    assert hello.title == "Hello"
    assert hello.summary == "<p>The very first post.</p>"
    assert hello.updated == datetime(2018, 11, 1, 21, 0, tzinfo=offset(-7))
    assert hello.enclosures == (Enclosure("https://micro.example.org/hello.mp3", 1024, "audio/mpeg"),)


def test_json_feed_11() -> None:
    posts, errors, _ = read("jsonfeed11.json")
    assert len(errors) == 1 and "#item-2" in errors[0]
    (glaze,) = posts
    assert glaze.id == glaze.url == "https://studio.example.com/posts/glaze-tests"
    assert glaze.tags == ("Glazes", "Tests")  # "glazes" is the same tag
    assert glaze.authors == (Author("Mara Potter", url="https://studio.example.com/mara"), Author("Jo Kiln"))
    assert glaze.image == "https://studio.example.com/img/glazes.jpg"
    assert glaze.published == datetime(2021, 3, 4, 10, 0, tzinfo=UTC)


def test_podcast_feed() -> None:
    posts, errors, _ = read("podcast.xml")
    assert errors == []
    two, one = posts
    assert two.id == "tide-tables-ep-2"
    assert two.enclosures == (Enclosure("https://cdn.podcast.example.net/ep2.mp3", 31457280, "audio/mpeg"),)
    assert two.image == "https://podcast.example.net/ep2.jpg"
    assert two.tags == ("ocean", "safety")  # itunes:keywords
    assert two.authors == (Author("Morgan Host"),)
    assert "Show notes" in two.body
    # an episode with no link and only itunes:summary
    assert one.url is None and one.id == "tide-tables-ep-1"
    assert one.body == "<p>The moon, the sun and a lot of water.</p>"
    assert one.slug == "episode-1-why-tides"
    assert one.authors == (Author("Morgan Host"),)  # the channel's itunes:author


def test_bozo_feed_imports_what_it_can_with_one_warning() -> None:
    posts, errors, warnings = read("bozo.xml")
    assert errors == []
    assert [p.title for p in posts] == ["First & foremost", "Second"]
    assert len(warnings) == 1
    assert "not well-formed XML" in warnings[0] and "line 6" in warnings[0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("latin1-declared-utf8.xml", ("Café au lait, naïve résumé", "declares ISO-8859-1 but is UTF-8")),
        ("utf8-declared-cp1252.xml", ("“Smart” quotes in a café", "declares UTF-8 but is not; read as windows-1252")),
    ],
)
def test_wrong_encoding_declaration(name: str, expected: tuple[str, str]) -> None:
    (post,), errors, warnings = read(name)
    title, warning = expected
    assert post.title == title
    assert errors == []
    assert any(warning in w for w in warnings)


def test_utf16_feed_with_bom() -> None:
    text = (DATA / "rss20.xml").read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    text = text.replace("Tomatoes &amp; basil", "Tomaten &amp; Basilikum – ärgerlich")
    warnings: list[str] = []
    posts, _ = parse_feed_bytes(text.encode("utf-16"), "utf16.xml", ZUTC, warnings.append)
    assert posts[0].title == "Tomaten & Basilikum – ärgerlich"
    assert warnings == []


# ---------------------------------------------------------------- hostile input


def all_text(posts: list[Post]) -> str:
    return "\n".join(repr(p) for p in posts)


def test_billion_laughs_is_not_expanded() -> None:
    posts, _errors, warnings = read("billion-laughs.xml")
    assert "lollol" not in all_text(posts)
    assert len(all_text(posts)) < 10_000
    assert posts[0].id == "https://laughs.example.com/ha"  # the item itself still comes in
    assert any("declares its own XML entities" in w and "not expanded" in w for w in warnings)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_xxe_never_reads_local_files(encoding: str) -> None:
    text = (DATA / "xxe.xml").read_text(encoding="utf-8")
    if encoding != "utf-8":
        text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    warnings: list[str] = []
    posts, _ = parse_feed_bytes(text.encode(encoding), "xxe.xml", ZUTC, warnings.append)
    passwd = (
        Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
        if Path("/etc/passwd").exists()
        else "root:x:0"
    )
    first_line = passwd.splitlines()[0]
    assert first_line not in all_text(posts)
    assert "root:" not in all_text(posts)
    assert [p.id for p in posts] == ["https://leaky.example.com/secrets"]
    assert any("declares its own XML entities" in w for w in warnings)


def test_feed_bytes_are_never_taken_for_a_file_name(tmp_path: Path) -> None:
    # feedparser.parse(bytes) would open() the bytes as a path first
    secret = tmp_path / "secret.xml"
    secret.write_bytes((DATA / "rss20.xml").read_bytes())
    with pytest.raises(SourceError, match="not an RSS, Atom or JSON feed"):
        parse_feed_bytes(str(secret).encode(), "x", ZUTC, lambda m: None)


def test_html_page_is_one_clear_error() -> None:
    with pytest.raises(SourceError) as info:
        parse_feed_bytes((DATA / "not-a-feed.html").read_bytes(), "https://site.example.com/", ZUTC, lambda m: None)
    assert str(info.value) == (
        "https://site.example.com/: this is an HTML page, not a feed; its feed seems to be at https://site.example.com/feed/"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"just some words, not markup", "not an RSS, Atom or JSON feed"),
        (b"<note><to>you</to></note>", "not an RSS, Atom or JSON feed"),
        (b'{"items": 3}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "not valid JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an RSS, Atom or JSON feed"),
    ],
)
def test_not_a_feed(data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_feed_bytes(data, "input", ZUTC, lambda m: None)


def test_one_bad_item_never_loses_the_others() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Mixed",
        "items": [
            {"id": "a", "title": "Good one", "content_text": "fine", "date_published": "2020-01-01T10:00:00Z"},
            "not an object",
            {"id": "b", "title": "Bad date", "content_text": "x", "date_published": "yesterday-ish"},
            {
                "id": "c",
                "title": "Odd types",
                "content_html": 5,
                "tags": "x",
                "authors": 3,
                "date_published": "2020-01-02T10:00:00Z",
            },
            {"id": 7, "title": "Numeric id", "content_text": "y", "date_published": "2020-01-03T10:00:00+01:00"},
            {"id": "d"},
        ],
    }
    warnings: list[str] = []
    posts, errors = parse_feed_bytes(json.dumps(document).encode(), "mixed.json", ZUTC, warnings.append)
    assert [p.id for p in posts] == ["a", "c", "7"]
    assert [e.path for e in errors] == ["mixed.json#item-2", "mixed.json#item-3"]
    assert any("#item-6" in w and "no title and no content" in w for w in warnings)


def test_undated_items_with_assume_date_and_no_dates_anywhere_are_left_out_never_dated_1970() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1",
        "items": [{"id": "x", "title": "A"}, {"id": "y", "title": "B"}],
    }
    posts, errors = parse_feed_bytes(json.dumps(document).encode(), "u.json", ZUTC, lambda m: None, assume_date=True)
    assert posts == []
    assert len(errors) == 2
    assert all("neither has the feed" in str(e) and "add a date to the item" in str(e) for e in errors)


@pytest.mark.parametrize(("name", "item"), [("rss20.xml", 0), ("atom10.xml", 0), ("jsonfeed11.json", 0)])
def test_rendered_content_is_sanitized(name: str, item: int) -> None:
    posts, _, _ = read(name)
    site = load_config(REPO_ROOT / "syndicate.toml").site
    entry = render_entry(posts[item], site)
    for bad in ("<script", "alert(", "onclick", "javascript:"):
        assert bad not in entry.content_html
        assert bad not in entry.summary_html


def test_relative_urls_resolve_against_xml_base_then_the_item_link() -> None:
    posts, _, _ = read("atom10.xml")
    site = load_config(REPO_ROOT / "syndicate.toml").site
    birds = render_entry(posts[0], site)
    assert 'src="https://notes.example.com/blog/2020/06/birds-at-dawn/robin.jpg"' in birds.content_html
    assert 'href="https://notes.example.com/blog/about/"' in birds.content_html
    rain = render_entry(posts[1], site)  # its content's xml:base is the feed's, not the entry link
    assert 'href="https://notes.example.com/garden/"' in rain.content_html
    rss, _, _ = read("rss20.xml")
    assert 'href="https://garden.example.com/varieties/roma"' in render_entry(rss[0], site).content_html


# ---------------------------------------------------------------- properties of the item → Post mapping

# Titles and text avoid U+0080–U+00FF except é: feedparser "repairs" any latin-1-only string that
# happens to be valid UTF-8 when encoded (such as "Ã©" → "é"), which no real title relies on.
TEXT = st.text(alphabet=st.sampled_from("abcdefXYZ 0123456789.,:;!?'()-/éłЖ中😀"), min_size=1, max_size=40).filter(
    lambda s: any(c.isalnum() for c in s)
)
NAME = st.text(alphabet=st.sampled_from("abcdefgXYZ0123456789 éЖ"), min_size=1, max_size=12).filter(lambda s: s.strip())
OFFSETS = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
MOMENTS = st.builds(
    lambda d, tz: d.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2037, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
    OFFSETS,
)
ITEMS = st.lists(
    st.fixed_dictionaries(
        {
            "title": TEXT,
            "id": st.text(alphabet=st.sampled_from("abcxyz0123456789:/?=.-_"), min_size=1, max_size=30).filter(
                lambda s: s.strip() == s and any(c.isalnum() for c in s)
            ),
            "slug": st.text(alphabet=st.sampled_from("abcdefgh-"), min_size=1, max_size=20).filter(
                lambda s: s.strip("-")
            ),
            "published": MOMENTS,
            "tags": st.lists(NAME, max_size=4),
            "text": TEXT,
        }
    ),
    min_size=1,
    max_size=4,
    unique_by=(lambda i: i["id"], lambda i: i["slug"]),  # repeated ids or links are kept apart: see below
)


def rss_document(items: list[dict[str, object]]) -> bytes:
    parts = []
    for item in items:
        cats = "".join(f"<category>{escape(str(t))}</category>" for t in item["tags"])  # type: ignore[attr-defined]
        parts.append(
            f"<item><title>{escape(str(item['title']))}</title><link>https://x.example/{item['slug']}/</link>"
            f'<guid isPermaLink="false">{escape(str(item["id"]))}</guid>'
            f"<pubDate>{format_datetime(item['published'])}</pubDate>{cats}"  # type: ignore[arg-type]
            f"<description>{escape('<p>' + html.escape(str(item['text'])) + '</p>')}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>P</title>'
        f"<link>https://x.example/</link><description>d</description>{''.join(parts)}</channel></rss>"
    ).encode()


def atom_document(items: list[dict[str, object]]) -> bytes:
    parts = []
    for item in items:
        cats = "".join(f'<category term="{escape(str(t), {chr(34): "&quot;"})}"/>' for t in item["tags"])  # type: ignore[attr-defined]
        parts.append(
            f"<entry><title>{escape(str(item['title']))}</title><id>{escape(str(item['id']))}</id>"
            f'<link href="https://x.example/{item["slug"]}/"/>'
            f"<published>{item['published'].isoformat()}</published>"  # type: ignore[attr-defined]
            f"<updated>{item['published'].isoformat()}</updated>{cats}"  # type: ignore[attr-defined]
            f'<content type="html">{escape("<p>" + html.escape(str(item["text"])) + "</p>")}</content></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>P</title>'
        f"<id>urn:x</id><updated>2020-01-01T00:00:00Z</updated>{''.join(parts)}</feed>"
    ).encode()


def json_document(items: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "P",
            "items": [
                {
                    "id": item["id"],
                    "url": f"https://x.example/{item['slug']}/",
                    "title": item["title"],
                    "content_text": item["text"],
                    "date_published": item["published"].isoformat(),  # type: ignore[attr-defined]
                    "tags": item["tags"],
                }
                for item in items
            ],
        }
    ).encode()


def distinct(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(one_line(name).casefold(), one_line(name))
    return tuple(seen.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=ITEMS, kind=st.sampled_from(["rss", "atom", "json"]))
def test_items_map_to_posts(items: list[dict[str, object]], kind: str) -> None:
    document = {"rss": rss_document, "atom": atom_document, "json": json_document}[kind](items)
    posts, errors = parse_feed_bytes(document, f"https://x.example/feed.{kind}", BERLIN, lambda m: None)
    assert errors == []
    assert len(posts) == len(items)
    for item, post in zip(items, posts, strict=True):
        assert post.id == item["id"]
        assert post.url == f"https://x.example/{item['slug']}/"
        assert post.title == one_line(str(item["title"]))
        assert post.published == item["published"]
        assert post.published.utcoffset() == item["published"].utcoffset()  # type: ignore[attr-defined]
        assert post.tags == distinct(item["tags"])  # type: ignore[arg-type]
        assert html_to_text(post.body) == one_line(str(item["text"]))
        assert post.slug == post.slug.lower() and post.slug


@settings(max_examples=100, deadline=None)
@given(
    data=st.binary(max_size=400)
    | st.text(max_size=200).map(lambda t: f"<rss><channel><item>{t}</item></channel></rss>".encode())
)
def test_any_input_is_posts_or_one_source_error(data: bytes) -> None:
    try:
        posts, errors = parse_feed_bytes(data, "fuzz", ZUTC, lambda m: None)
    except SourceError:
        return
    assert all(isinstance(p, Post) for p in posts)
    assert all(isinstance(e, SourceError) for e in errors)


# ---------------------------------------------------------------- the WordPress sample


def test_wordpress_sample_imports_every_field() -> None:
    config = load_config(REPO_ROOT / "syndicate.toml")
    site = config.site
    originals = {p.slug: p for p in read_markdown_dir(REPO_ROOT / "samples" / "posts", site.timezone)}  # type: ignore[union-attr]
    warnings: list[str] = []
    posts, errors = parse_feed_bytes(WORDPRESS.read_bytes(), str(WORDPRESS), site.timezone, warnings.append)
    assert errors == [] and warnings == []
    assert len(posts) == len(originals) == 10
    assert len({p.id for p in posts}) == 10
    for post in posts:
        original = originals[post.slug]
        assert isinstance(original, Post)
        assert re.fullmatch(r"https://blog\.example\.org/\?p=\d+", post.id or "")
        assert post.url == post_link(original, site)
        assert post.title == original.title
        assert post.published == original.published
        assert post.updated is None
        assert post.tags == (*original.categories, *original.tags)  # WordPress does not tell them apart
        assert post.categories == ()
        assert post.authors == (Author("Example Author"),)
        assert post.image is None and post.enclosures == ()
        ours, theirs = render_entry(post, site), render_entry(original, site)
        assert html_to_text(ours.content_html) == html_to_text(theirs.content_html)
        assert ours.link == theirs.link
        first_words = " ".join(html_to_text(theirs.content_html).split()[:20])
        assert post.summary is not None and html_to_text(post.summary).startswith(first_words)
    grizzly = next(p for p in posts if p.slug == "grizzly-to-havana")
    assert grizzly.id == "https://blog.example.org/?p=2093"
    assert grizzly.published == datetime(2013, 4, 15, 21, 0, tzinfo=UTC)


def test_wordpress_sample_as_a_site_source_and_duplicates_with_markdown(tmp_path: Path) -> None:
    config_path = copy_example_site(tmp_path / "site")
    text = config_path.read_text(encoding="utf-8")
    feed_only = (
        text.replace('[content]\nposts = "samples/posts"\n', "")
        + '\n[[sources]]\nfeed = "samples/wordpress-general.xml"\n'
    )
    config_path.write_text(feed_only, encoding="utf-8")
    config = load_config(config_path, output_dir=tmp_path / "out")
    result = build_site(config)
    assert result.posts == 10 and result.errors == ()
    rss = (tmp_path / "out" / "rss.xml").read_text(encoding="utf-8")
    assert "https://blog.example.org/?p=2131" in rss
    assert (tmp_path / "out" / "tags" / "general" / "rss.xml").exists()
    # both sources together: the same posts twice is reported, not silently doubled
    config_path.write_text(text + '\n[[sources]]\nfeed = "samples/wordpress-general.xml"\n', encoding="utf-8")
    both = load_config(config_path, output_dir=tmp_path / "out2")
    with pytest.raises(BuildError, match="same link"):
        build_site(both)


# ---------------------------------------------------------------- syndicate import → Markdown files


def test_import_writes_one_file_per_item_that_reads_back(tmp_path: Path) -> None:
    into = tmp_path / "posts"
    result = import_feed(str(WORDPRESS), into, tz=LA, warn=lambda m: None, durable=False)
    assert result.errors == ()
    assert result.count("create") == 10
    names = sorted(p.name for p in into.iterdir())
    assert names[0] == "2013-04-01-vsphere-design-book-giveaway.md"
    assert "2013-04-15-grizzly-to-havana.md" in names
    feed_posts, _ = parse_feed_bytes(WORDPRESS.read_bytes(), str(WORDPRESS), LA, lambda m: None)
    site = load_config(REPO_ROOT / "syndicate.toml").site
    read_back = [p for p in read_markdown_dir(into, LA) if isinstance(p, Post)]
    assert len(read_back) == 10
    by_slug = {p.slug: p for p in feed_posts}
    for post in read_back:
        original = by_slug[post.slug]
        assert (post.id, post.url, post.title, post.published, post.updated) == (
            original.id,
            original.url,
            original.title,
            original.published,
            original.updated,
        )
        assert (post.tags, post.categories, post.authors) == (original.tags, original.categories, original.authors)
        assert post.extra == {"imported_from": "https://blog.example.org"}  # the feed's home page
        # CommonMark passes the HTML through untouched
        assert render_entry(post, site).content_html == render_entry(original, site).content_html
        assert render_entry(post, site).summary_html == render_entry(original, site).summary_html


def test_rerun_updates_in_place_and_never_duplicates(tmp_path: Path) -> None:
    into = tmp_path / "posts"
    feed = tmp_path / "feed.xml"
    feed.write_bytes(WORDPRESS.read_bytes())
    import_feed(str(feed), into, tz=LA, warn=lambda m: None, durable=False)
    again = import_feed(str(feed), into, tz=LA, warn=lambda m: None, durable=False)
    assert again.count("unchanged") == 10 and again.count("create") == again.count("update") == 0
    # the user renames one file; WordPress changes a title, a date and some text
    (into / "2013-04-15-grizzly-to-havana.md").rename(into / "grizzly.md")
    text = feed.read_text(encoding="utf-8")
    text = text.replace("<title>Nicira NVP Deep Dive</title>", "<title>Nicira NVP: A Deep Dive</title>")
    text = text.replace("Mon, 15 Apr 2013 21:00:00 +0000", "Tue, 16 Apr 2013 02:00:00 +0000")
    text = text.replace("argued that upgrading", "argued, convincingly, that upgrading")
    feed.write_text(text, encoding="utf-8")
    third = import_feed(str(feed), into, tz=LA, warn=lambda m: None, durable=False)
    assert third.count("create") == 0
    updated = sorted(f.path.name for f in third.files if f.action == "update")
    assert updated == ["2013-04-15-nicira-nvp-deep-dive.md", "grizzly.md"]
    assert len(list(into.iterdir())) == 10
    assert "argued, convincingly" in (into / "grizzly.md").read_text(encoding="utf-8")
    assert "Nicira NVP: A Deep Dive" in (into / "2013-04-15-nicira-nvp-deep-dive.md").read_text(encoding="utf-8")


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    into = tmp_path / "posts"
    result = import_feed(str(WORDPRESS), into, tz=LA, warn=lambda m: None, dry_run=True)
    assert result.dry_run and result.count("create") == 10
    assert not into.exists()


def test_files_that_are_not_ours_are_left_alone_and_names_never_collide(tmp_path: Path) -> None:
    into = tmp_path / "posts"
    into.mkdir()
    mine = into / "2013-04-15-grizzly-to-havana.md"
    mine.write_text("---\ntitle: My own\ndate: 2013-04-15\n---\nmine\n", encoding="utf-8")
    (into / "notes.md").write_text("no front matter at all\n", encoding="utf-8")
    import_feed(str(WORDPRESS), into, tz=LA, warn=lambda m: None, durable=False)
    assert mine.read_text(encoding="utf-8") == "---\ntitle: My own\ndate: 2013-04-15\n---\nmine\n"
    imported = into / "2013-04-15-grizzly-to-havana-2.md"
    assert "id: https://blog.example.org/?p=2093" in imported.read_text(encoding="utf-8")
    assert (into / "notes.md").read_text(encoding="utf-8") == "no front matter at all\n"


def test_repeated_ids_and_links_are_kept_apart_not_lost(tmp_path: Path) -> None:
    show = "https://podcast.example.net/"
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {
                "id": "same",
                "url": show,
                "title": "First",
                "content_text": "a",
                "date_published": "2020-01-01T10:00:00Z",
            },
            {
                "id": "same",
                "url": show,
                "title": "First",
                "content_text": "a",
                "date_published": "2020-01-01T10:00:00Z",
            },
            {
                "id": "same",
                "url": show,
                "title": "Second",
                "content_text": "b",
                "date_published": "2020-01-02T10:00:00Z",
            },
            {
                "id": "other",
                "url": show,
                "title": "Third",
                "content_text": "c",
                "date_published": "2020-01-03T10:00:00Z",
            },
        ],
    }
    feed = tmp_path / "dup.json"
    feed.write_text(json.dumps(document), encoding="utf-8")
    warnings: list[str] = []
    posts, errors = parse_feed_bytes(feed.read_bytes(), str(feed), ZUTC, warnings.append)
    assert errors == []
    assert [p.title for p in posts] == ["First", "Second", "Third"]  # the exact repeat is dropped
    assert posts[0].id == "same" and posts[0].url == show
    assert posts[1].id is not None and posts[1].id.startswith("same#") and posts[1].id != "same"
    assert len({p.url for p in posts}) == 3 and all(p.url and p.url.startswith(show + "#") for p in posts[1:])
    assert any("repeats" in w and "#item-1" in w for w in warnings)
    assert any("2 items share their link" in w for w in warnings)
    # and they build: no two share an id or a link
    config = load_config(write_site(tmp_path / "site", {}, output={"dir": "out"}, digest={"enabled": False}))
    text = config.path.read_text(encoding="utf-8").replace('[content]\nposts = "posts"\n', "")
    config.path.write_text(text + f'\n[[sources]]\nfeed = "{feed}"\n', encoding="utf-8")
    result = build_site(load_config(config.path), date(2020, 2, 1))
    assert result.posts == 3
    again = parse_feed_bytes(feed.read_bytes(), str(feed), ZUTC, lambda m: None)[0]
    assert [p.id for p in again] == [p.id for p in posts]  # stable from run to run


def test_imported_file_front_matter(tmp_path: Path) -> None:
    posts, _, _ = read("atom10.xml")
    text = imported_markdown(posts[0])
    front = text.split("---\n")[1]
    meta = yaml.load(front, Loader=FrontMatterLoader)
    assert meta["title"] == "Birds at dawn"
    assert meta["id"] == "tag:notes.example.com,2020:birds-at-dawn"
    assert meta["url"] == "https://notes.example.com/blog/2020/06/birds-at-dawn/"
    assert meta["date"] == datetime(2020, 6, 1, 5, 10, tzinfo=offset(2))
    assert meta["updated"] == datetime(2020, 6, 2, 10, 0, tzinfo=offset(2))
    assert meta["tags"] == ["birds", "mornings"] and meta["categories"] == ["Nature"]
    assert meta["author"] == [{"name": "Robin Field", "email": "robin@notes.example.com"}, {"name": "Kim Guest"}]
    assert meta["summary"] == "<p>Counting species before sunrise &amp; coffee.</p>"
    assert meta["enclosures"] == [
        {"url": "https://notes.example.com/blog/media/dawn-chorus.ogg", "length": 1200000, "type": "audio/ogg"}
    ]
    assert meta["format"] == "html"
    body = text.split("---\n", 2)[2]
    assert "onclick" not in body and "javascript:" not in body
    assert 'src="https://notes.example.com/blog/2020/06/birds-at-dawn/robin.jpg"' in body


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(max_size=60).map(one_line),
    ident=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40),
)
def test_front_matter_round_trips_through_the_markdown_reader(title: str, ident: str) -> None:
    meta = {"title": title, "id": ident, "tags": [title, "1.5e3", "no", "10:00"]}
    loaded = yaml.load(dump_front_matter(meta), Loader=FrontMatterLoader)
    assert loaded == meta


@pytest.mark.parametrize(
    "fragment",
    [
        "<p>a</p>\n\n<p>b *not emphasis* and 2 * 3 * 4 and [not](a-link)</p>",
        "<pre><code>line one\n\n    indented after a blank line\n*stars*</code></pre>\n<p>after</p>",
        "plain text first with *stars* and _underscores_\n\nand a second paragraph",
        "<em>inline first</em> then # not a heading\n\n    not code",
        "<blockquote>\n<p>quoted</p>\n\n</blockquote>\n\n<ul>\n<li>one</li>\n\n<li>two</li>\n</ul>",
    ],
)
def test_html_body_passes_through_commonmark_unchanged(fragment: str) -> None:
    base = "https://x.example/post/"
    expected = sanitize_html(fragment, base)
    rendered = sanitize_html(render_markdown(markdown_safe_html(expected)), base)
    squash = re.compile(r"\s+")
    if not re.match(r"<(?:p|blockquote)>", expected):  # <pre> and inline starts get a wrapping <div>
        expected = f"<div>\n{expected}\n</div>"
    assert squash.sub(" ", rendered) == squash.sub(" ", expected)
    assert re.findall(r"<pre>.*?</pre>", rendered, re.S) == re.findall(r"<pre>.*?</pre>", expected, re.S)
    assert "<em>not" not in rendered and "<code>not code" not in rendered


# ---------------------------------------------------------------- round trip through our own feeds


def test_round_trip_through_our_own_feeds(tmp_path: Path) -> None:
    config = load_config(copy_example_site(tmp_path / "site"), output_dir=tmp_path / "out")
    build_site(config)
    site = config.site
    originals = {}
    for item in read_markdown_dir(tmp_path / "site" / "samples" / "posts", site.timezone):
        assert isinstance(item, Post)
        entry = render_entry(item, site)
        originals[entry.id] = entry
    for name in ("rss.xml", "atom.xml", "feed.json"):
        into = tmp_path / f"imported-{name}"
        result = import_feed(str(tmp_path / "out" / name), into, tz=site.timezone, warn=lambda m: None, durable=False)
        assert result.errors == ()
        posts = [p for p in read_markdown_dir(into, site.timezone) if isinstance(p, Post)]
        assert len(posts) == len(originals) == 10
        for post in posts:
            entry = render_entry(post, site)
            original = originals[entry.id]
            assert entry.title == original.title, name
            assert entry.published == original.published, name
            assert entry.link == original.link, name
            names = {n.casefold() for n in (*post.tags, *post.categories)}
            assert names == {n.casefold() for n in (*original.post.tags, *original.post.categories)}, name
            assert html_to_text(entry.content_html) == html_to_text(original.content_html), name
            assert entry.content_html == original.content_html, name
    # building again from the imported RSS gives the same site feeds
    rebuilt = write_site(
        tmp_path / "rebuilt", {}, content={"posts": str(tmp_path / "imported-rss.xml")}, output={"dir": "out"}
    )
    rebuilt_config = load_config(rebuilt)
    text = rebuilt_config.path.read_text(encoding="utf-8")
    rebuilt_config.path.write_text(text + "\n[digest]\nenabled = false\n", encoding="utf-8")
    rebuilt_result = build_site(load_config(rebuilt))
    assert rebuilt_result.posts == 10
    from lxml import etree

    def items(path: Path) -> list[tuple[str | None, ...]]:
        root = etree.fromstring(path.read_bytes())
        return [
            (
                i.findtext("guid"),
                i.findtext("title"),
                i.findtext("link"),
                i.findtext("pubDate"),
                i.findtext("description"),
            )
            for i in root.iter("item")
        ]

    assert items(tmp_path / "rebuilt" / "out" / "rss.xml") == items(tmp_path / "out" / "rss.xml")


# ---------------------------------------------------------------- the command


def test_import_command(tmp_path: Path) -> None:
    runner = CliRunner()
    into = tmp_path / "posts"
    dry = runner.invoke(main, ["import", str(WORDPRESS), "--into", str(into), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would create" in dry.output and "dry run, nothing written: 10 items" in dry.output
    assert not into.exists()
    done = runner.invoke(main, ["import", str(WORDPRESS), "--into", str(into)])
    assert done.exit_code == 0, done.output
    assert "imported 10 items: 10 new, 0 changed, 0 unchanged" in done.output
    assert len(list(into.glob("*.md"))) == 10


def test_import_command_reports_undated_items_and_exits_1(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(DATA / "rss20.xml"), "--into", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert "has no date" in result.output and "1 item could not be imported" in result.output
    assert len(list((tmp_path / "p").glob("*.md"))) == 2  # the others are written
    assumed = runner.invoke(main, ["import", str(DATA / "rss20.xml"), "--into", str(tmp_path / "p"), "--assume-date"])
    assert assumed.exit_code == 0, assumed.output
    assert len(list((tmp_path / "p").glob("*.md"))) == 3


def test_import_command_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(DATA / "not-a-feed.html"), "--into", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert "this is an HTML page, not a feed" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(main, ["import", str(tmp_path / "nope.xml"), "--into", str(tmp_path / "p")])
    assert missing.exit_code == 1 and "file not found" in missing.output


def test_import_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["import", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "syndicate import" in result.output


def test_example_today_is_after_the_sample() -> None:
    assert EXAMPLE_TODAY.isoformat() >= "2013-04-23"
