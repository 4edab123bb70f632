"""Choosing and composing issues on demand (`syndicate digest`, `syndicate send`).

The site is loaded, and its posts rendered, once; every issue asked for after
that (one per subscribers' tag filter) is composed from those same posts.
Which posts an issue carries is the ledger's answer (newsletter/ledger.py): the
next issue carries what no sent issue carries; a named period is what it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from syndicate.build.ledger import entries_by_id, read_ledger, recorded_issue
from syndicate.build.loading import load_site
from syndicate.config import Config
from syndicate.errors import BuildFailed, SyndicateError, Warn
from syndicate.folders import check_scratch_folder
from syndicate.language import language_for
from syndicate.model import Entry
from syndicate.newsletter.contents import Issue, for_tags, make_issue
from syndicate.newsletter.issue import Rendered, render_issue
from syndicate.newsletter.ledger import Draft, Ledger, Rules, next_drafts, window_draft
from syndicate.newsletter.message import archive_text, build_message, message_bytes
from syndicate.newsletter.periods import Period, days_window, in_window, parse_days, parse_period
from syndicate.output import atomic_write

ISSUE_FILES = ("index.html", "issue.txt", "issue.eml")  # an issue's web page, plain text and message


@dataclass(frozen=True, slots=True)
class IssueChoice:
    """Which issue: a named period (`week`: a key such as 2013-W16, or last / this), or the next issue,
    from `since` (a date: older posts are skipped for good) up to `until` (a date, or "now" for the
    unfinished period; default: the end of the last finished period). `now` is the clock."""

    now: datetime
    week: str | None = None
    since: str | None = None
    until: str | None = None
    max_posts: int | None = None  # None: [digest] max_posts

    @property
    def today(self) -> date:
        return self.now.date()


class SiteEntries:
    """The site's visible posts, read and rendered on the first call only."""

    def __init__(self, config: Config, today: date, warn: Warn) -> None:
        self._config, self._today, self._warn = config, today, warn
        self._entries: tuple[Entry, ...] | None = None

    def __call__(self) -> tuple[Entry, ...]:
        if self._entries is None:
            site, errors = load_site(self._config, self._today, self._warn)
            if errors:
                raise BuildFailed(errors)
            self._entries = site.entries
        return self._entries


class IssueComposer:
    """Composes one issue for any tag filter (each reader gets the posts of their tags)."""

    def __init__(self, config: Config, issue: Issue) -> None:
        self.config = config
        self.issue = issue

    def __call__(self, tags: frozenset[str] | None = None) -> Rendered | None:
        """The issue for readers of these tags (everyone: None); None when none of its posts match."""
        chosen = for_tags(self.issue, tags)
        return render_issue(self.config, chosen) if chosen is not None else None


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        also = ", or now" if option == "--until" else ""
        raise SyndicateError(f"{option} takes a date like 2013-04-15{also}, got {text!r}") from None


def _midnight(day: date, config: Config) -> datetime:
    return datetime.combine(day, time(), tzinfo=config.site.timezone)


def named_period(config: Config, choice: IssueChoice, *, finished: bool = True) -> Period:
    """The period `--week` names (to send it, it must have ended). Raises SyndicateError in the user's words."""
    try:
        period = parse_period(str(choice.week), config.site.timezone, choice.now)
    except (ValueError, OverflowError) as exc:
        raise SyndicateError(str(exc) if isinstance(exc, ValueError) else f"{choice.week!r} is out of range") from None
    if finished and period.end > choice.now:
        raise SyndicateError(
            f"{period.key} has not ended (its last day is {language_for('en').long_date(period.last_day)}); "
            "to send its posts so far, use --until now"
        )
    return period


def rules_for(config: Config, ledger: Ledger, choice: IssueChoice) -> Rules:
    """How the next issue is chosen, from the options and [digest]."""
    since = _midnight(_day(choice.since, "--since"), config) if choice.since else None
    if since is None and config.digest.since is not None and not ledger.records:
        since = _midnight(config.digest.since, config)  # where a new newsletter starts
    until = None
    if choice.until == "now":
        until = choice.now
    elif choice.until:
        until = _midnight(_day(choice.until, "--until") + timedelta(days=1), config)
        if until > choice.now:
            raise SyndicateError(f"{choice.until} has not ended; to send its posts so far, use --until now")
    if since is not None and until is not None and since >= until:
        raise SyndicateError(f"--since {choice.since} is not before --until {choice.until}")
    limit = config.digest.max_posts if choice.max_posts is None else choice.max_posts
    return Rules(config.digest.cadence, config.site.timezone, choice.now, since, until, limit, config.digest.reminders)


def choose(config: Config, ledger: Ledger, entries: Sequence[Entry], choice: IssueChoice) -> list[Draft]:
    """The issues a send would make now: the named period's, or the next ones ([] when nothing waits)."""
    try:
        rules = rules_for(config, ledger, choice)
        if choice.week:
            draft = window_draft(entries, ledger, named_period(config, choice), rules)
            return [draft] if draft is not None else []
        return next_drafts(entries, ledger, rules)
    except OverflowError:
        raise SyndicateError(f"dates so far from today are out of range (now: {choice.now:%Y-%m-%d})") from None


