"""Entries → JSON Feed 1.1 bytes: items serialized once with json's C encoder, spliced into each feed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from syndicate.feeds.formats import FeedMeta
from syndicate.feeds.item_fields import authors_or_fallback, full_html, tag_names
from syndicate.model import Author, Entry
from syndicate.text import xml_safe

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def json_item(entry: Entry, *, full_content: bool, fallback: Author) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.link,
        "title": entry.title,
        "content_html": full_html(entry, full_content) or entry.summary_html,
        "summary": entry.summary_text,
        "date_published": entry.published.isoformat(),
        "date_modified": entry.updated.isoformat(),
    }
    if entry.image:
        item["image"] = entry.image
    names = tag_names(entry)
    if names:
        item["tags"] = names
    item["authors"] = [
        {"name": a.name, **({"url": a.url} if a.url else {})} for a in authors_or_fallback(entry, fallback)
    ]
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


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps with options makes a new one per call


def _json_text(value: object) -> str:
    """Compact JSON with <, > and & as \\u escapes: the same data for every JSON parser, and
    no markup-looking bytes for anything that sniffs or greps the file (as Go's encoder does)."""
    return _html_safe(_ENCODER.encode(value))


def json_reference_item(entry: Entry, *, full_content: bool, fallback: Author) -> bytes:
    """An item as one json.dumps of json_item gives it: the authority json_fragments must equal."""
    return _whole(json_item(entry, full_content=full_content, fallback=fallback))


def _whole(item: dict[str, Any]) -> bytes:
    return b"    " + _json_text(item).encode("utf-8")


# below this, json's own escaping of the HTML costs less than the two checks and joins of _json_html
_SHORT_HTML = 2000

# backslash first: the others bring backslashes in
_JSON_ESCAPES = tuple(
    (raw.encode(), escaped.encode())
    for raw, escaped in [
        ("\\", "\\\\"),
        ('"', '\\"'),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
    ]
)


def _json_html(html: str) -> bytes:
    """A JSON string of `html` as _json_text writes it, escaped on its UTF-8 bytes (every escaped
    character is ASCII): several times faster than json's own escaping for a whole post. Only for
    text without the C0 controls json writes as \\u00XX (XML-clean text, which rendered HTML is)."""
    data = html.encode("utf-8")
    for raw, escaped in _JSON_ESCAPES:
        if raw in data:
            data = data.replace(raw, escaped)
    return b'"' + data + b'"'


def json_item_bytes(entry: Entry, *, full_content: bool, fallback: Author) -> bytes:
    """An item as json_reference_item writes it, its HTML (most of its bytes) escaped apart: json.dumps
    writes the rest around an empty content_html, whose `"content_html": ""` can stand nowhere before
    its place (a quote inside a JSON string is escaped)."""
    item = json_item(entry, full_content=full_content, fallback=fallback)
    html = item["content_html"]
    if len(html) < _SHORT_HTML or xml_safe(html) is not html:  # or a control character json escapes its own way
        return _whole(item)
    item["content_html"] = ""
    before, _, after = _json_text(item).partition('"content_html": ""')
    return b"".join((b"    ", before.encode("utf-8"), b'"content_html": ', _json_html(html), after.encode("utf-8")))


def json_fragments(
    entries: Sequence[Entry], *, full_content: bool, fallback: Author, category_base: str = ""
) -> list[bytes]:
    """One serialized JSON Feed item per entry, one line each, indented in the array."""
    del category_base  # JSON Feed tags carry no scheme
    return [json_item_bytes(e, full_content=full_content, fallback=fallback) for e in entries]


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
    older = [href for rel, href in meta.links if rel == "prev-archive"]
    if older:  # the older items
        head["next_url"] = older[-1]
    text = _html_safe(json.dumps(head, indent=2, ensure_ascii=False))
    items = b",\n".join(fragments)
    head_text = (text[: text.rindex("\n}")] + ',\n  "items": [').encode("utf-8")
    return head_text + (b"\n" + items + b"\n  " if items else b"") + b"]\n}\n"
