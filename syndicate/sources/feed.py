"""RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1 → Posts (the only module importing feedparser).

The mapping, decided here once:

- id: the item's guid (RSS), id (Atom, JSON Feed), verbatim, so readers of the
  rebuilt feeds see no duplicates; without one, the item's link; without both,
  none (content.post_id then derives a tag: URI).
- url: the item's alternate link, absolute. Relative URLs (links, enclosures,
  images, and inside content) resolve against xml:base when the feed sets one,
  then the item's link, then the feed's own address (the URL it was fetched
  from; for a local file its self link or home page link).
- published / updated: RSS pubDate (dc:date when that is all there is), Atom
  published (issued in 0.3) and updated, JSON date_published / date_modified.
  Offsets are kept as written; a date without one takes the site's time zone.
  `updated` is kept only when later than `published`.
- tags and categories: every RSS or Atom <category> is a tag (WordPress puts
  both its categories and its tags in plain <category> elements, so they cannot
  be told apart), except when the feed says it is a category: domain="category"
  (WordPress's export format), or a scheme / domain URL whose last path part is
  "category" or "categories". JSON Feed only has tags.
- body: the fullest HTML the item carries (content:encoded, atom:content,
  content_html; else the description or summary); plain text is escaped into
  paragraphs. summary: the item's description / summary when it differs from
  the body. Nothing is sanitized here: content.render_entry (and the importer)
  run every body through the one allowlist sanitizer.
  HTML with no block element at all (a one-line excerpt) becomes one <p>.
- slug: the last part of the link's path (without .html and the like), else
  the title.
- repeats: an item identical to an earlier one (id, title, link, content) is
  dropped; an item that only shares an id or a link gets a short hash appended
  (to the id, or as the link's #fragment), so nothing is lost and the rebuilt
  feeds still have unique ids and links.
- items without a date are left out with one SourceError each, unless
  `assume_date`: then they get the feed's own date (RSS lastBuildDate or
  pubDate, Atom updated), else the newest item date in the feed, else
  1970-01-01T00:00:00Z — minus one second per position in the feed, so the
  feed's order survives. Never the clock.

Encodings: a BOM decides; otherwise bytes that are valid UTF-8 (and not plain
ASCII) are UTF-8 whatever the XML declaration says, bytes declared UTF-8 that
are not are windows-1252, and anything else is what it declares. The HTTP
charset is not consulted: servers get it wrong more often than feeds do.

Safety: a DOCTYPE with an internal subset (where entities are declared) is
removed before anything parses the XML, so entity bombs and external entities
(XXE) are never expanded; feedparser's own HTML sanitizer and URL resolver are
off (they are slow, and sanitizing is content.py's job).
"""

from __future__ import annotations

import codecs
import html
import io
import json
import re
import xml.sax
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import feedparser

from syndicate.errors import SourceError, SyndicateError
from syndicate.model import Author, Enclosure, Post
from syndicate.sources.fetch import FeedMemory, Limits, fetch, is_url
from syndicate.text import one_line, short_hash, slugify, xml_safe

if TYPE_CHECKING:
    from syndicate.config import Config, SourceConfig

