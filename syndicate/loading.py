"""Reading every source and rendering every visible post: the first half of a build.

Unchanged posts come from the entry cache; the rest are parsed and rendered,
spread over worker processes when there are enough of them to pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from .cache import EntryCache, digest_of
from .config import Config
from .content import render_entry
from .errors import SourceError, SyndicateError
from .model import Entry, Site
from .select import check_unique, is_visible, newest_first
from .sources.markdown import find_posts, read_post_bytes

Warn = Callable[[str], None]
PARALLEL_MIN = 400  # fewer uncached posts than this render faster in one process
CHUNK = 200


@dataclass(frozen=True, slots=True)
class LoadedSite:
    """Everything read and rendered for one build, before anything is written."""

    config: Config
    entries: tuple[Entry, ...]  # visible, newest first
    today: date


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _render_files(jobs: Sequence[tuple[str, str, bytes]], site: Site) -> list[Entry | SourceError]:
    """Parse and render Markdown files given as (key, shown path, bytes)."""
    results: list[Entry | SourceError] = []
    for key, shown, data in jobs:
        try:
            post = read_post_bytes(data, shown, site.timezone, Path(shown).stem)
            results.append(replace(render_entry(post, site), key=key))
        except SourceError as exc:
            results.append(exc)
    return results


def _render_all(jobs: list[tuple[str, str, bytes]], site: Site) -> list[Entry | SourceError]:
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) < PARALLEL_MIN or workers < 2:
        return _render_files(jobs, site)
    chunks = [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results: list[Entry | SourceError] = []
            for part in pool.map(_render_files, chunks, [site] * len(chunks)):
                results.extend(part)
            return results
    except (OSError, RuntimeError):  # no processes here (sandbox): do it in this one
        return _render_files(jobs, site)


def read_entries(config: Config, warn: Warn, cache: EntryCache) -> tuple[list[Entry], list[SyndicateError]]:
    """Every post from every source as a rendered Entry (cached when unchanged), and every error."""
    entries: list[Entry] = []
    errors: list[SyndicateError] = []
    todo: list[tuple[str, str, bytes]] = []
    for source in config.sources:
        if source.kind == "markdown":
            for path in find_posts(Path(source.location)):
                shown = _shown(path, config.root)
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    errors.append(SourceError(f"cannot read: {exc.strerror}", path=shown))
                    continue
                key = digest_of(shown, data)
                cached = cache.get(key)
                if cached is not None:
                    entries.append(cached)
                else:
                    todo.append((key, shown, data))
        else:
            from .sources.feed import read_feed_source  # imported lazily: feedparser is slow to import

            found, problems = read_feed_source(source, config, warn)
            errors.extend(problems)
            for post in found:
                key = digest_of("feed", repr(post))
                cached = cache.get(key)
                if cached is None:
                    cached = replace(render_entry(post, config.site), key=key)
                    cache.put(key, cached)
                entries.append(cached)
    for result in _render_all(todo, config.site):
        if isinstance(result, SourceError):
            errors.append(result)
        else:
            cache.put(result.key, result)
            entries.append(result)
    return entries, errors


def load_site(
    config: Config,
    today: date,
    warn: Warn,
    *,
    keep_going: bool = False,
    cache: EntryCache | None = None,
) -> tuple[LoadedSite, list[SyndicateError]]:
    cache = cache if cache is not None else EntryCache(None, "")
    entries, errors = read_entries(config, warn, cache)
    if errors and not keep_going:
        return LoadedSite(config, (), today), errors
    tz = config.site.timezone
    visible = newest_first(e for e in entries if is_visible(e.post, today, tz))
    check_unique(visible)
    return LoadedSite(config, tuple(visible), today), errors
