"""The `syndicate build` sequence: scan, load and render, plan every output, write.

build/ has one sequencer per command; this is the one for `build` (and `build --watch`). Its
front (the lock, the scan, the answer when nothing changed) is front.py, which imports this
module only when something changed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from syndicate.build.front import Begun, BuildResult
from syndicate.build.front import build as build  # the command's entry, re-exported
from syndicate.build.items import ItemStyle
from syndicate.build.ledger import read_ledger
from syndicate.build.loading import LoadedSite, load_site
from syndicate.build.local_images import warn_missing_images
from syndicate.build.ping import record_changed_feeds
from syndicate.build.scan import Scanned
from syndicate.build.subscribe_pages import plan_subscribe_pages
from syndicate.build.workers import WorkerPool
from syndicate.config import SENDER_MISSING, FeedFormat
from syndicate.errors import BuildFailed, Warn
from syndicate.feeds.documents import carries_media
from syndicate.feeds.groups import GroupFeed, group_feeds, site_groups
from syndicate.feeds.index import FeedLink, index_page, opml_document
from syndicate.model import Entry
from syndicate.output import OutputPlan, write_plan
from syndicate.render.select import newest_first
from syndicate.store.digests import digest_of
from syndicate.store.fetched import SourceMemory
from syndicate.store.packs import PackReader
from syndicate.store.record import NO_REUSE, BuildRecord, Reuse

__all__ = ["BuildResult", "build", "plan_site", "rebuild"]


@dataclass(frozen=True, slots=True)
class StaleFeed:
    """A feed whose recipe changed since the last build: made again, in its format's turn."""

    feed: GroupFeed
    origin: str


def plan_feeds(
    site: LoadedSite, plan: OutputPlan, reuse: Reuse = NO_REUSE, packs: PackReader | None = None
) -> list[FeedLink]:
    """Site, per-category and per-tag feeds in every configured format.

    A feed is regenerated only when its recipe (its own settings and the keys
    of its items, in order) differs from the last build's. Each entry needed is
    serialized once per format and spliced into every feed it belongs to; the
    work grows with posts plus tag memberships, never posts × tags.
    """
    config = site.config
    every = [
        feed
        for group in site_groups(config, site.entries)
        for feed in group_feeds(group, config.feeds.formats, config.output_url, config.site, config.feeds.hubs)
    ]
    order = {fmt: n for n, fmt in enumerate(config.feeds.formats)}
    links: list[FeedLink] = []
    stale: list[StaleFeed] = []
    for feed in sorted(every, key=lambda f: order[f.fmt]):  # formats first, as the index page lists them
        origin = f"the {feed.link.group} feed {feed.meta.title!r}" + (" (archive)" if feed.archived else "")
        keys = (site.key_of(e) for e in feed.entries)
        recipe = digest_of(repr(feed.meta), str(config.feeds.full_content), *keys)
        if reuse.unchanged(feed.rel, recipe):
            plan.keep(feed.rel, origin, recipe)
        else:
            plan.recipes[feed.rel] = recipe
            stale.append(StaleFeed(feed, origin))
        if not feed.archived:
            links.append(feed.link)
    for fmt in config.feeds.formats:
        _write_feeds(site, plan, [job for job in stale if job.feed.fmt == fmt], fmt, packs)
    return links


def _write_feeds(
    site: LoadedSite, plan: OutputPlan, stale: list[StaleFeed], fmt: FeedFormat, packs: PackReader | None
) -> None:
    """One format's stale feeds. Items stored when their posts were rendered are read from the
    build cache as needed; the rest (no cache in use) are made here, once per post, and kept
    for this format only."""
    needed = newest_first(
        {e.id: e for job in stale for e in job.feed.entries if packs is None or site.stored_items(e) is None}.values()
    )
    style = ItemStyle.of(site.config)
    made = dict(zip((e.id for e in needed), style.items(fmt, needed), strict=True))

    def item(entry: Entry) -> bytes:
        found = made.get(entry.id)
        if found is not None:
            return found
        stored = site.stored_items(entry)
        assert packs is not None and stored is not None
        return packs.read(stored, fmt)

    for job in stale:
        entries = job.feed.entries
        if fmt == "json" or (style.first_image and not all(e.image for e in entries)):
            # JSON Feed separates its items; an image found in a post's text shows only in its item
            items = [item(e) for e in entries]
            media = any(carries_media(e, one, style.first_image) for e, one in zip(entries, items, strict=True))
            plan.add(job.feed.rel, job.feed.document(items, media), job.origin, plan.recipes[job.feed.rel])
            continue
        head, tail = job.feed.frame(media=any(e.image for e in entries))  # carries_media, no first image to find
        # the items are read and joined where the file is written (a writer thread, when there are some)
        plan.add(job.feed.rel, partial(_assembled, head, tail, entries, item), job.origin, plan.recipes[job.feed.rel])
    plan.wait_until_made()  # nothing reads the packs nor the items made here any more
    made.clear()  # one format's items in memory at a time
    if packs is not None:
        packs.release()