Warn = Callable[[str], None]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}
_FEED_CONTENT_TYPE = {"content-type": "application/xml; charset=utf-8"}  # we hand feedparser UTF-8 we decoded
_XML_DECLARATION = re.compile(r"""^(\s*<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
_DECLARED = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_PROLOG_TOKEN = re.compile(r"""\s+|<\?.*?\?>|<!--.*?-->""", re.S)
_DOCTYPE_TOKEN = re.compile(r"""[^"'\[\]<>]+|"[^"]*"|'[^']*'|<!--.*?-->|.""", re.S)
_PAGE_EXTENSION = re.compile(r"\.(?:html?|shtml|php\d?|aspx?|jsp|cfm|xml)$", re.I)
_TAG = re.compile(r"<[^>]*>")
_BLOCK = re.compile(
    r"<(?:address|article|aside|blockquote|center|details|dialog|dd|div|dl|dt|fieldset|figcaption|figure|footer|form"
    r"|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|table|tbody|td|tfoot|th|thead|tr|ul)[\s/>]",
    re.I,
)
_PARAGRAPHS = re.compile(r"\n\s*\n")
_ZONE_AT_END = re.compile(r"(?:[+-]\d{2}:?\d{2}|\b[A-Za-z]{1,5})\s*$")
_FEED_LINK = re.compile(
    r"""<link\b(?=[^>]*\brel\s*=\s*["']?alternate)(?=[^>]*\btype\s*=\s*["']?application/(?:rss|atom|feed)\+(?:xml|json))"""
    r"""[^>]*\bhref\s*=\s*["']?([^"'\s>]+)""",
    re.I,
)
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)


# ---------------------------------------------------------------- entry points


def read_feed_source(
    source: SourceConfig, config: Config, warn: Warn, memory: FeedMemory | None = None
) -> tuple[list[Post], list[SyndicateError]]:
    """Fetch and read one [[sources]] feed; a feed that cannot be read at all is one error.

    With a memory, a remote feed is asked for with its last answer's ETag / Last-Modified,
    and a 304 reuses that answer's bytes.
    """
    if memory is not None and not is_url(source.location):
        memory = None  # a local file is read again anyway
    known = memory.recall(source.location) if memory is not None else None
    try:
        fetched = fetch(
            source.location,
            limits=Limits(max_bytes=config.max_feed_bytes),
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
        )
        data, url = (known.data, known.url) if fetched.not_modified and known else (fetched.data, fetched.url)
        if memory is not None and not fetched.not_modified:
            memory.remember(source.location, fetched)
        return parse_feed_bytes(data, url, config.site.timezone, warn, assume_date=source.assume_date)
    except SourceError as exc:
        return [], [exc]


def parse_feed_bytes(
    data: bytes, url: str, tz: ZoneInfo, warn: Warn, *, assume_date: bool = False
) -> tuple[list[Post], list[SyndicateError]]:
    """Every item of the feed in `data` as a Post, and one error per item left out.

    `url` is where the bytes came from (a URL or a path): it names the feed in
    messages and, when it is an http(s) URL, resolves relative links. Raises
    SourceError when `data` is not a feed at all.
    """
    if not data.strip():
        raise SourceError("empty: there is no feed in it", path=url)
    if _looks_like_json(data):
        items, feed_date = _json_items(data, url, tz, warn)
    else:
        items, feed_date = _xml_items(data, url, tz, warn)
    return _finish(items, url, feed_date, assume_date, warn)


def feedparser_problems(data: bytes, url: str) -> list[str]:
    """What feedparser itself finds wrong with a feed: not well-formed, items without title, link, id or date."""
    del url  # the caller names the file
    try:
        parsed = _feedparser_parse(data, None, "")
    except SourceError as exc:
        return [f"feedparser: {exc.message}"]
    problems: list[str] = []
    if parsed.get("bozo"):
        problems.append(f"feedparser: {_describe(parsed.get('bozo_exception'))}")
    if not parsed.get("version"):
        problems.append("feedparser does not recognise this as RSS or Atom")
    for n, entry in enumerate(parsed.get("entries", []), 1):
        missing = [key for key in ("title", "link", "id") if not dict.get(entry, key)]
        if not any(dict.get(entry, key) for key in ("published_parsed", "updated_parsed", "created_parsed")):
            missing.append("date")
        if missing:
            problems.append(f"item {n}: feedparser finds no {', no '.join(missing)}")
    return problems


# ---------------------------------------------------------------- common item shape


@dataclass(frozen=True, slots=True)
class _Item:
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


def _finish(
    items: Sequence[_Item | SourceError], url: str, feed_date: datetime | None, assume_date: bool, warn: Warn
) -> tuple[list[Post], list[SyndicateError]]:
    posts: list[Post] = []
    errors: list[SyndicateError] = []
    dated = [i.published for i in items if isinstance(i, _Item) and i.published is not None]
    fallback = feed_date or max(dated, default=EPOCH)
    assumed = 0
    for item in items:
        if isinstance(item, SourceError):
            errors.append(item)
            continue
        where = f"{url}#item-{item.n}"
        title = item.title or _title_from(item.body or item.summary or "")
        if not title and not item.body and not item.summary:
            warn(f"{where}: no title and no content; nothing to import, skipped")
            continue
        published = item.published
        if published is None:
            if not assume_date:
                errors.append(
                    SourceError(
                        f"{title[:60]!r} has no date (pubDate, published or updated), so it was left out; "
                        "pass --assume-date (or assume_date = true for this source) to date it from the feed",
                        path=where,
                    )
                )
                continue
            published = fallback - timedelta(seconds=item.n - 1)
            assumed += 1
        updated = item.updated if item.updated is not None and item.updated > published else None
        posts.append(
            Post(
                source=where,
                title=title or "Untitled",
                published=published,
                slug=_slug(item.link, title, item.id, item.n),
                body=item.body or item.summary or "",
                body_format="html",
                id=item.id,
                url=item.link,
                updated=updated,
                tags=item.tags,
                categories=item.categories,
                authors=item.authors,
                summary=item.summary if item.body else None,
                image=item.image,
                enclosures=item.enclosures,
            )
        )
    if assumed:
        warn(
            f"{url}: {assumed} {'item has' if assumed == 1 else 'items have'} no date; "
            f"dated from the feed ({fallback.isoformat()}), one second apart in feed order"
        )
    return _keep_apart(posts, url, warn), errors


def _keep_apart(posts: list[Post], url: str, warn: Warn) -> list[Post]:
    """Items that repeat another item's id or link, made distinct instead of lost.

    An exact repeat (same id, title, link and content) is dropped. Any other
    item whose id is taken gets "#" and a hash of its title, link and date
    appended; an item whose link is taken (podcasts often link every episode
    to the show's page) gets that hash as a #fragment, so the rebuilt feeds
    keep every item and every reader can still tell them apart.
    """
    result: list[Post] = []
    ids: dict[str, Post] = {}
    links: set[str] = set()
    shared: list[Post] = []
    for post in posts:
        mark = short_hash(f"{post.title}|{post.url or ''}|{post.published.isoformat()}")
        if post.id is not None and post.id in ids:
            first = ids[post.id]
            if (first.title, first.url, first.body) == (post.title, post.url, post.body):
                warn(f"{post.source}: repeats {first.source} (same id, title, link and content); skipped")
                continue
            new_id = f"{post.id}#{mark}"
            warn(f"{post.source}: has the same id as {first.source}; imported with the id {new_id!r}")
            post = replace(post, id=new_id)
        if post.url is not None and post.url in links:
            shared.append(post)
            post = replace(post, url=f"{post.url}{'-' if '#' in post.url else '#'}{mark}")
        if post.id is not None:
            ids[post.id] = post
        if post.url is not None:
            links.add(post.url)
        result.append(post)
    if shared:
        count = len(shared)
        warn(
            f"{url}: {count} {'item shares its' if count == 1 else 'items share their'} link with an earlier item "
            f"(such as {shared[0].source}); a #fragment keeps them apart"
        )
    return result


def _title_from(body: str) -> str:
    """A title for an untitled item (a microblog post): its first words."""
    text = one_line(html.unescape(_TAG.sub(" ", body)))
    if len(text) <= 80:
        return text
    return text[:80].rsplit(" ", 1)[0] + "…"


def _slug(link: str | None, title: str, ident: str | None, n: int) -> str:
    if link:
        segment = unquote(urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1])
        segment = _PAGE_EXTENSION.sub("", segment)
        if segment and segment.lower() not in ("index", "default") and not segment.isdigit():
            return slugify(segment)
    if title:
        return slugify(title)
    return slugify(ident or f"item-{n}")


