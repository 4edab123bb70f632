"""What a reader changes on the manage page: their tags, a pause, unsubscribing."""

from __future__ import annotations

from datetime import datetime

from syndicate.subscribers import pauses
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection, transaction, translated


@translated
def change(
    conn: Connection, sub: subs.Subscriber, action: str, tags: frozenset[str] | None, now: datetime
) -> tuple[subs.Subscriber, str]:
    """One change the reader asked for, in one transaction; the subscriber as it is now, and what was done."""
    with transaction(conn):
        current = subs.get(conn, sub.id) or sub
        done = action
        if action == "tags" and (current.status == "subscribed" or pauses.paused_since(conn, current)):
            _, after = subs.upsert(conn, current.email, current.name, tags, subs.timestamp(now), resubscribe=False)
            pauses.restamp(conn, current, after or current)  # None only with a suppression check, not given here
        elif action == "pause":
            pauses.pause(conn, current, now)
        elif action == "resume":
            done = "resume" if pauses.resume(conn, current, now) else "cannot-resume"
        elif action == "unsubscribe":
            _stop(conn, current, now)
        else:
            done = ""
        return subs.get(conn, sub.id) or current, done


def _stop(conn: Connection, sub: subs.Subscriber, now: datetime) -> None:
    pauses.clear(conn, sub)
    if sub.status == "subscribed":
        conn.execute(
            "UPDATE subscribers SET status = 'unsubscribed', updated = ? WHERE id = ?", (subs.timestamp(now), sub.id)
        )


@translated
def unsubscribe(conn: Connection, sub: subs.Subscriber, now: datetime) -> subs.Subscriber:
    """Unsubscribe (a pause ends too); a second click changes nothing."""
    with transaction(conn):
        current = subs.get(conn, sub.id) or sub
        _stop(conn, current, now)
        return subs.get(conn, sub.id) or current
