"""The modes of `syndicate send`, one call each: where an issue stands, resolving unknown
outcomes, a test copy, a dry run and the real send.

Whatever the number of subscribers' tag filters, the site is loaded and its posts
rendered once per call (see compose.IssueComposer); the send log makes the real
send resumable (see delivery/send.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from syndicate.build.compose import IssueComposer, issue_window
from syndicate.build.loading import Warn
from syndicate.config import Config
from syndicate.delivery import proofs
from syndicate.delivery import send as mail
from syndicate.delivery.smtp import SmtpTransport, smtp_target
from syndicate.errors import DeliveryError
from syndicate.newsletter.issue import unsubscribe_url
from syndicate.newsletter.message import Recipient, personalize
from syndicate.newsletter.weeks import Week, in_archive, last_week
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs

Security = Literal["starttls", "ssl", "none"]


@dataclass(frozen=True, slots=True)
class IssueChoice:
    """Which issue: an ISO week, a window of days, or (neither given) last week as of `today`."""

    today: date
    week: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def named(self) -> bool:
        return bool(self.week or self.since)


@dataclass(frozen=True, slots=True)
class SmtpOverrides:
    """Command-line overrides of the [smtp] settings, and the password the command line read."""

    host: str | None = None
    port: int | None = None
    security: Security | None = None
    password: str = ""  # from the environment (SYNDICATE_SMTP_PASSWORD), never the config file


@dataclass(frozen=True, slots=True)
class IssueStatus:
    """Where one issue's send stands: recipients per state, and the rows that need a look."""

    issue: str
    recipients: int
    counts: tuple[tuple[str, int], ...]  # (state, count) in the send log's order, zeros left out
    attention: tuple[sendlog.LogRow, ...]  # unknown outcomes, failures and deferrals


def send_window(config: Config, choice: IssueChoice) -> Week:
    """The issue's window; by default last week, which must be one the archive has."""
    if choice.named:
        return issue_window(config, choice.week, choice.since, choice.until)
    window = last_week(choice.today, config.site.timezone)
    if not in_archive(config, window):
        raise DeliveryError(
            f"last week ({window.key}) is before [digest] since = {config.digest.since}, so it has no issue; "
            "name a week with --week to send one anyway"
        )
    return window


def send_status(config: Config, choice: IssueChoice) -> tuple[str | None, list[IssueStatus]]:
    """The named issue's status, or every issue's when none is named."""
    key = send_window(config, choice).key if choice.named else None
    rows = sendlog.log_rows(subs.connect(subs.database_path(config.database)), key)
    by_issue: dict[str, list[sendlog.LogRow]] = {}
    for row in rows:
        by_issue.setdefault(row.issue, []).append(row)
    statuses = []
    for issue, members in by_issue.items():
        counts = tuple((state, sum(1 for r in members if r.state == state)) for state in sendlog.STATES)
        attention = tuple(r for r in members if r.state in ("sending", "failed", "deferred"))
        statuses.append(IssueStatus(issue, len(members), tuple(c for c in counts if c[1]), attention))
    return key, statuses


def mark_sent(
    config: Config, choice: IssueChoice, addresses: Sequence[str], now: datetime
) -> tuple[str, list[tuple[str, bool]]]:
    """After review, record these recipients' unknown outcomes as delivered: the issue, (address, done) for each."""
    key = send_window(config, choice).key
    conn = subs.connect(subs.database_path(config.database))
    return key, [(address, sendlog.mark_sent(conn, key, address, now)) for address in addresses]


def send_test_copy(
    config: Config, choice: IssueChoice, warn: Warn, address: str, smtp: SmtpOverrides
) -> tuple[str, str]:
    """Send one copy to `address`, outside the send log: the issue, and what the server answered."""
    window = send_window(config, choice)
    conn = subs.connect(subs.database_path(config.database))
    sender = config.sender_address()
    known = subs.find(conn, address)
    issue = IssueComposer(config, window, choice.today, warn)(known.tags if known else None)
    if issue is None:
        raise DeliveryError("this week has no posts; there is nothing to send")
    # a test copy's unsubscribe link carries no token: clicking it must not unsubscribe anyone
    recipient = Recipient(email=address, name=known.name if known else "", unsubscribe_url=unsubscribe_url(config))
    target = smtp_target(config.smtp, host=smtp.host, port=smtp.port, security=smtp.security, password=smtp.password)
    reply = proofs.send_test_copy(SmtpTransport(target), sender, address, personalize(config, issue, recipient))
    if reply.kind != "accepted":
        raise DeliveryError(f"the test copy to {address} was not accepted: {reply.describe()}")
    return issue.key, reply.describe()


def write_dry_run(
    config: Config, choice: IssueChoice, warn: Warn, secret: bytes, folder: Path
) -> tuple[str, list[Path]]:
    """Write the personalised messages a real send would send now, as .eml files (nothing is sent or
    logged): the issue, and the files."""
    window = send_window(config, choice)
    conn = subs.connect(subs.database_path(config.database))
    head = mail.Letterhead(config.sender_address(), secret, unsubscribe_url(config))
    compose = IssueComposer(config, window, choice.today, warn)
    return window.key, proofs.write_dry_run(conn, compose, functools.partial(personalize, config), head, folder)


def send_issue(
    config: Config,
    choice: IssueChoice,
    warn: Warn,
    secret: bytes,
    *,
    smtp: SmtpOverrides,
    options: mail.SendOptions,
    on_plan: Callable[[str, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> mail.SendReport:
    """Send the issue to every subscriber who has not had it (resumable; see delivery/send.py)."""
    window = send_window(config, choice)
    database = subs.database_path(config.database)
    conn = subs.connect(database)
    head = mail.Letterhead(config.sender_address(), secret, unsubscribe_url(config))
    target = smtp_target(config.smtp, host=smtp.host, port=smtp.port, security=smtp.security, password=smtp.password)
    compose = IssueComposer(config, window, choice.today, warn)
    tz = config.site.timezone
    with mail.send_lock(database), SmtpTransport(target) as transport:
        return mail.send_issue(
            conn,
            compose,
            functools.partial(personalize, config),
            transport,
            head,
            options=options,
            clock=lambda: datetime.now(tz),  # the clock, read at the edge
            on_plan=on_plan,
            progress=progress,
        )
