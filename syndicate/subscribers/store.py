"""The subscriber list: one SQLite file (WAL), shared with the send log.

An address is unique however it is capitalised. A subscriber has a status
(subscribed, unsubscribed, bounced), an optional tag filter (None = every
post), and a token nonce: the nonce is part of every unsubscribe token and is
drawn anew on each re-subscription, so links in older messages stop working
(see tokens.py). Importing a list never re-subscribes anyone who left, and
never duplicates anyone. "Now" is always a parameter.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Literal, TextIO, cast

from email_validator import EmailNotValidError, validate_email

from syndicate.errors import DeliveryError
from syndicate.text import one_line

Status = Literal["subscribed", "unsubscribed", "bounced"]
STATUSES: tuple[Status, ...] = ("subscribed", "unsubscribed", "bounced")
MAX_NAME = 200
MAX_TAGS = 100
CSV_COLUMNS = ("email", "name", "tags")
EXPORT_COLUMNS = ("email", "name", "tags", "status", "created", "updated")
_TAG_SPLIT = re.compile(r"[;,]")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    id INTEGER PRIMARY KEY,
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


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the database; autocommit mode, transactions are explicit."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=10.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed send-log row survives power loss too, not only a killed process
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(_SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise DeliveryError(f"cannot open the subscriber database: {exc}", path=path) from None
    except OSError as exc:
        raise DeliveryError(f"cannot create the subscriber database: {exc.strerror}", path=path) from None
    return conn


def database_path(database: Path | None) -> Path:
    if database is None:
        raise DeliveryError('no subscriber database configured; set database = "subscribers.sqlite3" in syndicate.toml')
    return database


class InvalidAddress(ValueError):
    pass


def normalize_email(text: str) -> str:
    """The address as it will be stored and used on the envelope (ASCII, domain lowercased)."""
    candidate = text.strip()
    if not candidate:
        raise InvalidAddress("the address is empty")
    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return str(result.ascii_email)


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


def _row(row: sqlite3.Row | tuple[object, ...]) -> Subscriber:
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


def _stamp(now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.isoformat(timespec="seconds")


def new_nonce() -> str:
    return secrets.token_hex(8)


def find(conn: sqlite3.Connection, email: str) -> Subscriber | None:
    try:
        key = email_key(normalize_email(email))
    except InvalidAddress:
        key = email_key(email.strip())
    row = conn.execute(
        "SELECT id, email, name, status, tags, nonce, created, updated FROM subscribers WHERE email_key = ?", (key,)
    ).fetchone()
    return _row(row) if row else None


def get(conn: sqlite3.Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(
        "SELECT id, email, name, status, tags, nonce, created, updated FROM subscribers WHERE id = ?", (subscriber_id,)
    ).fetchone()
    return _row(row) if row else None


def all_subscribers(conn: sqlite3.Connection, status: Status | None = None) -> list[Subscriber]:
    if status is None:
        rows = conn.execute(
            "SELECT id, email, name, status, tags, nonce, created, updated FROM subscribers ORDER BY email_key"
        ).fetchall()
    else:
        rows = conn.execute(
            "SELECT id, email, name, status, tags, nonce, created, updated FROM subscribers "
            "WHERE status = ? ORDER BY email_key",
            (status,),
        ).fetchall()
    return [_row(r) for r in rows]


def counts(conn: sqlite3.Connection) -> dict[Status, int]:
    result: dict[Status, int] = dict.fromkeys(STATUSES, 0)
    for status, count in conn.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status"):
        result[cast(Status, status)] = int(count)
    return result


AddOutcome = Literal["added", "updated", "unchanged", "resubscribed"]


class _Keep(Enum):
    KEEP = "keep"  # "leave the tag filter as it is"


KEEP = _Keep.KEEP
TagUpdate = frozenset[str] | None | Literal[_Keep.KEEP]


def _upsert(
    conn: sqlite3.Connection,
    email: str,
    name: str,
    tags: TagUpdate,
    stamp: str,
    *,
    resubscribe: bool,
) -> tuple[AddOutcome, Subscriber]:
    """Insert or update one subscriber inside the caller's transaction."""
    key = email_key(email)
    row = conn.execute(
        "SELECT id, email, name, status, tags, nonce, created, updated FROM subscribers WHERE email_key = ?", (key,)
    ).fetchone()
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
        status, nonce, outcome = "subscribed", new_nonce(), "resubscribed"
    if outcome != "unchanged":
        conn.execute(
            "UPDATE subscribers SET name = ?, tags = ?, status = ?, nonce = ?, updated = ? WHERE id = ?",
            (name, _tags_column(new_tags), status, nonce, stamp, old.id),
        )
    current = get(conn, old.id)
    assert current is not None
    return outcome, current


