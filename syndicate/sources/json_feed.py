"""JSON Feed 1.0 and 1.1 → FeedItems (feedparser does not read JSON Feed).

The mapping is the one sources/feed.py describes: id, url (absolute), content_html
(else content_text as paragraphs), summary (plain text), date_published and
date_modified, tags, image (else banner_image), attachments as enclosures, and
authors (1.1) or author (1.0), the feed's when the item has none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from syndicate.errors import SourceError, Warn
from syndicate.model import Author, Enclosure
from syndicate.sources.feed_dates import ForeignDates
from syndicate.sources.feed_item import (
    FeedHead,
    FeedItem,
    absolute,
    as_blocks,
    authors,
    http_base,
    length,
    names,
    parse_date,
    resolved,
    text_to_html,
)
from syndicate.text import one_line, xml_safe
from syndicate.urls import has_scheme


def looks_like_json(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def json_items(data: bytes, url: str, tz: ZoneInfo, warn: Warn) -> tuple[list[FeedItem | SourceError], FeedHead]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SourceError("JSON Feed is not UTF-8; JSON must be UTF-8", path=url) from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", path=url) from None
    except RecursionError:
        raise SourceError("JSON nested too deeply to be a feed", path=url) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise SourceError(f"not a JSON Feed: {exc}", path=url) from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise SourceError('JSON, but not a JSON Feed (no "items" list)', path=url)
    version = document.get("version")
    if not (
        isinstance(version, str)
        and version.startswith(("https://jsonfeed.org/version/", "http://jsonfeed.org/version/"))
    ):
        warn(f"{url}: JSON Feed version {version!r} is not one this reads (1 or 1.1); reading it as 1.1")
    base = http_base(url, document.get("feed_url"), document.get("home_page_url"))
    feed_authors = _json_authors(document)
    language = document.get("language")
    foreign = ForeignDates(tz, language if isinstance(language, str) else None)
    items: list[FeedItem | SourceError] = []
    for n, value in enumerate(document["items"], 1):
        where = f"{url}#item-{n}"
        if not isinstance(value, dict):
            items.append(SourceError("an item is not a JSON object; it was left out", path=where))
            continue
        try:
            items.append(_json_item(value, n, base, feed_authors, tz, foreign))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            items.append(SourceError(f"cannot read this item ({exc}); it was left out", path=where))
    next_url = absolute(document.get("next_url"), base)  # JSON Feed's paging
    head = FeedHead(
        home=absolute(document.get("home_page_url"), base),
        language=language if isinstance(language, str) else None,
        pages=(next_url,) if next_url else (),
    )
    return items, head


def _json_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json_item(
    item: Mapping[str, Any], n: int, base: str, feed_authors: tuple[Author, ...], tz: ZoneInfo, foreign: ForeignDates
) -> FeedItem:
    link = absolute(item.get("url"), base)
    raw_id = item.get("id")
    if isinstance(raw_id, bool) or raw_id is None:
        ident = None
    elif isinstance(raw_id, int | float | str):
        ident = str(raw_id).strip() or None  # 1.0 feeds sometimes use numbers; the spec says strings
    else:
        ident = None
    body = as_blocks(_json_text(item.get("content_html")).strip())
    if not body and _json_text(item.get("content_text")).strip():
        body = text_to_html(_json_text(item.get("content_text")))
    summary = text_to_html(_json_text(item.get("summary"))) or None  # JSON Feed summaries are plain text
    page = link if link and has_scheme(link) else ""
    if not page and base:
        body = resolved(body, "", "", base)
    tags = item.get("tags")
    return FeedItem(
        n=n,
        title=one_line(_json_text(item.get("title"))),
        body=xml_safe(body),
        summary=summary,
        id=ident or link,
        link=link,
        published=parse_date(item.get("date_published"), None, tz, foreign),
        updated=parse_date(item.get("date_modified"), None, tz, foreign),
        authors=_json_authors(item) or feed_authors,
        tags=names(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        categories=(),
        image=absolute(item.get("image"), page or base) or absolute(item.get("banner_image"), page or base),
        enclosures=tuple(_attachments(item.get("attachments"), page or base)),
    )


def _json_authors(holder: Mapping[str, Any]) -> tuple[Author, ...]:
    values = holder.get("authors")
    if not isinstance(values, list):
        single = holder.get("author")  # JSON Feed 1.0
        values = [single] if isinstance(single, dict) else []
    return authors(v for v in values if isinstance(v, dict))


def _attachments(values: object, base: str) -> Iterable[Enclosure]:
    if not isinstance(values, list):
        return
    for value in values:
        if isinstance(value, dict):
            href = absolute(value.get("url"), base)
            if href:
                media_type = value.get("mime_type")
                yield Enclosure(
                    href,
                    length(value.get("size_in_bytes")),
                    media_type if isinstance(media_type, str) and media_type else "application/octet-stream",
                )
