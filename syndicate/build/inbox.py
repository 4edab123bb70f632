"""`syndicate inbox SOURCE`: read bounces, complaints and unsubscribes back, and act on them.

For each message of the mailbox: read what it reports (delivery/reports.py),
find whom it is about (delivery/inbox.py), apply it in one transaction
(subscribers/feedback.py), then mark the message handled in the mailbox. A
crash between the last two only means the next run marks it: the report is
recorded, so it is never counted twice. Messages that name nobody on the list
are left alone and listed; auto-replies are left alone too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from syndicate.config import Config
from syndicate.delivery.imap import ImapSource, parse_imap_url
from syndicate.delivery.inbox import Source, events_of
from syndicate.delivery.mailbox import MaildirSource, MboxSource
from syndicate.delivery.reports import read_report
from syndicate.errors import DeliveryError
from syndicate.subscribers import feedback, inbox_log
from syndicate.subscribers import store as subs

_WHAT = {
    "hard_bounce": "hard bounce",
    "soft_bounce": "soft bounce",
    "complaint": "complaint",
    "unsubscribe": "unsubscribe by mail",
}
_DETAIL_SHOWN = 100  # characters of a server's words in a listing line


@dataclass
class InboxReport:
    source: str
    dry_run: bool
    read: int = 0
    handled: int = 0  # acted on now (or, in a dry run, would be)
    already: int = 0  # recorded by an earlier run (marked in the mailbox now, if it was not)
    changes: list[str] = field(default_factory=list)  # one line per subscriber whose status changed
    events: list[str] = field(default_factory=list)  # one line per event recorded without a change
    unmatched: list[str] = field(default_factory=list)  # left alone: what they are and why
    ignored: int = 0  # auto-replies and delay warnings, left alone


def open_source(location: str, folder: str, password: str, *, dry_run: bool) -> Source:
    """A maildir folder, an mbox file, or imap(s)://user@host/FOLDER."""
    if location.startswith(("imap://", "imaps://")):
        return ImapSource(parse_imap_url(location), password, move_to=folder, read_only=dry_run)
    path = Path(location).expanduser()
    if path.is_dir():
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise DeliveryError(
                "not a maildir (no cur/ and new/ inside); give a maildir, an mbox file or an imaps:// URL", path=path
            )
        return MaildirSource(path, folder)
    if path.is_file():
        return MboxSource(path, folder)
    raise DeliveryError("no such mailbox; give a maildir, an mbox file or imaps://USER@HOST/FOLDER", path=path)


def _act(report: InboxReport, applied: list[feedback.Applied], soft: feedback.SoftBounces) -> None:
    for done in applied:
        event = done.event
        what = _WHAT[event.kind]
        if event.kind == "soft_bounce":
            what += f", score {done.score:.2f} of {soft.threshold:g}"
        if event.issue:
            what += f", {event.issue}"
        detail = event.detail if len(event.detail) <= _DETAIL_SHOWN else event.detail[: _DETAIL_SHOWN - 1] + "…"
        if done.changed:
            report.changes.append(f"{event.email}: {done.status} ({what}): {detail}")
        else:
            report.events.append(f"{event.email}: still {done.status} ({what}): {detail}")


def read_inbox(
    config: Config,
    location: str,
    secret: bytes,
    password: str,
    now: datetime,
    *,
    dry_run: bool,
    move_to: str | None = None,
) -> InboxReport:
    """Read every message of the mailbox and act on the reports; see the module docstring."""
    conn = subs.open_site_database(config)
    soft = feedback.SoftBounces(config.inbox.soft_bounce_threshold, config.inbox.half_life_days)
    folder = config.inbox.handled_folder if move_to is None else move_to
    report = InboxReport(location, dry_run)
    source = open_source(location, folder, password, dry_run=dry_run)
    try:
        for item in source.items():
            report.read += 1
            parsed = read_report(item.data)
            if parsed.what in ("auto_reply", "delay"):
                report.ignored += 1
                continue
            if inbox_log.seen(conn, parsed.ident):
                report.already += 1
                if not dry_run:
                    source.mark_handled(item.ref)
                continue
            events, misses = events_of(conn, secret, parsed, now)
            if not events:
                why = "; ".join(dict.fromkeys(misses)) or "not a bounce, complaint or unsubscribe"
                report.unmatched.append(f"{parsed.summary}: {why}")
                continue
            _act(report, feedback.apply_report(conn, events, now, soft, dry_run=dry_run), soft)
            report.handled += 1
            if not dry_run:
                source.mark_handled(item.ref)
    finally:
        source.close()
    return report
