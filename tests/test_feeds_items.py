"""Feed items written as bytes (feeds/item_bytes.py, json_feed.json_item_bytes) against their authorities:
feedgen for RSS and Atom (formats.rss_fragments, atom_fragments), one json.dumps for JSON Feed.

The property tests generate entries of every shape, with text full of what XML and JSON
escape, and ask for the same bytes (or the same error); the examples name each shape
once; the feedparser test reads the items back in whole feeds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from syndicate.feeds import formats, item_bytes
from syndicate.feeds.formats import FeedMeta, atom_document, rss_document
from syndicate.feeds.json_feed import json_fragments, json_item, json_reference_item
from syndicate.model import Author, Enclosure, Entry, Post

FALLBACK = Author("Site Author", "site@example.org")
BASE = "https://blog.example.org/"
WRITERS = {
    "rss": (formats.rss_fragments, item_bytes.rss_fragments),
    "atom": (formats.atom_fragments, item_bytes.atom_fragments),
}

# what XML or JSON writes otherwise, and what a reader might take for markup
HAZARDS = ["&", "<", ">", '"', "'", "]]>", "&amp;", "&lt;", "&#x26;", "\\", "\r", "\n", "\r\n", "\t", " "]
HAZARDS += ["é", "日本", "😀", "\u2028", "\x85", "\xa0", "<p>", "</description>", "    </item>\n", "  <entry>\n"]
FORBIDDEN = ["\x00", "\x0b", "\x1f", "\ufffe", "\ud800"]  # XML cannot carry them: feedgen raises


def texts(*, forbidden: bool = True, min_size: int = 0) -> st.SearchStrategy[str]:
    pieces = st.one_of(
        st.sampled_from(HAZARDS + (FORBIDDEN if forbidden else [])),
        st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), max_size=8),
    )
    return st.lists(pieces, min_size=min_size, max_size=6).map("".join)


def urls() -> st.SearchStrategy[str]:
    ends = st.sampled_from(["", "a.png", "b.JPG", "c.svg", "d.mp3", "e.png?w=1&h=2", "f#x", "g.webp", "h.unknownext"])
    return st.builds(lambda host, path, end: f"https://{host}/{path}{end}", st.sampled_from(["a.example", "b.org"]),
                     texts(forbidden=False).map(lambda t: t.replace("\r", "")), ends)  # fmt: skip


ZONES = st.one_of(
    st.sampled_from([UTC, timezone(timedelta(hours=-11, minutes=-30)), timezone(timedelta(hours=14))]),
    st.sampled_from([timezone(timedelta(seconds=1172)), timezone(timedelta(hours=1, seconds=7, microseconds=5))]),
    st.sampled_from([ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Kolkata"), ZoneInfo("Europe/Amsterdam")]),
)
aware = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=ZONES),
)
naive = st.datetimes().filter(lambda d: d.year > 1)  # feedgen refuses it
names = st.lists(st.one_of(st.sampled_from(["Go", "go", "GO", "C++", "a&b"]), texts()), max_size=4).map(tuple)


def long_html(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A post's worth of HTML (JSON items escape long HTML their own way)."""
    return st.builds(lambda t: (t + '<p>A &amp; <a href="/x?a=1&amp;b">B</a> é</p>\n') * 100, text)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    """Mostly entries item_bytes writes itself; one in five with what it leaves to feedgen (text XML
    cannot carry, empty titles, ids, links, summaries or author names, naive dates)."""
    odd = draw(st.integers(0, 4)) == 0
    text = texts(forbidden=odd)
    some = text if odd else text.map(lambda t: t or "x")  # what must not be empty for item_bytes to write it
    moments = st.one_of(aware, naive) if odd else aware
    authors = st.builds(
        Author,
        some,
        st.one_of(st.none(), st.just(""), text),
        st.one_of(st.none(), st.just(""), urls()),
    )
    enclosures = st.builds(Enclosure, urls(), st.integers(-1, 10**10), st.one_of(st.just("audio/mpeg"), text))
    names = st.lists(st.one_of(st.sampled_from(["Go", "go", "GO", "C++", "a&b", ""]), text), max_size=4).map(tuple)
    link = draw(st.one_of(urls(), st.just("")) if odd else urls())
    post = Post(
        source="post.md",
        title="raw",
        published=draw(moments),
        slug="post",
        body="",
        tags=draw(names),
        categories=draw(names),
        authors=tuple(draw(st.lists(authors, max_size=3))),
        enclosures=tuple(draw(st.lists(enclosures, max_size=3))),
    )
    id_ = draw(st.one_of(st.just(link), urls(), some, st.just("episode-2"), st.just("tag:a.example,2020:x")))
    return Entry(
        post=post,
        id=id_,
        link=link,
        title=draw(st.one_of(some, st.just("Plain title"))),
        content_html=draw(st.one_of(text, st.just(""), long_html(text), long_html(text), *([st.none()] * odd))),
        summary_html=draw(st.one_of(some, st.just("<p>Summary &lt;here&gt;</p>"))),
        summary_text=draw(text),
        updated=draw(st.one_of(st.just(post.published), moments)),
        image=draw(st.one_of(st.none(), urls())),
    )


