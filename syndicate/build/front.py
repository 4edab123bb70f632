"""The front of `syndicate build`: the lock, the scan, and the answer when nothing changed.

A build whose inputs all hash as the last one's did has nothing to do, and most
builds (a save under `--watch`, a CI run) are such builds. So this module
imports only what finding that out needs; the renderers, the feed writers,
Jinja and the newsletter are imported (build/site.py) once something changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from syndicate.build.rendering import EarlyRenders
from syndicate.build.scan import Scanned, scan_markdown
from syndicate.build.workers import WorkerPool, fewer_collections
from syndicate.config import Config
from syndicate.errors import SyndicateError, Warn
from syndicate.folders import builtin_templates
from syndicate.language import builtin_locale
from syndicate.output import WriteReport, write_if_changed
from syndicate.store.digests import build_salt, digest_of
from syndicate.store.entries import EntryCache
from syndicate.store.layout import cache_path
from syndicate.store.lock import build_lock
from syndicate.store.record import BuildRecord


@dataclass(frozen=True, slots=True)
class BuildResult:
    posts: int
    files: int
    report: WriteReport
    seconds: float
    errors: tuple[SyndicateError, ...] = ()
    regenerated: int = 0  # outputs whose inputs changed (the rest came straight from the build record)
    future: int = 0  # posts dated after today, left out until their day (drafts not counted)


@dataclass(frozen=True, slots=True)
class Options:
    keep_going: bool = False
    durable: bool = True
    use_cache: bool = True
    progress: Warn | None = None
    force: bool = False  # take over files in the output folder that syndicate did not write


@dataclass(frozen=True, slots=True)
class Begun:
    """What the front of a build found, for the rest of it (build/site.py)."""

    config: Config
    today: date
    options: Options
    started: float  # time.perf_counter() when the build began
    workers: WorkerPool
    cache_usable: bool
    cache: EntryCache
    record: BuildRecord
    early: EarlyRenders  # the posts read so far that the cache did not hold, rendering
    scanned: Scanned
    fingerprint: str


def build(
    config: Config,
    today: date,
    warn: Warn,
    *,
    keep_going: bool = False,
    durable: bool = True,
    use_cache: bool = True,
    progress: Warn | None = None,
    force: bool = False,
) -> BuildResult:
    """Read, render and write the whole site; with the cache, only what changed is redone.
    `force` takes over files in the output folder that syndicate did not write."""
    options = Options(keep_going, durable, use_cache, progress, force)
    # one pool of worker processes for posts, then newsletter issues (started only when needed)
    with build_lock(config.root, warn) as cache_usable, fewer_collections(), WorkerPool() as workers:
        return _build(config, today, warn, options, workers, cache_usable)


def _build(
    config: Config, today: date, warn: Warn, options: Options, workers: WorkerPool, cache_usable: bool
) -> BuildResult:
    started = time.perf_counter()
    salt = _salt(config)
    fresh = not options.use_cache  # --no-cache: nothing from earlier builds is read, but this build is recorded
    cache = EntryCache.open(config.root, salt, enabled=cache_usable, fresh=fresh)
    record = BuildRecord.open(config.root, salt, config.output_dir, enabled=cache_usable, fresh=fresh)
    early = EarlyRenders(config, cache, workers)  # posts render while the scan reads the rest
    # files modified less than 2 s before the last record was written are re-read ("racy" times)
    scanned = scan_markdown(config, record.sources, record.saved_ns - 2_000_000_000, workers, warn, early.take)
    fingerprint = _inputs_fingerprint(config, salt, scanned)
    if options.use_cache and record.still_current(config.output_dir, fingerprint, today.isoformat()):
        # nothing changed since the last build: every output is known to be exactly right
        forget_changed_feeds(config, warn, durable=options.durable)
        report = WriteReport((), len(record.outputs), ())
        seconds = time.perf_counter() - started
        return BuildResult(record.posts, len(record.outputs), report, seconds, future=record.future)
    from syndicate.build.site import rebuild  # the renderers and writers, only now that they are needed

    begun = Begun(config, today, options, started, workers, cache_usable, cache, record, early, scanned, fingerprint)
    return rebuild(begun, warn)


def record_files(config: Config) -> list[Path]:
    """The newsletter's record files (one per sent issue), by name."""
    folder = config.records_dir
    try:
        return sorted(p for p in folder.glob("*.toml") if p.is_file() and not p.name.startswith("."))
    except OSError as exc:
        raise SyndicateError(f"cannot read the issue records: {exc.strerror}", path=folder) from None


def _inputs_fingerprint(config: Config, salt: str, scanned: Scanned) -> str:
    """A hash of every input, when every post is a local file read without error ("" otherwise)."""
    if not all(source.kind == "markdown" for source in config.sources) or scanned[1]:
        return ""
    records = [f"{p.name}:{digest_of(p.read_bytes())}" for p in record_files(config)]
    return digest_of(salt, str(config.output_dir), *sorted(f.key for f in scanned[0]), "|", *records)


def _salt(config: Config) -> str:
    """What the cache keys share; the catalogs' bytes are in it too, so a changed word re-renders what shows it."""
    folders = (config.templates_dir, builtin_templates(), config.locale_dir, builtin_locale())
    return build_salt(config.path.read_bytes(), folders)


def changed_feeds_record(root: Path) -> Path:
    """Where a build lists the feeds it changed, for `syndicate ping`."""
    return cache_path(root, "changed-feeds")


def forget_changed_feeds(config: Config, warn: Warn, *, durable: bool = True) -> None:
    """A build that changed nothing changed no feed: `ping` has nothing to tell (the file is left alone when
    it already says so)."""
    path = changed_feeds_record(config.root)
    try:
        write_if_changed(path, b"", durable=durable)
    except OSError as exc:
        warn(f"{path}: cannot record the changed feeds for 'syndicate ping': {exc.strerror or exc}")
