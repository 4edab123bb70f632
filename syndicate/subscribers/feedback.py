"""Acting on what the inbox reported: bounces, complaints and unsubscribes, each recorded once.

One report is applied in one transaction: its events are recorded (a report
already recorded changes nothing) and the subscribers' statuses change with
them. A dry run applies it the same way and rolls back, so what it reports is
exactly what a real run would do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from syndicate.subscribers import inbox_log, suppression
from syndicate.subscribers.db import Connection, translated
from syndicate.subscribers.inbox_log import Event
from syndicate.subscribers.store import Status, email_key, get, timestamp


@dataclass(frozen=True, slots=True)
class SoftBounces:
    """When soft bounces add up to a bounce: each counts 1 and halves every `half_life_days`."""

    threshold: float
    half_life_days: float


@dataclass(frozen=True, slots=True)
class Applied:
    event: Event
    new: bool  # False: this report had been recorded before, nothing changed
    status: Status | None  # the subscriber's status after it (None: the subscriber is gone)
    changed: bool  # the status changed
    score: float = 0.0  # soft bounces only: the decayed sum after this one


def _set(conn: Connection, subscriber_id: int, status: Status, stamp: str) -> bool:
    cur = conn.execute(
        "UPDATE subscribers SET status = ?, updated = ? WHERE id = ? AND status = 'subscribed'",
        (status, stamp, subscriber_id),
    )
    return cur.rowcount > 0


def _apply_one(conn: Connection, event: Event, now: datetime, soft: SoftBounces) -> Applied:
    if not inbox_log.record(conn, event):
        current = get(conn, event.subscriber_id)
        return Applied(event, False, current.status if current else None, False)
    stamp, changed, score = timestamp(now), False, 0.0
    if event.kind == "hard_bounce":
        changed = _set(conn, event.subscriber_id, "bounced", stamp)
    elif event.kind == "soft_bounce":
        times = inbox_log.soft_bounce_times(conn, event.subscriber_id)
        score = inbox_log.decayed_score(times, now, soft.half_life_days)
        if score >= soft.threshold:
            changed = _set(conn, event.subscriber_id, "bounced", stamp)
    else:
        changed = _set(conn, event.subscriber_id, "unsubscribed", stamp)
        if event.kind == "complaint":
            suppression.suppress(conn, email_key(event.email), "complaint", stamp)
    current = get(conn, event.subscriber_id)
    return Applied(event, True, current.status if current else None, changed, score)


@translated
def apply_report(
    conn: Connection, events: Sequence[Event], now: datetime, soft: SoftBounces, *, dry_run: bool
) -> list[Applied]:
    """Record one report's events and change the statuses they call for (all or nothing)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = [_apply_one(conn, event, now, soft) for event in events]
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("ROLLBACK" if dry_run else "COMMIT")
    return done
