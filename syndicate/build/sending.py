"""The modes of `syndicate send`, one call each: the real send, where issues stand, resolving
unknown outcomes, a test copy and a dry run.

A real send goes on with any issue this database began and did not finish, then makes the
next issue: it picks the posts (build/compose.py), records the issue in the site
(build/ledger.py, and its bytes in the database first), publishes its web page, and only
then sends the first message. The send log makes each issue resumable (delivery/send.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from syndicate.build.compose import (
    ISSUE_FILES,
    IssueChoice,
    IssueComposer,
    SiteEntries,
    choose,
    draft_issue,
    issue_files,
    named_period,
    nothing_new,
)
from syndicate.build.ledger import entries_by_id, read_ledger, recorded_issue, write_record_bytes
from syndicate.config import Config, SmtpSecurity
from syndicate.delivery import proofs
from syndicate.delivery import send as delivery
from syndicate.delivery.smtp import SmtpTransport, smtp_target
from syndicate.errors import DeliveryError, SyndicateError, Warn
from syndicate.folders import check_scratch_folder
from syndicate.newsletter.contents import Issue
from syndicate.newsletter.issue import manage_page, render_issue, unsubscribe_base
from syndicate.newsletter.ledger import IssueRecord, Ledger, record_of
from syndicate.newsletter.message import Recipient, personal_bytes, personalize
from syndicate.newsletter.records import record_bytes
from syndicate.output import OutputPlan
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection


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
    rows: tuple[sendlog.LogRow, ...] = ()  # every recipient, for --verbose


@dataclass
class SendOutcome:
    """What one `send` did: a report per issue it sent or went on with, or why there was nothing to do."""

    reports: list[delivery.SendReport] = field(default_factory=list)
    nothing: str = ""  # set when no issue was sent
    # issues this run did not go on with whose recipients include unknown outcomes (a run killed
    # after its last dots): a rerun has nothing to send but must not pass over them in silence
    unknown_elsewhere: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return all(r.clean for r in self.reports)


def _key(config: Config, choice: IssueChoice) -> str | None:
    """The issue `--week` names: a sent issue by its key as recorded (such as 2013-W17-2), or a period."""
    if not choice.week:
        return None
    if choice.week in {r.key for r in read_ledger(config).records}:
        return choice.week
    return named_period(config, choice, finished=False).key  # an issue sent early (--until now) has a status


def send_status(config: Config, choice: IssueChoice) -> tuple[str | None, list[IssueStatus]]:
    """The named issue's status, or every issue's when none is named."""
    key = _key(config, choice)
    rows = sendlog.log_rows(subs.open_site_database(config), key)
    by_issue: dict[str, list[sendlog.LogRow]] = {}
    for row in rows:
        by_issue.setdefault(row.issue, []).append(row)
    statuses = []
    for issue, members in by_issue.items():
        counts = tuple((state, sum(1 for r in members if r.state == state)) for state in sendlog.STATES)
        attention = tuple(r for r in members if r.state in ("sending", "failed", "deferred"))
        statuses.append(IssueStatus(issue, len(members), tuple(c for c in counts if c[1]), attention, tuple(members)))
    return key, statuses


def mark_sent(
    config: Config, choice: IssueChoice, addresses: Sequence[str], now: datetime
) -> tuple[str, list[tuple[str, bool]]]:
    """After review, record unknown outcomes as delivered: in the named issue, or in every issue where the
    address's outcome is unknown. Returns what was looked at, and (address, done) for each."""
    key = _key(config, choice)
    conn = subs.open_site_database(config)
    keys = [key] if key else sorted({r.issue for r in sendlog.log_rows(conn) if r.state == "sending"})
    results = [(a, any([sendlog.mark_sent(conn, k, a, now) for k in keys])) for a in addresses]
    return key or ", ".join(keys) or "no issue", results


