"""The typed shape every feed item takes before it becomes a Post, and the rules XML and JSON feeds share.

Links and enclosures are kept only when they are http(s) URLs; relative ones are
resolved here (see sources/feed.py for the order of bases); dates keep the offset
they were written with.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from syndicate.model import Author, Enclosure
from syndicate.text import one_line
from syndicate.urls import HTTP_SCHEMES, is_http_url, scheme_of, written_as_absolute_http

if TYPE_CHECKING:
    from syndicate.sources.feed_dates import ForeignDates

# The date of a feed with no entries at all (feeds/formats.py); never given to an item.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_BLOCK = re.compile(
    r"<(?:address|article|aside|blockquote|center|details|dialog|dd|div|dl|dt|fieldset|figcaption|figure|footer|form"
    r"|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|table|tbody|td|tfoot|th|thead|tr|ul)[\s/>]",
    re.I,
)
_PARAGRAPHS = re.compile(r"\n\s*\n")
_TAG = re.compile(r"<[^>]*>")
_ZONE_AT_END = re.compile(r"(?:[+-]\d{2}:?\d{2}|\b[A-Za-z]{1,5})\s*$")


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One feed item, whatever its format, before dates and names are settled."""

    n: int  # position in the feed, from 1
    title: str  # plain text, may be empty
    body: str  # HTML, may be empty
    summary: str | None  # HTML
    id: str | None
    link: str | None
    published: datetime | None
    updated: datetime | None
    authors: tuple[Author, ...]
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    image: str | None
    enclosures: tuple[Enclosure, ...]


@dataclass(frozen=True, slots=True)
class FeedHead:
    """What a feed says about itself, for dating undated items and finding the rest of its history."""

    dates: tuple[tuple[datetime, str], ...] = ()  # its own dates, best first, each with what it is
    home: str | None = None  # the site's home page
    language: str | None = None
    pages: tuple[str, ...] = ()  # RFC 5005 next and prev-archive links, JSON Feed next_url
    generator: str = ""


def title_from_body(body: str) -> str:
    """A title for an untitled item (a microblog post, a WordPress aside): its first words."""
    text = one_line(html.unescape(_TAG.sub(" ", body)))
    if len(text) <= 80:
        return text
    return text[:80].rsplit(" ", 1)[0] + "…"


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs."""
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text.replace("\r\n", "\n")) if p.strip()]
    return "\n".join("<p>" + html.escape(p, quote=False).replace("\n", "<br>\n") + "</p>" for p in paragraphs)


def as_blocks(fragment: str) -> str:
    """Inline-only HTML (an excerpt, a one-line description) as one paragraph, like Markdown would give."""
    if not fragment or _BLOCK.search(fragment):
        return fragment
    return f"<p>{fragment}</p>"


def absolute(href: object, base: str) -> str | None:
    """An http(s) URL made absolute against base; a relative one stays relative only when there is no base."""
    if not isinstance(href, str):
        return None
    href = href.strip()
    if written_as_absolute_http(href):
        return href
    if not href:
        return None
    joined = urljoin(base, href) if base else href
    scheme = scheme_of(joined)
    if scheme in HTTP_SCHEMES:
        return joined
    return joined if not scheme and not base else None


def http_base(*candidates: object) -> str:
    """The first candidate that is an http(s) URL, to resolve relative links against; "" when none is."""
    for candidate in candidates:
        if isinstance(candidate, str) and is_http_url(candidate):
            return candidate
    return ""


def resolved(fragment: str, xml_base: str, page: str, feed_base: str) -> str:
    """Resolve relative URLs now only where render_entry (which uses the item link) would get them wrong."""
    if not fragment or ("href" not in fragment and "src" not in fragment):
        return fragment
    if xml_base:
        base = http_base(urljoin(feed_base, xml_base) if feed_base else xml_base)
        if base and base != page:
            return _resolve_urls(fragment, base)
        return fragment
    if not page and feed_base:
        return _resolve_urls(fragment, feed_base)
    return fragment


def _resolve_urls(fragment: str, base: str) -> str:
    """Make the URLs inside an HTML fragment absolute against base (only used where the item link is not the base)."""
    from syndicate.sources.markup import with_absolute_links  # lxml only when a feed needs it

    return with_absolute_links(fragment, base)


def parse_date(raw: object, parsed: object, tz: ZoneInfo, foreign: ForeignDates | None = None) -> datetime | None:
    """A feed date as an aware datetime, keeping the offset it was written with.

    RFC 3339 and RFC 822 are read here; anything else falls back to
    feedparser's own reading (`parsed`, a UTC struct_time), which knows more
    formats but throws the offset away, then to `foreign` for month and day
    names in other languages.
    """
    value = _written_date(raw, parsed)
    if value is None and parsed is None and foreign is not None and isinstance(raw, str):
        value = foreign.read(raw.strip())
    if value is None and isinstance(parsed, tuple) and len(parsed) >= 6:
        try:
            year, month, day, hour, minute, second = (int(part) for part in parsed[:6])
            value = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        except (TypeError, ValueError, ArithmeticError):
            value = None
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    try:
        value.astimezone(UTC)  # an offset that pushes the instant out of datetime's range
    except (OverflowError, ValueError):
        return None
    return value.replace(microsecond=0)


def _written_date(raw: object, parsed: object) -> datetime | None:
    """The date as written, in RFC 3339 or RFC 822; None when neither reads it (or feedparser's reading is better)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, ArithmeticError):  # OverflowError on huge numbers
        return None
    # "-0000" or a zone name email.utils does not know: feedparser's reading (in UTC) is better
    if value.tzinfo is None and _ZONE_AT_END.search(text) and parsed is not None:
        return None
    return value


def names(values: Iterable[str]) -> tuple[str, ...]:
    """Tag or category names, one line each, without empty ones or repeats that differ only in case."""
    seen: dict[str, str] = {}
    for value in values:
        name = one_line(value)
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return tuple(seen.values())


def length(value: object) -> int:
    """An enclosure's length in bytes; 0 when the feed gives none (or nonsense)."""
    try:
        return max(int(str(value).strip()), 0)
    except (TypeError, ValueError):
        return 0


def authors(values: Iterable[Any]) -> tuple[Author, ...]:
    """Author mappings (feedparser's or JSON Feed's) as Authors, without repeated names."""
    result: list[Author] = []
    emails: set[str] = set()
    for value in values:
        if not isinstance(value, dict):
            continue
        get = dict.get
        name = one_line(str(get(value, "name") or ""))
        email = str(get(value, "email") or "").strip() or None
        # feedparser (seen with 6.0.x) copies the previous author's email into a later author that has none
        if email is not None and email in emails:
            email = None
        elif email is not None:
            emails.add(email)
        href = get(value, "href") or get(value, "url") or get(value, "uri")
        url = href.strip() if isinstance(href, str) and is_http_url(href.strip()) else None
        name = name or (email or "")
        if name and all(a.name != name for a in result):
            result.append(Author(name, email, url))
    return tuple(result)
