"""Parsing and rendering post files: the task the worker processes run (loading.py does the rest).

Apart from loading.py, which reaches the config, the feed fetcher and the build cache,
so that a worker imports only what rendering needs (docutils only for a .rst post).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from syndicate.build.items import ItemSpec, with_items
from syndicate.errors import SourceError
from syndicate.model import Entry, Site, quick_pickling
from syndicate.render.entry import render_entry
from syndicate.sources.markdown import PostPlace, read_post_bytes
from syndicate.store.packs import Stored


@dataclass(frozen=True, slots=True)
class LoadedEntry:
    """A rendered post and what the build keeps beside it (none of it is the post's data)."""

    entry: Entry
    key: str  # hash of what it was made from (its source's path and bytes, or its feed item)
    stored: Stored | None  # where its serialized feed items are kept; then entry.content_html is None


quick_pickling(LoadedEntry)

RenderJob = tuple[str, str, bytes, PostPlace]  # key, shown path, bytes of one post file, its place


def render_files(
    jobs: Sequence[RenderJob], site: Site, spec: ItemSpec | None = None
) -> list[LoadedEntry | SourceError | None]:
    """Parse and render post files; their feed items too, with a spec (runs in workers).
    None for a file that is no post (an HTML page without front matter)."""
    rendered: list[Entry] = []
    keys: list[str] = []
    failed: dict[int, SourceError | None] = {}
    for index, (key, shown, data, place) in enumerate(jobs):
        try:
            post = read_post_bytes(data, shown, site.timezone, place, language=site.language)
        except SourceError as exc:
            failed[index] = exc
            continue
        if post is None:
            failed[index] = None
            continue
        try:
            rendered.append(render_entry(post, site))
            keys.append(key)
        except SourceError as exc:
            failed[index] = exc
    done = iter(LoadedEntry(e, k, s) for k, (e, s) in zip(keys, with_items(rendered, spec), strict=True))
    return [failed[i] if i in failed else next(done) for i in range(len(jobs))]
