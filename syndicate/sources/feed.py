"""RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1 → Posts.

The mapping, decided here once:

- id: the item's guid (RSS), id (Atom, JSON Feed), verbatim, so readers of the
  rebuilt feeds see no duplicates; without one, the item's link; without both,
  none (render/links.post_id then derives a tag: URI).
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
  the body. Nothing is sanitized here: render_entry (and build/importing)
  run every body through the one allowlist sanitizer.
  HTML with no block element at all (a one-line excerpt) becomes one <p>.
- slug: the last part of the link's path (without .html and the like), else
  the title.
- repeats: an item identical to an earlier one (id, title, link, content) is
  dropped; an item that only shares an id or a link gets a short hash appended
  (to the id, or as the link's #fragment), so nothing is lost and the rebuilt
  feeds still have unique ids and links.
- items without a date are left out with one SourceError each, unless
  `assume_date`: then they get the feed's own date (RSS pubDate, then
  lastBuildDate; Atom updated), else the time the file was last changed (HTTP
  Last-Modified, or the local file's time), else the newest item date in the
  feed — minus one second per position in the feed, so the feed's order
  survives — and the warning says which. Never the clock, never the epoch:
  with none of those the items are left out, as without `assume_date`.
- dates in another language (`Seg, 24 Set 2018`) are read by sources/feed_dates.


The modules: rss_atom (feedparser, the only module importing it) and json_feed
read the items into FeedItems (feed_item); feed_encoding decodes XML bytes
safely first; this module settles dates, titles, slugs and repeats.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from syndicate.errors import SourceError, SyndicateError, Warn
from syndicate.model import Post
from syndicate.sources.feed_encoding import is_wxr
from syndicate.sources.feed_item import FeedHead, FeedItem, title_from_body
from syndicate.sources.fetch import FeedMemory, Fetched, Limits, fetch, is_url
from syndicate.sources.json_feed import json_items, looks_like_json
from syndicate.sources.rss_atom import xml_items
from syndicate.text import short_hash, slugify
from syndicate.urls import last_path_segment

_PAGE_EXTENSION = re.compile(r"\.(?:html?|shtml|php\d?|aspx?|jsp|cfm|xml)$", re.I)


# A date with what it is, for the warning: "the channel's lastBuildDate".
Dated = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One document of a feed (a feed may come in several pages or archives)."""

    url: str
    items: list[FeedItem | SourceError]
    head: FeedHead


def read_feed_source(
    location: str,
    tz: ZoneInfo,
    warn: Warn,
    *,
    limits: Limits,
    assume_date: bool = False,
    memory: FeedMemory | None = None,
) -> tuple[list[Post], list[SyndicateError]]:
    """Fetch and read the feed at `location` (a path or an http(s) URL); a feed that cannot be read at all is one error.

    With a memory, a remote feed is asked for with its last answer's ETag / Last-Modified,
    and a 304 reuses that answer's bytes.
    """
    if memory is not None and not is_url(location):
        memory = None  # a local file is read again anyway
    known = memory.recall(location) if memory is not None else None
    try:
        fetched = fetch(
            location,
            limits=limits,
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
        )
        if fetched.not_modified and known:
            fetched = Fetched(known.data, known.url, last_modified=known.last_modified)
        elif memory is not None:
            memory.remember(location, fetched)
        if is_wxr(fetched.data):  # an export read as a feed would publish its drafts and attachments
            from syndicate.sources.wxr import read_wxr  # lxml only when an export turns up

            export = read_wxr(fetched.data, fetched.url, tz, warn, modified=modified_time(fetched))
            return [e.post for e in export.entries], []
        page = read_page(fetched.data, fetched.url, tz, warn)
        return posts_of_pages([page], warn, assume_date=assume_date, modified=modified_time(fetched))
    except SourceError as exc:
        return [], [exc]


def modified_time(fetched: Fetched) -> Dated | None:
    """When the feed was last changed: the server's Last-Modified, or a local file's modification time."""
    if is_url(fetched.url):
        if not fetched.last_modified:
            return None
        try:
            value = parsedate_to_datetime(fetched.last_modified)
        except (TypeError, ValueError, IndexError, ArithmeticError):
            return None
        return value.replace(tzinfo=value.tzinfo or UTC), "the server's Last-Modified header"
    try:
        stamp = Path(fetched.url).stat().st_mtime
    except (OSError, ValueError):
        return None
    return datetime.fromtimestamp(int(stamp), UTC), "the file's modification time"


