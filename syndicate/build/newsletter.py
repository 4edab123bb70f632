"""Newsletter issues in the build: every week's web page, text and .eml, the archive, the issues' feeds."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from syndicate.build.compose import ISSUE_FILES, issue_files
from syndicate.build.items import without_html
from syndicate.build.ledger import entries_by_id, recorded_issue
from syndicate.build.workers import WorkerPool
from syndicate.config import Config
from syndicate.errors import Warn
from syndicate.feeds.formats import newest_update
from syndicate.feeds.groups import FeedGroup, group_feeds
from syndicate.feeds.index import FeedLink
from syndicate.feeds.writers import FRAGMENTERS
from syndicate.model import Entry, Post
from syndicate.newsletter.contents import Issue
from syndicate.newsletter.issue import archive_url, issue_url, render_issue, subscribe_page
from syndicate.newsletter.ledger import Ledger
from syndicate.newsletter.records import record_bytes
from syndicate.newsletter.wording import digest_name, intro_text, list_name, preheader_for, span_text, subject_for
from syndicate.output import OutputPlan
from syndicate.render.entry import render_entry
from syndicate.render.select import newest_first
from syndicate.store.digests import digest_of
from syndicate.store.record import Reuse
from syndicate.templating import render
from syndicate.urls import host_as_written, tag_uri


@dataclass(frozen=True, slots=True)
class ArchiveItem:
    issue: Issue
    subject: str
    url: str
    span: str  # the issue's days, in the site's language


def issue_entry(config: Config, issue: Issue, subject: str) -> Entry:
    """An issue as a feed item: links to the posts, dated when its sending began."""
    words = config.words
    items = "".join(f'<li><a href="{html.escape(e.link)}">{html.escape(e.title)}</a></li>' for e in issue.entries)
    running = html.escape(words.gettext("Running:"))
    notes = "".join(
        f'<p>{running} <a href="{html.escape(e.link)}">{html.escape(e.title)}</a></p>' for e in issue.announcements
    )
    post = Post(
        source=f"newsletter {issue.key}",
        title=subject,
        published=issue.date,
        slug=issue.key.lower(),
        body=f"<p>{html.escape(intro_text(issue, words))}</p><ul>{items}</ul>{notes}",
        body_format="html",
        url=issue_url(config, issue.key),
        summary=html.escape(preheader_for(issue, words)),
    )
    entry = render_entry(post, config.site)
    day = issue.date.astimezone(config.site.timezone).date().isoformat()
    host = host_as_written(config.site.url)
    return dataclasses.replace(entry, id=tag_uri(host, day, f"newsletter/{issue.key}"))


def start_digest(
    config: Config,
    entries: Sequence[Entry],
    plan: OutputPlan,
    ledger: Ledger,
    reuse: Reuse | None = None,
    workers: WorkerPool | None = None,
    *,
    key_of: Callable[[Entry], str],
) -> DigestWork:
    """Start rendering every sent issue (the records); `finish` writes them with the archive and feeds.

    An issue whose record and posts are unchanged since the last build (same keys: the
    build record's salt covers templates and settings) is kept as it is: premailer and
    the MIME writer run only for issues that changed. No record, no issue page.
    """
    issues: list[tuple[Issue, str]] = []
    stale: list[tuple[Issue, str]] = []
    by_id = entries_by_id(entries)
    for record in ledger.records:
        issue = recorded_issue(config, record, by_id)
        subject = subject_for(config, issue)
        issues.append((issue, subject))
        base = f"newsletter/{issue.key}/"
        origin = f"newsletter issue {issue.key}"
        present = [e for e in (*issue.entries, *issue.announcements) if e.id in by_id]
        recipe = digest_of(issue.key, record_bytes(record).decode("utf-8"), "|", *map(key_of, present))
        if reuse is not None and all(reuse.unchanged(base + name, recipe) for name in ISSUE_FILES):
            for name in ISSUE_FILES:
                plan.keep(base + name, origin, recipe)
            continue
        stale.append((_light(issue), recipe))
    quiet = newest_update(entries) if entries else None
    return DigestWork(config, issues, _render_many(config, stale, workers), quiet)


@dataclass
class DigestWork:
    """Issues being rendered (in worker processes when there are many) while the caller goes on."""

    config: Config
    issues: list[tuple[Issue, str]]
    results: Iterator[tuple[str, str, list[bytes], tuple[str, ...]]]
    quiet: datetime | None = None  # the newsletter feed's date before the first issue

    def finish(self, plan: OutputPlan, warn: Warn) -> list[FeedLink]:
        """Collect the rendered issues, then write the archive page and the issues' feeds."""
        for key, recipe, files, warnings in self.results:
            for message in warnings:
                warn(message)
            for name, data in zip(ISSUE_FILES, files, strict=True):
                plan.add(f"newsletter/{key}/{name}", data, f"newsletter issue {key}", recipe)
        return _plan_archive(self.config, self.issues, plan, self.quiet)


def _plan_archive(
    config: Config, issues: list[tuple[Issue, str]], plan: OutputPlan, quiet: datetime | None = None
) -> list[FeedLink]:
    words = config.words
    archive = [
        ArchiveItem(issue, subject, issue_url(config, issue.key), span_text(issue, words))
        for issue, subject in reversed(issues)
    ]
    cadence = config.digest.cadence
    page = render(
        config.templates_dir,
        "archive.html",
        words,
        list_name=list_name(cadence, words),
        subscribe_page=subscribe_page(config),
        site=config.site,
        issues=archive,
        archive_url=archive_url(config),
    )
    plan.add("newsletter/index.html", page.encode("utf-8"), "the newsletter archive")
    issue_entries = newest_first(issue_entry(config, issue, subject) for issue, subject in issues)
    if config.digest.max_items:
        issue_entries = issue_entries[: config.digest.max_items]
    group = FeedGroup(
        kind="newsletter",
        name=digest_name(cadence, words),
        title=words.gettext("%(site)s: %(list)s", site=config.site.title, list=list_name(cadence, words)),
        description=words.gettext(
            "Every issue of the %(list)s by email of %(site)s", list=list_name(cadence, words), site=config.site.title
        ),
        folder="newsletter/",
        home_url=archive_url(config),
        entries=issue_entries,
        updated_if_empty=quiet,
    )
    links = []
    for feed in group_feeds(group, config.feeds.formats, config.output_url, config.site, config.feeds.hubs):
        fragments = FRAGMENTERS[feed.fmt](issue_entries, full_content=True, fallback=config.site.author)
        plan.add(feed.rel, feed.document(fragments), "the newsletter feed")
        links.append(feed.link)
    return links


def _light(issue: Issue) -> Issue:
    """The issue without the posts' full HTML, which no email part uses: cheap to send to a worker."""

    def strip(entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
        return tuple(without_html(e) for e in entries)

    days = tuple(replace(day, entries=strip(day.entries)) for day in issue.days)
    return replace(issue, days=days, announcements=strip(issue.announcements))


def _render_files(config: Config, issue: Issue) -> tuple[list[bytes], tuple[str, ...]]:
    result = render_issue(config, issue)
    return list(issue_files(config, result)), result.warnings


def _render_chunk(
    config: Config, chunk: list[tuple[Issue, str]]
) -> list[tuple[str, str, list[bytes], tuple[str, ...]]]:
    return [(issue.key, recipe, *_render_files(config, issue)) for issue, recipe in chunk]


PARALLEL_ISSUES = 24  # fewer issues than this render faster in one process


def _render_many(
    config: Config, stale: list[tuple[Issue, str]], workers: WorkerPool | None
) -> Iterator[tuple[str, str, list[bytes], tuple[str, ...]]]:
    """Render issues (premailer and MIME included), across processes when there are many.

    The work starts at once; the returned iterator only collects.
    """
    pool = workers.get() if workers is not None and len(stale) >= PARALLEL_ISSUES else None
    if pool is None or workers is None:
        return iter(_render_chunk(config, stale))
    size = max(4, len(stale) // (workers.workers * 8))  # small tasks: both workers finish together
    chunks = [stale[i : i + size] for i in range(0, len(stale), size)]
    try:
        futures = [pool.submit(_render_chunk, config, chunk) for chunk in chunks]  # start now, collect later
    except (OSError, RuntimeError):  # no worker processes here: render in this one
        return iter(_render_chunk(config, stale))

    def results() -> Iterator[tuple[str, str, list[bytes], tuple[str, ...]]]:
        for future in futures:
            yield from future.result()

    return results()
