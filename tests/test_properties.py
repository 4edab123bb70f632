"""Properties that must hold for any input (hypothesis): the front-matter reader, slugs and tag
groups, ISO week windows across time zones and DST, and rendering of arbitrary Markdown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from test_hostile import html_hazards

from syndicate.errors import BuildError, SourceError
from syndicate.feeds.groups import group_by
from syndicate.model import Author, Entry, Post, Site
from syndicate.newsletter.periods import in_window, iso_week, week_of
from syndicate.render.entry import render_entry
from syndicate.sources.markdown import read_post_bytes
from syndicate.text import MAX_SLUG, one_line, slugify, xml_safe

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TZ = ZoneInfo("America/Los_Angeles")
SITE = Site(
    title="Example Blog",
    url="https://blog.example.org/",
    description="d",
    language="en",
    timezone=TZ,
    author=Author("Example Author", "author@example.org"),
)

# --- the front-matter reader: a Post or a SourceError, nothing else ------------------------------

KEYS = ["title", "date", "updated", "slug", "tags", "categories", "author", "summary", "draft", "id", "url", "image"]
KEYS += ["announcement", "enclosures", "published", "lastmod", "presenter", "<b>", "", "a b", "- x", "? x"]
SCALARS = [
    "2013-04-15",
    "2013-04-15 14:00:00",
    "2013-04-15 10:00 XYZ",  # dateutil warns (an error under pytest) about zone names it does not know
    "15 April 2013 PST",
    "2013-04-16 11:5011111111111111111111111111111111111111:00",  # decimal.InvalidOperation in dateutil
    "2013-02-30",
    "0001-01-01",
    "9999-12-31T23:59:59-12:00",
    "10:00",
    "no",
    "~",
    "null",
    "[a, b",
    "{a: 1}",
    "&a x",
    "*a",
    "!!python/object:os.system",
    "!!binary aGk=",
    "!!timestamp 2013-13-13",
    '"unterminated',
    "'it''s'",
    "|\n  block\n  text",
    ">-\n  folded",
    "1e999",
    "-.inf",
    ".nan",
    "0x1F",
    "1_000",
    "<script>alert(1)</script>",
    "]]>",
    "\u202e\u200b\ufeff",
    "{starts: 2013-04-01, ends: 2013-03-01}",
    "{starts: x}",
    "[{url: x, length: -5}]",
    "{name: A, email: [1]}",
]
scalar = st.one_of(st.sampled_from(SCALARS), st.text(max_size=30))
line = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(KEYS), scalar),
    st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(KEYS), scalar),  # TOML-style lines
    st.sampled_from(["  - item", "- x", "---", "...", "+++", "\t", "key:", "  nested: 1", "<!-- more -->"]),
    st.text(max_size=40),
)
fence = st.sampled_from(["---", "+++", "--- ", "---x", ""])
document = st.builds(
    lambda open_, lines, close, body: "\n".join([open_, *lines, close, body]),
    fence,
    st.lists(line, max_size=12),
    fence,
    st.text(max_size=200),
)


def read_anything(data: bytes, name: str = "2013-04-15-post") -> Post | SourceError:
    try:
        return read_post_bytes(data, f"posts/{name}.md", TZ, name)
    except SourceError as exc:
        return exc


@SETTINGS
@given(st.one_of(document.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=300)))
@example(b"---\ntitle: x\ndate: 2013-04-15\ntags: " + b"[" * 2000 + b"]" * 2000 + b"\n---\n")
@example(b"---\ntitle: t\ndate: 0001-01-01T00:00:00+05:00\n---\n")
@example(b"---\ntitle: !!python/object/apply:os.system [x]\n---\n")
@example(b"+++\ntitle = 't'\ndate = 1979-05-27T07:32:00-08:00\n[announcement]\nstarts = 2013-01-01\n+++\n")
def test_the_front_matter_reader_gives_a_post_or_a_source_error(data: bytes) -> None:
    result = read_anything(data)
    if isinstance(result, SourceError):
        assert result.path == "posts/2013-04-15-post.md"
        assert "\n" not in str(result) and "\r" not in str(result)  # one line, whatever the input
        assert result.line is None or result.line >= 1
        return
    assert result.title == one_line(result.title) and result.title
    assert result.published.tzinfo is not None
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", result.slug)
    for name in (*result.tags, *result.categories):
        assert name == one_line(name) and name


# --- slugs: safe, stable, and a collision is reported ------------------------------------------------

RESERVED = {"con", "prn", "aux", "nul", "index", "tags", "categories", "newsletter"}
RESERVED |= {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
NAME_PARTS = ["..", "/", "\\", "CON", "nul", "%2e%2e", "C++", "C#", "Über", "ß", "İ", "ﬁ", "Ⅻ", "№", "-", " ", "&", "@"]
NAME_PARTS += ["\u202e", "\u200b", "\x00", "\r\n", "日本", "Ελληνικά", "🙂", "x" * 100, "index", "tags", "."]
name = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(NAME_PARTS), min_size=1, max_size=4).map("".join),
    st.text(alphabet=st.characters(codec="ascii"), max_size=20),
)


@SETTINGS
@given(name)
@example("..")
@example("CON")
@example("x" * 300)
@example("index")
def test_a_slug_is_always_safe_and_stable(text: str) -> None:
    slug = slugify(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug
    assert len(slug) <= 90 and slug not in RESERVED and slug not in (".", "..")
    slugify.cache_clear()
    assert slugify(text) == slug  # not an accident of the cache
    assert len(slugify(text)) <= MAX_SLUG + 9  # a hash suffix at most


def entry_with(tags: tuple[str, ...], n: int) -> Entry:
    post = Post(
        source=f"posts/p{n}.md",
        title=f"Post {n}",
        published=datetime(2013, 4, 15, 10, tzinfo=TZ) - timedelta(hours=n),
        slug=f"p{n}",
        body="",
        tags=tags,
    )
    return Entry(post, f"id-{n}", f"https://blog.example.org/p{n}/", post.title, "", "", "", post.published)


@SETTINGS
@given(name, name)
@example("C++", "C-plus")
@example("Über", "uber")
@example("OpenStack", "openstack")
@example("..", "/")
@example("a b", "a-b")
def test_two_tag_names_get_two_folders_or_an_error_naming_both(first: str, second: str) -> None:
    a, b = one_line(first), one_line(second)  # as the reader stores them
    assume(a and b)
    entries = [entry_with((a,), 0), entry_with((b,), 1)]
    if a.casefold() == b.casefold():
        (group,) = group_by(entries, "tags")
        assert len(group.entries) == 2  # names that differ only in case are one tag
        return
    try:
        groups = group_by(entries, "tags")
    except BuildError as exc:
        assert slugify(a) == slugify(b)
        assert repr(a) in str(exc) and repr(b) in str(exc), str(exc)
        assert f"tags/{slugify(a)}/" in str(exc)
        return
    assert len(groups) == 2 and len({g.slug for g in groups}) == 2
    assert {g.name for g in groups} == {a, b}


# --- weeks: every instant belongs to exactly one ISO week, in every zone, across DST -------------------

ZONES = [
    "UTC",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/St_Johns",
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",
    "America/Santiago",  # DST changes at midnight
    "America/Havana",  # DST changes at midnight
    "Asia/Tehran",  # DST used to change at midnight, on any weekday
    "Pacific/Apia",  # skipped a whole day in 2011
    "Pacific/Kiritimati",  # +14:00
]
instant = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))


@SETTINGS
@given(instant, st.sampled_from(ZONES))
@example(datetime(2013, 3, 10, 10, 0, tzinfo=UTC), "America/Los_Angeles")
@example(datetime(2008, 9, 21, 20, 0, tzinfo=UTC), "Asia/Tehran")
@example(datetime(2011, 12, 30, 10, 0, tzinfo=UTC), "Pacific/Apia")
def test_every_instant_is_in_exactly_one_week(moment: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    week = week_of(moment, tz)
    assert week.start <= moment < week.end
    before = iso_week(*(week.start - timedelta(days=3)).isocalendar()[:2], tz)
    after = iso_week(*(week.end + timedelta(days=3)).isocalendar()[:2], tz)
    assert before.end == week.start and after.start == week.end  # neighbours touch: no gap, no overlap
    assert not (before.start <= moment < before.end) and not (after.start <= moment < after.end)
    hours = (week.end - week.start).total_seconds() / 3600
    assert 24 * 6 <= hours <= 24 * 8, hours  # a week is 7 days, give or take a DST shift (or a skipped day)
    assert week.start.astimezone(tz).weekday() == 0 or hours != 168
    # the same instant written in the site's own zone (as a naive front-matter date is) lands in the same window
    entry = entry_with((), 0)
    local = Entry(
        Post("p", "t", moment.astimezone(tz), "p", ""), entry.id, entry.link, "t", "", "", "", moment.astimezone(tz)
    )
    assert in_window([local], week.start, week.end) == [local]


# --- rendering: whatever the Markdown, the HTML is safe to put in a feed ---------------------------

HTML_BITS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    "[x](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "<iframe src=//evil>",
    "<form><input></form>",
    '<p style="display:none">x</p>',
    "<svg><script>x</script></svg>",
    "&#0;&#xFFFE;&#xD800;&#11;&#x1F;&#1114112;",
    "\x00\x0b\x1f\ufffe\ud800",
    "]]>",
    "<!-- more -->",
    "<!--",
    "<![CDATA[x]]>",
    "[link](relative/path) ![img](/img.png)",
    "<a href='//evil.example/x'>protocol-relative</a>",
    "<object data=x></object><embed src=x>",
    "<base href='https://evil.example/'>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    "<div onmouseover='x'>hover</div>",
    "```\n<script>\n```",
    "| a | b |\n|---|---|\n| <script> | x |",
    "[^1]\n\n[^1]: <img src=x onerror=y>",
]
markdown = st.lists(st.one_of(st.sampled_from(HTML_BITS), st.text(max_size=30)), max_size=8).map("\n\n".join)


@SETTINGS
@given(markdown, st.one_of(st.none(), markdown), st.text(max_size=30))
def test_rendering_any_markdown_gives_xml_safe_inert_html(body: str, summary: str | None, title: str) -> None:
    post = Post(
        source="posts/x.md",
        title=one_line(title) or "t",
        published=datetime(2013, 4, 15, 10, tzinfo=TZ),
        slug="x",
        body=body,
        summary=summary or None,
    )
    entry = render_entry(post, SITE)
    for text in (entry.content_html, entry.summary_html, entry.summary_text, entry.title, entry.link, entry.id):
        assert xml_safe(text) == text, repr(text)
        assert not re.search("[\ud800-\udfff]", text)
    for fragment in (entry.content_html, entry.summary_html):
        assert html_hazards(fragment) == [], fragment
        if fragment.strip():
            tree = lxml.html.fragment_fromstring(fragment, create_parent="div")
            for element in tree.iter():
                for attr in ("href", "src"):
                    url = element.get(attr) if isinstance(element.tag, str) else None
                    if url is not None:
                        assert url.startswith(("https://", "http://", "mailto:", "tel:", "#")), url
    assert "\n" not in entry.summary_text


@pytest.mark.parametrize("zone", ZONES)
def test_weeks_of_a_whole_year_tile_time(zone: str) -> None:
    """Deterministic companion to the property: 2008 (Tehran's Monday-midnight DST end) to 2012, week by week."""
    tz = ZoneInfo(zone)
    week = iso_week(2008, 1, tz)
    for _ in range(52 * 5):
        following = week_of(week.end, tz)
        assert following.start == week.end, (week, following)
        assert week_of(week.end - timedelta(seconds=1), tz) == week
        week = following


def _xml_char(c: str) -> bool:
    """XML 1.0's Char production, written out from the specification."""
    code = ord(c)
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


@settings(max_examples=3000)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=())))
@example("plain ASCII, nothing to remove")
@example("tab\tnewline\ncarriage\r stay; \x0b \x1f go")
@example("lone \ud800 and \udfff surrogates, \ufffe and \uffff")
@example("é — latin-1 and beyond, \x01 control")
def test_xml_safe_keeps_exactly_the_characters_xml_allows(text: str) -> None:
    assert xml_safe(text) == "".join(c for c in text if _xml_char(c))


@settings(max_examples=2000)
@given(st.text(alphabet=st.sampled_from(list("ab -\t\n\r\x0b\u2028é")), max_size=100), st.integers(1, 90))
@example("A title that fits", 78)
@example("  leading space kept, trailing dropped  ", 78)
def test_the_templates_wordwrap_wraps_as_jinjas_own(text: str, width: int) -> None:
    """The text templates' wordwrap answers short lines itself; it must agree with Jinja's filter."""
    from jinja2.filters import do_wordwrap

    from syndicate.templating import _wordwrap, environment

    env = environment(None)
    assert _wordwrap(env, text, width) == do_wordwrap(env, text, width)
    assert _wordwrap(env, text, width, wrapstring="\n    ") == do_wordwrap(env, text, width, wrapstring="\n    ")
