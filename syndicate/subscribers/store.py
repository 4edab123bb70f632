"""The subscriber list: one SQLite file (WAL), shared with the send log.

An address is unique however it is capitalised. A subscriber has a status
(subscribed, unsubscribed, bounced), an optional tag filter (None = every
post), and a token nonce: the nonce is part of every unsubscribe token and stays
the same for as long as the row exists, so the unsubscribe link of any message
ever sent keeps working after a re-subscription (see tokens.py). Importing a
list never re-subscribes anyone who left, and never duplicates anyone. "Now" is always a parameter.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Literal, cast

from syndicate.addresses import InvalidAddress, stored_address
from syndicate.config import Config
from syndicate.errors import DeliveryError
from syndicate.subscribers import inbox_log, sendlog, suppression
from syndicate.subscribers.db import Connection, open_database, transaction, translated
from syndicate.text import one_line

Status = Literal["subscribed", "unsubscribed", "bounced"]
STATUSES: tuple[Status, ...] = ("subscribed", "unsubscribed", "bounced")
MAX_NAME = 200
MAX_TAGS = 100
_TAG_SPLIT = re.compile(r"[;,]")
# "now" for work that stamps changes as it goes (a send, the unsubscribe endpoint): read on each
# change, and passed in like every other "now" so that tests can fix it
Clock = Callable[[], datetime]

# AUTOINCREMENT: a row id is never given out twice, so nothing recorded against a deleted
# subscriber's id (a send-log row, a bounce) can ever be taken for a later subscriber's
_SUBSCRIBERS_TABLE = """
CREATE TABLE IF NOT EXISTS subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('subscribed', 'unsubscribed', 'bounced')),
    tags TEXT,
    nonce TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
"""
_SCHEMA = _SUBSCRIBERS_TABLE + suppression.SCHEMA + inbox_log.SCHEMA
_SELECT = "SELECT id, email, name, status, tags, nonce, created, updated FROM subscribers"


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    name: str
    status: Status
    tags: frozenset[str] | None  # None: every post
    nonce: str
    created: str  # ISO 8601 with offset
    updated: str


def connect(path: Path) -> Connection:
    """Open (creating if needed) the database with its subscriber table."""
    conn = open_database(path, _SCHEMA)
    _never_reuse_ids(conn)
    return conn


@translated
def _never_reuse_ids(conn: Connection) -> None:
    """Rebuild a subscriber table made before ids were AUTOINCREMENT (SQLite cannot alter that in place).

    The documented way (sqlite.org/lang_altertable.html, "other kinds of table schema changes"):
    foreign keys off outside the transaction, copy into a new table, drop, rename, check. The
    sequence starts above every id the send log has seen, so ids of subscribers deleted before
    the upgrade are not given out again either.
    """
    if _autoincrement(conn):
        return
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        with transaction(conn):
            if _autoincrement(conn):
                return  # another process upgraded it first
            conn.execute(_SUBSCRIBERS_TABLE.replace("subscribers (", "subscribers_upgraded (", 1))
            conn.execute("INSERT INTO subscribers_upgraded SELECT * FROM subscribers")
            conn.execute("DROP TABLE subscribers")
            conn.execute("ALTER TABLE subscribers_upgraded RENAME TO subscribers")
            highest = [row[0] for row in conn.execute("SELECT MAX(id) FROM subscribers")]
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'send_log'").fetchone():
                highest += [row[0] for row in conn.execute("SELECT MAX(subscriber_id) FROM send_log")]
            top = max((int(h) for h in highest if h is not None), default=0)
            conn.execute("DELETE FROM sqlite_sequence WHERE name = 'subscribers'")
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('subscribers', ?)", (top,))
            if conn.execute("PRAGMA foreign_key_check").fetchone():
                raise DeliveryError("cannot upgrade the subscriber table: another table's rows would lose it")
    finally:
        conn.execute("PRAGMA foreign_keys=ON")


def _autoincrement(conn: Connection) -> bool:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'subscribers'").fetchone()
    return row is None or "AUTOINCREMENT" in str(row[0]).upper()


def database_path(database: Path | None) -> Path:
    if database is None:
        raise DeliveryError('no subscriber database configured; set database = "subscribers.sqlite3" in syndicate.toml')
    return database


def open_site_database(config: Config) -> Connection:
    """The site's subscriber database (`database` in syndicate.toml), opened; an error when none is set."""
    return connect(database_path(config.database))


