"""RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 → FeedItems (the only module importing feedparser).

feedparser hands back loose dicts; everything it says is read here, through
dict.get, and turned into typed FeedItems, so its quirks stop at this module.
The mapping itself is described in sources/feed.py.
"""

from __future__ import annotations

import html
import io
import re
import xml.sax
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import feedparser

from syndicate.errors import SourceError, Warn
from syndicate.model import Author, Enclosure
from syndicate.sources.feed_dates import ForeignDates
from syndicate.sources.feed_encoding import prepare_xml
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
from syndicate.urls import has_scheme, last_path_segment

_HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}
_FEED_CONTENT_TYPE = {"content-type": "application/xml; charset=utf-8"}  # we hand feedparser UTF-8 we decoded
_TAG = re.compile(r"<[^>]*>")
_FEED_LINK = re.compile(
    r"""<link\b(?=[^>]*\brel\s*=\s*["']?alternate)(?=[^>]*\btype\s*=\s*["']?application/(?:rss|atom|feed)\+(?:xml|json))"""
    r"""[^>]*\bhref\s*=\s*["']?([^"'\s>]+)""",
    re.I,
)
_ITEM_PROBLEMS = (ValueError, TypeError, KeyError, AttributeError)

# Every read goes through dict.get, never FeedParserDict.get or attributes: its key map is
# slow, and its "updated" quietly answers with `published` when the item has no updated date
# (a stopgap for feedparser issue 310, kept through 6.0.14, with a DeprecationWarning).
_get = dict.get


def feedparser_problems(data: bytes) -> list[str]:
    """What feedparser itself finds wrong with a feed: not well-formed, items without title, link, id or date.
    The caller names the file."""
    try:
        parsed = _feedparser_parse(data, None, "")
    except SourceError as exc:
        return [f"feedparser: {exc.message}"]
    problems: list[str] = []
    if _get(parsed, "bozo"):
        problems.append(f"feedparser: {_describe(_get(parsed, 'bozo_exception'))}")
    if not _get(parsed, "version"):
        problems.append("feedparser does not recognise this as RSS or Atom")
    for n, entry in enumerate(_get(parsed, "entries", []), 1):
        missing = [key for key in ("title", "link", "id") if not _get(entry, key)]
        if not any(_get(entry, key) for key in ("published_parsed", "updated_parsed", "created_parsed")):
            missing.append("date")
        if missing:
            problems.append(f"item {n}: feedparser finds no {', no '.join(missing)}")
    return problems


def xml_items(data: bytes, url: str, tz: ZoneInfo, warn: Warn) -> tuple[list[FeedItem | SourceError], FeedHead]:
    """Every item of an RSS or Atom feed (or one error for it), and what the feed says about itself."""
    parsed = _feedparser_parse(prepare_xml(data, url, warn), _FEED_CONTENT_TYPE, url)
    entries = _get(parsed, "entries", [])
    if not _get(parsed, "version") and not entries:
        raise _not_a_feed(data, url, parsed)
    if _get(parsed, "bozo"):
        warn(f"{url}: not well-formed XML ({_describe(_get(parsed, 'bozo_exception'))}); imported what could be read")
    feed = _get(parsed, "feed", {})
    self_link = next((_get(link, "href") for link in _get(feed, "links", []) if _get(link, "rel") == "self"), None)
    base = http_base(url, self_link, _get(feed, "link"))
    feed_authors = authors(_get(feed, "authors", []))
    head = _head(feed, str(_get(parsed, "version") or ""), base, tz)
    foreign = ForeignDates(tz, head.language)
    items: list[FeedItem | SourceError] = []
    for n, entry in enumerate(entries, 1):
        try:
            items.append(_entry_item(entry, n, base, feed_authors, tz, foreign))
        except _ITEM_PROBLEMS as exc:
            items.append(SourceError(f"cannot read this item ({exc}); it was left out", path=f"{url}#item-{n}"))
    return items, head


