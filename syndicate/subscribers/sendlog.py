"""The send log: one row per (issue, subscriber), in the subscriber database.

A row is `pending` until its message has travelled up to the final "." of
DATA, `sending` from just before that dot until the server answers, then
`sent`, `deferred` (4xx), `failed` (5xx) or `skipped` (no posts match the
subscriber's tags). delivery/send.py explains why that makes a run resumable;
this module holds the table and its queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from syndicate.subscribers.db import Connection, transaction, translated

State = Literal["pending", "sending", "sent", "failed", "deferred", "skipped"]
STATES: tuple[State, ...] = ("pending", "sending", "sent", "failed", "deferred", "skipped")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS send_log (
    issue TEXT NOT NULL,
    subscriber_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'deferred', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    PRIMARY KEY (issue, subscriber_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS issues (
    key TEXT PRIMARY KEY,
    record BLOB NOT NULL,
    began TEXT NOT NULL,
    planned INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class LogRow:
    issue: str
    subscriber_id: int
    email: str
    state: State
    attempts: int
    detail: str
    updated: str


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """One recipient of an issue as the log has it, with the subscriber's status now (None: deleted)."""

    subscriber_id: int
    email: str
    state: State
    status: str | None


@translated
def open_log(conn: Connection) -> Connection:
    """Create the send log's table if this database has none yet."""
    conn.executescript(_SCHEMA)
    return conn


def forget_subscriber(conn: Connection, subscriber_id: int) -> None:
    """Erase a subscriber's rows (inside the caller's transaction): their address leaves the log, and
    a later subscriber given the same row id inherits no "sent" row."""
    conn.execute("DELETE FROM send_log WHERE subscriber_id = ?", (subscriber_id,))


@translated
def log_rows(conn: Connection, issue: str | None = None) -> list[LogRow]:
    open_log(conn)
    sql = "SELECT issue, subscriber_id, email, state, attempts, detail, updated FROM send_log"
    rows = (
        conn.execute(sql + " WHERE issue = ? ORDER BY subscriber_id", (issue,))
        if issue
        else conn.execute(sql + " ORDER BY issue, subscriber_id")
    )
    return [LogRow(*row) for row in rows]


@translated
def mark_sent(conn: Connection, issue: str, email: str, now: datetime) -> bool:
    """Resolve a reviewed `sending` row as delivered (the user checked the server's log)."""
    open_log(conn)
    cur = conn.execute(
        "UPDATE send_log SET state = 'sent', detail = 'marked sent after review', updated = ? "
        "WHERE issue = ? AND state = 'sending' AND lower(email) = lower(?)",
        (now.isoformat(timespec="seconds"), issue, email.strip()),
    )
    return cur.rowcount > 0


@translated
def start_issue(conn: Connection, key: str, record: bytes, began: str) -> bool:
    """Note that sending `key` begins, with its record's bytes (so a record file lost to a crash can be
    written again), and plan it for everyone subscribed now, in one transaction: however a run ends,
    the issue goes to exactly these people. False when this database had already started it."""
    open_log(conn)
    conn.execute("PRAGMA synchronous = FULL")  # the record must outlive a power cut, like a `sending` row
    with transaction(conn):
        cur = conn.execute(
            "INSERT OR IGNORE INTO issues (key, record, began, planned) VALUES (?, ?, ?, 1)", (key, record, began)
        )
        if cur.rowcount == 0:
            return False
        conn.execute(
            "INSERT OR IGNORE INTO send_log (issue, subscriber_id, email, state, updated) "
            "SELECT ?, id, email, 'pending', ? FROM subscribers WHERE status = 'subscribed'",
            (key, began),
        )
    return True


@translated
def logged_issues(conn: Connection) -> frozenset[str]:
    """Every issue key the send log or the issues table knows (an older version keyed the log by week)."""
    open_log(conn)
    rows = conn.execute("SELECT issue FROM send_log UNION SELECT key FROM issues")
    return frozenset(str(key) for (key,) in rows)


@translated
def started_issues(conn: Connection) -> dict[str, bytes]:
    """Every issue this database began sending, oldest first, with its record's bytes."""
    open_log(conn)
    return {str(k): bytes(r) for k, r in conn.execute("SELECT key, record FROM issues ORDER BY began, key")}


@translated
def unknown_counts(conn: Connection) -> dict[str, int]:
    """Per issue, how many recipients have no known outcome (`sending`: their final dot went out and
    no answer came), oldest issue first: a run that finds nothing else to do still says so."""
    open_log(conn)
    rows = conn.execute(
        "SELECT l.issue, COUNT(*) FROM send_log l LEFT JOIN issues i ON i.key = l.issue "
        "WHERE l.state = 'sending' GROUP BY l.issue ORDER BY i.began, l.issue"
    )
    return {str(issue): int(count) for issue, count in rows}