def send_test_copy(
    config: Config, choice: IssueChoice, warn: Warn, address: str, smtp: SmtpOverrides
) -> tuple[str, str]:
    """Send one copy of the issue `digest` would show to `address`, recording nothing: the issue, and
    what the server answered."""
    conn = subs.open_site_database(config)
    sender = config.sender_address()
    known = subs.find(conn, address)
    issue = IssueComposer(config, _next_to_send(config, conn, choice, warn))(known.tags if known else None)
    if issue is None:
        raise DeliveryError(f"none of the issue's posts match the tags of {address}")
    # a test copy's unsubscribe link carries no token: clicking it must not unsubscribe anyone
    recipient = Recipient(email=address, name=known.name if known else "", unsubscribe_url=unsubscribe_base(config))
    target = smtp_target(config.smtp, host=smtp.host, port=smtp.port, security=smtp.security, password=smtp.password)
    message = personalize(config, issue, recipient, choice.now)
    reply = proofs.send_test_copy(SmtpTransport(target), sender, address, message)
    if reply.kind != "accepted":
        raise DeliveryError(f"the test copy to {address} was not accepted: {reply.describe()}")
    return issue.key, reply.describe()


def _letterhead(config: Config, secret: bytes) -> delivery.Letterhead:
    """What every copy of an issue shares about its sender and links, for a send and a dry run alike."""
    return delivery.Letterhead(
        config.sender_address(),
        secret,
        unsubscribe_base(config),
        manage_base=manage_page(config),
        bounce_address=config.smtp.bounce_address,
    )


def write_dry_run(
    config: Config, choice: IssueChoice, warn: Warn, secret: bytes, folder: Path
) -> tuple[str, list[Path]]:
    """Write the personalised messages of the issue `digest` would show, as .eml files (nothing is sent,
    logged or recorded): the issue, and the files."""
    check_scratch_folder(folder, "--dry-run", config.own_folders(), config.path, config.output_dir)
    conn = subs.open_site_database(config)
    head = _letterhead(config, secret)
    compose = IssueComposer(config, _next_to_send(config, conn, choice, warn))
    written = proofs.write_dry_run(conn, compose, functools.partial(personal_bytes, config), head, folder, choice.now)
    return compose.issue.key, written


def _next_to_send(config: Config, conn: Connection, choice: IssueChoice, warn: Warn) -> Issue:
    """The issue a real `send` with these options would send now, recording nothing: the named sent
    issue, else the first one this database began and did not finish, else the next one."""
    ledger = Ledger(read_ledger(config).records, also_taken=sendlog.logged_issues(conn))
    entries = SiteEntries(config, choice.today, warn)
    sent = {r.key: r for r in ledger.records}
    named = _key(config, choice)
    going_on = [k for k in sendlog.unfinished_issues(conn) if k in sent and named in (None, k)]
    if named in sent or going_on:
        return recorded_issue(config, sent[named or going_on[0]], entries_by_id(entries()))
    drafts = choose(config, ledger, entries(), choice)
    if not drafts:
        raise DeliveryError(nothing_new(ledger))
    return draft_issue(config, drafts[0], choice.now)


def publish_issue_files(config: Config, issue: IssueComposer) -> None:
    """The issue's web page, text and archived message, in the output folder before the first message
    goes out (its "view in browser" link must work). Journaled like a build's files, so the next build
    owns them."""
    rendered = render_issue(config, issue.issue)
    plan = OutputPlan(owner=config.site.url, whole_folder=False)  # its own files only; still never another's
    try:
        plan.stream_to(config.output_dir, durable=True)
        for name, data in zip(ISSUE_FILES, issue_files(config, rendered), strict=True):
            plan.add(f"newsletter/{rendered.key}/{name}", data, f"newsletter issue {rendered.key}")
        plan.wait_for_writes()
    except OSError as exc:
        raise SyndicateError(f"cannot write the issue's web page: {exc.strerror}", path=config.output_dir) from None
    finally:
        plan.close_journal()