# ---------------------------------------------------------------- small helpers


def _text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs."""
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text.replace("\r\n", "\n")) if p.strip()]
    return "\n".join("<p>" + html.escape(p, quote=False).replace("\n", "<br>\n") + "</p>" for p in paragraphs)


def _as_blocks(fragment: str) -> str:
    """Inline-only HTML (an excerpt, a one-line description) as one paragraph, like Markdown would give."""
    if not fragment or _BLOCK.search(fragment):
        return fragment
    return f"<p>{fragment}</p>"


def _html_title(value: str) -> str:
    return one_line(html.unescape(_TAG.sub("", value)))


def _absolute(href: object, base: str) -> str | None:
    """An http(s) URL made absolute against base; a relative one stays relative only when there is no base."""
    if not isinstance(href, str):
        return None
    href = href.strip()
    if href.startswith(("https://", "http://")):
        return href
    if not href:
        return None
    joined = urljoin(base, href) if base else href
    scheme = urlsplit(joined).scheme.lower()
    if scheme in ("http", "https"):
        return joined
    return joined if not scheme and not base else None


def _http_base(*candidates: object) -> str:
    for candidate in candidates:
        if isinstance(candidate, str) and urlsplit(candidate).scheme.lower() in ("http", "https"):
            return candidate
    return ""


def _resolve_urls(fragment: str, base: str) -> str:
    """Make the URLs inside an HTML fragment absolute against base (only used where the item link is not the base)."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    root.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    text: str = lxml_html.tostring(root, encoding="unicode")
    return text[len("<div>") : -len("</div>")]


