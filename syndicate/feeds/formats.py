"""Entries → RSS 2.0 and Atom 1.0 bytes (the only module importing feedgen; JSON Feed: json_feed.py).

feedgen is the authority on element structure. To stay fast with thousands of
feeds, each entry is serialized once per format (one feedgen document holding
every entry, cut into per-entry fragments) and each feed is a feedgen shell
with those fragments spliced in. Known feedgen quirks handled here (all seen with
feedgen 1.0.0):
- it stamps `updated`/`lastBuildDate` with the current time (FeedGenerator.__init__):
  always set from the newest item, so an unchanged site builds the same bytes;
- it prepends entries unless told to append (lkiesow/python-feedgen#55 made prepend
  the default, #70 added `order`): order="append";
- the RSS channel <link> is the last link added: self link first, home last;
- `type="CDATA"` yields invalid Atom (lkiesow/python-feedgen#123, still open): content
  is always passed as escaped type="html".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import formatRFC2822
from lxml import etree

from syndicate.feeds.item_fields import atom_id, authors_or_fallback, categorized, full_html, media_type_of
from syndicate.model import Author, Entry
from syndicate.sources.feed_item import EPOCH

GENERATOR = "syndicate"

MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
FILE_NAMES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}  # `syndicate check` knows feeds by these

FRAGMENT_CHUNK = 256
_RSS_ITEM = ("    <item>\n", "    </item>\n")
_ATOM_ENTRY = ("  <entry>\n", "  </entry>\n")


# feedgen extensions, for what feedgen 1.0 cannot write itself: RSS atom:link elements besides
# self, Atom enclosure links, and a post's image as Media RSS through feedgen's own media extension


class RssAtomLinks(BaseExtension):  # type: ignore[misc]
    """atom:link elements other than rel="self" in an RSS channel (hubs, archives): feedgen
    1.0 writes only the self link there."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        for rel, href in self.links:
            etree.SubElement(channel, "{http://www.w3.org/2005/Atom}link", {"href": href, "rel": rel})
        return rss


FH = "http://purl.org/syndication/history/1.0"


class ArchiveMark(BaseExtension):  # type: ignore[misc]
    """<fh:archive/>: RFC 5005 marks an archive document so a reader does not take it for the feed."""

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH}

    def _mark(self, parent: Any) -> None:
        etree.SubElement(parent, f"{{{FH}}}archive")

    def extend_atom(self, feed: Any) -> Any:
        self._mark(feed)
        return feed

    def extend_rss(self, rss: Any) -> Any:
        self._mark(rss.find("channel"))
        return rss


