"""Reading every source and rendering every visible post: the first half of a build.

Unchanged posts come from the entry cache; the rest are parsed and rendered,
spread over worker processes when there are enough of them to pay for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.build.feed_source import read_configured_feed
from syndicate.build.items import ItemSpec, with_items
from syndicate.build.render_posts import LoadedEntry, RenderJob
from syndicate.build.rendering import EarlyRenders, render_all
from syndicate.build.scan import Scanned, SourceFile, scan_markdown
from syndicate.build.workers import WorkerPool
from syndicate.config import Config
from syndicate.errors import SourceError, SyndicateError, Warn
from syndicate.model import Entry
from syndicate.render.entry import render_entry
from syndicate.render.select import check_unique, is_future, is_visible, newest_first
from syndicate.sources.markdown import DataFiles, PostPlace, post_stem
from syndicate.store.digests import digest_of
from syndicate.store.entries import EntryCache
from syndicate.store.fetched import SourceMemory
from syndicate.store.packs import Stored

PROGRESS_MIN = 300  # report progress only for work that takes a noticeable time


@dataclass(frozen=True, slots=True)
class LoadedSite:
    """Everything read and rendered for one build, before anything is written."""

    config: Config
    entries: tuple[Entry, ...]  # visible, newest first
    today: date
    # the days `today` could be and still give exactly this build (same posts visible, same weeks complete)
    valid_from: date = date.min
    valid_until: date = date.max
    loaded: Mapping[str, LoadedEntry] = field(default_factory=dict)  # every visible entry's, by entry id
    future: int = 0  # posts that wait for their day (no drafts)

    def key_of(self, entry: Entry) -> str:
        """The hash of what a visible entry was made from: its part of an output's recipe."""
        return self.loaded[entry.id].key

    def stored_items(self, entry: Entry) -> Stored | None:
        """Where a visible entry's feed items are kept (None: make them from the entry)."""
        return self.loaded[entry.id].stored


def visibility_window(
    entries: Sequence[Entry], visible: Sequence[Entry], today: date, tz: ZoneInfo
) -> tuple[date, date]:
    """The range of `today` values for which the same posts are visible (issues come from records, not
    from the calendar, so no week's end changes a build)."""
    valid_from, valid_until = date.min, date.max
    for entry in entries:
        if entry.post.draft:
            continue
        expires = entry.post.expires
        for moment in (entry.published, *([expires] if expires is not None else [])):
            day = moment.astimezone(tz).date()  # a day on which the post comes in (or goes out)
            if day > today:
                valid_until = min(valid_until, day)
            else:
                valid_from = max(valid_from, day)
    return valid_from, valid_until


def _place_of(file: SourceFile, site_root: Path) -> PostPlace:
    """The place of a file scan did not read (known unchanged): its data files unchanged too."""
    if file.root is None:
        return PostPlace(post_stem(file.shown))
    return PostPlace.of(Path(file.path), DataFiles(file.root), site_root)


def _cached_or_to_render(
    files: list[SourceFile],
    cache: EntryCache,
    spec: ItemSpec | None,
    errors: list[SyndicateError],
    site_root: Path,
) -> tuple[list[LoadedEntry], list[RenderJob]]:
    """Markdown posts found in the cache, and the render jobs of the others (none for those taken
    by EarlyRenders while the scan read them)."""
    loaded: list[LoadedEntry] = []
    todo: list[RenderJob] = []
    for file in files:
        if file.taken:
            continue
        cached = cache.get(file.key) if spec is not None else None
        if cached is not None:
            loaded.append(LoadedEntry(cached[0], file.key, cached[1]))
            continue
        data, place = file.data, file.place
        if data is None or place is None:  # unchanged since the last build, but not in the cache: read it after all
            try:
                data = Path(file.path).read_bytes()
                place = _place_of(file, site_root)
            except OSError as exc:
                errors.append(SourceError(f"cannot read: {exc.strerror}", path=file.shown))
                continue
            if digest_of(file.shown, data) != file.key:  # changed after all: render what is there now
                errors.append(SourceError("changed while being read; build again", path=file.shown))
                continue
        todo.append((file.key, file.shown, data, place))
    return loaded, todo


