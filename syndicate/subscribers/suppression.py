"""The suppression list: addresses that must never be added again, kept only as salted hashes.

`subscribers remove --forget` erases an address everywhere, yet a later import
of an old CSV must not bring it back. So what stays is a hash of the address
(casefolded) under a random salt drawn once per database: enough to recognise
the address when it is offered again, not enough to list who was forgotten,
and useless against another database's list. A complaint ("this is spam")
suppresses the address as well, while its unsubscribed record stays.

SHA-256 rather than a slow password hash: an import checks every row, and
200,000 rows must not take minutes. The salt defeats precomputed tables; the
database file itself must still be kept private, as it holds the live list.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from syndicate.subscribers.db import Connection, translated

Reason = Literal["forgotten", "complaint"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS suppression_salt (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    salt TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressed (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address_hash TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL CHECK (reason IN ('forgotten', 'complaint')),
    created TEXT NOT NULL
);
"""


def _salt(conn: Connection) -> str:
    """The database's salt, drawn on first use (INSERT OR IGNORE: two processes agree on one)."""
    conn.execute("INSERT OR IGNORE INTO suppression_salt (only_row, salt) VALUES (1, ?)", (secrets.token_hex(16),))
    return str(conn.execute("SELECT salt FROM suppression_salt").fetchone()[0])


def address_hash(salt: str, key: str) -> str:
    """The stored form of an address key (the casefolded address)."""
    return hashlib.sha256(f"{salt}\x00{key}".encode()).hexdigest()


class Checker:
    """Tells suppressed addresses apart, with the salt read once (an import checks every row)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        row = conn.execute("SELECT salt FROM suppression_salt").fetchone()
        self.salt: str | None = str(row[0]) if row else None  # None: nothing was ever suppressed

    def __call__(self, key: str) -> bool:
        if self.salt is None:
            return False
        found = self.conn.execute(
            "SELECT 1 FROM suppressed WHERE address_hash = ?", (address_hash(self.salt, key),)
        ).fetchone()
        return found is not None


def suppress(conn: Connection, key: str, reason: Reason, stamp: str) -> None:
    """Add an address key to the list (inside the caller's transaction); the first reason is kept."""
    conn.execute(
        "INSERT OR IGNORE INTO suppressed (address_hash, reason, created) VALUES (?, ?, ?)",
        (address_hash(_salt(conn), key), reason, stamp),
    )


@translated
def is_suppressed(conn: Connection, key: str) -> bool:
    return Checker(conn)(key)


@translated
def count(conn: Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM suppressed").fetchone()[0])
