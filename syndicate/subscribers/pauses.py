"""Pausing the digest from the manage page, and resuming it.

A paused reader is stored as unsubscribed (so every send, which mails only the
subscribed, leaves them out without knowing about pauses) plus a row here that
says the stop was a pause. The row holds the subscriber's `updated` stamp as the
pause left it: any later change by someone else (the owner's `subscribers remove`,
a bounce, an unsubscribe link) changes that stamp, and the pause no longer counts.
So "resume" can only undo a pause, never re-subscribe someone who left.
"""

from __future__ import annotations

from datetime import datetime

from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection, translated

SCHEMA = """
CREATE TABLE IF NOT EXISTS pauses (
    email_key TEXT PRIMARY KEY,
    since TEXT NOT NULL,
    stamp TEXT NOT NULL
);
"""


@translated
def paused_since(conn: Connection, sub: subs.Subscriber) -> str | None:
    """When `sub` paused, if they are paused now (a pause someone else overrode does not count)."""
    row = conn.execute("SELECT since, stamp FROM pauses WHERE email_key = ?", (subs.email_key(sub.email),)).fetchone()
    if row is None or sub.status != "unsubscribed" or str(row[1]) != sub.updated:
        return None
    return str(row[0])


def pause(conn: Connection, sub: subs.Subscriber, now: datetime) -> bool:
    """Stop the digest for a subscribed reader (inside the caller's transaction)."""
    if sub.status != "subscribed":
        return False
    stamp = subs.timestamp(now)
    conn.execute("UPDATE subscribers SET status = 'unsubscribed', updated = ? WHERE id = ?", (stamp, sub.id))
    conn.execute(
        "INSERT OR REPLACE INTO pauses (email_key, since, stamp) VALUES (?, ?, ?)",
        (subs.email_key(sub.email), stamp, stamp),
    )
    return True


def resume(conn: Connection, sub: subs.Subscriber, now: datetime) -> bool:
    """Undo a pause (inside the caller's transaction); False when there is none to undo."""
    if paused_since(conn, sub) is None:
        return False
    conn.execute(
        "UPDATE subscribers SET status = 'subscribed', updated = ? WHERE id = ?", (subs.timestamp(now), sub.id)
    )
    clear(conn, sub)
    return True


def restamp(conn: Connection, before: subs.Subscriber, after: subs.Subscriber) -> None:
    """Keep a pause valid across a change the reader made themselves (their tags)."""
    conn.execute(
        "UPDATE pauses SET stamp = ? WHERE email_key = ? AND stamp = ?",
        (after.updated, subs.email_key(after.email), before.updated),
    )


def clear(conn: Connection, sub: subs.Subscriber) -> None:
    conn.execute("DELETE FROM pauses WHERE email_key = ?", (subs.email_key(sub.email),))