def _read_feeds(
    config: Config,
    warn: Warn,
    cache: EntryCache,
    spec: ItemSpec | None,
    memory: SourceMemory | None,
    errors: list[SyndicateError],
) -> list[LoadedEntry]:
    """Every post of every feed source, rendered (or from the cache when its item is unchanged)."""
    loaded: list[LoadedEntry] = []
    for source in config.sources:
        if source.kind != "feed":
            continue
        found, problems = read_configured_feed(source, config, warn, memory)
        errors.extend(problems)
        keys: list[str] = []
        fresh: list[Entry] = []
        for post in found:
            key = digest_of("feed", repr(post))
            hit = cache.get(key) if spec is not None else None
            if hit is None:
                keys.append(key)
                fresh.append(render_entry(post, config.site))
            else:
                loaded.append(LoadedEntry(hit[0], key, hit[1]))
        for key, (entry, stored) in zip(keys, with_items(fresh, spec), strict=True):  # one set of packs per feed
            cache.put(key, entry, stored)
            loaded.append(LoadedEntry(entry, key, stored))
    return loaded


def read_entries(
    config: Config,
    warn: Warn,
    cache: EntryCache,
    scanned: Scanned | None = None,
    progress: Warn | None = None,
    spec: ItemSpec | None = None,
    workers: WorkerPool | None = None,
    memory: SourceMemory | None = None,
    early: EarlyRenders | None = None,
) -> tuple[list[LoadedEntry], list[SyndicateError]]:
    """Every post from every source rendered (cached when unchanged), and every error.

    With a spec, each post's feed items are made and stored too (see items), and the
    entries come without their HTML; without one, entries are complete and nothing is stored.
    """
    files, read_errors = scanned if scanned is not None else scan_markdown(config, warn=warn)
    errors: list[SyndicateError] = list(read_errors)
    loaded, todo = _cached_or_to_render(files, cache, spec, errors, config.root)
    loaded += _read_feeds(config, warn, cache, spec, memory, errors)
    taken = [file.key for file in files if file.taken]
    if progress is not None and len(todo) + len(taken) >= PROGRESS_MIN:
        progress(f"rendering {len(todo) + len(taken)} new or changed posts ({len(loaded)} from the cache)")
    with contextlib.ExitStack() as own:
        if workers is None:  # a pool of its own, for as long as this takes
            workers = own.enter_context(WorkerPool())
        results = render_all(todo, config.site, spec, workers)
        if early is not None:  # rendered while the scan went on, in file order before the rest
            done = early.results()
            results = [done[key] for key in taken] + results
    for result in results:
        if result is None:
            continue
        if isinstance(result, SourceError):
            errors.append(result)
        else:
            cache.put(result.key, result.entry, result.stored)
            loaded.append(result)
    return loaded, errors


def load_site(
    config: Config,
    today: date,
    warn: Warn,
    *,
    keep_going: bool = False,
    cache: EntryCache | None = None,
    scanned: Scanned | None = None,
    progress: Warn | None = None,
    spec: ItemSpec | None = None,
    workers: WorkerPool | None = None,
    memory: SourceMemory | None = None,
    early: EarlyRenders | None = None,
) -> tuple[LoadedSite, list[SyndicateError]]:
    cache = cache if cache is not None else EntryCache(None, "")
    loaded, errors = read_entries(config, warn, cache, scanned, progress, spec, workers, memory, early)
    if errors and not keep_going:
        return LoadedSite(config, (), today), errors
    tz = config.site.timezone
    shown = [item for item in loaded if is_visible(item.entry.post, today, tz)]
    visible = newest_first(item.entry for item in shown)
    check_unique(visible)
    valid_from, valid_until = visibility_window([item.entry for item in loaded], visible, today, tz)
    by_id = {item.entry.id: item for item in shown}
    future = sum(1 for item in loaded if is_future(item.entry.post, today, tz))
    return LoadedSite(config, tuple(visible), today, valid_from, valid_until, by_id, future), errors