class AtomEnclosures(BaseEntryExtension):  # type: ignore[misc]
    """Atom enclosure links. feedgen 1.0 drops rel/type/length of entry links
    (its atom_entry rebinds `link` to the new element before reading them), so an
    enclosure would come out as a second alternate link."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str, int]] = []

    def extend_atom(self, entry: Any) -> Any:
        for url, media_type, length in self.links:
            attrs = {"href": url, "rel": "enclosure", "type": media_type}
            if length:
                attrs["length"] = str(length)
            etree.SubElement(entry, "link", attrs)  # feedgen writes Atom elements unqualified under a literal xmlns
        return entry


def add_media(fe: FeedEntry, entry: Entry) -> None:
    """The post's image as Media RSS (RSS and Atom): a thumbnail for readers' lists, the content for the item."""
    if not entry.image:
        return
    media_type = media_type_of(entry.image)
    content = {
        "url": entry.image,
        "medium": "image",
        **({"type": media_type} if media_type.startswith("image/") else {}),
    }
    fe.media.content(content, group=None)
    fe.media.thumbnail({"url": entry.image}, group=None)


def _cut(document: str, marks: tuple[str, str]) -> list[str]:
    """The serialized entries of a pretty-printed feedgen document, each with its own tags.

    Entry text is escaped, so the literal open/close lines can only be element
    boundaries; cutting at them is exact (and far faster than a regex). The marks are
    the indentation feedgen 1.0.0 pretty-prints with (lxml's); `_fragments` asserts the
    cut still gives one part per entry, so another layout fails loudly, not silently.
    """
    opening, closing = marks
    start = document.find(opening)
    if start < 0:
        return []
    end = document.rindex(closing) + len(closing)
    body = document[start + len(opening) : end - len(closing)]
    return [opening + part + closing for part in body.split(closing + opening)]


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What a feed says about itself."""

    title: str
    description: str
    self_url: str
    home_url: str
    language: str
    author: Author
    icon: str = ""  # small and square: Atom icon, JSON Feed icon and favicon
    logo: str = ""  # wider: Atom logo and RSS image (the icon stands in for it in RSS)
    hubs: tuple[str, ...] = ()  # WebSub hubs
    links: tuple[tuple[str, str], ...] = ()  # more (rel, href) links: RFC 5005 archive links
    archive: bool = False  # an RFC 5005 archive document (marked fh:archive)


def newest_update(entries: Sequence[Entry]) -> datetime:
    """A feed's updated time is its newest item's, never the build time."""
    return max((e.updated for e in entries), default=EPOCH)


def _shell(meta: FeedMeta, updated: datetime, *, media: bool = False) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    if media:  # declares the media: prefix its items use
        fg.load_extension("media", atom=True, rss=True)
    fg.id(meta.self_url)
    fg.title(meta.title)
    fg.description(meta.description)
    fg.language(meta.language)
    fg.author({"name": meta.author.name, **({"email": meta.author.email} if meta.author.email else {})})
    fg.link(href=meta.self_url, rel="self")
    more = [("hub", hub) for hub in meta.hubs] + list(meta.links)
    for rel, href in more:
        fg.link(href=href, rel=rel)
    if more:
        fg.register_extension("rsslinks", RssAtomLinks, None, atom=False, rss=True)
        fg.rsslinks.links.extend(more)
    fg.link(href=meta.home_url, rel="alternate")  # last: feedgen 1.0.0 makes the last link the RSS channel link
    if meta.icon:
        fg.icon(meta.icon)
    if meta.logo or meta.icon:  # feedgen's logo is also the RSS <image>, titled and linked as the channel
        fg.logo(meta.logo or meta.icon)
    if meta.archive:
        fg.register_extension("fh", ArchiveMark, None, atom=True, rss=True)
    fg.generator(GENERATOR)
    fg.updated(updated)
    return fg


def _rss_entry(fe: FeedEntry, entry: Entry, full_content: bool, fallback: Author, category_base: str) -> None:
    fe.title(entry.title)
    fe.link(href=entry.link)
    fe.guid(entry.id, permalink=entry.id == entry.link)
    fe.description(entry.summary_html)
    content = full_html(entry, full_content)
    if content:
        fe.content(content, type="html")
    fe.pubDate(entry.published)
    for category in categorized(entry, category_base):
        fe.category(**category)
    for author in authors_or_fallback(entry, fallback):
        fe.dc.dc_creator(author.name)
    if entry.post.enclosures:  # RSS allows one enclosure per item
        enc = entry.post.enclosures[0]
        fe.enclosure(enc.url, str(enc.length), enc.type)
    add_media(fe, entry)


def _atom_entry(fe: FeedEntry, entry: Entry, full_content: bool, fallback: Author, category_base: str) -> None:
    fe.id(atom_id(entry))
    fe.title(entry.title)
    fe.updated(entry.updated)
    fe.published(entry.published)
    fe.link(href=entry.link, rel="alternate")
    if entry.post.enclosures:
        fe.register_extension("enclosures", AtomEnclosures, atom=True, rss=False)
        fe.enclosures.links.extend((e.url, e.type, e.length) for e in entry.post.enclosures)
    for author in authors_or_fallback(entry, fallback):
        fe.author(
            {
                "name": author.name,
                **({"email": author.email} if author.email else {}),
                **({"uri": author.url} if author.url else {}),
            }
        )
    for category in categorized(entry, category_base):
        fe.category(**category)
    fe.summary(entry.summary_html, type="html")
    content = full_html(entry, full_content)
    if content:
        fe.content(content, type="html")
    add_media(fe, entry)


_PLACEHOLDER = FeedMeta("x", "x", "https://invalid.example/", "https://invalid.example/", "en", Author("x"))


def _fragments(
    entries: Sequence[Entry],
    add: Callable[[FeedEntry, Entry, bool, Author, str], None],
    serialize: Callable[[FeedGenerator], bytes],
    marks: tuple[str, str],
    full_content: bool,
    fallback: Author,
    category_base: str,
) -> list[bytes]:
    """Entries through feedgen in chunks: one document per chunk, cut into
    per-entry fragments (bounded memory, one feedgen pass per entry)."""
    fragments: list[bytes] = []
    for start in range(0, len(entries), FRAGMENT_CHUNK):
        chunk = entries[start : start + FRAGMENT_CHUNK]
        fg = _shell(_PLACEHOLDER, EPOCH, media=True)
        for entry in chunk:
            add(fg.add_entry(order="append"), entry, full_content, fallback, category_base)
        cut = _cut(serialize(fg).decode("utf-8"), marks)
        assert len(cut) == len(chunk), "feedgen output no longer splits into entries"
        fragments.extend(part.encode("utf-8") for part in cut)  # encoded once, spliced into many feeds
    return fragments


def rss_fragments(
    entries: Sequence[Entry], *, full_content: bool, fallback: Author, category_base: str = ""
) -> list[bytes]:
    """One serialized <item> per entry, in the given order, by feedgen: the reference the build's
    item_bytes.rss_fragments equals, and the writer of the entries it leaves to feedgen."""
    serialize = _rss_str
    return _fragments(entries, _rss_entry, serialize, _RSS_ITEM, full_content, fallback, category_base)


def atom_fragments(
    entries: Sequence[Entry], *, full_content: bool, fallback: Author, category_base: str = ""
) -> list[bytes]:
    """One serialized <entry> per entry, in the given order, by feedgen (see rss_fragments)."""
    serialize = _atom_str
    return _fragments(entries, _atom_entry, serialize, _ATOM_ENTRY, full_content, fallback, category_base)


# RSS plain-text elements: the W3C validator warns on "&lt;" and "&amp;" there (readers disagree on
# whether RSS titles are HTML) and asks for hexadecimal references, which every reader decodes alike.
_RSS_TEXT = re.compile(rb"<(title|description|dc:creator|category)((?: [^>]*)?)>([^<]*)</\1>")


def _hex_refs(match: re.Match[bytes]) -> bytes:
    text = match[3].replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;")
    return b"<%s%s>%s</%s>" % (match[1], match[2], text, match[1])


_CONTENT = (b"<content:encoded>", b"</content:encoded>")


def rss_text_refs(document: bytes) -> bytes:
    """The plain-text elements with hexadecimal references. The posts' HTML (content:encoded, escaped,
    so holding no "<" and none of these elements) is stepped over rather than scanned: most of the bytes."""
    if b"&" not in document:
        return document
    opening, closing = _CONTENT
    parts = document.split(opening)
    out = [_RSS_TEXT.sub(_hex_refs, parts[0])]
    for part in parts[1:]:
        content, found, rest = part.partition(closing)
        out += [opening, content, found, _RSS_TEXT.sub(_hex_refs, rest)]
    return b"".join(out)


def _rss_str(fg: FeedGenerator) -> bytes:
    return rss_text_refs(bytes(fg.rss_str(pretty=True)))


def _atom_str(fg: FeedGenerator) -> bytes:
    return bytes(fg.atom_str(pretty=True))


def _splice(document: str, closing: str, fragments: Sequence[bytes]) -> bytes:
    at = document.rindex(closing)
    return document[:at].encode("utf-8") + b"".join(fragments) + document[at:].encode("utf-8")


def _uses_media(fragments: Sequence[bytes]) -> bool:
    # content is escaped in the items, so "<media:" can only be an element
    return any(b"<media:" in fragment for fragment in fragments)


def rss_date(moment: datetime) -> str:
    """A date as feedgen writes it in RSS."""
    return str(formatRFC2822(moment))


def shell_text(fmt: str, meta: FeedMeta, updated: datetime, media: bool) -> str:
    """A feed's shell as feedgen writes it (RSS before rss_text_refs): feeds/documents.py makes it a template."""
    fg = _shell(meta, updated, media=media)
    return bytes(fg.rss_str(pretty=True) if fmt == "rss" else fg.atom_str(pretty=True)).decode("utf-8")


def rss_document(meta: FeedMeta, fragments: Sequence[bytes], updated: datetime) -> bytes:
    shell = _rss_str(_shell(meta, updated, media=_uses_media(fragments))).decode("utf-8")
    return _splice(shell, "  </channel>\n", fragments)


def atom_document(meta: FeedMeta, fragments: Sequence[bytes], updated: datetime) -> bytes:
    shell = _shell(meta, updated, media=_uses_media(fragments)).atom_str(pretty=True).decode("utf-8")
    return _splice(shell, "</feed>", fragments)