def normalize_email(text: str) -> str:
    """The address as it will be stored and used on the envelope (ASCII, domain lowercased)."""
    return stored_address(text)


def email_key(email: str) -> str:
    return email.casefold()


def clean_name(text: str) -> str:
    """A display name as one plain line: no controls, no CR/LF, bounded length.

    "=?" is split up so the name cannot pass for an RFC 2047 encoded-word, which
    mail programs would decode into other text (such as "Bcc: …") in To:.
    """
    return one_line(text).replace("=?", "= ?")[:MAX_NAME].strip()


def parse_tags(text: str) -> frozenset[str] | None:
    """'OpenStack; SDN' → {'OpenStack', 'SDN'}; empty → None (every post)."""
    tags = frozenset(t for t in (one_line(part) for part in _TAG_SPLIT.split(text)) if t)
    if len(tags) > MAX_TAGS:
        raise InvalidAddress(f"more than {MAX_TAGS} tags")
    return tags or None


def format_tags(tags: frozenset[str] | None) -> str:
    return "; ".join(sorted(tags, key=str.casefold)) if tags else ""


def _tags_column(tags: frozenset[str] | None) -> str | None:
    return json.dumps(sorted(tags, key=str.casefold), ensure_ascii=False) if tags else None


def _row(row: tuple[object, ...]) -> Subscriber:
    id_, email, name, status, tags, nonce, created, updated = row
    tag_set = frozenset(cast(list[str], json.loads(str(tags)))) if tags else None
    return Subscriber(
        int(cast(int, id_)),
        str(email),
        str(name),
        cast(Status, status),
        tag_set,
        str(nonce),
        str(created),
        str(updated),
    )


