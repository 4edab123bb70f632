"""The one place that sequences read → render → write."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from syndicate.build.loading import (
    ItemSpec,
    LoadedSite,
    Warn,
    WorkerPool,
    fewer_collections,
    load_site,
    scan_markdown,
)
from syndicate.config import SENDER_MISSING, Config, FeedFormat
from syndicate.errors import BuildFailed, SyndicateError
from syndicate.feeds.formats import DOCUMENTS, FILE_NAMES, FRAGMENTERS, MEDIA_TYPES, FeedMeta, newest_update
from syndicate.feeds.index import FeedLink, index_page, opml_document
from syndicate.model import Entry
from syndicate.output import OutputPlan, WriteReport, write_plan
from syndicate.render.select import group_by, newest_first
from syndicate.store.cache import NO_REUSE, BuildRecord, EntryCache, Reuse, build_lock, build_salt, digest_of
from syndicate.store.packs import PackReader
from syndicate.templating import builtin_templates


@dataclass(frozen=True, slots=True)
class BuildResult:
    posts: int
    files: int
    report: WriteReport
    seconds: float
    errors: tuple[SyndicateError, ...] = ()
    regenerated: int = 0  # outputs whose inputs changed (the rest came straight from the build record)


def entry_key(entry: Entry) -> str:
    return entry.key or digest_of(repr(entry))


def feed_meta(config: Config, rel_dir: str, fmt: FeedFormat, title: str, description: str) -> FeedMeta:
    return FeedMeta(
        title=title,
        description=description,
        self_url=config.output_url + rel_dir + FILE_NAMES[fmt],
        home_url=config.site.url,
        language=config.site.language,
        author=config.site.author,
    )


@dataclass(frozen=True, slots=True)
class FeedJob:
    rel: str
    fmt: FeedFormat
    meta: FeedMeta
    entries: Sequence[Entry]
    origin: str


def plan_feeds(
    site: LoadedSite, plan: OutputPlan, reuse: Reuse = NO_REUSE, packs: PackReader | None = None
) -> list[FeedLink]:
    """Site, per-tag and per-category feeds in every configured format.

    A feed is regenerated only when its recipe (its own settings and the keys
    of its items, in order) differs from the last build's. Each entry needed is
    serialized once per format and spliced into every feed it belongs to; the
    work grows with posts plus tag memberships, never posts × tags.
    """
    config = site.config
    limit = config.feeds.max_items
    groups: list[tuple[str, str, str, str, Sequence[Entry]]] = [
        ("site", "", config.site.title, config.site.description, site.entries[:limit])
    ]
    kinds = (("categories", config.feeds.categories, "category"), ("tags", config.feeds.tags, "tag"))
    for kind, enabled, label in kinds:
        if not enabled:
            continue
        for group in group_by(site.entries, kind):
            groups.append(
                (
                    kind,
                    f"{kind}/{group.slug}/",
                    f"{config.site.title}: {group.name}",
                    f"Posts in the {label} “{group.name}” on {config.site.title}",
                    group.entries[:limit],
                )
            )
    links: list[FeedLink] = []
    stale: list[FeedJob] = []
    for fmt in config.feeds.formats:
        for kind, rel_dir, title, description, chosen in groups:
            meta = feed_meta(config, rel_dir, fmt, title, description)
            rel = rel_dir + FILE_NAMES[fmt]
            origin = f"the {kind} feed {title!r}"
            recipe = digest_of(repr(meta), str(config.feeds.full_content), *(entry_key(e) for e in chosen))
            if reuse.unchanged(rel, recipe):
                plan.keep(rel, origin, recipe)
            else:
                plan.recipes[rel] = recipe
                stale.append(FeedJob(rel, fmt, meta, chosen, origin))
            name = config.site.title if kind == "site" else title.split(": ", 1)[1]
            links.append(FeedLink(title, meta.self_url, MEDIA_TYPES[fmt], fmt, kind, name, len(chosen)))
    for fmt in config.feeds.formats:
        jobs = [job for job in stale if job.fmt == fmt]
        # items stored when their posts were rendered are read from the build cache as needed;
        # the rest (no cache in use) are made here, once per post, and kept for this format only
        needed = newest_first(
            {e.id: e for job in jobs for e in job.entries if packs is None or e.key not in site.items}.values()
        )
        made = dict(
            zip(
                (e.id for e in needed),
                FRAGMENTERS[fmt](
                    needed,
                    full_content=config.feeds.full_content,
                    fallback=config.site.author,
                    category_base=config.output_url,
                ),
                strict=True,
            )
        )

        def item(entry: Entry, fmt: FeedFormat = fmt, made: dict[str, bytes] = made) -> bytes:
            found = made.get(entry.id)
            if found is not None:
                return found
            assert packs is not None
            return packs.read(site.items[entry.key], fmt)

        for job in jobs:
            data = DOCUMENTS[fmt](job.meta, [item(e) for e in job.entries], newest_update(job.entries))
            plan.add(job.rel, data, job.origin, plan.recipes[job.rel])
        made.clear()  # one format's items in memory at a time
        if packs is not None:
            packs.release()
    return links


def plan_site(
    site: LoadedSite,
    warn: Warn,
    reuse: Reuse = NO_REUSE,
    plan: OutputPlan | None = None,
    packs: PackReader | None = None,
    workers: WorkerPool | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> OutputPlan:
    """Every output of the site into `plan`; `meanwhile` runs while the newsletter issues render."""
    plan = plan if plan is not None else OutputPlan()
    config = site.config
    digest = None
    if config.digest.enabled and not config.sender.email:
        warn(f"no newsletter issues: {SENDER_MISSING}")
    elif config.digest.enabled:
        from syndicate.build.newsletter import start_digest

        # issues render in worker processes while this one writes the feeds
        digest = start_digest(config, site.entries, plan, site.today, reuse, workers)
    if meanwhile is not None:
        meanwhile()
    links = plan_feeds(site, plan, reuse, packs)
    if digest is not None:
        links.extend(digest.finish(plan, warn))
    plan.add("index.html", index_page(config.site, links, config.templates_dir), "the feed index page")
    plan.add("feeds.opml", opml_document(config.site, links), "the OPML list")
    return plan


def build(
    config: Config,
    today: date,
    warn: Warn,
    *,
    keep_going: bool = False,
    durable: bool = True,
    use_cache: bool = True,
    progress: Warn | None = None,
) -> BuildResult:
    """Read, render and write the whole site; with the cache, only what changed is redone."""
    # one pool of worker processes for posts, then newsletter issues (started only when needed)
    with build_lock(config.root, warn) as cache_usable, fewer_collections(), WorkerPool() as workers:
        return _build(config, today, warn, keep_going, durable, use_cache, progress, workers, cache_usable)


def _build(
    config: Config,
    today: date,
    warn: Warn,
    keep_going: bool,
    durable: bool,
    use_cache: bool,
    progress: Warn | None,
    workers: WorkerPool,
    cache_usable: bool,
) -> BuildResult:
    started = time.perf_counter()
    salt = build_salt(config.path.read_bytes(), (config.templates_dir, builtin_templates()))
    # without the cache (--no-cache) nothing from earlier builds is read, but this build is recorded
    cache = EntryCache.open(config.root, salt, enabled=cache_usable, fresh=not use_cache)
    record = BuildRecord.open(config.root, salt, config.output_dir, enabled=cache_usable, fresh=not use_cache)
    # files modified less than 2 s before the last record was written are re-read ("racy" times)
    scanned = scan_markdown(config, record.sources, record.saved_ns - 2_000_000_000, workers)
    fingerprint = ""
    if all(source.kind == "markdown" for source in config.sources) and not scanned[1]:
        fingerprint = digest_of(salt, str(config.output_dir), *sorted(f.key for f in scanned[0]))
    if use_cache and record.still_current(config.output_dir, fingerprint, today.isoformat()):
        # nothing changed since the last build: every output is known to be exactly right
        report = WriteReport((), len(record.outputs), ())
        return BuildResult(record.posts, len(record.outputs), report, time.perf_counter() - started, (), 0)
    spec = ItemSpec.of(config, cache.packs.folder) if cache.packs is not None else None
    site, errors = load_site(
        config,
        today,
        warn,
        keep_going=keep_going,
        cache=cache,
        scanned=scanned,
        progress=progress,
        spec=spec,
        workers=workers,
    )
    if errors and not keep_going:
        raise BuildFailed(tuple(errors))
    scanned = ([replace(f, data=None) for f in scanned[0]], scanned[1])  # the posts' bytes are not needed again
    record.invalidate()  # from here until the new record is saved, a crash means "regenerate everything"
    plan = OutputPlan()
    plan.stream_to(config.output_dir, durable=durable)  # outputs go to disk as made: memory stays bounded
    if progress is not None and len(site.entries) >= 300:
        progress(f"writing the feeds and newsletter issues of {len(site.entries)} posts to {config.output_dir}")
    try:
        # the entry cache is complete once the posts are loaded: it is saved while the issues render
        plan_site(site, warn, Reuse(record, config.output_dir), plan, cache.packs, workers, cache.save)
    finally:
        cache.close()
    report = write_plan(config.output_dir, plan, durable=durable)
    valid = (site.valid_from.isoformat(), site.valid_until.isoformat()) if not errors else ("", "")
    sources = {f.shown: (f.size, f.mtime_ns, f.key) for f in scanned[0]}
    record.save(
        config.output_dir, plan.recipes, fingerprint=fingerprint, valid=valid, posts=len(site.entries), sources=sources
    )
    seconds = time.perf_counter() - started
    return BuildResult(len(site.entries), len(plan), report, seconds, tuple(errors), len(plan.files))
