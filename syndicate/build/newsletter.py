"""Newsletter issues in the build: every week's web page, text and .eml, the archive, the issues' feeds."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date

from syndicate.build.compose import ISSUE_FILES, issue_files
from syndicate.build.items import without_html
from syndicate.build.workers import WorkerPool
from syndicate.config import Config
from syndicate.errors import Warn
from syndicate.feeds.formats import FRAGMENTERS
from syndicate.feeds.groups import FeedGroup, group_feeds
from syndicate.feeds.index import FeedLink
from syndicate.model import Entry, Post
from syndicate.newsletter.issue import (
    Issue,
    archive_url,
    collect_issue,
    issue_url,
    long_date,
    preheader_for,
    render_issue,
    subject_for,
)
from syndicate.newsletter.weeks import Week, in_archive, iso_week
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


def weeks_with_posts(entries: Sequence[Entry], config: Config, today: date) -> list[tuple[Week, list[Entry]]]:
    """Every week that has posts and has ended by `today` (and ends after [digest] since, when set),
    oldest first, with its posts."""
    tz = config.site.timezone
    weeks: dict[tuple[int, int], list[Entry]] = {}
    for entry in entries:
        year, number, _ = entry.published.astimezone(tz).isocalendar()
        weeks.setdefault((year, number), []).append(entry)
    result = []
    for (year, number), members in sorted(weeks.items()):
        window = iso_week(year, number, tz)
        if window.end.date() <= today and in_archive(config, window):
            result.append((window, members))
    return result


def issue_entry(config: Config, issue: Issue, subject: str) -> Entry:
    """An issue as a feed item: links to the posts, dated when its week ends."""
    items = "".join(f'<li><a href="{html.escape(e.link)}">{html.escape(e.title)}</a></li>' for e in issue.entries)
    notes = "".join(
        f'<p>Running: <a href="{html.escape(e.link)}">{html.escape(e.title)}</a></p>' for e in issue.announcements
    )
    post = Post(
        source=f"newsletter {issue.key}",
        title=subject,
        published=issue.date,
        slug=issue.key.lower(),
        body=f"<p>{issue.post_count} new posts this week.</p><ul>{items}</ul>{notes}",
        body_format="html",
        url=issue_url(config, issue.key),
        summary=html.escape(preheader_for(issue)),
    )
    entry = render_entry(post, config.site)
    day = issue.date.astimezone(config.site.timezone).date().isoformat()
    host = host_as_written(config.site.url)
    return dataclasses.replace(entry, id=tag_uri(host, day, f"newsletter/{issue.key}"))


def start_digest(
    config: Config,
    entries: Sequence[Entry],
    plan: OutputPlan,
    today: date,
    reuse: Reuse | None = None,
    workers: WorkerPool | None = None,
    *,
    key_of: Callable[[Entry], str],
) -> DigestWork:
    """Start rendering every completed week's issue; `finish` writes them with the archive and feeds.

    An issue whose posts and announcements are unchanged since the last build
    (same keys: the build record's salt covers templates and settings) is kept
    as it is: premailer and the MIME writer run only for issues that changed.
    """
    issues: list[tuple[Issue, str]] = []
    stale: list[tuple[Issue, str]] = []
    announcements = [e for e in entries if e.post.announcement is not None]
    for week, members in weeks_with_posts(entries, config, today):
        issue = collect_issue(members, week, announcements=announcements)
        if issue is None:
            continue
        subject = subject_for(config, issue)
        issues.append((issue, subject))
        base = f"newsletter/{issue.key}/"
        origin = f"newsletter issue {issue.key}"
        recipe = digest_of(issue.key, *map(key_of, issue.entries), "|", *map(key_of, issue.announcements))
        if reuse is not None and all(reuse.unchanged(base + name, recipe) for name in ISSUE_FILES):
            for name in ISSUE_FILES:
                plan.keep(base + name, origin, recipe)
            continue
        stale.append((_light(issue), recipe))
    return DigestWork(config, issues, _render_many(config, stale, workers))


@dataclass
class DigestWork:
    """Issues being rendered (in worker processes when there are many) while the caller goes on."""

    config: Config
    issues: list[tuple[Issue, str]]
    results: Iterator[tuple[str, str, list[bytes], tuple[str, ...]]]

    def finish(self, plan: OutputPlan, warn: Warn) -> list[FeedLink]:
        """Collect the rendered issues, then write the archive page and the issues' feeds."""
        for key, recipe, files, warnings in self.results:
            for message in warnings:
                warn(message)
            for name, data in zip(ISSUE_FILES, files, strict=True):
                plan.add(f"newsletter/{key}/{name}", data, f"newsletter issue {key}", recipe)
        return _plan_archive(self.config, self.issues, plan)


def _plan_archive(config: Config, issues: list[tuple[Issue, str]], plan: OutputPlan) -> list[FeedLink]:
    archive = [ArchiveItem(issue, subject, issue_url(config, issue.key)) for issue, subject in reversed(issues)]
    page = render(
        config.templates_dir,
        "archive.html",
        site=config.site,
        issues=archive,
        archive_url=archive_url(config),
        long_date=long_date,
    )
    plan.add("newsletter/index.html", page.encode("utf-8"), "the newsletter archive")
    issue_entries = newest_first(issue_entry(config, issue, subject) for issue, subject in issues)
    if config.digest.max_items:
        issue_entries = issue_entries[: config.digest.max_items]
    group = FeedGroup(
        kind="newsletter",
        name="Weekly digest",
        title=f"{config.site.title}: weekly digest",
        description=f"Every issue of the weekly email digest of {config.site.title}",
        folder="newsletter/",
        home_url=archive_url(config),
        entries=issue_entries,
    )
    links = []
    for feed in group_feeds(group, config.feeds.formats, config.output_url, config.site):
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
