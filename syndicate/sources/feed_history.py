"""A feed's whole history, not only its latest page: for `syndicate import`.

A feed usually carries only its newest items (WordPress 10, Ghost 15, Blogger
25). The rest is found, in this order, by:

- RFC 5005 links in the feed itself: `next` (paged feeds) and `prev-archive`
  (archived feeds), and JSON Feed's `next_url`, followed page after page;
- WordPress, which advertises no paging but answers `?paged=2`, `?paged=3`, …
  until a 404 (or a page with nothing new);

at most `max_pages` documents in all, each fetched under the same limits as
the first. A page that cannot be fetched or read ends the walk with a warning
and keeps what was read. A single page with no way to more, holding exactly as
many items as a common cap, is reported as probably truncated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from syndicate.errors import SourceError, SyndicateError, Warn
from syndicate.model import Post
from syndicate.sources.feed import FeedPage, modified_time, posts_of_pages, read_page
from syndicate.sources.feed_item import FeedItem
from syndicate.sources.fetch import Fetched, HttpStatusError, Limits, fetch, is_url

DEFAULT_MAX_PAGES = 100
# Items per feed page that blogging platforms cap at by default (WordPress 10, Ghost 15, Blogger 25, …).
COMMON_CAPS = frozenset({10, 15, 20, 25, 50})


@dataclass(frozen=True, slots=True)
class FeedHistory:
    posts: list[Post]
    errors: list[SyndicateError]
    pages: tuple[FeedPage, ...]
    origin: str  # the site the feed belongs to (its home page), else where it was read from


def read_feed_history(
    fetched: Fetched,
    location: str,
    tz: ZoneInfo,
    warn: Warn,
    *,
    limits: Limits,
    assume_date: bool = False,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> FeedHistory:
    """Every item of the feed fetched from `location` and of the pages and archives it leads to.

    Raises SourceError when the first document is no feed.
    """
    first = read_page(fetched.data, fetched.url, tz, warn)
    pages = [first]
    seen = {location, fetched.url}
    ids = _ids(first)
    for page in _linked_pages(first, seen, ids, tz, warn, limits, max_pages):
        pages.append(page)
    walked_wordpress = False
    if len(pages) == 1 and not first.head.pages and _is_wordpress(first) and is_url(fetched.url):
        walked_wordpress = True
        pages.extend(_wordpress_pages(fetched.url, ids, tz, warn, limits, max_pages))
    _say_how_much(pages, location, walked_wordpress, max_pages, warn)
    posts, errors = posts_of_pages(pages, warn, assume_date=assume_date, modified=modified_time(fetched))
    # a local file without a home page link is named by its absolute path, the same from any folder
    origin = first.head.home or (fetched.url if is_url(fetched.url) else str(Path(fetched.url).resolve()))
    return FeedHistory(posts, errors, tuple(pages), origin)


def _ids(page: FeedPage) -> set[str]:
    return {i.id or i.link or "" for i in page.items if isinstance(i, FeedItem)} - {""}


def _linked_pages(
    first: FeedPage, seen: set[str], ids: set[str], tz: ZoneInfo, warn: Warn, limits: Limits, max_pages: int
) -> Iterator[FeedPage]:
    """The pages that `next` and `prev-archive` links lead to, breadth first, each once."""
    queue = list(first.head.pages)
    count = 1
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        if count >= max_pages:
            warn(f"{first.url}: stopped after {max_pages} pages; pass --max-pages to read further ({url} is next)")
            return
        seen.add(url)
        page = _page(url, tz, warn, limits)
        if page is None:
            return
        count += 1
        ids.update(_ids(page))
        queue.extend(page.head.pages)
        yield page


def _wordpress_pages(
    url: str, ids: set[str], tz: ZoneInfo, warn: Warn, limits: Limits, max_pages: int
) -> Iterator[FeedPage]:
    """WordPress's older posts: ?paged=2, 3, … until a 404, an empty page or one with nothing new."""
    for n in range(2, max_pages + 1):
        page_url = _with_query(url, "paged", str(n))
        page = _page(page_url, tz, warn, limits, quiet_404=True)
        if page is None:
            return
        new = _ids(page) - ids
        if not new:
            return  # past the end, or a site that ignores ?paged and serves page 1 again
        ids.update(new)
        yield page
    warn(f"{url}: stopped after {max_pages} pages; pass --max-pages to read further")


def _page(url: str, tz: ZoneInfo, warn: Warn, limits: Limits, *, quiet_404: bool = False) -> FeedPage | None:
    try:
        fetched = fetch(url, limits=limits)
        return read_page(fetched.data, fetched.url, tz, warn)
    except HttpStatusError as exc:
        if not (quiet_404 and exc.status in (404, 410)):
            warn(f"{exc}; the items of the pages before it were kept")
    except SourceError as exc:
        warn(f"{exc}; the items of the pages before it were kept")
    return None


def _is_wordpress(page: FeedPage) -> bool:
    """WordPress (https://wordpress.org/?v=6.4.2) and WordPress.com (http://wordpress.com/) name themselves."""
    return "wordpress." in page.head.generator.lower()


def _with_query(url: str, key: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key]
    query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _say_how_much(pages: list[FeedPage], location: str, walked_wordpress: bool, max_pages: int, warn: Warn) -> None:
    count = sum(1 for p in pages for i in p.items if isinstance(i, FeedItem))
    if len(pages) == 1 and not walked_wordpress and not pages[0].head.pages and count in COMMON_CAPS:
        warn(
            f"{location}: exactly {count} items and no link to older ones: the feed looks truncated "
            "(WordPress serves 10, Ghost 15, Blogger 25 by default); import the blog's export "
            "(WordPress: Tools → Export), or raise the number of items in the feed and import again"
        )