def _head(feed: Any, version: str, base: str, tz: ZoneInfo) -> FeedHead:
    """The feed's own dates (RSS pubDate, then lastBuildDate; Atom updated), home, language, paging links."""
    foreign = ForeignDates(tz, _get(feed, "language"))
    atom = version.startswith("atom")
    dates: list[tuple[datetime, str]] = []
    for key, what in (("published", "pubDate"), ("updated", "updated date" if atom else "lastBuildDate")):
        value = parse_date(_get(feed, key), _get(feed, f"{key}_parsed"), tz, foreign)
        if value is not None:
            dates.append((value, f"the {'feed' if atom else 'channel'}'s {what}"))
    pages = [
        absolute(_get(link, "href"), base)
        for link in _get(feed, "links", [])
        if str(_get(link, "rel") or "").lower() in ("next", "prev-archive")
    ]
    generator = _get(feed, "generator") or _get(_get(feed, "generator_detail") or {}, "href") or ""
    language = _get(feed, "language")
    return FeedHead(
        dates=tuple(dates),
        home=absolute(_get(feed, "link"), base),
        language=language if isinstance(language, str) else None,
        pages=tuple(dict.fromkeys(p for p in pages if p)),
        generator=generator if isinstance(generator, str) else "",
    )


def _feedparser_parse(data: bytes, headers: Mapping[str, str] | None, url: str) -> Any:
    # Bytes must go in as a stream: feedparser.parse() (6.0.14) tries to open() a bytes
    # argument as a file name first, so feed bytes like b"/etc/passwd" would be read from disk.
    try:
        return feedparser.parse(
            io.BytesIO(data),
            response_headers=dict(headers) if headers else None,
            resolve_relative_uris=False,  # done in feed_item, in the order xml:base → item link → feed URL
            sanitize_html=False,  # render's sanitizer (nh3) is the one sanitizer
        )
    except Exception as exc:
        raise SourceError(
            f"the feed is too broken to read ({type(exc).__name__}: {exc}); check it with a feed validator", path=url
        ) from None


def _describe(exc: object) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return f"{exc.getMessage()} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    return one_line(str(exc)) or type(exc).__name__


def _not_a_feed(data: bytes, url: str, parsed: Any) -> SourceError:
    head = data[:65536].decode("utf-8", "replace")
    if re.search(r"<html\b|<!doctype\s+html", head, re.I):
        found = _FEED_LINK.search(head)
        hint = (
            f"; its feed seems to be at {urljoin(url, html.unescape(found.group(1)))}"
            if found
            else "; give the address of the feed itself"
        )
        return SourceError(f"this is an HTML page, not a feed{hint}", path=url)
    why = _describe(_get(parsed, "bozo_exception")) if _get(parsed, "bozo") else "no RSS, Atom or JSON Feed elements"
    return SourceError(f"not an RSS, Atom or JSON feed ({why})", path=url)


def _entry_item(
    entry: Any, n: int, base: str, feed_authors: tuple[Author, ...], tz: ZoneInfo, foreign: ForeignDates
) -> FeedItem:
    link = absolute(_get(entry, "link"), base)
    raw_id = _get(entry, "id")
    # an item without a guid (RSS) or id (Atom) has no "id" at all in feedparser 6.0.14: its link stands in
    ident = raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else None
    page = link if link and has_scheme(link) else ""
    body, summary = _body_and_summary(entry, page, base)
    published, updated = _dates(entry, tz, foreign)
    tags, categories = _tags_and_categories(entry)
    item_base = page or base
    return FeedItem(
        n=n,
        title=_title(entry),
        body=body,
        summary=summary,
        id=ident or link,
        link=link,
        published=published,
        updated=updated,
        authors=authors(_get(entry, "authors") or []) or feed_authors,
        tags=tags,
        categories=categories,
        image=_image(entry, item_base),
        enclosures=_enclosures(entry, item_base),
    )


