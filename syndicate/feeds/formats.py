"""Entries → RSS 2.0, Atom 1.0 and JSON Feed 1.1 bytes (the only module importing feedgen).

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

import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from syndicate.feeds.feedgen_ext import ArchiveMark, AtomEnclosures, RssAtomLinks, add_media
from syndicate.model import Author, Entry
from syndicate.sources.feed_item import EPOCH
from syndicate.urls import host_of, is_full_uri, tag_uri

GENERATOR = "syndicate"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
FILE_NAMES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}  # `syndicate check` knows feeds by these

FRAGMENT_CHUNK = 256
_RSS_ITEM = ("    <item>\n", "    </item>\n")
_ATOM_ENTRY = ("  <entry>\n", "  </entry>\n")


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


# the sanitizer writes every attribute double-quoted and every URL absolute, so this reads its output exactly
_FIRST_IMG = re.compile(r'<img\b[^>]*?\ssrc="(https?://[^"]+)"')


def with_first_image(entry: Entry) -> Entry:
    """The entry, its image the first one in its text when it names none ([feeds] first_image)."""
    if entry.image or not entry.content_html:
        return entry
    found = _FIRST_IMG.search(entry.content_html)
    return replace(entry, image=html.unescape(found[1])) if found else entry


def newest_update(entries: Sequence[Entry]) -> datetime:
    """A feed's updated time is its newest item's, never the build time."""
    return max((e.updated for e in entries), default=EPOCH)


def _full_html(entry: Entry, full_content: bool) -> str:
    """The HTML a full-content item carries ("" for none: an empty <content> is a validator warning)."""
    if not full_content:
        return ""
    if entry.content_html is None:  # a copy without its HTML: its items are made where it was rendered
        raise ValueError(f"entry {entry.id!r} carries no HTML to serialize")
    return entry.content_html


def _categorized(entry: Entry, base: str) -> list[dict[str, str]]:
    """Categories, then tags, each named once; with `base`, a scheme tells which is which
    (<base>categories/ or <base>tags/), so an importer can tell them apart again."""
    seen: set[str] = set()
    result = []
    for kind, names in (("categories", entry.post.categories), ("tags", entry.post.tags)):
        for name in names:
            if name.casefold() in seen:
                continue
            seen.add(name.casefold())
            result.append({"term": name, **({"scheme": f"{base}{kind}/"} if base else {})})
    return result


def atom_id(entry: Entry) -> str:
    """Atom ids must be IRIs. A verbatim guid that is not one (an imported `?p=12` is, a bare
    `episode-2` or a Ghost object id is not) becomes a stable tag: URI derived from it."""
    if is_full_uri(entry.id):
        return entry.id
    return tag_uri(host_of(entry.link), entry.published.date().isoformat(), f"guid/{quote(entry.id, safe='')}")


def _names(entry: Entry) -> list[str]:
    seen: dict[str, str] = {}
    for name in (*entry.post.categories, *entry.post.tags):
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _authors(entry: Entry, fallback: Author) -> tuple[Author, ...]:
    return entry.post.authors or (fallback,)


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
    content = _full_html(entry, full_content)
    if content:
        fe.content(content, type="html")
    fe.pubDate(entry.published)
    for category in _categorized(entry, category_base):
        fe.category(**category)
    for author in _authors(entry, fallback):
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
    for author in _authors(entry, fallback):
        fe.author(
            {
                "name": author.name,
                **({"email": author.email} if author.email else {}),
                **({"uri": author.url} if author.url else {}),
            }
        )
    for category in _categorized(entry, category_base):
        fe.category(**category)
    fe.summary(entry.summary_html, type="html")
    content = _full_html(entry, full_content)
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
    """One serialized <item> per entry, in the given order."""
    serialize = _rss_str
    return _fragments(entries, _rss_entry, serialize, _RSS_ITEM, full_content, fallback, category_base)


def atom_fragments(
    entries: Sequence[Entry], *, full_content: bool, fallback: Author, category_base: str = ""
) -> list[bytes]:
    """One serialized <entry> per entry, in the given order."""
    serialize = _atom_str
    return _fragments(entries, _atom_entry, serialize, _ATOM_ENTRY, full_content, fallback, category_base)


# RSS plain-text elements: the W3C validator warns on "&lt;" and "&amp;" there (readers disagree on
# whether RSS titles are HTML) and asks for hexadecimal references, which every reader decodes alike.
_RSS_TEXT = re.compile(rb"<(title|description|dc:creator|category)((?: [^>]*)?)>([^<]*)</\1>")


def _hex_refs(match: re.Match[bytes]) -> bytes:
    text = match[3].replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;")
    return b"<%s%s>%s</%s>" % (match[1], match[2], text, match[1])


def rss_text_refs(document: bytes) -> bytes:
    return _RSS_TEXT.sub(_hex_refs, document) if b"&" in document else document


def _rss_str(fg: FeedGenerator) -> bytes:
    return rss_text_refs(bytes(fg.rss_str(pretty=True)))


def _atom_str(fg: FeedGenerator) -> bytes:
    return bytes(fg.atom_str(pretty=True))


def json_item(entry: Entry, *, full_content: bool, fallback: Author) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.link,
        "title": entry.title,
        "content_html": _full_html(entry, full_content) or entry.summary_html,
        "summary": entry.summary_text,
        "date_published": entry.published.isoformat(),
        "date_modified": entry.updated.isoformat(),
    }
    if entry.image:
        item["image"] = entry.image
    names = _names(entry)
    if names:
        item["tags"] = names
    item["authors"] = [{"name": a.name, **({"url": a.url} if a.url else {})} for a in _authors(entry, fallback)]
    if entry.post.enclosures:
        item["attachments"] = [
            {"url": e.url, "mime_type": e.type, **({"size_in_bytes": e.length} if e.length else {})}
            for e in entry.post.enclosures
        ]
    return item


def _html_safe(text: str) -> str:
    """<, > and & as \\u escapes (three C-level replaces: str.translate with a dict costs a
    Python lookup per character, ~40x slower on a whole post)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_text(value: object) -> str:
    """Compact JSON with <, > and & as \\u escapes: the same data for every JSON parser, and
    no markup-looking bytes for anything that sniffs or greps the file (as Go's encoder does)."""
    return _html_safe(json.dumps(value, ensure_ascii=False))