def add(
    conn: sqlite3.Connection,
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
        return _upsert(conn, address, clean_name(name), tags, _stamp(now), resubscribe=resubscribe)


def remove(conn: sqlite3.Connection, email: str, now: datetime, *, forget: bool = False) -> Subscriber:
    """Unsubscribe (the record stays, so a re-import cannot bring them back), or delete with `forget`."""
    found = find(conn, email)
    if found is None:
        raise DeliveryError(f"{email.strip()} is not in the subscriber list")
    with transaction(conn):
        if forget:
            conn.execute("DELETE FROM subscribers WHERE id = ?", (found.id,))
        else:
            conn.execute(
                "UPDATE subscribers SET status = 'unsubscribed', updated = ? WHERE id = ?", (_stamp(now), found.id)
            )
    return found


def set_status(conn: sqlite3.Connection, subscriber_id: int, status: Status, now: datetime) -> Subscriber | None:
    """Change a status; re-subscribing draws a new nonce so older unsubscribe links go stale."""
    with transaction(conn):
        current = get(conn, subscriber_id)
        if current is None:
            return None
        nonce = new_nonce() if status == "subscribed" and current.status != "subscribed" else current.nonce
        conn.execute(
            "UPDATE subscribers SET status = ?, nonce = ?, updated = ? WHERE id = ?",
            (status, nonce, _stamp(now), subscriber_id),
        )
        return get(conn, subscriber_id)


class transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.conn.execute("ROLLBACK" if kind is not None else "COMMIT")


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)  # "FILE:LINE: what is wrong", one per skipped row


def _rows(handle: TextIO, label: str, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(handle, strict=True)
    while True:
        before = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.errors.append(f"{label}:{reader.line_num}: not valid CSV ({exc}); row skipped")
            if reader.line_num == before:
                return
            continue
        yield reader.line_num, row


def import_csv(conn: sqlite3.Connection, path: Path, now: datetime) -> ImportReport:
    """Import `email,name[,tags]` rows (header row required); bad rows are reported and skipped.

    Existing addresses get the file's name (and tags, when the file has that
    column); their status is never changed. An export can be imported back.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DeliveryError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DeliveryError("not UTF-8 text; save the file as UTF-8", path=path, line=line) from None
    return import_rows(conn, io.StringIO(text, newline=""), str(path), now)


def import_rows(conn: sqlite3.Connection, handle: TextIO, label: str, now: datetime) -> ImportReport:
    report = ImportReport()
    rows = _rows(handle, label, report)
    header_line, header = next(rows, (1, []))
    columns = [h.strip().lower() for h in header]
    if "email" not in columns:
        raise DeliveryError("the first row must be a header naming the columns: email,name[,tags]", path=label, line=1)
    unknown = [c for c in columns if c not in EXPORT_COLUMNS]
    if unknown:
        raise DeliveryError(
            f"unknown column {unknown[0]!r}; the columns are email, name and (optionally) tags",
            path=label,
            line=header_line,
        )
    if len(set(columns)) != len(columns):
        raise DeliveryError("a column is named twice in the header", path=label, line=header_line)
    at = {name: columns.index(name) for name in columns}
    stamp = _stamp(now)
    seen: dict[str, int] = {}
    with transaction(conn):
        for line, row in rows:
            if not any(cell.strip() for cell in row):
                continue  # blank lines are not mistakes
            if len(row) > len(columns):
                report.errors.append(
                    f"{label}:{line}: {len(row)} fields but the header has {len(columns)}; row skipped"
                )
                continue
            cells = row + [""] * (len(columns) - len(row))
            raw_email = cells[at["email"]]
            try:
                address = normalize_email(raw_email)
                tags: TagUpdate = parse_tags(cells[at["tags"]]) if "tags" in at else KEEP
            except InvalidAddress as exc:
                shown = one_line(raw_email)[:80]
                report.errors.append(f"{label}:{line}: {shown!r} is not a valid address ({exc}); row skipped")
                continue
            key = email_key(address)
            if key in seen:
                report.errors.append(f"{label}:{line}: {address} already appears on line {seen[key]}; row skipped")
                continue
            seen[key] = line
            name = _from_csv(clean_name(cells[at["name"]])) if "name" in at else ""
            outcome, _ = _upsert(conn, address, name, tags, stamp, resubscribe=False)
            if outcome == "added":
                report.added += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.unchanged += 1
    return report


def export_csv(subscribers: Iterable[Subscriber], out: TextIO) -> int:
    """Write every subscriber as CSV (re-importable); returns how many rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for sub in subscribers:
        writer.writerow((sub.email, _csv_safe(sub.name), format_tags(sub.tags), sub.status, sub.created, sub.updated))
        count += 1
    return count


def _from_csv(value: str) -> str:
    """Undo `_csv_safe`, so an export imports back unchanged."""
    return value[1:] if value[:1] == "'" and value[1:2] in _FORMULA_STARTS else value


_FORMULA_STARTS = ("=", "+", "-", "@")


def _csv_safe(value: str) -> str:
    """Keep a spreadsheet from reading a name such as '=HYPERLINK(…)' as a formula."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value