def _assembled(head: bytes, tail: bytes, entries: Sequence[Entry], item: Callable[[Entry], bytes]) -> bytes:
    return b"".join((head, *map(item, entries), tail))


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
        ledger = read_ledger(config)
        digest = start_digest(config, site.entries, plan, ledger, reuse, workers, key_of=site.key_of)
    if meanwhile is not None:
        meanwhile()
    warn_missing_images(site.entries, config.root, warn)
    links = plan_feeds(site, plan, reuse, packs)
    if digest is not None:
        links.extend(digest.finish(plan, warn))
    plan_subscribe_pages(config, site.entries, plan)
    plan.add("index.html", index_page(config.site, links, config.templates_dir, config.words), "the feed index page")
    plan.add("feeds.opml", opml_document(config.site, links, config.words), "the OPML list")
    return plan


def rebuild(begun: Begun, warn: Warn) -> BuildResult:
    """The rest of a build whose inputs changed (front.py did the scan): render, plan, write, record."""
    config, options, record, cache = begun.config, begun.options, begun.record, begun.cache
    memory = SourceMemory.open(config.root, enabled=begun.cache_usable, fresh=not options.use_cache)
    site, errors = load_site(
        config,
        begun.today,
        warn,
        keep_going=options.keep_going,
        cache=cache,
        scanned=begun.scanned,
        progress=options.progress,
        spec=begun.early.spec,
        workers=begun.workers,
        memory=memory,
        early=begun.early,
    )
    if errors and not options.keep_going:
        raise BuildFailed(tuple(errors))
    # the posts' bytes are not needed again
    scanned = ([f if f.data is None else replace(f, data=None) for f in begun.scanned[0]], begun.scanned[1])
    record.invalidate()  # from here until the new record is saved, a crash means "regenerate everything"
    plan = OutputPlan(force=options.force, owner=config.site.url)
    plan.stream_to(config.output_dir, durable=options.durable)  # outputs go to disk as made: memory stays bounded
    if options.progress is not None and len(site.entries) >= 300:
        options.progress(f"writing the feeds and newsletter issues of {len(site.entries)} posts to {config.output_dir}")
    with plan.in_place_on_error(), contextlib.closing(cache):
        # the entry cache is complete once the posts are loaded: it is saved while the issues render
        plan_site(site, warn, Reuse(record, config.output_dir), plan, cache.packs, begun.workers, cache.save)
    report = write_plan(config.output_dir, plan, durable=options.durable)
    record_changed_feeds(config, report.written, warn, durable=options.durable)
    _save_record(record, site, plan, scanned, begun.fingerprint, bool(errors))
    seconds = time.perf_counter() - begun.started
    return BuildResult(len(site.entries), len(plan), report, seconds, tuple(errors), len(plan.files), site.future)


def _save_record(
    record: BuildRecord, site: LoadedSite, plan: OutputPlan, scanned: Scanned, fingerprint: str, failed: bool
) -> None:
    """What this build wrote and what it was made of, for the next build to reuse."""
    valid = (site.valid_from.isoformat(), site.valid_until.isoformat()) if not failed else ("", "")
    sources = {f.shown: (f.size, f.mtime_ns, f.key) for f in scanned[0]}
    record.save(
        site.config.output_dir,
        plan.recipes,
        fingerprint=fingerprint,
        valid=valid,
        posts=len(site.entries),
        sources=sources,
        future=site.future,
    )
