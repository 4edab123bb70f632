"""Reading every source and rendering every visible post: the first half of a build.

Unchanged posts come from the entry cache; the rest are parsed and rendered,
spread over worker processes when there are enough of them to pay for it.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.build.feed_source import read_configured_feed
from syndicate.config import Config
from syndicate.errors import SourceError, SyndicateError
from syndicate.feeds.formats import FRAGMENTERS
from syndicate.model import Author, Entry, Site
from syndicate.newsletter.weeks import week_of
from syndicate.render.entry import render_entry
from syndicate.render.select import check_unique, is_visible, newest_first
from syndicate.sources.markdown import MAX_POST_BYTES, find_posts, post_stem, read_post_bytes
from syndicate.store.cache import Cached, EntryCache, digest_of
from syndicate.store.packs import Stored, write_pack

Warn = Callable[[str], None]


def worker_context() -> multiprocessing.context.BaseContext:
    """Workers start from a small server process, not as copies of this one: a fork after
    thousands of posts are loaded would count that memory again in every worker."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


# The cyclic garbage collector's default (a pass every 700 new objects) spends a few per cent of a
# big build walking thousands of live entries that are not garbage; builds make few cycles.
BUILD_GC_THRESHOLD = (50_000, 20, 20)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(*BUILD_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def start_worker() -> None:
    """Set up a worker process (it lives for one build)."""
    gc.set_threshold(*BUILD_GC_THRESHOLD)


def _ready() -> None:
    """A task that only makes a worker start (and import this module, with the renderers)."""


PARALLEL_MIN = 400  # fewer uncached posts than this render faster in one process
CHUNK = 200  # posts per task at most; fewer when that leaves a worker idle at the end
PROGRESS_MIN = 300  # report progress only for work that takes a noticeable time


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """How a build serializes each post's feed items, and where it keeps them (see fragstore)."""

    folder: Path
    formats: tuple[str, ...]
    full_content: bool
    fallback: Author
    category_base: str

    @classmethod
    def of(cls, config: Config, folder: Path) -> ItemSpec:
        return cls(
            folder, tuple(config.feeds.formats), config.feeds.full_content, config.site.author, config.output_url
        )


@dataclass(frozen=True, slots=True)
class LoadedSite:
    """Everything read and rendered for one build, before anything is written."""

    config: Config
    entries: tuple[Entry, ...]  # visible, newest first
    today: date
    # the days `today` could be and still give exactly this build (same posts visible, same weeks complete)
    valid_from: date = date.min
    valid_until: date = date.max
    # entry key → where its feed items are (when made with an ItemSpec; such entries carry no content_html)
    items: dict[str, Stored] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceFile:
    key: str  # hash of path and bytes
    shown: str  # path as messages show it
    path: Path
    data: bytes | None  # None: known unchanged from the last build (its key came from there)
    size: int = 0
    mtime_ns: int = 0


# shown path → (size, mtime_ns, key) from the last build
KnownFiles = dict[str, tuple[int, int, str]]


def scan_markdown(
    config: Config, known: KnownFiles | None = None, settled_before_ns: int = 0, workers: WorkerPool | None = None
) -> tuple[list[SourceFile], list[SyndicateError]]:
    """Every Markdown post's key (a hash of its path and bytes), without parsing anything.

    A file whose size and modification time are what the last build recorded keeps
    that build's key without being read again (git's trick); a file modified too
    close to that build (`settled_before_ns`) is always read and hashed, since a
    change within the clock's resolution would not show in its time.
    """
    files: list[SourceFile] = []
    errors: list[SyndicateError] = []
    known = known or {}
    to_read = 0
    for source in config.sources:
        if source.kind != "markdown":
            continue
        for path in find_posts(Path(source.location)):
            shown = _shown(path, config.root)
            try:
                st = path.stat()
                if st.st_size > MAX_POST_BYTES:  # refuse before reading a huge file into memory
                    raise SourceError(
                        f"file is over {MAX_POST_BYTES // (1024 * 1024)} MB; is it really a post?", path=shown
                    )
                seen = known.get(shown)
                if seen is not None and seen[:2] == (st.st_size, st.st_mtime_ns) and st.st_mtime_ns < settled_before_ns:
                    files.append(SourceFile(seen[2], shown, path, None, st.st_size, st.st_mtime_ns))
                    continue
                data = path.read_bytes()
                to_read += 1
                if to_read == PARALLEL_MIN and workers is not None:
                    workers.warm()  # enough to render in workers: start them while the rest is read
            except SourceError as exc:
                errors.append(exc)
                continue
            except OSError as exc:
                errors.append(SourceError(f"cannot read: {exc.strerror}", path=shown))
                continue
            files.append(SourceFile(digest_of(shown, data), shown, path, data, st.st_size, st.st_mtime_ns))
    return files, errors


def visibility_window(
    entries: Sequence[Entry], visible: Sequence[Entry], today: date, tz: ZoneInfo
) -> tuple[date, date]:
    """The range of `today` values for which the same posts are visible and the same weeks complete."""
    valid_from, valid_until = date.min, date.max
    for entry in entries:
        day = entry.published.astimezone(tz).date()
        if entry.post.draft:
            continue
        if day > today:
            valid_until = min(valid_until, day)
        else:
            valid_from = max(valid_from, day)
    week_ends = {week_of(e.published, tz).end.date() for e in visible}
    for end in week_ends:
        if end > today:
            valid_until = min(valid_until, end)
        else:
            valid_from = max(valid_from, end)
    return valid_from, valid_until


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def with_items(entries: Sequence[Entry], spec: ItemSpec | None) -> list[Cached]:
    """Entries with their feed items serialized and stored (and their HTML then dropped), when asked for."""
    if spec is None or not entries:
        return [(entry, None) for entry in entries]
    made = {
        fmt: FRAGMENTERS[fmt](
            entries, full_content=spec.full_content, fallback=spec.fallback, category_base=spec.category_base
        )
        for fmt in spec.formats
    }
    spec.folder.mkdir(parents=True, exist_ok=True)
    places = write_pack(spec.folder, [{fmt: made[fmt][i] for fmt in spec.formats} for i in range(len(entries))])
    return [(replace(entry, content_html=""), stored) for entry, stored in zip(entries, places, strict=True)]


def _render_files(
    jobs: Sequence[tuple[str, str, bytes]], site: Site, spec: ItemSpec | None = None
) -> list[Cached | SourceError]:
    """Parse and render Markdown files given as (key, shown path, bytes); their feed items too, with a spec."""
    rendered: list[Entry] = []
    failed: dict[int, SourceError] = {}
    for index, (key, shown, data) in enumerate(jobs):
        try:
            post = read_post_bytes(data, shown, site.timezone, post_stem(shown))
            rendered.append(replace(render_entry(post, site), key=key))
        except SourceError as exc:
            failed[index] = exc
    done = iter(with_items(rendered, spec))
    return [failed[i] if i in failed else next(done) for i in range(len(jobs))]


class WorkerPool:
    """Worker processes shared by the stages of one build (rendering posts, then the newsletter
    issues), started on first use: a small site never starts any, a big one starts them once."""

    def __init__(self) -> None:
        self.workers = min(os.cpu_count() or 1, 4)
        self._pool: ProcessPoolExecutor | None = None
        self._failed = self.workers < 2

    def get(self) -> ProcessPoolExecutor | None:
        """The pool, or None where worker processes are not worth it or not possible."""
        if self._pool is None and not self._failed:
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=worker_context(), initializer=start_worker
                )
            except (OSError, RuntimeError, ValueError):  # no processes here (sandbox)
                self._failed = True
        return self._pool

    def warm(self) -> None:
        """Start the workers now (they take a moment to import), before any work is ready for them."""
        pool = self.get()
        if pool is not None:
            with contextlib.suppress(OSError, RuntimeError):
                for _ in range(self.workers):
                    pool.submit(_ready)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _render_all(
    jobs: list[tuple[str, str, bytes]], site: Site, spec: ItemSpec | None, workers: WorkerPool | None
) -> list[Cached | SourceError]:
    pool = workers.get() if workers is not None and len(jobs) >= PARALLEL_MIN else None
    if pool is None or workers is None:
        return _render_files(jobs, site, spec)
    size = max(25, min(CHUNK, -(-len(jobs) // (workers.workers * 6))))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    try:
        results: list[Cached | SourceError] = []
        for part in pool.map(_render_files, chunks, [site] * len(chunks), [spec] * len(chunks)):
            results.extend(part)
        return results
    except (OSError, RuntimeError):  # the processes could not start (sandbox): do it in this one
        return _render_files(jobs, site, spec)


def read_entries(
    config: Config,
    warn: Warn,
    cache: EntryCache,
    scanned: tuple[list[SourceFile], list[SyndicateError]] | None = None,
    progress: Warn | None = None,
    spec: ItemSpec | None = None,
    workers: WorkerPool | None = None,
) -> tuple[list[Cached], list[SyndicateError]]:
    """Every post from every source as a rendered Entry (cached when unchanged), and every error.

    With a spec, each post's feed items are made and stored too (see fragstore), and the
    entries come without their HTML; without one, entries are complete and nothing is stored.
    """
    files, read_errors = scanned if scanned is not None else scan_markdown(config)
    entries: list[Cached] = []
    errors: list[SyndicateError] = list(read_errors)
    todo: list[tuple[str, str, bytes]] = []
    for file in files:
        cached = cache.get(file.key) if spec is not None else None
        if cached is not None:
            entries.append(cached)
            continue
        data = file.data
        if data is None:  # unchanged since the last build, but not in the cache: read it after all
            try:
                data = file.path.read_bytes()
            except OSError as exc:
                errors.append(SourceError(f"cannot read: {exc.strerror}", path=file.shown))
                continue
            if digest_of(file.shown, data) != file.key:  # changed after all: render what is there now
                errors.append(SourceError("changed while being read; build again", path=file.shown))
                continue
        todo.append((file.key, file.shown, data))
    for source in config.sources:
        if source.kind != "feed":
            continue
        found, problems = read_configured_feed(source, config, warn, cache.memory)
        errors.extend(problems)
        fresh: list[Entry] = []
        for post in found:
            key = digest_of("feed", repr(post))
            hit = cache.get(key) if spec is not None else None
            if hit is None:
                fresh.append(replace(render_entry(post, config.site), key=key))
            else:
                entries.append(hit)
        for entry, stored in with_items(fresh, spec):  # one set of packs for the whole feed
            cache.put(entry.key, entry, stored)
            entries.append((entry, stored))
    if progress is not None and len(todo) >= PROGRESS_MIN:
        progress(f"rendering {len(todo)} new or changed posts ({len(entries)} from the cache)")
    with contextlib.ExitStack() as own:
        if workers is None:  # a pool of its own, for as long as this takes
            workers = own.enter_context(WorkerPool())
        results = _render_all(todo, config.site, spec, workers)
    for result in results:
        if isinstance(result, SourceError):
            errors.append(result)
        else:
            cache.put(result[0].key, *result)
            entries.append(result)
    return entries, errors


def load_site(
    config: Config,
    today: date,
    warn: Warn,
    *,
    keep_going: bool = False,
    cache: EntryCache | None = None,
    scanned: tuple[list[SourceFile], list[SyndicateError]] | None = None,
    progress: Warn | None = None,
    spec: ItemSpec | None = None,
    workers: WorkerPool | None = None,
) -> tuple[LoadedSite, list[SyndicateError]]:
    cache = cache if cache is not None else EntryCache(None, "")
    loaded, errors = read_entries(config, warn, cache, scanned, progress, spec, workers)
    if errors and not keep_going:
        return LoadedSite(config, (), today), errors
    tz = config.site.timezone
    entries = [entry for entry, _ in loaded]
    items = {entry.key: stored for entry, stored in loaded if stored is not None}
    visible = newest_first(e for e in entries if is_visible(e.post, today, tz))
    check_unique(visible)
    valid_from, valid_until = visibility_window(entries, visible, today, tz)
    return LoadedSite(config, tuple(visible), today, valid_from, valid_until, items), errors
