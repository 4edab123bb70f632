"""Rate limits for the public forms, kept in the subscriber database so every worker
process of the web server counts the same requests (no third party, no memory per process).

A hit is one row (what was asked, by which key, when). `admit` counts a key's hits in
its window and records the new one in the caller's transaction: a flood keeps being
counted while it is refused, and two workers cannot both squeeze under a limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from syndicate.subscribers.db import Connection

SCHEMA = """
CREATE TABLE IF NOT EXISTS form_hits (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS form_hits_by_key ON form_hits (kind, key, at);
CREATE INDEX IF NOT EXISTS form_hits_by_time ON form_hits (at);
"""
KEEP_SECONDS = 2 * 24 * 3600  # longer than any window below


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str  # what is counted, such as "ip" or "address"
    most: int  # hits allowed in the window
    seconds: int  # the window


# One person at one address: a few tries a day. One IP: an office or a household, not a flood.
PER_IP = Limit("ip", 20, 3600)
PER_PEER = Limit("peer", 300, 3600)  # the connection's own address: a proxy in front carries many readers
PER_ADDRESS = Limit("address", 5, 24 * 3600)
# "at most one pending confirmation per address per few hours": one mail, whatever kind
MAIL_PER_ADDRESS = Limit("mail", 1, 4 * 3600)


def admit(conn: Connection, checks: Sequence[tuple[Limit, str]], now: int) -> bool:
    """Record a hit for each (limit, key); True when every key was under its limit before it.
    Call inside a transaction (BEGIN IMMEDIATE), so that counting and recording are one step."""
    conn.execute("DELETE FROM form_hits WHERE at < ?", (now - KEEP_SECONDS,))
    allowed = True
    for limit, key in checks:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM form_hits WHERE kind = ? AND key = ? AND at > ?",
            (limit.kind, key, now - limit.seconds),
        ).fetchone()
        if int(count) >= limit.most:
            allowed = False
        conn.execute("INSERT INTO form_hits (kind, key, at) VALUES (?, ?, ?)", (limit.kind, key, now))
    return allowed


def under(conn: Connection, limit: Limit, key: str, now: int) -> bool:
    """Whether one more hit of `key` would be within `limit` (recording nothing)."""
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM form_hits WHERE kind = ? AND key = ? AND at > ?", (limit.kind, key, now - limit.seconds)
    ).fetchone()
    return int(count) < limit.most


def record(conn: Connection, limit: Limit, key: str, now: int) -> None:
    conn.execute("INSERT INTO form_hits (kind, key, at) VALUES (?, ?, ?)", (limit.kind, key, now))
