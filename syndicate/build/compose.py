"""Composing one issue on demand (`syndicate digest`, `syndicate send`).

The site is loaded, and its posts rendered, once; every issue asked for after
that (one per subscribers' tag filter) is composed from those same posts.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from syndicate.build.loading import load_site
from syndicate.config import Config
from syndicate.errors import BuildFailed, SyndicateError, Warn
from syndicate.model import Entry
from syndicate.newsletter.issue import Rendered, collect_issue, render_issue
from syndicate.newsletter.message import archive_text, build_message, message_bytes
from syndicate.newsletter.weeks import Week, chosen_window
from syndicate.output import atomic_write


def issue_window(config: Config, week: str | None, since: str | None, until: str | None) -> Week:
    """The ISO week named by `week`, or the whole days [since, until]."""
    try:
        return chosen_window(config.site.timezone, week, since, until)
    except ValueError as exc:
        raise SyndicateError(str(exc)) from None


class IssueComposer:
    """Composes the issue of one window for any tag filter, loading the site the first time only."""

    def __init__(self, config: Config, window: Week, today: date, warn: Warn) -> None:
        self.config = config
        self.window = window
        self._today = today
        self._warn = warn
        self._entries: tuple[Entry, ...] | None = None

    def entries(self) -> tuple[Entry, ...]:
        """The site's visible posts, read and rendered on the first call."""
        if self._entries is None:
            site, errors = load_site(self.config, self._today, self._warn)
            if errors:
                raise BuildFailed(errors)
            self._entries = site.entries
        return self._entries

    def __call__(self, tags: frozenset[str] | None = None) -> Rendered | None:
        """The issue for readers of these tags (everyone: None); None when it would have no posts."""
        issue = collect_issue(self.entries(), self.window, tags=tags)
        return render_issue(self.config, issue) if issue is not None else None


def compose_issue(
    config: Config,
    today: date,
    warn: Warn,
    *,
    week: str | None = None,
    since: str | None = None,
    until: str | None = None,
    tags: frozenset[str] | None = None,
) -> Rendered | None:
    """The issue for an ISO week (`week="2013-W16"`) or for any window of whole days [since, until],
    for readers of `tags` (everyone: None); None when it has no posts."""
    return IssueComposer(config, issue_window(config, week, since, until), today, warn)(tags)


ISSUE_FILES = ("index.html", "issue.txt", "issue.eml")  # an issue's web page, plain text and message


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


def write_digest(
    config: Config,
    today: date,
    warn: Warn,
    *,
    week: str | None = None,
    since: str | None = None,
    until: str | None = None,
    out: Path | None = None,
) -> DigestFiles:
    """Compose one issue and write its three forms to `out` (default: a new temporary folder)."""
    issue = compose_issue(config, today, warn, week=week, since=since, until=until)
    if issue is None:
        raise SyndicateError(f"no posts in {week or f'{since} to {until}'}: nothing to send")
    for problem in issue.warnings:
        warn(problem)
    folder = out or Path(tempfile.mkdtemp(prefix=f"syndicate-{issue.key}-"))
    web, text, eml = (folder / name for name in ISSUE_FILES)
    for path, data in zip((web, text, eml), issue_files(config, issue), strict=True):
        atomic_write(path, data)
    return DigestFiles(issue, web, text, eml)