def _title(entry: Any) -> str:
    title_detail = _get(entry, "title_detail") or {}
    raw_title = _get(entry, "title") or ""
    if _get(title_detail, "type") in _HTML_TYPES:
        return one_line(html.unescape(_TAG.sub("", raw_title)))
    return one_line(raw_title)


def _body_and_summary(entry: Any, page: str, base: str) -> tuple[str, str | None]:
    """The fullest HTML the item carries, and its summary when that differs, URLs resolved where needed."""
    body, body_base = _content(_get(entry, "content") or [])
    summary_detail = _get(entry, "summary_detail")
    summary: str | None = None
    summary_base = ""
    if summary_detail is not None:
        summary, summary_base = _detail_html(summary_detail)
        if not summary or summary == body:
            summary = None
    if not body and summary:
        body, body_base, summary = summary, summary_base, None
    body = resolved(body, body_base, page, base)
    if summary:
        summary = resolved(summary, summary_base, page, base)
    return body, summary


def _dates(entry: Any, tz: ZoneInfo, foreign: ForeignDates) -> tuple[datetime | None, datetime | None]:
    """(published, updated) as the item wrote them: published (issued in Atom 0.3), else created, else updated."""
    published = parse_date(_get(entry, "published"), _get(entry, "published_parsed"), tz, foreign)
    if published is None:
        published = parse_date(_get(entry, "created"), _get(entry, "created_parsed"), tz, foreign)
    updated = parse_date(_get(entry, "updated"), _get(entry, "updated_parsed"), tz, foreign)
    if published is None:
        published, updated = updated, None
    return published, updated


def _tags_and_categories(entry: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    tags: list[str] = []
    categories: list[str] = []
    for tag in _get(entry, "tags") or []:
        term = (_get(tag, "term") or _get(tag, "label") or "").strip()
        if term:
            (categories if _is_category_scheme(_get(tag, "scheme") or "") else tags).append(term)
    return names(tags), names(categories)


def _is_category_scheme(scheme: str) -> bool:
    scheme = scheme.strip().lower()
    if scheme in ("category", "categories"):
        return True
    last = last_path_segment(scheme) if "/" in scheme else ""
    return last in ("category", "categories")


def _enclosures(entry: Any, base: str) -> tuple[Enclosure, ...]:
    enclosures = []
    for link_detail in _get(entry, "links") or []:
        if _get(link_detail, "rel") == "enclosure":
            href = absolute(_get(link_detail, "href"), base)
            if href:
                media_type = _get(link_detail, "type") or "application/octet-stream"
                enclosures.append(Enclosure(href, length(_get(link_detail, "length")), media_type))
    return tuple(dict.fromkeys(enclosures))


def _content(contents: Sequence[Any]) -> tuple[str, str]:
    """The item's fullest HTML content and the xml:base it was written under."""
    if not contents:
        return "", ""
    chosen = next((c for c in contents if _get(c, "type") in _HTML_TYPES), contents[0])
    return _detail_html(chosen)


def _detail_html(detail: Any) -> tuple[str, str]:
    value = _get(detail, "value") or ""
    if _get(detail, "type") not in _HTML_TYPES:
        value = text_to_html(value)
    return as_blocks(xml_safe(value).strip()), _get(detail, "base") or ""


def _image(entry: Any, base: str) -> str | None:
    candidates: list[object] = []
    image = _get(entry, "image")
    if isinstance(image, dict):
        candidates.append(_get(image, "href") or _get(image, "url"))
    candidates.extend(_get(t, "url") for t in _get(entry, "media_thumbnail") or [] if isinstance(t, dict))
    candidates.extend(
        _get(m, "url")
        for m in _get(entry, "media_content") or []
        if isinstance(m, dict) and (_get(m, "medium") == "image" or str(_get(m, "type") or "").startswith("image/"))
    )
    for candidate in candidates:
        found = absolute(candidate, base)
        if found:
            return found
    return None
