"""Signing up with double opt-in: a request waits in `signup_requests` until the link
in its confirmation email is used; only then is the address subscribed.

Every decision that guards the list is taken in one write transaction (BEGIN IMMEDIATE,
which waits up to the busy timeout for a running send or import instead of failing), so
workers of a web server racing on one address cannot send two confirmation emails or
subscribe twice. "Now" is always a parameter.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, cast

from syndicate.subscribers import consent, limits, pauses
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection, transaction, translated
from syndicate.subscribers.signing import ConfirmClaim, expiry, unix

SCHEMA = """
CREATE TABLE IF NOT EXISTS signup_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    tags TEXT,
    form TEXT NOT NULL,
    requested TEXT NOT NULL,
    expires INTEGER NOT NULL,
    nonce TEXT NOT NULL,
    confirmed TEXT
);
CREATE INDEX IF NOT EXISTS signup_requests_by_key ON signup_requests (email_key);
"""
_KEEP_EXPIRED = 7 * 24 * 3600  # unconfirmed requests are kept a week past expiry, then erased


@translated
def connect(path: Path) -> Connection:
    """The subscriber database with the tables for signing up."""
    conn = subs.connect(path)
    conn.executescript(SCHEMA + limits.SCHEMA + consent.SCHEMA + pauses.SCHEMA)
    return conn


@dataclass(frozen=True, slots=True)
class Ask:
    """What a posted form asks for (already cleaned: a valid address, one-line name, known tags)."""

    email: str
    name: str
    tags: frozenset[str] | None
    form: str
    client: str  # a keyed hash of the client's IP address
    peer: str  # a keyed hash of the connection's address (the proxy's, behind one)


Outcome = Literal["confirm", "known", "refused"]


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome  # confirm: mail a confirmation link; known: mail a manage link; refused: mail nothing
    pending_id: int = 0
    expires: int = 0
    nonce: str = ""
    subscriber: subs.Subscriber | None = None


def _tags_json(tags: frozenset[str] | None) -> str | None:
    return json.dumps(sorted(tags, key=str.casefold), ensure_ascii=False) if tags else None


@translated
def request_signup(conn: Connection, ask: Ask, now: datetime, confirm_hours: int) -> Decision:
    """Decide what a subscribe form's post leads to, and record it."""
    key = subs.email_key(ask.email)
    seconds = unix(now)
    with transaction(conn):
        checks = [(limits.PER_IP, ask.client), (limits.PER_PEER, ask.peer), (limits.PER_ADDRESS, key)]
        if not limits.admit(conn, checks, seconds) or not limits.under(conn, limits.MAIL_PER_ADDRESS, key, seconds):
            return Decision("refused")
        limits.record(conn, limits.MAIL_PER_ADDRESS, key, seconds)
        known = subs.find(conn, ask.email)
        if known is not None and (known.status == "subscribed" or pauses.paused_since(conn, known)):
            return Decision("known", subscriber=known)
        conn.execute("DELETE FROM signup_requests WHERE expires < ?", (seconds - _KEEP_EXPIRED,))
        nonce, expires = secrets.token_hex(16), expiry(now, confirm_hours)
        cur = conn.execute(
            "INSERT INTO signup_requests (email, email_key, name, tags, form, requested, expires, nonce) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ask.email, key, ask.name, _tags_json(ask.tags), ask.form, subs.timestamp(now), expires, nonce),
        )
        return Decision("confirm", int(cast(int, cur.lastrowid)), expires, nonce)


@translated
def request_manage_link(conn: Connection, email: str, client: tuple[str, str], now: datetime) -> subs.Subscriber | None:
    """The subscriber to mail a manage link to, if `email` is one and the limits allow a mail."""
    key = subs.email_key(email)
    seconds = unix(now)
    with transaction(conn):
        checks = [(limits.PER_IP, client[0]), (limits.PER_PEER, client[1]), (limits.PER_ADDRESS, key)]
        if not limits.admit(conn, checks, seconds) or not limits.under(conn, limits.MAIL_PER_ADDRESS, key, seconds):
            return None
        known = subs.find(conn, email)
        if known is None or not (known.status == "subscribed" or pauses.paused_since(conn, known)):
            return None
        limits.record(conn, limits.MAIL_PER_ADDRESS, key, seconds)
        return known


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    email: str
    tags: frozenset[str] | None
    confirmed: bool


Confirmed = Literal["subscribed", "already", "unknown"]


@translated
def pending(conn: Connection, claim: ConfirmClaim) -> Pending | None:
    """The request a token names, when the token is the one made for it."""
    row = conn.execute(
        "SELECT id, email, tags, nonce, confirmed FROM signup_requests WHERE id = ?", (claim.pending_id,)
    ).fetchone()
    if row is None or not secrets.compare_digest(str(row[3]), claim.nonce):
        return None
    tags = frozenset(cast(list[str], json.loads(str(row[2])))) if row[2] else None
    return Pending(int(row[0]), str(row[1]), tags, row[4] is not None)


@translated
def confirm(conn: Connection, claim: ConfirmClaim, now: datetime) -> tuple[Confirmed, subs.Subscriber | None]:
    """Subscribe the address of a pending request (its reader has just proved they read it)."""
    with transaction(conn):
        request = pending(conn, claim)
        if request is None:
            return "unknown", None
        if request.confirmed:
            return "already", subs.find(conn, request.email)
        row = conn.execute("SELECT name, form, requested FROM signup_requests WHERE id = ?", (request.id,)).fetchone()
        name, form, requested = str(row[0]), str(row[1]), str(row[2])
        existing = subs.find(conn, request.email)
        if existing is not None and existing.status != "subscribed" and _later(existing.updated, requested):
            return "unknown", None  # they left (or were removed) after asking: an old link cannot undo that
        if existing is not None and not name:
            name = existing.name  # a request without a name keeps the one we had
        stamp = subs.timestamp(now)
        _, sub = subs.upsert(conn, request.email, name, request.tags, stamp, resubscribe=True)
        if sub is None:  # only an import passes a suppression check; a confirmed request is fresh consent
            return "unknown", None
        pauses.clear(conn, sub)
        consent.record(conn, subs.email_key(sub.email), consent.Consent(requested, form, stamp))
        # this request and any other still open for the address are used up
        conn.execute(
            "UPDATE signup_requests SET confirmed = ? WHERE email_key = ? AND confirmed IS NULL",
            (stamp, subs.email_key(request.email)),
        )
        return "subscribed", sub


def _later(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) > datetime.fromisoformat(b)


@translated
def forget(conn: Connection, email: str) -> None:
    """Erase what signing up kept about an address: its consent, a pause, its requests and counts."""
    key = subs.email_key(email)
    conn.executescript(SCHEMA + limits.SCHEMA + consent.SCHEMA + pauses.SCHEMA)
    with transaction(conn):
        for table in ("consent", "pauses", "signup_requests"):
            conn.execute(f"DELETE FROM {table} WHERE email_key = ?", (key,))  # noqa: S608 (our own table names)
        conn.execute("DELETE FROM form_hits WHERE key = ?", (key,))
