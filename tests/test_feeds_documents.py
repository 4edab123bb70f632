"""Feed documents from shell templates (feeds/documents.py) equal feedgen's (feeds/formats.py), byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.feeds import documents, formats
from syndicate.feeds.documents import carries_media
from syndicate.feeds.formats import FeedMeta
from syndicate.model import Author, Entry, Post

ITEMS = {
    "rss": (
        b"    <item>\n      <title>One</title>\n    </item>\n",
        b"    <item>\n      <media:thumbnail/>\n    </item>\n",
    ),
    "atom": (b"  <entry>\n    <id>1</id>\n  </entry>\n", b"  <entry>\n    <media:thumbnail/>\n  </entry>\n"),
}
# text that is plain, and text with what lxml escapes, what XML cannot hold, and the tokens' own character
TEXT = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters='<>"', min_codepoint=32), max_size=30),
    st.text(st.sampled_from(list("ab &<>\"'\t\n\r\x00\x1f\x7f\u00a0\u2028\ue000\U0001f600é&amp;")), max_size=12),
)
URL = st.builds(
    lambda path, query: f"https://example.org/{path}" + (f"?{query}" if query else ""),
    st.text(st.sampled_from(list("abc-_/%.~:é")), max_size=12),
    st.text(st.sampled_from(list("a=b&c;<\"' ")), max_size=6),
)
MOMENT = st.datetimes(
    min_value=datetime(1000, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]),
)


@st.composite
def metas(draw: st.DrawFn) -> FeedMeta:
    links = draw(st.lists(st.tuples(st.sampled_from(["prev-archive", "next-archive", "current"]), URL), max_size=2))
    return FeedMeta(
        title=draw(TEXT),
        description=draw(TEXT),
        self_url=draw(st.one_of(URL, TEXT)),
        home_url=draw(st.one_of(URL, TEXT)),
        language=draw(st.sampled_from(["en", "de-AT", "ja"])),
        author=Author(draw(st.sampled_from(["Ann", "A & B <x>"])), draw(st.sampled_from([None, "a@example.org"]))),
        icon=draw(st.sampled_from(["", "https://example.org/icon.png"])),
        logo=draw(st.sampled_from(["", "https://example.org/logo.png?a=1&b=2"])),
        hubs=tuple(draw(st.lists(URL, max_size=2))),
        links=tuple(links),
        archive=draw(st.booleans()),
    )


def feedgen_or_error(fmt: str, meta: FeedMeta, items: list[bytes], updated: datetime) -> bytes | type[Exception]:
    document = formats.rss_document if fmt == "rss" else formats.atom_document
    try:
        return document(meta, items, updated)
    except (ValueError, TypeError) as exc:  # what feedgen and lxml refuse, the templates must refuse too
        return type(exc)


@pytest.mark.parametrize("fmt", ["rss", "atom"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meta=metas(), updated=MOMENT, media=st.booleans(), count=st.integers(0, 3))
def test_a_document_from_its_template_is_feedgens(
    fmt: str, meta: FeedMeta, updated: datetime, media: bool, count: int
) -> None:
    plain, with_media = ITEMS[fmt]
    items = [plain] * count + ([with_media] if media else [])
    expected = feedgen_or_error(fmt, meta, items, updated)
    for told in (None, media):  # searched for media, or told by the caller
        if isinstance(expected, bytes):
            assert documents.document_of(fmt, meta, items, updated, told) == expected
        else:
            with pytest.raises(expected):
                documents.document_of(fmt, meta, items, updated, told)


def test_plain_feeds_of_one_shape_share_one_template() -> None:
    """The fast path is taken (else the property above would hold trivially): feeds that differ only in
    their own values make one template, and each gets its own values and date."""
    documents._shape.cache_clear()
    site = FeedMeta("Site & Co", "All posts", "https://e.org/rss.xml", "https://e.org/", "en", Author("Ann"))
    for n in range(5):
        meta = FeedMeta(
            f"Site: tag {n}", f"Posts in {n}", f"https://e.org/tags/{n}/rss.xml", "https://e.org/", "en", Author("Ann")
        )
        updated = datetime(2020, 1, n + 1, tzinfo=UTC)
        got = documents.rss_document(meta, [ITEMS["rss"][0]], updated)
        assert got == formats.rss_document(meta, [ITEMS["rss"][0]], updated)
        assert f"<title>Site: tag {n}</title>".encode() in got and b"Jan 2020" in got
    documents.rss_document(site, [], datetime(2020, 1, 1, tzinfo=UTC))
    info = documents._shape.cache_info()
    assert (info.misses, info.hits) == (1, 5)


def entry(image: str | None) -> Entry:
    when = datetime(2020, 1, 1, tzinfo=UTC)
    post = Post(source="a.md", title="T", published=when, slug="t", body="")
    return Entry(post, "https://e.org/a", "https://e.org/a", "T", None, "", "", when, image)


def test_media_is_known_from_the_entry_or_with_first_image_from_its_item() -> None:
    assert carries_media(entry("https://e.org/a.png"), b"", first_image=False)
    assert not carries_media(entry(None), b"<media:content/>", first_image=False)  # never written without an image
    assert carries_media(entry(None), b"<item><media:content/></item>", first_image=True)
    assert not carries_media(entry(None), b"<item>&lt;media:x</item>", first_image=True)
