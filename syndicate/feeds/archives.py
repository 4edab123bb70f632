"""RFC 5005 archived feeds: the whole history in pages of fixed size, and JSON Feed's next_url.

A group's posts, oldest first, fill pages of [feeds] archive_size; a page is written
as an archive document only once it is full and at least [feeds] max_items newer
posts stand after it, so the subscription document always keeps the newest
max_items to max_items + archive_size - 1 posts and no post is in two documents.
A page's posts are fixed by their places in the oldest-first order: new posts
(the usual case) never move a full page, so its bytes stay the same and it can be
cached for good, except that the newest page gains its next-archive link once,
when the page after it is archived. Deleting or back-dating an archived post
shifts the pages after it; walking the chain still yields every post once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from syndicate.model import Entry

ARCHIVE_FOLDER = "archive"
_ARCHIVE_PATH = re.compile(rf"(?:^|/){ARCHIVE_FOLDER}/\d+/[^/]+$")


def split_archive(
    entries: Sequence[Entry], keep: int, size: int
) -> tuple[tuple[Entry, ...], tuple[tuple[Entry, ...], ...]]:
    """(the subscription document's entries, the archive pages oldest first); all newest first within."""
    pages = max(0, (len(entries) - keep) // size)
    oldest_first = list(reversed(entries))
    archived = [tuple(reversed(oldest_first[k * size : (k + 1) * size])) for k in range(pages)]
    return tuple(entries[: len(entries) - pages * size]), tuple(archived)


def archive_rel(folder: str, page: int, file_name: str) -> str:
    """Where page `page` (1 for the oldest) of a group's archive lives, below the output folder."""
    return f"{folder}{ARCHIVE_FOLDER}/{page}/{file_name}"


def is_archive_page(rel: str) -> bool:
    """True for an archive document's path (`syndicate ping` tells hubs only of subscription documents)."""
    return _ARCHIVE_PATH.search(rel) is not None


def page_links(current_url: str, page_url: dict[int, str], page: int, pages: int) -> tuple[tuple[str, str], ...]:
    """An archive page's links: the subscription document, the older and the newer page when there are."""
    links = [("current", current_url)]
    if page > 1:
        links.append(("prev-archive", page_url[page - 1]))
    if page < pages:
        links.append(("next-archive", page_url[page + 1]))
    return tuple(links)