def draft_issue(config: Config, draft: Draft, dated: datetime) -> Issue:
    return make_issue(draft.period, draft.posts, draft.announcements, dated, config.digest.cadence)


def preview_issue(config: Config, choice: IssueChoice, warn: Warn) -> Issue:
    """The issue `digest` shows: a sent one as it was recorded, any named period or window of days with
    all its posts, or (nothing named) the next issue. Nothing is recorded."""
    entries = SiteEntries(config, choice.today, warn)()
    ledger = read_ledger(config)
    tz = config.site.timezone
    sent = {r.key: r for r in ledger.records}
    if choice.week in sent:
        return recorded_issue(config, sent[str(choice.week)], entries_by_id(entries))
    if choice.week or (choice.since and choice.until):
        if choice.week:
            period = named_period(config, choice, finished=False)  # a preview may show the posts so far
        else:
            try:
                period = days_window(*parse_days(str(choice.since), str(choice.until)), tz)
            except ValueError as exc:
                raise SyndicateError(str(exc)) from None
            except OverflowError:
                raise SyndicateError(f"--until {choice.until} is out of range") from None
        if period.key in sent:
            return recorded_issue(config, sent[period.key], entries_by_id(entries))
        posts = in_window(entries, period.start, min(period.end, choice.now))  # this week: the posts so far
        rules = rules_for(config, Ledger(()), IssueChoice(choice.now))
        draft = window_draft(posts, Ledger(()), period, rules) if posts else None
        if draft is None:  # maybe a reminder: that looks at every post's announcement
            draft = window_draft([e for e in entries if e.published < choice.now], Ledger(()), period, rules)
        if draft is None:
            raise SyndicateError(f"no posts in {period.key}: nothing to send")
        return draft_issue(config, draft, choice.now)
    drafts = choose(config, ledger, entries, choice)
    if not drafts:
        raise SyndicateError(nothing_new(ledger))
    return draft_issue(config, drafts[0], choice.now)


def nothing_new(ledger: Ledger) -> str:
    last = ledger.records[-1].key if ledger.records else ""
    return f"no new posts since {last}: nothing to send" if last else "no new posts: nothing to send"


def compose_issue(
    config: Config,
    today: date,
    warn: Warn,
    *,
    week: str | None = None,
    since: str | None = None,
    until: str | None = None,
    tags: frozenset[str] | None = None,
    now: datetime | None = None,
) -> Rendered | None:
    """The issue of a period (`week="2013-W16"`), a window of whole days [since, until], or the next issue,
    for readers of `tags` (everyone: None); None when none of its posts match those tags. `now` defaults
    to the end of `today`."""
    clock = now or _midnight(today + timedelta(days=1), config)
    issue = preview_issue(config, IssueChoice(clock, week, since, until), warn)
    return IssueComposer(config, issue)(tags)


def issue_files(config: Config, issue: Rendered) -> tuple[bytes, bytes, bytes]:
    """An issue's three files as the archive publishes them (no personal details), in ISSUE_FILES' order."""
    eml = message_bytes(build_message(config, issue, None))
    return issue.web_html.encode("utf-8"), archive_text(config, issue), eml


@dataclass(frozen=True, slots=True)
class DigestFiles:
    """One issue written out: its web page, its plain text and the complete message."""

    issue: Rendered
    web: Path
    text: Path
    eml: Path


def write_digest(config: Config, choice: IssueChoice, warn: Warn, out: Path | None = None) -> DigestFiles:
    """Compose one issue and write its three forms to `out` (default: a new temporary folder)."""
    if out is not None:
        check_scratch_folder(out, "--out", config.own_folders(), config.path, config.output_dir)
    issue = render_issue(config, preview_issue(config, choice, warn))
    for problem in issue.warnings:
        warn(problem)
    folder = out or Path(tempfile.mkdtemp(prefix=f"syndicate-{issue.key}-"))
    web, text, eml = (folder / name for name in ISSUE_FILES)
    _check_ours(folder)
    atomic_write(folder / DIGEST_MARK, b"written by `syndicate digest`: its files here may be replaced\n")
    for path, data in zip((web, text, eml), issue_files(config, issue), strict=True):
        atomic_write(path, data)
    return DigestFiles(issue, web, text, eml)


DIGEST_MARK = ".syndicate-digest"  # in a folder `digest --out` wrote: its files there are syndicate's


def _check_ours(folder: Path) -> None:
    """`digest --out` replaces only files an earlier `digest` wrote there: never a page of the user's."""
    if (folder / DIGEST_MARK).is_file():
        return
    for name in ISSUE_FILES:
        if (folder / name).exists():
            raise SyndicateError(
                f"{name} is already there and syndicate did not write it; give --out an empty or new folder",
                path=folder / name,
            )