def _restore_records(config: Config, conn: Connection) -> Ledger:
    """Write again any record this database began but the folder lacks (a crash between the two).
    The ledger also avoids the keys an older version's send log used."""
    ledger = read_ledger(config)
    known = {r.key for r in ledger.records}
    missing = {k: v for k, v in sendlog.started_issues(conn).items() if k not in known}
    for key, data in missing.items():
        write_record_bytes(config, key, data)
    records = read_ledger(config).records if missing else ledger.records
    return Ledger(records, also_taken=sendlog.logged_issues(conn))


@dataclass
class _Sender:
    """One `send`: the database, the transport and the options every issue of the run shares."""

    config: Config
    conn: Connection
    connect: Callable[[], SmtpTransport]
    head: delivery.Letterhead
    options: delivery.SendOptions
    clock: subs.Clock
    entries: SiteEntries
    on_plan: Callable[[str, int], None] | None
    progress: Callable[[int], None] | None

    def deliver(self, record: IssueRecord) -> delivery.SendReport:
        issue = recorded_issue(self.config, record, entries_by_id(self.entries()))
        if not (self.config.output_dir / "newsletter" / record.key / ISSUE_FILES[0]).is_file():
            publish_issue_files(self.config, IssueComposer(self.config, issue))  # a run that stopped before it
        return delivery.send_issue(
            self.conn,
            IssueComposer(self.config, issue),
            functools.partial(personal_bytes, self.config, smtp_data=True),
            self.connect,
            self.head,
            options=self.options,
            clock=self.clock,
            on_plan=self.on_plan,
            progress=self.progress,
        )

    def begin(self, record: IssueRecord) -> None:
        """Record and plan the issue (database first, then the site's folder) and publish its page."""
        data = record_bytes(record)
        if not sendlog.start_issue(self.conn, record.key, data, record.began.isoformat(timespec="seconds")):
            raise DeliveryError(f"issue {record.key} was already begun by this database; run send again")
        write_record_bytes(self.config, record.key, data)
        issue = recorded_issue(self.config, record, entries_by_id(self.entries()))
        publish_issue_files(self.config, IssueComposer(self.config, issue))


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
) -> SendOutcome:
    """Go on with unfinished issues, then send the next one (or the named period's) to every subscriber.

    `clock` is read when an issue begins and for each message (its Date:): "now" is the caller's.
    """
    database = subs.database_path(config.database)
    conn = subs.connect(database)  # not open_site_database: the send lock needs the path as well
    head = _letterhead(config, secret)
    target = smtp_target(config.smtp, host=smtp.host, port=smtp.port, security=smtp.security, password=smtp.password)
    entries = SiteEntries(config, choice.today, warn)
    outcome = SendOutcome()
    with delivery.send_lock(database):
        ledger = _restore_records(config, conn)
        sender = _Sender(config, conn, lambda: SmtpTransport(target), head, options, clock, entries, on_plan, progress)
        by_key = {r.key: r for r in ledger.records}
        named = _key(config, choice)
        also: list[sendlog.State] = []  # a run asked to resend unknown outcomes or retry failures goes back for them
        if options.resend_unknown:
            also.append("sending")
        if options.retry_failed:
            also.append("failed")
        for key in sendlog.unfinished_issues(conn, tuple(also)):
            if key in by_key and named in (None, key):
                outcome.reports.append(sender.deliver(by_key[key]))
        if named is not None and named in by_key:
            if not outcome.reports:
                outcome.nothing = f"{named} was sent already (its record: {config.records_dir / named}.toml)"
        else:
            for draft in choose(config, ledger, entries(), choice):
                record = record_of(draft, config.digest.cadence, clock())
                sender.begin(record)
                outcome.reports.append(sender.deliver(record))
            if not outcome.reports:
                outcome.nothing = nothing_new(ledger)
        reported = {r.issue for r in outcome.reports}
        outcome.unknown_elsewhere = {
            k: n for k, n in sendlog.unknown_counts(conn).items() if k not in reported and named in (None, k)
        }
    return outcome
