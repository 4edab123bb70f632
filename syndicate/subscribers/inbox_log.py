"""What `syndicate inbox` has done: one row per report and subscriber it acted on.

The rows make a run idempotent (a report already recorded is never counted
twice, even when the mailbox could not be marked) and hold the soft bounces
whose decaying sum decides when a subscriber is bounced. `remove --forget`
erases a subscriber's rows with the rest of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from syndicate.subscribers.db import Connection, translated

EventKind = Literal["hard_bounce", "soft_bounce", "complaint", "unsubscribe"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report TEXT NOT NULL,
    subscriber_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hard_bounce', 'soft_bounce', 'complaint', 'unsubscribe')),
    issue TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    UNIQUE (report, subscriber_id, kind)
);
CREATE INDEX IF NOT EXISTS inbox_events_subscriber ON inbox_events (subscriber_id);
"""


@dataclass(frozen=True, slots=True)
class Event:
    report: str  # the report's Message-ID, or a hash of its bytes
    subscriber_id: int
    email: str
    kind: EventKind
    issue: str
    detail: str
    at: str  # ISO 8601 with offset: when the report says it happened


@translated
def seen(conn: Connection, report: str) -> bool:
    """Has a run already acted on this report?"""
    return conn.execute("SELECT 1 FROM inbox_events WHERE report = ? LIMIT 1", (report,)).fetchone() is not None


def record(conn: Connection, event: Event) -> bool:
    """Record one event inside the caller's transaction; False when it was already there."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO inbox_events (report, subscriber_id, email, kind, issue, detail, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (event.report, event.subscriber_id, event.email, event.kind, event.issue, event.detail, event.at),
    )
    return cur.rowcount > 0


def soft_bounce_times(conn: Connection, subscriber_id: int) -> list[datetime]:
    rows = conn.execute(
        "SELECT at FROM inbox_events WHERE subscriber_id = ? AND kind = 'soft_bounce'", (subscriber_id,)
    )
    return [datetime.fromisoformat(str(at)) for (at,) in rows]


def decayed_score(times: Iterable[datetime], now: datetime, half_life_days: float) -> float:
    """Each soft bounce counts 1, halving every `half_life_days`: a mailbox full for one day fades,
    one that keeps refusing for weeks adds up. Reports dated in the future count as now."""
    total = 0.0
    for when in times:
        age_days = max(0.0, (now - when).total_seconds() / 86400)
        total += math.pow(0.5, age_days / half_life_days)
    return total


@translated
def events(conn: Connection, subscriber_id: int | None = None) -> list[Event]:
    sql = "SELECT report, subscriber_id, email, kind, issue, detail, at FROM inbox_events"
    rows = (
        conn.execute(sql + " WHERE subscriber_id = ? ORDER BY id", (subscriber_id,))
        if subscriber_id is not None
        else conn.execute(sql + " ORDER BY id")
    )
    return [Event(str(r), int(s), str(e), k, str(i), str(d), str(a)) for r, s, e, k, i, d, a in rows]


@translated
def issues_sent_to(conn: Connection, subscriber_id: int) -> list[str]:
    """The issues the send log has a row of for this subscriber (to tell which one a bounce token names)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'send_log'").fetchone() is None:
        return []
    rows = conn.execute("SELECT DISTINCT issue FROM send_log WHERE subscriber_id = ?", (subscriber_id,))
    return [str(issue) for (issue,) in rows]


def forget_subscriber(conn: Connection, subscriber_id: int, email: str) -> None:
    """Erase a subscriber's rows (inside the caller's transaction), by id and by address."""
    conn.execute("DELETE FROM inbox_events WHERE subscriber_id = ? OR lower(email) = lower(?)", (subscriber_id, email))