def outcome(write: Any, entry: Entry, **options: Any) -> bytes | str:
    """The bytes written, or the kind of error raised."""
    try:
        return b"".join(write([entry], **options))
    except (ValueError, UnicodeError) as exc:
        return type(exc).__name__


OPTIONS = st.fixed_dictionaries(
    {"full_content": st.booleans(), "fallback": st.just(FALLBACK), "category_base": st.sampled_from(["", BASE])}
)


@given(entries(), OPTIONS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_rss_and_atom_items_are_the_bytes_feedgen_writes(entry: Entry, options: dict[str, Any]) -> None:
    for fmt, (reference, fast) in WRITERS.items():
        assert outcome(fast, entry, **options) == outcome(reference, entry, **options)
        write = item_bytes.rss_item if fmt == "rss" else item_bytes.atom_entry
        try:
            written = write(entry, options["full_content"], FALLBACK, options["category_base"])
        except ValueError:
            event(f"{fmt}: an error")
        else:
            event(f"{fmt}: {'written here' if written else 'left to feedgen'}")


@given(entries(), st.booleans())
@settings(max_examples=300, deadline=None)
def test_json_items_are_the_bytes_one_json_dumps_writes(entry: Entry, full_content: bool) -> None:
    def reference(es: list[Entry], **options: Any) -> list[bytes]:
        return [json_reference_item(e, **options) for e in es]

    options = {"full_content": full_content, "fallback": FALLBACK}
    event(f"HTML of {'a post' if len(entry.content_html or '') > 2000 and full_content else 'a summary'}")
    expected = outcome(reference, entry, **options)
    assert outcome(json_fragments, entry, **options) == expected
    if isinstance(expected, bytes):
        assert json.loads(expected) == json_item(entry, **options)


# ---------------------------------------------------------------- each shape once

LA = ZoneInfo("America/Los_Angeles")


def make_entry(**changes: Any) -> Entry:
    post_fields = {
        k: changes.pop(k) for k in ("tags", "categories", "authors", "enclosures", "published") if k in changes
    }
    post = Post(
        source="post.md",
        title="raw",
        published=post_fields.pop("published", datetime(2013, 4, 18, 13, 30, tzinfo=LA)),
        slug="post",
        body="",
        **post_fields,
    )
    link = "https://blog.example.org/2013/04/18/post/"
    fields: dict[str, Any] = {
        "post": post,
        "id": link,
        "link": link,
        "title": "OpenStack & <SDN>: \"what\" 'it' is ]]>",
        "content_html": '<p>Body &amp; <a href="https://x.example/?a=1&amp;b=2">more</a></p>\r\n<p>é 😀</p>',
        "summary_html": "<p>Body &amp; more</p>",
        "summary_text": "Body & more",
        "updated": datetime(2013, 5, 1, 8, 0, 0, 123456, tzinfo=UTC),
    }
    return Entry(**(fields | changes))


SHAPES = {
    "plain": make_entry(),
    "summary only": make_entry(content_html=""),
    "categories and tags": make_entry(categories=("General",), tags=("OpenStack", "openstack", "a&b <c>")),
    "authors": make_entry(authors=(Author("Ann <A>", "ann@example.org", "https://ann.example/?x=1&y=2"), Author("Bo"))),
    "author with email only": make_entry(authors=(Author("Ann", "ann@example.org"),)),
    "enclosures": make_entry(
        enclosures=(
            Enclosure("https://cdn.example/a.mp3?x=1&y=2", 1234, "audio/mpeg"),
            Enclosure("https://cdn.example/b.ogg", 0, ""),
        )
    ),
    "image with a type": make_entry(image="https://blog.example.org/a.png?w=1&h=2"),
    "image without one": make_entry(image="https://blog.example.org/image"),
    "image not an image": make_entry(image="https://blog.example.org/a.mp3"),
    "guid not the link": make_entry(id="https://blog.example.org/?p=12"),
    "guid not a URI": make_entry(id="episode 2/ü"),
    "offset with seconds": make_entry(published=datetime(1900, 1, 1, 12, tzinfo=ZoneInfo("Europe/Amsterdam"))),
    "year 999": make_entry(published=datetime(999, 1, 1, tzinfo=UTC), updated=datetime(999, 1, 1, tzinfo=UTC)),
    "non-ASCII everywhere": make_entry(title="日本語の題 — ü", summary_html="<p>ß\u2028</p>", tags=("Ünï", "日本")),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("full_content", [True, False])
@pytest.mark.parametrize("base", ["", BASE])
def test_each_shape_is_written_as_feedgen_writes_it(shape: str, full_content: bool, base: str) -> None:
    for fmt, (reference, fast) in WRITERS.items():
        options = {"full_content": full_content, "fallback": FALLBACK, "category_base": base}
        expected = reference([SHAPES[shape]], **options)
        assert fast([SHAPES[shape]], **options) == expected, fmt
        # written here, not left to feedgen: every shape above is one this module writes
        write = item_bytes.rss_item if fmt == "rss" else item_bytes.atom_entry
        assert write(SHAPES[shape], full_content, FALLBACK, base) is not None


def test_what_the_items_say() -> None:
    """Meaning, not only sameness: the escaping and the dates as a reader sees them."""
    entry = SHAPES["authors"]
    (rss,) = item_bytes.rss_fragments([entry], full_content=True, fallback=FALLBACK)
    (atom,) = item_bytes.atom_fragments([entry], full_content=True, fallback=FALLBACK)
    assert b"<title>OpenStack &#x26; &#x3C;SDN&gt;: \"what\" 'it' is ]]&gt;</title>" in rss
    assert b"<pubDate>Thu, 18 Apr 2013 13:30:00 -0700</pubDate>" in rss
    assert b"<dc:creator>Ann &#x3C;A&gt;</dc:creator>\n      <dc:creator>Bo</dc:creator>" in rss
    assert b"&lt;/p&gt;&#13;\n&lt;p&gt;\xc3\xa9 \xf0\x9f\x98\x80" in rss
    assert b"<updated>2013-05-01T08:00:00.123456+00:00</updated>" in atom
    assert b"<uri>https://ann.example/?x=1&amp;y=2</uri>" in atom


@pytest.mark.parametrize("field", ["title", "summary_html", "content_html", "link"])
def test_text_xml_cannot_carry_fails_as_feedgen_fails(field: str) -> None:
    entry = make_entry(**{field: "a\x0bb"})
    for reference, fast in WRITERS.values():
        with pytest.raises(ValueError, match="XML compatible"):
            reference([entry], full_content=True, fallback=FALLBACK)
        with pytest.raises(ValueError, match="XML compatible"):
            fast([entry], full_content=True, fallback=FALLBACK)


def test_entries_left_to_feedgen_keep_their_place() -> None:
    odd = make_entry(authors=(Author(""), Author("Bo")))  # Atom leaves out a nameless author: left to feedgen
    shapes = [SHAPES["plain"], odd, SHAPES["enclosures"]]
    assert item_bytes.atom_entry(odd, True, FALLBACK, "") is None
    for reference, fast in WRITERS.values():
        assert fast(shapes, full_content=True, fallback=FALLBACK) == reference(
            shapes, full_content=True, fallback=FALLBACK
        )


def test_feeds_of_these_items_read_back_in_feedparser() -> None:
    shapes = list(SHAPES.values())
    meta = FeedMeta("Blog", "Notes", BASE + "rss.xml", BASE, "en", FALLBACK)
    when = datetime(2014, 1, 1, tzinfo=UTC)
    for fmt, document in (("rss", rss_document), ("atom", atom_document)):
        items = WRITERS[fmt][1](shapes, full_content=True, fallback=FALLBACK, category_base=BASE)
        parsed = feedparser.parse(document(meta, items, when))
        assert not parsed.bozo, (fmt, parsed.get("bozo_exception"))
        assert [e.title for e in parsed.entries] == [s.title for s in shapes]
        assert [e.link for e in parsed.entries] == [s.link for s in shapes]
        by_title = parsed.entries[list(SHAPES).index("categories and tags")]
        assert [t.term for t in by_title.tags] == ["General", "OpenStack", "a&b <c>"]
        enclosed = parsed.entries[list(SHAPES).index("enclosures")]
        hrefs = [link.href for link in enclosed.links if link.get("rel") == "enclosure"]
        assert hrefs[0] == "https://cdn.example/a.mp3?x=1&y=2"
        assert parsed.entries[0].content[0].value == shapes[0].content_html.replace("\r\n", "\n")
