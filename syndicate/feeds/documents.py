"""Whole RSS and Atom documents around their serialized items, for a thousand feeds in a build.

feedgen (feeds/formats.py: rss_document, atom_document) is the authority on a feed's
shell, and a shell costs ~0.3 ms there (an lxml tree built in Python, serialized). The
feeds of one site differ only in title, description, self and home URL and date, so
feedgen renders each shape of shell once, with tokens in those places, and each feed
puts its values in, escaped as lxml escapes them. tests/test_feeds_documents.py holds
both equal for generated values. A value the substitution might not write as lxml
does (markup characters, quotes, controls, an empty one) goes through feedgen, which
writes it or raises as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache

from syndicate.feeds.formats import FeedMeta, rss_date, rss_text_refs, shell_text
from syndicate.feeds.json_feed import json_document
from syndicate.model import Entry

# private-use characters: XML text like any other, and no feed value carries them on the fast path
_TOKENS = {"title": "\ue000t\ue000", "description": "\ue000d\ue000", "self": "\ue000s\ue000", "home": "\ue000h\ue000"}
_SAMPLE = datetime(1999, 12, 31, 23, 59, 58, tzinfo=UTC)  # the shell's date: found once, replaced
# what lxml writes unchanged in text and attributes, but for "&" (always "&amp;")
_PLAIN = re.compile(r'[^\x00-\x1f<>"\ud800-\udfff\ue000\ufffe\uffff]+\Z')
_CLOSINGS = {"rss": b"  </channel>\n", "atom": b"</feed>"}


def _values(meta: FeedMeta) -> dict[str, str] | None:
    """The per-feed values, escaped; None when one is not plain (feedgen writes that feed)."""
    values = {
        "title": meta.title,
        "description": meta.description,
        "self": meta.self_url,
        "home": meta.home_url,
    }
    if not all(_PLAIN.match(value) for value in values.values()):
        return None
    return {_TOKENS[name]: value.replace("&", "&amp;") for name, value in values.items()}


@lru_cache(maxsize=64)  # archive pages each have a shape of their own: they need not stay
def _shape(fmt: str, meta: FeedMeta, media: bool) -> tuple[str, re.Pattern[str]] | None:
    """The shell feedgen renders with tokens for the per-feed values, and the pattern that finds them
    and its date; None when a token or the date is not where only feedgen's text of it can be."""
    tokens = replace(
        meta,
        title=_TOKENS["title"],
        description=_TOKENS["description"],
        self_url=_TOKENS["self"],
        home_url=_TOKENS["home"],
    )
    text = shell_text(fmt, tokens, _SAMPLE, media)
    sample = _date(fmt, _SAMPLE)
    if text.count(sample) != 1 or "\\ue000" in repr(meta):  # the shape's own values hold no token
        return None
    return text, re.compile("|".join(re.escape(t) for t in (*_TOKENS.values(), sample)))


def _date(fmt: str, moment: datetime) -> str:
    return rss_date(moment) if fmt == "rss" else moment.isoformat()


def frame(fmt: str, meta: FeedMeta, updated: datetime, media: bool) -> tuple[bytes, bytes]:
    """An RSS or Atom feed's bytes before and after its items; `media`: whether any item carries Media RSS."""
    values = _values(meta) if updated.utcoffset() is not None else None
    shape = _shape(fmt, replace(meta, title="", description="", self_url="", home_url=""), media) if values else None
    if values is None or shape is None:
        text = shell_text(fmt, meta, updated, media)  # feedgen writes it, or raises
    else:
        template, found = shape
        date = _date(fmt, updated)
        text = found.sub(lambda match: values.get(match[0], date), template)
    shell = text.encode("utf-8")
    if fmt == "rss":
        shell = rss_text_refs(shell)
    at = shell.rindex(_CLOSINGS[fmt])
    return shell[:at], shell[at:]


def _document(fmt: str, meta: FeedMeta, fragments: Sequence[bytes], updated: datetime, media: bool | None) -> bytes:
    if media is None:
        media = any(b"<media:" in fragment for fragment in fragments)  # content is escaped: only an element
    head, tail = frame(fmt, meta, updated, media)
    return b"".join((head, *fragments, tail))


def rss_document(meta: FeedMeta, fragments: Sequence[bytes], updated: datetime, media: bool | None = None) -> bytes:
    """An RSS feed of these <item>s; `media`: whether any carries Media RSS (None: look)."""
    return _document("rss", meta, fragments, updated, media)


def atom_document(meta: FeedMeta, fragments: Sequence[bytes], updated: datetime, media: bool | None = None) -> bytes:
    """An Atom feed of these <entry>s; `media`: whether any carries Media RSS (None: look)."""
    return _document("atom", meta, fragments, updated, media)


def carries_media(entry: Entry, item: bytes, first_image: bool) -> bool:
    """Whether an entry's RSS or Atom item has Media RSS elements: exactly when it has an image
    (formats.add_media), which with [feeds] first_image may be found in its text: then only the
    item's bytes still show it (its text is escaped there, so "<media:" can only be an element)."""
    return bool(entry.image) or (first_image and b"<media:" in item)


def document_of(fmt: str, meta: FeedMeta, fragments: Sequence[bytes], updated: datetime, media: bool | None) -> bytes:
    """The feed in its format around its serialized items (`media` matters to RSS and Atom only)."""
    if fmt == "json":
        return json_document(meta, fragments, updated)
    return DOCUMENTS[fmt](meta, fragments, updated, media)


DOCUMENTS: dict[str, Callable[[FeedMeta, Sequence[bytes], datetime, bool | None], bytes]] = {
    "rss": rss_document,
    "atom": atom_document,
}
