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

from syndicate.build.compose import IssueComposer, issue_window
from syndicate.config import Config, SmtpSecurity
from syndicate.delivery import proofs
from syndicate.delivery import send as delivery
from syndicate.delivery.smtp import SmtpTransport, smtp_target
from syndicate.errors import DeliveryError, Warn
from syndicate.newsletter.issue import unsubscribe_base
from syndicate.newsletter.message import Recipient, personalize
from syndicate.newsletter.weeks import Week, in_archive, last_week
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs


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
    security: SmtpSecurity | None = None
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
    rows = sendlog.log_rows(subs.open_site_database(config), key)
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
    conn = subs.open_site_database(config)
    return key, [(address, sendlog.mark_sent(conn, key, address, now)) for address in addresses]


def send_test_copy(
    config: Config, choice: IssueChoice, warn: Warn, address: str, smtp: SmtpOverrides
) -> tuple[str, str]:
    """Send one copy to `address`, outside the send log: the issue, and what the server answered."""
    window = send_window(config, choice)
    conn = subs.open_site_database(config)
    sender = config.sender_address()
    known = subs.find(conn, address)
    issue = IssueComposer(config, window, choice.today, warn)(known.tags if known else None)
    if issue is None:
        raise DeliveryError(delivery.NOTHING_TO_SEND)
    # a test copy's unsubscribe link carries no token: clicking it must not unsubscribe anyone
    recipient = Recipient(email=address, name=known.name if known else "", unsubscribe_url=unsubscribe_base(config))
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
    conn = subs.open_site_database(config)
    head = delivery.Letterhead(config.sender_address(), secret, unsubscribe_base(config), config.smtp.bounce_address)
    compose = IssueComposer(config, window, choice.today, warn)
    return window.key, proofs.write_dry_run(conn, compose, functools.partial(personalize, config), head, folder)


def send_issue(
    config: Config,
    choice: IssueChoice,
    warn: Warn,
    secret: bytes,
    *,
    smtp: SmtpOverrides,
    options: delivery.SendOptions,
    clock: subs.Clock,
    on_plan: Callable[[str, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> delivery.SendReport:
    """Send the issue to every subscriber who has not had it (resumable; see delivery/send.py).

    `clock` is read for each change the send log records: "now" is the caller's, like everywhere else.
    """
    window = send_window(config, choice)
    database = subs.database_path(config.database)
    conn = subs.connect(database)  # not open_site_database: the send lock needs the path as well
    head = delivery.Letterhead(config.sender_address(), secret, unsubscribe_base(config), config.smtp.bounce_address)
    target = smtp_target(config.smtp, host=smtp.host, port=smtp.port, security=smtp.security, password=smtp.password)
    compose = IssueComposer(config, window, choice.today, warn)
    with delivery.send_lock(database), SmtpTransport(target) as transport:
        return delivery.send_issue(
            conn,
            compose,
            functools.partial(personalize, config),
            transport,
            head,
            options=options,
            clock=clock,
            on_plan=on_plan,
            progress=progress,
        )