def json_fragments(
    entries: Sequence[Entry], *, full_content: bool, fallback: Author, category_base: str = ""
) -> list[bytes]:
    """One serialized JSON Feed item per entry, one line each (json's fast C encoder), indented in the array."""
    return [
        b"    " + _json_text(json_item(e, full_content=full_content, fallback=fallback)).encode("utf-8")
        for e in entries
    ]  # JSON Feed tags carry no scheme: category_base is not used here


def _splice(document: str, closing: str, fragments: Sequence[bytes]) -> bytes:
    at = document.rindex(closing)
    return document[:at].encode("utf-8") + b"".join(fragments) + document[at:].encode("utf-8")


def _uses_media(fragments: Sequence[bytes]) -> bool:
    # content is escaped in the items, so "<media:" can only be an element
    return any(b"<media:" in fragment for fragment in fragments)


def rss_document(meta: FeedMeta, fragments: Sequence[bytes], updated: datetime) -> bytes:
    shell = _rss_str(_shell(meta, updated, media=_uses_media(fragments))).decode("utf-8")
    return _splice(shell, "  </channel>\n", fragments)


def atom_document(meta: FeedMeta, fragments: Sequence[bytes], updated: datetime) -> bytes:
    shell = _shell(meta, updated, media=_uses_media(fragments)).atom_str(pretty=True).decode("utf-8")
    return _splice(shell, "</feed>", fragments)


def json_document(meta: FeedMeta, fragments: Sequence[bytes], updated: datetime) -> bytes:
    del updated  # JSON Feed has no feed-level date
    head: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": meta.title,
        "home_page_url": meta.home_url,
        "feed_url": meta.self_url,
        "description": meta.description,
        "language": meta.language,
        "authors": [{"name": meta.author.name}],
    }
    if meta.icon:  # JSON Feed's icon and favicon are both square; the wide logo fits neither
        head["icon"] = meta.icon
        head["favicon"] = meta.icon
    if meta.hubs:
        head["hubs"] = [{"type": "WebSub", "url": hub} for hub in meta.hubs]
    head.update({"next_url": href for rel, href in meta.links if rel == "prev-archive"})  # the older items
    text = _html_safe(json.dumps(head, indent=2, ensure_ascii=False))
    items = b",\n".join(fragments)
    head_text = (text[: text.rindex("\n}")] + ',\n  "items": [').encode("utf-8")
    return head_text + (b"\n" + items + b"\n  " if items else b"") + b"]\n}\n"


FRAGMENTERS = {"rss": rss_fragments, "atom": atom_fragments, "json": json_fragments}
DOCUMENTS = {"rss": rss_document, "atom": atom_document, "json": json_document}
