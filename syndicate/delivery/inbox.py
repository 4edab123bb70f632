"""Whom an inbox report is about: its signed tokens first, then the addresses it names.

A report names a subscriber in one of three ways, trusted in this order:

1. the VERP token of the address it was delivered to (`[smtp] bounce_address`):
   signed, so it names exactly the subscriber and the issue whose message
   came back, even when the recipient's address was rewritten on the way;
2. an unsubscribe token: in a mailto unsubscribe's subject or address, or in
   the List-Unsubscribe header of the original message that a complaint or a
   bounce quotes (complaints usually redact the address);
3. the recipient address the report names, looked up in the list.

A mailto unsubscribe must carry a current token (as the https link must); a
report that names nobody on the list is left alone and listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from syndicate.delivery.reports import Finding, Report
from syndicate.subscribers import inbox_log
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection
from syndicate.subscribers.inbox_log import Event
from syndicate.subscribers.tokens import (
    StaleToken,
    TokenError,
    check_current,
    issue_tag,
    read_bounce_token,
    read_token,
)


@dataclass(frozen=True, slots=True)
class Item:
    """One message of a mailbox: how the mailbox names it, and its bytes."""

    ref: str
    data: bytes


class Source(Protocol):
    """A mailbox the inbox reads: a maildir, an mbox file or an IMAP folder."""

    def items(self) -> Iterator[Item]: ...

    def mark_handled(self, ref: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Named:
    """Who a report is about, and how we know."""

    subscriber: subs.Subscriber | None
    issue: str
    why_not: str  # when nobody: why (for the listing of unmatched reports)


def _by_bounce_token(conn: Connection, secret: bytes, report: Report) -> Named | None:
    for token in report.bounce_tokens:
        try:
            claim = read_bounce_token(secret, token)
        except TokenError:
            continue
        sub = subs.get(conn, claim.subscriber_id)
        tagged = [k for k in inbox_log.issues_sent_to(conn, claim.subscriber_id) if issue_tag(k) == claim.issue_tag]
        issue = tagged[0] if tagged else ""
        return Named(sub, issue, "" if sub else "the subscriber it names is no longer on the list")
    return None


def _by_unsubscribe_token(conn: Connection, secret: bytes, report: Report, *, current: bool) -> Named | None:
    for token in report.unsubscribe_tokens:
        try:
            claim = read_token(secret, token)
            sub = subs.get(conn, claim.subscriber_id)
            if current:
                check_current(claim, sub.nonce if sub else None)
        except StaleToken:
            return Named(None, "", "its unsubscribe token has expired (the subscriber signed up again since)")
        except TokenError:
            continue
        return Named(sub, "", "" if sub else "the subscriber it names is no longer on the list")
    return None


def name_subscriber(conn: Connection, secret: bytes, report: Report, finding: Finding) -> Named:
    """Who one finding of a report is about."""
    if finding.kind == "unsubscribe":
        named = _by_unsubscribe_token(conn, secret, report, current=True)
        return named or Named(None, "", "it carries no valid unsubscribe token")
    single = len(report.findings) == 1  # a token speaks for the one recipient a report names
    if single or not finding.address:
        named = _by_bounce_token(conn, secret, report) or _by_unsubscribe_token(conn, secret, report, current=False)
        if named is not None:
            return named
    if finding.address:
        sub = subs.find(conn, finding.address)
        if sub is not None:
            return Named(sub, "", "")
        return Named(None, "", f"{finding.address} is not on the list")
    return Named(None, "", "it names no address and carries no token of ours")


def events_of(conn: Connection, secret: bytes, report: Report, now: datetime) -> tuple[list[Event], list[str]]:
    """The events a report makes (at most one per subscriber and kind), and why the rest matched nobody."""
    when = min(report.date, now) if report.date else now
    events: dict[tuple[int, str], Event] = {}
    misses: list[str] = []
    for finding in report.findings:
        named = name_subscriber(conn, secret, report, finding)
        if named.subscriber is None:
            misses.append(named.why_not)
            continue
        sub = named.subscriber
        key = (sub.id, finding.kind)
        if key not in events:
            events[key] = Event(
                report.ident,
                sub.id,
                sub.email,
                finding.kind,
                named.issue,
                finding.detail,
                when.isoformat(timespec="seconds"),
            )
    return _hard_over_soft(list(events.values())), misses


def _hard_over_soft(events: list[Event]) -> list[Event]:
    """One report with a hard and a soft failure for the same subscriber counts as hard."""
    hard = {e.subscriber_id for e in events if e.kind == "hard_bounce"}
    return [e for e in events if not (e.kind == "soft_bounce" and e.subscriber_id in hard)]