def read_page(data: bytes, url: str, tz: ZoneInfo, warn: Warn) -> FeedPage:
    """The items of one feed document; raises SourceError when `data` is not a feed at all."""
    if not data.strip():
        raise SourceError("empty: there is no feed in it", path=url)
    if looks_like_json(data):
        items, head = json_items(data, url, tz, warn)
    else:
        items, head = xml_items(data, url, tz, warn)
    return FeedPage(url, items, head)


def parse_feed_bytes(
    data: bytes, url: str, tz: ZoneInfo, warn: Warn, *, assume_date: bool = False, modified: Dated | None = None
) -> tuple[list[Post], list[SyndicateError]]:
    """Every item of the feed in `data` as a Post, and one error per item left out.

    `url` is where the bytes came from (a URL or a path): it names the feed in
    messages and, when it is an http(s) URL, resolves relative links. Raises
    SourceError when `data` is not a feed at all.
    """
    return posts_of_pages([read_page(data, url, tz, warn)], warn, assume_date=assume_date, modified=modified)


def posts_of_pages(
    pages: Sequence[FeedPage], warn: Warn, *, assume_date: bool = False, modified: Dated | None = None
) -> tuple[list[Post], list[SyndicateError]]:
    """The items of every page, in order (the first page's first item is the feed's first), as Posts."""
    posts: list[Post] = []
    errors: list[SyndicateError] = []
    fallback = undated_fallback(pages, modified) if assume_date else None
    assumed = 0
    position = 0
    for page in pages:
        for item in page.items:
            if isinstance(item, SourceError):
                errors.append(item)
                continue
            position += 1
            made = _post_of(item, page.url, fallback, position, assume_date, warn)
            if isinstance(made, SourceError):
                errors.append(made)
            elif made is not None:
                posts.append(made)
                assumed += item.published is None
    if assumed and fallback is not None:
        url = pages[0].url
        warn(
            f"{url}: {assumed} {'item has' if assumed == 1 else 'items have'} no date; dated from {fallback[1]} "
            f"({fallback[0].isoformat()}), one second apart in feed order"
        )
    return _keep_apart(posts, pages[0].url if pages else "", warn), errors


def undated_fallback(pages: Sequence[FeedPage], modified: Dated | None) -> Dated | None:
    """The date for items that have none: the feed's own, else the file's, else its newest item's; never invented."""
    if pages and pages[0].head.dates:
        return pages[0].head.dates[0]
    if modified is not None:
        return modified
    dated = [i.published for p in pages for i in p.items if isinstance(i, FeedItem) and i.published is not None]
    return (max(dated), "the newest dated item") if dated else None


def _post_of(
    item: FeedItem, url: str, fallback: Dated | None, position: int, assume_date: bool, warn: Warn
) -> Post | SourceError | None:
    """The item as a Post; an error when it has no date and none may be assumed (`fallback` None); None to skip."""
    where = f"{url}#item-{item.n}"
    title = item.title or title_from_body(item.body or item.summary or "")
    if not title and not item.body and not item.summary:
        warn(f"{where}: no title and no content; nothing to import, skipped")
        return None
    published = item.published
    if published is None:
        if fallback is None:
            fix = (
                "and neither has the feed (no pubDate, lastBuildDate, updated or Last-Modified), so it was left out; "
                "add a date to the item"
                if assume_date
                else "so it was left out; pass --assume-date (or assume_date = true for this source) "
                "to date it from the feed"
            )
            return SourceError(f"{title[:60]!r} has no date (pubDate, published or updated), {fix}", path=where)
        published = fallback[0] - timedelta(seconds=position - 1)
    updated = item.updated if item.updated is not None and item.updated > published else None
    return Post(
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


def _slug(link: str | None, title: str, ident: str | None, n: int) -> str:
    if link:
        segment = _PAGE_EXTENSION.sub("", unquote(last_path_segment(link)))
        if segment and segment.lower() not in ("index", "default") and not segment.isdigit():
            return slugify(segment)
    if title:
        return slugify(title)
    return slugify(ident or f"item-{n}")