@translated
def unfinished_issues(conn: Connection, also: tuple[State, ...] = ()) -> list[str]:
    """Issues begun here that a run should go on with: never planned (a crash right after they began),
    or with recipients still pending or deferred (or in the states `also` names: a run asked to resend
    unknown outcomes or retry failures). Oldest first."""
    open_log(conn)
    states = {"pending", "deferred", *also}
    rows = conn.execute(
        "SELECT key FROM issues i WHERE planned = 0 OR EXISTS (SELECT 1 FROM send_log l "
        "WHERE l.issue = i.key AND l.state IN (?, ?, ?, ?)) ORDER BY began, key",
        (*sorted(states), *["pending"] * (4 - len(states))),  # four places: unused ones repeat "pending"
    )
    return [str(key) for (key,) in rows]


@translated
def plan_issue(conn: Connection, issue: str, stamp: str) -> list[PlannedRow]:
    """Add a pending row for every current subscriber, once: an issue begun by `start_issue` goes to
    those subscribed when it was first planned, never to people who join later. Return every row."""
    with transaction(conn):
        begun = conn.execute("SELECT planned FROM issues WHERE key = ?", (issue,)).fetchone()
        if begun is None or not begun[0]:
            conn.execute(
                "INSERT OR IGNORE INTO send_log (issue, subscriber_id, email, state, updated) "
                "SELECT ?, id, email, 'pending', ? FROM subscribers WHERE status = 'subscribed'",
                (issue, stamp),
            )
            conn.execute("UPDATE issues SET planned = 1 WHERE key = ?", (issue,))
    rows = conn.execute(
        "SELECT l.subscriber_id, l.email, l.state, s.status FROM send_log l "
        "LEFT JOIN subscribers s ON s.id = l.subscriber_id WHERE l.issue = ? ORDER BY l.subscriber_id",
        (issue,),
    )
    return [PlannedRow(int(sid), str(email), state, status) for sid, email, state, status in rows]


@translated
def set_state(
    conn: Connection, issue: str, subscriber_id: int, state: State, detail: str, stamp: str, *, count_attempt: bool
) -> None:
    # Autocommit: each UPDATE is its own transaction, in the WAL before this returns, so a killed
    # process loses none. Only `sending` waits for fsync as well: were a later commit lost to a power
    # cut, the row falls back to `sending` (reported, never resent) or, before the final dot, to
    # `pending` (the server cannot have the message) -- never to a state that sends twice. The next
    # `sending` commit syncs the earlier ones with it: one fsync per message instead of two.
    conn.execute(f"PRAGMA synchronous = {'FULL' if state == 'sending' else 'NORMAL'}")
    conn.execute(
        "UPDATE send_log SET state = ?, detail = ?, updated = ?, attempts = attempts + ? "
        "WHERE issue = ? AND subscriber_id = ?",
        (state, detail, stamp, int(count_attempt), issue, subscriber_id),
    )


StateChange = tuple[int, State, str, bool]  # subscriber id, new state, detail, whether it counts an attempt


@translated
def record_states(conn: Connection, issue: str, changes: list[StateChange], sending: list[int], stamp: str) -> None:
    """A run's pending changes and the recipients about to get their final dot, in one transaction.

    With marks in it the commit waits for fsync (were it lost to a power cut, a row could fall back to
    `pending` after its dot went out); without, the WAL has it before this returns, which a killed
    process cannot lose. Either way one commit covers every connection of the run."""
    conn.execute(f"PRAGMA synchronous = {'FULL' if sending or any(c[1] == 'sending' for c in changes) else 'NORMAL'}")
    with transaction(conn):
        conn.executemany(
            "UPDATE send_log SET state = ?, detail = ?, updated = ?, attempts = attempts + ? "
            "WHERE issue = ? AND subscriber_id = ?",
            [(state, detail, stamp, int(counted), issue, sid) for sid, state, detail, counted in changes],
        )
        conn.executemany(
            "UPDATE send_log SET state = 'sending', detail = '', updated = ?, attempts = attempts + 1 "
            "WHERE issue = ? AND subscriber_id = ?",
            [(stamp, issue, sid) for sid in sending],
        )


@translated
def sent_since(conn: Connection, stamp: str) -> int:
    """Messages handed to the server (sent, or maybe sent) since `stamp`, over every issue: for the
    per-hour and per-day limits."""
    row = conn.execute(
        "SELECT count(*) FROM send_log WHERE state IN ('sent', 'sending') AND updated >= ?", (stamp,)
    ).fetchone()
    return int(row[0])


@translated
def logged_email(conn: Connection, issue: str, subscriber_id: int) -> str:
    """The address a row was logged with (the subscriber may have changed or gone since)."""
    return str(
        conn.execute(
            "SELECT email FROM send_log WHERE issue = ? AND subscriber_id = ?", (issue, subscriber_id)
        ).fetchone()[0]
    )


@translated
def settled(conn: Connection, issue: str) -> set[int]:
    """The subscribers a run of `issue` will not send to again unless asked (sent, sending, failed, skipped)."""
    return {
        int(sid)
        for (sid,) in conn.execute(
            "SELECT subscriber_id FROM send_log WHERE issue = ? AND state IN ('sent', 'sending', 'failed', 'skipped')",
            (issue,),
        )
    }