def parse_date(raw: object, parsed: object, tz: ZoneInfo) -> datetime | None:
    """A feed date as an aware datetime, keeping the offset it was written with.

    RFC 3339 and RFC 822 are read here; anything else falls back to
    feedparser's own reading (`parsed`, a UTC struct_time), which knows more
    formats but throws the offset away.
    """
    value: datetime | None = None
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            try:
                value = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, ArithmeticError):  # OverflowError on huge numbers
                value = None
            else:
                # "-0000" or a zone name email.utils does not know: feedparser's reading (in UTC) is better
                if value.tzinfo is None and _ZONE_AT_END.search(text) and parsed is not None:
                    value = None
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


def _names(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        name = one_line(value)
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return tuple(seen.values())


def _is_category_scheme(scheme: str) -> bool:
    scheme = scheme.strip().lower()
    if scheme in ("category", "categories"):
        return True
    last = urlsplit(scheme).path.rstrip("/").rsplit("/", 1)[-1] if "/" in scheme else ""
    return last in ("category", "categories")


def _length(value: object) -> int:
    try:
        return max(int(str(value).strip()), 0)
    except (TypeError, ValueError):
        return 0


# ---------------------------------------------------------------- XML: bytes → text feedparser can trust


def prepare_xml(data: bytes, url: str, warn: Warn) -> bytes:
    """UTF-8 bytes with a truthful XML declaration and no DOCTYPE internal subset."""
    text = _decode(data, url, warn)
    text, had_entities = _strip_internal_subset(text)
    if had_entities:
        warn(
            f"{url}: the feed declares its own XML entities (<!DOCTYPE … [<!ENTITY …>]>); "
            "they were ignored, not expanded"
        )
    text = _XML_DECLARATION.sub(r"\1\2utf-8\2", text, count=1)
    return text.encode("utf-8", "replace")


def _decode(data: bytes, url: str, warn: Warn) -> str:
    """Bytes → text: the BOM, then what the bytes really are, then the declared encoding.

    Bytes that are valid UTF-8 and not plain ASCII are UTF-8 whatever the
    declaration says (a legacy encoding almost never produces valid UTF-8 by
    chance); bytes declared as UTF-8 that are not are read as windows-1252.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    if data[:4] in (b"<\x00?\x00", b"<\x00\x00\x00"):
        return data.decode("utf-16-le" if data[:4] == b"<\x00?\x00" else "utf-32-le", "replace")
    if data[:4] in (b"\x00<\x00?", b"\x00\x00\x00<"):
        return data.decode("utf-16-be" if data[:4] == b"\x00<\x00?" else "utf-32-be", "replace")
    declared_name = None
    match = _DECLARED.match(data[:1024])
    declared = None
    if match:
        declared_name = match.group(1).decode("ascii")
        try:
            declared = codecs.lookup(declared_name).name
        except LookupError:
            warn(f"{url}: declares the unknown encoding {declared_name!r}; reading it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared not in (None, "utf-8") and not declared.startswith(("utf-16", "utf-32")) and not data.isascii():
            warn(f"{url}: declares {declared_name} but is UTF-8; read as UTF-8")
        return text
    if declared is not None and declared != "utf-8":
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    said = declared_name or "UTF-8 (no encoding declared)"
    try:
        text = data.decode("cp1252")
        warn(f"{url}: declares {said} but is not; read as windows-1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        warn(f"{url}: declares {said} but is not; read as ISO-8859-1")
    return text


def _strip_internal_subset(text: str) -> tuple[str, bool]:
    """Remove a DOCTYPE that has an internal subset; say whether it declared entities.

    Only the prolog is scanned (up to the root element). The removed text is
    replaced by as many newlines, so line numbers in messages stay right.
    """
    pos = 0
    if text.startswith("\ufeff"):
        pos = 1
    while True:
        match = _PROLOG_TOKEN.match(text, pos)
        if match is None:
            break
        pos = match.end()
    if text[pos : pos + 9].upper() != "<!DOCTYPE":
        return text, False
    start, pos = pos, pos + 9
    subset = False
    in_subset = False
    while pos < len(text):
        token = _DOCTYPE_TOKEN.match(text, pos)
        assert token is not None  # the pattern's last branch matches any character
        piece = token.group(0)
        pos = token.end()
        if piece == "[" and not in_subset:
            in_subset = subset = True
        elif piece == "]" and in_subset:
            in_subset = False
        elif piece == ">" and not in_subset:
            break
    if not subset:
        return text, False
    removed = text[start:pos]
    return text[:start] + "\n" * removed.count("\n") + text[pos:], "<!ENTITY" in removed.upper()


# ---------------------------------------------------------------- XML feeds through feedparser


def _feedparser_parse(data: bytes, headers: Mapping[str, str] | None, url: str) -> Any:
    # Bytes must go in as a stream: feedparser.parse() tries to open() a bytes
    # argument as a file name first, so feed bytes like b"/etc/passwd" would be read from disk.
    try:
        return feedparser.parse(
            io.BytesIO(data),
            response_headers=dict(headers) if headers else None,
            resolve_relative_uris=False,  # done below, in the order xml:base → item link → feed URL
            sanitize_html=False,  # content.sanitize_html (nh3) is the one sanitizer
        )
    except Exception as exc:
        raise SourceError(
            f"the feed is too broken to read ({type(exc).__name__}: {exc}); check it with a feed validator", path=url
        ) from None


def _describe(exc: object) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return f"{exc.getMessage()} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    return one_line(str(exc)) or type(exc).__name__


def _xml_items(data: bytes, url: str, tz: ZoneInfo, warn: Warn) -> tuple[list[_Item | SourceError], datetime | None]:
    parsed = _feedparser_parse(prepare_xml(data, url, warn), _FEED_CONTENT_TYPE, url)
    entries = parsed.get("entries", [])
    if not parsed.get("version") and not entries:
        raise _not_a_feed(data, url, parsed)
    if parsed.get("bozo"):
        warn(f"{url}: not well-formed XML ({_describe(parsed.get('bozo_exception'))}); imported what could be read")
    feed = parsed.get("feed", {})
    self_link = next((link.get("href") for link in feed.get("links", []) if link.get("rel") == "self"), None)
    base = _http_base(url, self_link, feed.get("link"))
    feed_authors = _authors(feed.get("authors", []))
    feed_date = parse_date(dict.get(feed, "updated"), dict.get(feed, "updated_parsed"), tz) or parse_date(
        dict.get(feed, "published"), dict.get(feed, "published_parsed"), tz
    )
    items: list[_Item | SourceError] = []
    for n, entry in enumerate(entries, 1):
        try:
            items.append(_entry_item(entry, n, base, feed_authors, tz))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            items.append(SourceError(f"cannot read this item ({exc}); it was left out", path=f"{url}#item-{n}"))
    return items, feed_date


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
    why = _describe(parsed.get("bozo_exception")) if parsed.get("bozo") else "no RSS, Atom or JSON Feed elements"
    return SourceError(f"not an RSS, Atom or JSON feed ({why})", path=url)


def _entry_item(entry: Any, n: int, base: str, feed_authors: tuple[Author, ...], tz: ZoneInfo) -> _Item:
    # dict.get, not entry.get: FeedParserDict.get goes through a slow key map, and its "updated"
    # quietly answers with `published` (and a DeprecationWarning); we want only what the feed said.
    get = dict.get
    link = _absolute(get(entry, "link"), base)
    raw_id = get(entry, "id")
    ident = raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else None
    title_detail = get(entry, "title_detail") or {}
    raw_title = get(entry, "title") or ""
    title = _html_title(raw_title) if get(title_detail, "type") in _HTML_TYPES else one_line(raw_title)

    body, body_base = _content(get(entry, "content") or [])
    summary_detail = get(entry, "summary_detail")
    summary: str | None = None
    summary_base = ""
    if summary_detail is not None:
        summary, summary_base = _detail_html(summary_detail)
        if not summary or summary == body:
            summary = None
    if not body and summary:
        body, body_base, summary = summary, summary_base, None
    page = link if link and urlsplit(link).scheme else ""
    body = _resolved(body, body_base, page, base)
    if summary:
        summary = _resolved(summary, summary_base, page, base)

    published = parse_date(get(entry, "published"), get(entry, "published_parsed"), tz)
    if published is None:
        published = parse_date(get(entry, "created"), get(entry, "created_parsed"), tz)
    updated = parse_date(get(entry, "updated"), get(entry, "updated_parsed"), tz)
    if published is None:
        published, updated = updated, None

    tags: list[str] = []
    categories: list[str] = []
    for tag in get(entry, "tags") or []:
        term = (get(tag, "term") or get(tag, "label") or "").strip()
        if term:
            (categories if _is_category_scheme(get(tag, "scheme") or "") else tags).append(term)

    item_base = page or base
    enclosures = []
    for link_detail in get(entry, "links") or []:
        if get(link_detail, "rel") == "enclosure":
            href = _absolute(get(link_detail, "href"), item_base)
            if href:
                media_type = get(link_detail, "type") or "application/octet-stream"
                enclosures.append(Enclosure(href, _length(get(link_detail, "length")), media_type))
    return _Item(
        n=n,
        title=title,
        body=body,
        summary=summary,
        id=ident or link,
        link=link,
        published=published,
        updated=updated,
        authors=_authors(get(entry, "authors") or []) or feed_authors,
        tags=_names(tags),
        categories=_names(categories),
        image=_image(entry, item_base),
        enclosures=tuple(dict.fromkeys(enclosures)),
    )


def _content(contents: Sequence[Any]) -> tuple[str, str]:
    """The item's fullest HTML content and the xml:base it was written under."""
    if not contents:
        return "", ""
    chosen = next((c for c in contents if dict.get(c, "type") in _HTML_TYPES), contents[0])
    return _detail_html(chosen)


def _detail_html(detail: Any) -> tuple[str, str]:
    value = dict.get(detail, "value") or ""
    if dict.get(detail, "type") not in _HTML_TYPES:
        value = _text_to_html(value)
    return _as_blocks(xml_safe(value).strip()), dict.get(detail, "base") or ""


def _resolved(fragment: str, xml_base: str, page: str, feed_base: str) -> str:
    """Resolve relative URLs now only where render_entry (which uses the item link) would get them wrong."""
    if not fragment or ("href" not in fragment and "src" not in fragment):
        return fragment
    if xml_base:
        base = _http_base(urljoin(feed_base, xml_base) if feed_base else xml_base)
        if base and base != page:
            return _resolve_urls(fragment, base)
        return fragment
    if not page and feed_base:
        return _resolve_urls(fragment, feed_base)
    return fragment


def _authors(values: Iterable[Any]) -> tuple[Author, ...]:
    result: list[Author] = []
    emails: set[str] = set()
    for value in values:
        if not isinstance(value, dict):
            continue
        get = dict.get
        name = one_line(str(get(value, "name") or ""))
        email = str(get(value, "email") or "").strip() or None
        # feedparser copies the previous author's email into a later author that has none
        if email is not None and email in emails:
            email = None
        elif email is not None:
            emails.add(email)
        href = get(value, "href") or get(value, "url") or get(value, "uri")
        url = href.strip() if isinstance(href, str) and urlsplit(href.strip()).scheme in ("http", "https") else None
        name = name or (email or "")
        if name and all(a.name != name for a in result):
            result.append(Author(name, email, url))
    return tuple(result)


def _image(entry: Any, base: str) -> str | None:
    candidates: list[object] = []
    image = dict.get(entry, "image")
    if isinstance(image, dict):
        candidates.append(dict.get(image, "href") or dict.get(image, "url"))
    candidates.extend(dict.get(t, "url") for t in dict.get(entry, "media_thumbnail") or [] if isinstance(t, dict))
    candidates.extend(
        dict.get(m, "url")
        for m in dict.get(entry, "media_content") or []
        if isinstance(m, dict)
        and (dict.get(m, "medium") == "image" or str(dict.get(m, "type") or "").startswith("image/"))
    )
    for candidate in candidates:
        found = _absolute(candidate, base)
        if found:
            return found
    return None


# ---------------------------------------------------------------- JSON Feed (feedparser does not read it)


def _looks_like_json(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _json_items(data: bytes, url: str, tz: ZoneInfo, warn: Warn) -> tuple[list[_Item | SourceError], datetime | None]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SourceError("JSON Feed is not UTF-8; JSON must be UTF-8", path=url) from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", path=url) from None
    except RecursionError:
        raise SourceError("JSON nested too deeply to be a feed", path=url) from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise SourceError('JSON, but not a JSON Feed (no "items" list)', path=url)
    version = document.get("version")
    if not (
        isinstance(version, str)
        and version.startswith(("https://jsonfeed.org/version/", "http://jsonfeed.org/version/"))
    ):
        warn(f"{url}: JSON Feed version {version!r} is not one this reads (1 or 1.1); reading it as 1.1")
    base = _http_base(url, document.get("feed_url"), document.get("home_page_url"))
    feed_authors = _json_authors(document)
    items: list[_Item | SourceError] = []
    for n, value in enumerate(document["items"], 1):
        where = f"{url}#item-{n}"
        if not isinstance(value, dict):
            items.append(SourceError("an item is not a JSON object; it was left out", path=where))
            continue
        try:
            items.append(_json_item(value, n, base, feed_authors, tz))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            items.append(SourceError(f"cannot read this item ({exc}); it was left out", path=where))
    return items, None


def _json_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json_item(item: Mapping[str, Any], n: int, base: str, feed_authors: tuple[Author, ...], tz: ZoneInfo) -> _Item:
    link = _absolute(item.get("url"), base)
    raw_id = item.get("id")
    if isinstance(raw_id, bool) or raw_id is None:
        ident = None
    elif isinstance(raw_id, int | float | str):
        ident = str(raw_id).strip() or None  # 1.0 feeds sometimes use numbers; the spec says strings
    else:
        ident = None
    body = _as_blocks(_json_text(item.get("content_html")).strip())
    if not body and _json_text(item.get("content_text")).strip():
        body = _text_to_html(_json_text(item.get("content_text")))
    summary = _text_to_html(_json_text(item.get("summary"))) or None  # JSON Feed summaries are plain text
    page = link if link and urlsplit(link).scheme else ""
    if not page and base:
        body = _resolved(body, "", "", base)
    tags = item.get("tags")
    return _Item(
        n=n,
        title=one_line(_json_text(item.get("title"))),
        body=xml_safe(body),
        summary=summary,
        id=ident or link,
        link=link,
        published=parse_date(item.get("date_published"), None, tz),
        updated=parse_date(item.get("date_modified"), None, tz),
        authors=_json_authors(item) or feed_authors,
        tags=_names(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        categories=(),
        image=_absolute(item.get("image"), page or base) or _absolute(item.get("banner_image"), page or base),
        enclosures=tuple(_attachments(item.get("attachments"), page or base)),
    )


def _json_authors(holder: Mapping[str, Any]) -> tuple[Author, ...]:
    values = holder.get("authors")
    if not isinstance(values, list):
        single = holder.get("author")  # JSON Feed 1.0
        values = [single] if isinstance(single, dict) else []
    return _authors(v for v in values if isinstance(v, dict))


def _attachments(values: object, base: str) -> Iterable[Enclosure]:
    if not isinstance(values, list):
        return
    for value in values:
        if isinstance(value, dict):
            href = _absolute(value.get("url"), base)
            if href:
                media_type = value.get("mime_type")
                yield Enclosure(
                    href,
                    _length(value.get("size_in_bytes")),
                    media_type if isinstance(media_type, str) and media_type else "application/octet-stream",
                )