def timestamp(now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.isoformat(timespec="seconds")


def new_nonce() -> str:
    return secrets.token_hex(8)


@translated
def find(conn: Connection, email: str) -> Subscriber | None:
    try:
        key = email_key(normalize_email(email))
    except InvalidAddress:
        key = email_key(email.strip())
    row = conn.execute(_SELECT + " WHERE email_key = ?", (key,)).fetchone()
    return _row(row) if row else None


@translated
def get(conn: Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(_SELECT + " WHERE id = ?", (subscriber_id,)).fetchone()
    return _row(row) if row else None


@translated
def all_subscribers(conn: Connection, status: Status | None = None) -> list[Subscriber]:
    if status is None:
        rows = conn.execute(_SELECT + " ORDER BY email_key").fetchall()
    else:
        rows = conn.execute(_SELECT + " WHERE status = ? ORDER BY email_key", (status,)).fetchall()
    return [_row(r) for r in rows]


@translated
def counts(conn: Connection) -> dict[Status, int]:
    result: dict[Status, int] = dict.fromkeys(STATUSES, 0)
    for status, count in conn.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status"):
        result[cast(Status, status)] = int(count)
    return result


AddOutcome = Literal["added", "updated", "unchanged", "resubscribed", "suppressed"]


class _Keep(Enum):
    KEEP = "keep"  # "leave the tag filter as it is"


KEEP = _Keep.KEEP
TagUpdate = frozenset[str] | None | Literal[_Keep.KEEP]


def upsert(
    conn: Connection,
    email: str,
    name: str,
    tags: TagUpdate,
    stamp: str,
    *,
    resubscribe: bool,
    suppressed: Callable[[str], bool] | None = None,
) -> tuple[AddOutcome, Subscriber | None]:
    """Insert or update one subscriber inside the caller's transaction; ("suppressed", None) for an
    address that was erased with --forget (or complained) and must not come back."""
    key = email_key(email)
    row = conn.execute(_SELECT + " WHERE email_key = ?", (key,)).fetchone()
    is_suppressed = suppressed or suppression.Checker(conn)
    if (row is None or resubscribe) and is_suppressed(key):
        return "suppressed", None
    if row is None:
        tag_set = None if tags is KEEP else tags
        cur = conn.execute(
            "INSERT INTO subscribers (email, email_key, name, status, tags, nonce, created, updated) "
            "VALUES (?, ?, ?, 'subscribed', ?, ?, ?, ?)",
            (email, key, name, _tags_column(tag_set), new_nonce(), stamp, stamp),
        )
        created = get(conn, int(cast(int, cur.lastrowid)))
        assert created is not None
        return "added", created
    old = _row(row)
    new_tags = old.tags if tags is KEEP else tags
    outcome: AddOutcome = "unchanged"
    if name != old.name or new_tags != old.tags:
        outcome = "updated"
    status, nonce = old.status, old.nonce
    if resubscribe and old.status != "subscribed":
        status, outcome = "subscribed", "resubscribed"
    if outcome != "unchanged":
        conn.execute(
            "UPDATE subscribers SET name = ?, tags = ?, status = ?, nonce = ?, updated = ? WHERE id = ?",
            (name, _tags_column(new_tags), status, nonce, stamp, old.id),
        )
    current = get(conn, old.id)
    assert current is not None
    return outcome, current


@translated
def add(
    conn: Connection,
    email: str,
    name: str | None,
    now: datetime,
    *,
    tags: TagUpdate = KEEP,
    resubscribe: bool = False,
) -> tuple[AddOutcome, Subscriber]:
    """Add one subscriber, or update the name and tags (those given) of an existing one.

    Someone who unsubscribed or bounced stays so unless `resubscribe` is set.
    """
    try:
        address = normalize_email(email)
    except InvalidAddress as exc:
        raise DeliveryError(f"{email!r} is not a valid address: {exc}") from None
    with transaction(conn):
        if name is None:
            existing = find(conn, address)
            name = existing.name if existing else ""
        outcome, sub = upsert(conn, address, clean_name(name), tags, timestamp(now), resubscribe=resubscribe)
    if sub is None:
        raise DeliveryError(
            f"{address} is on the suppression list (erased with `subscribers remove --forget`, or it sent a "
            "complaint), so it is not added"
        )
    return outcome, sub


@translated
def remove(conn: Connection, email: str, now: datetime, *, forget: bool = False) -> Subscriber:
    """Unsubscribe (the record stays, so a re-import cannot bring them back), or erase with `forget`:
    the subscriber, their rows in the send log and the inbox, leaving only a salted hash of the
    address on the suppression list so that no later import or add brings it back."""
    found = find(conn, email)
    if found is None:
        raise DeliveryError(f"{email.strip()} is not in the subscriber list")
    if forget:
        sendlog.open_log(conn)  # creating the table commits, so before the transaction
    with transaction(conn):
        if forget:
            conn.execute("DELETE FROM subscribers WHERE id = ?", (found.id,))
            sendlog.forget_subscriber(conn, found.id)
            inbox_log.forget_subscriber(conn, found.id, found.email)
            suppression.suppress(conn, email_key(found.email), "forgotten", timestamp(now))
        else:
            conn.execute(
                "UPDATE subscribers SET status = 'unsubscribed', updated = ? WHERE id = ?", (timestamp(now), found.id)
            )
    return found


@translated
def set_status(conn: Connection, subscriber_id: int, status: Status, now: datetime) -> Subscriber | None:
    """Change a status (the nonce stays: every unsubscribe link ever sent keeps working)."""
    with transaction(conn):
        current = get(conn, subscriber_id)
        if current is None:
            return None
        stamp = timestamp(now)
        conn.execute("UPDATE subscribers SET status = ?, updated = ? WHERE id = ?", (status, stamp, subscriber_id))
        return get(conn, subscriber_id)
