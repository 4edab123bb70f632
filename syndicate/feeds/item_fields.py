"""What a post's feed items say, decided once for every format (feedgen's items in formats.py, the
bytes written in item_bytes.py, JSON Feed's in json_feed.py): no library here."""

from __future__ import annotations

import html
import mimetypes
import re
from dataclasses import replace
from urllib.parse import quote

from syndicate.model import Author, Entry
from syndicate.urls import host_of, is_full_uri, tag_uri

# the sanitizer writes every attribute double-quoted and every URL absolute, so this reads its output exactly
_FIRST_IMG = re.compile(r'<img\b[^>]*?\ssrc="(https?://[^"]+)"')


def with_first_image(entry: Entry) -> Entry:
    """The entry, its image the first one in its text when it names none ([feeds] first_image)."""
    if entry.image or not entry.content_html:
        return entry
    found = _FIRST_IMG.search(entry.content_html)
    return replace(entry, image=html.unescape(found[1])) if found else entry


def media_type_of(url: str) -> str:
    """The media type a URL's file name suggests ("" when none)."""
    return mimetypes.guess_type(url.split("?", 1)[0].split("#", 1)[0], strict=False)[0] or ""


def full_html(entry: Entry, full_content: bool) -> str:
    """The HTML a full-content item carries ("" for none: an empty <content> is a validator warning)."""
    if not full_content:
        return ""
    if entry.content_html is None:  # a copy without its HTML: its items are made where it was rendered
        raise ValueError(f"entry {entry.id!r} carries no HTML to serialize")
    return entry.content_html


def categorized(entry: Entry, base: str) -> list[dict[str, str]]:
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


def tag_names(entry: Entry) -> list[str]:
    """Categories, then tags, each named once (JSON Feed has no scheme to tell them apart)."""
    seen: dict[str, str] = {}
    for name in (*entry.post.categories, *entry.post.tags):
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def authors_or_fallback(entry: Entry, fallback: Author) -> tuple[Author, ...]:
    """The post's authors, else the site's."""
    return entry.post.authors or (fallback,)
