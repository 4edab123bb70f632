"""The one place that sequences read → render → write."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from .config import Config, FeedFormat
from .errors import SyndicateError
from .feeds import DOCUMENTS, FILE_NAMES, FRAGMENTERS, MEDIA_TYPES, FeedMeta, newest_update
from .loading import LoadedSite, Warn, load_site
from .model import Entry
from .output import OutputPlan, WriteReport, write_plan
from .pages import FeedLink, index_page, opml_document
from .select import Group, group_by, newest_first


@dataclass(frozen=True, slots=True)
class BuildResult:
    posts: int
    files: int
    report: WriteReport
    seconds: float
    errors: tuple[SyndicateError, ...] = ()


def feed_meta(config: Config, rel_dir: str, fmt: FeedFormat, title: str, description: str) -> FeedMeta:
    return FeedMeta(
        title=title,
        description=description,
        self_url=config.output_url + rel_dir + FILE_NAMES[fmt],
        home_url=config.site.url,
        language=config.site.language,
        author=config.site.author,
    )


def plan_feeds(site: LoadedSite, plan: OutputPlan) -> list[FeedLink]:
    """Site, per-tag and per-category feeds in every configured format."""
    config = site.config
    limit = config.feeds.max_items
    groups: list[tuple[str, str, str, str, Sequence[Entry]]] = [
        ("site", "", config.site.title, config.site.description, site.entries)
    ]
    for kind, enabled, label in (("categories", config.feeds.categories, "category"), ("tags", config.feeds.tags, "tag")):
        if not enabled:
            continue
        group: Group
        for group in group_by(site.entries, kind):
            groups.append(
                (
                    kind,
                    f"{kind}/{group.slug}/",
                    f"{config.site.title}: {group.name}",
                    f"Posts in the {label} “{group.name}” on {config.site.title}",
                    group.entries,
                )
            )
    # each entry is serialized once per format, then spliced into every feed it belongs to
    needed = {e.id: e for *_, entries in groups for e in entries[:limit]}
    ordered = newest_first(needed.values())
    links: list[FeedLink] = []
    for fmt in config.feeds.formats:
        fragments = dict(
            zip(
                (e.id for e in ordered),
                FRAGMENTERS[fmt](ordered, full_content=config.feeds.full_content, fallback=config.site.author),
                strict=True,
            )
        )
        for kind, rel_dir, title, description, entries in groups:
            chosen = entries[:limit]
            meta = feed_meta(config, rel_dir, fmt, title, description)
            data = DOCUMENTS[fmt](meta, [fragments[e.id] for e in chosen], newest_update(chosen))
            plan.add(rel_dir + FILE_NAMES[fmt], data, f"the {kind} feed {title!r}")
            name = config.site.title if kind == "site" else title.split(": ", 1)[1]
            links.append(FeedLink(title, meta.self_url, MEDIA_TYPES[fmt], fmt, kind, name, len(chosen)))
    return links


def plan_site(site: LoadedSite, warn: Warn) -> OutputPlan:
    plan = OutputPlan()
    links = plan_feeds(site, plan)
    config = site.config
    if config.digest.enabled:
        from .digest_build import plan_digest

        links.extend(plan_digest(site.config, site.entries, plan, site.today, warn))
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
) -> BuildResult:
    started = time.perf_counter()
    site, errors = load_site(config, today, warn, keep_going=keep_going)
    if errors and not keep_going:
        raise BuildFailed(tuple(errors))
    plan = plan_site(site, warn)
    report = write_plan(config.output_dir, plan, durable=durable)
    return BuildResult(len(site.entries), len(plan.files), report, time.perf_counter() - started, tuple(errors))


class BuildFailed(SyndicateError):
    """Some posts could not be read; nothing was written."""

    def __init__(self, errors: Iterable[SyndicateError]) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        super().__init__(f"{count} {'post' if count == 1 else 'posts'} could not be read; nothing was written")
