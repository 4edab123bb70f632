"""Newsletter issues in the build: every week's web page, text and .eml, the archive, the issues' feeds."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urljoin

from .config import Config
from .content import render_entry
from .digest import GREETING, UNSUBSCRIBE, Issue, Rendered, collect_issue, render_issue, unsubscribe_url
from .errors import SyndicateError
from .feeds import DOCUMENTS, FILE_NAMES, FRAGMENTERS, MEDIA_TYPES, FeedMeta, newest_update
from .loading import Warn, load_site
from .message import build_message, greeting_for
from .model import Entry, Post
from .output import OutputPlan
from .pages import FeedLink
from .select import Week, newest_first, parse_week, week_of
from .templating import render


@dataclass(frozen=True, slots=True)
class ArchiveItem:
    issue: Issue
    subject: str
    url: str


def completed_weeks(entries: Sequence[Entry], config: Config, today: date) -> list[Week]:
    """Every week that has posts and has ended by `today`, oldest first."""
    tz = config.site.timezone
    weeks = {week_of(e.published, tz).key: week_of(e.published, tz) for e in entries}
    return [w for _, w in sorted(weeks.items()) if w.end.date() <= today]


def issue_entry(config: Config, rendered: Rendered) -> Entry:
    """An issue as a feed item: links to the posts, dated when its week ends."""
    issue = rendered.issue
    items = "".join(f'<li><a href="{html.escape(e.link)}">{html.escape(e.title)}</a></li>' for e in issue.entries)
    notes = "".join(
        f'<p>Running: <a href="{html.escape(e.link)}">{html.escape(e.title)}</a></p>' for e in issue.announcements
    )
    post = Post(
        source=f"newsletter {issue.key}",
        title=rendered.subject,
        published=issue.date,
        slug=issue.key.lower(),
        body=f"<p>{issue.post_count} new posts this week.</p><ul>{items}</ul>{notes}",
        body_format="html",
        url=rendered.web_url,
        summary=html.escape(rendered.preheader),
    )
    entry = render_entry(post, config.site)
    day = issue.date.astimezone(config.site.timezone).date().isoformat()
    host = config.site.url.split("//", 1)[1].split("/", 1)[0].split(":")[0]
    return Entry(**{**_fields(entry), "id": f"tag:{host},{day}:newsletter/{issue.key}"})


def _fields(entry: Entry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in Entry.__dataclass_fields__}


def plan_digest(config: Config, entries: Sequence[Entry], plan: OutputPlan, today: date, warn: Warn) -> list[FeedLink]:
    """Write every completed week's issue, the archive page and the issues' feeds."""
    rendered: list[Rendered] = []
    for week in completed_weeks(entries, config, today):
        issue = collect_issue(entries, week)
        if issue is None:
            continue
        result = render_issue(config, issue)
        for message in result.warnings:
            warn(message)
        rendered.append(result)
        base = f"newsletter/{issue.key}/"
        plan.add(base + "index.html", result.web_html.encode("utf-8"), f"newsletter issue {issue.key}")
        plan.add(base + "issue.txt", _text_file(config, result), f"newsletter issue {issue.key}")
        plan.add(base + "issue.eml", build_message(config, result, None).as_bytes(), f"newsletter issue {issue.key}")
    archive_url = urljoin(config.output_url, "newsletter/")
    archive = [ArchiveItem(r.issue, r.subject, r.web_url) for r in reversed(rendered)]
    page = render(
        config.templates_dir,
        "archive.html",
        site=config.site,
        issues=archive,
        archive_url=archive_url,
        long_date=lambda d: f"{d:%A} {d.day} {d:%B}",
    )
    plan.add("newsletter/index.html", page.encode("utf-8"), "the newsletter archive")
    issue_entries = newest_first(issue_entry(config, r) for r in rendered)
    if config.digest.max_items:
        issue_entries = issue_entries[: config.digest.max_items]
    links = []
    title = f"{config.site.title}: weekly digest"
    for fmt in config.feeds.formats:
        meta = FeedMeta(
            title=title,
            description=f"Every issue of the weekly email digest of {config.site.title}",
            self_url=archive_url + FILE_NAMES[fmt],
            home_url=archive_url,
            language=config.site.language,
            author=config.site.author,
        )
        fragments = FRAGMENTERS[fmt](issue_entries, full_content=True, fallback=config.site.author)
        data = DOCUMENTS[fmt](meta, fragments, newest_update(issue_entries))
        plan.add("newsletter/" + FILE_NAMES[fmt], data, "the newsletter feed")
        links.append(FeedLink(title, meta.self_url, MEDIA_TYPES[fmt], fmt, "newsletter", "Weekly digest", len(issue_entries)))
    return links


def _text_file(config: Config, result: Rendered) -> bytes:
    """The plain-text version as a reader of the archive sees it: no personal details."""
    text = result.email_text.replace(GREETING, greeting_for("")).replace(UNSUBSCRIBE, unsubscribe_url(config))
    return text.encode("utf-8")


def compose_window(
    config: Config,
    today: date,
    warn: Warn,
    *,
    week: str | None = None,
    since: str | None = None,
    until: str | None = None,
    tags: frozenset[str] | None = None,
) -> Rendered | None:
    """An issue for an ISO week, or for any window of whole days [since, until]."""
    if week:
        return compose_week(config, week, today, warn, tags=tags)
    tz = config.site.timezone
    try:
        first, last = date.fromisoformat(str(since)), date.fromisoformat(str(until))
    except ValueError:
        raise SyndicateError("--since and --until take dates like 2013-04-15") from None
    if last < first:
        raise SyndicateError(f"--until {last} is before --since {first}")
    start = datetime.combine(first, time(), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
    iso = first.isocalendar()
    window = Week(iso.year, iso.week, start, end, label=f"{first.isoformat()}..{last.isoformat()}")
    site, errors = load_site(config, today, warn)
    if errors:
        from .build import BuildFailed

        raise BuildFailed(errors)
    issue = collect_issue(site.entries, window, tags=tags)
    return render_issue(config, issue) if issue is not None else None


def compose_week(
    config: Config,
    week: str,
    today: date,
    warn: Warn,
    *,
    tags: frozenset[str] | None = None,
) -> Rendered | None:
    """One issue, composed on demand (`syndicate digest`, `syndicate send`)."""
    try:
        wanted = parse_week(week, config.site.timezone)
    except ValueError as exc:
        raise SyndicateError(str(exc)) from None
    site, errors = load_site(config, today, warn)
    if errors:
        from .build import BuildFailed

        raise BuildFailed(errors)
    issue = collect_issue(site.entries, wanted, tags=tags)
    return render_issue(config, issue) if issue is not None else None
