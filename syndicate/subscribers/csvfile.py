"""The subscriber list as CSV: importing `email,name[,tags]` files, exporting every subscriber.

An export imports back unchanged. Bad rows are reported with their line and
skipped; the rest of the file is imported in transactions of BATCH rows, so a
large import never holds the database for long, and importing again after an
interruption completes it without duplicating anyone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from syndicate.addresses import InvalidAddress
from syndicate.errors import DeliveryError, SourceError
from syndicate.sources.fetch import read_regular
from syndicate.subscribers import consent
from syndicate.subscribers.db import Connection, transaction, translated
from syndicate.subscribers.store import (
    KEEP,
    Subscriber,
    TagUpdate,
    clean_name,
    email_key,
    format_tags,
    normalize_email,
    parse_tags,
    timestamp,
    upsert,
)
from syndicate.subscribers.suppression import Checker
from syndicate.text import one_line

MAX_CSV_BYTES = 2**30  # ten million subscribers fit in far less
EXPORT_COLUMNS = ("email", "name", "tags", "status", "created", "updated", *consent.COLUMNS)


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    suppressed: int = 0  # on the suppression list (erased with --forget, or complained): not added
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


def import_csv(conn: Connection, path: Path, now: datetime) -> ImportReport:
    """Import `email,name[,tags]` rows (header row required); bad rows are reported and skipped.

    Existing addresses get the file's name (and tags, when the file has that
    column); their status is never changed. An export can be imported back.
    """
    try:
        data = read_regular(path, str(path), MAX_CSV_BYTES, "CSV file")  # a FIFO would wait forever
    except SourceError as exc:
        raise DeliveryError(exc.message, path=path) from None
    except OSError as exc:
        raise DeliveryError(f"cannot read: {exc.strerror}", path=path) from None
    if len(data) > MAX_CSV_BYTES:
        raise DeliveryError(f"larger than {MAX_CSV_BYTES // 2**30} GB; split it into smaller files", path=path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DeliveryError("not UTF-8 text; save the file as UTF-8", path=path, line=line) from None
    return import_rows(conn, io.StringIO(text, newline=""), str(path), now)


BATCH = 500  # rows per transaction: a 200,000-row import holds the database for milliseconds at a time


def _chunks(rows: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _import_row(
    conn: Connection,
    label: str,
    line: int,
    row: list[str],
    width: int,
    at: dict[str, int],
    stamp: str,
    seen: dict[str, int],
    report: ImportReport,
    suppressed: Checker,
) -> None:
    """One CSV row into the database (inside the caller's transaction), or its problem into the report."""
    if not any(cell.strip() for cell in row):
        return  # blank lines are not mistakes
    if len(row) > width:
        report.errors.append(f"{label}:{line}: {len(row)} fields but the header has {width}; row skipped")
        return
    cells = row + [""] * (width - len(row))
    raw_email = _from_csv(cells[at["email"]])
    try:
        address = normalize_email(raw_email)
        tags: TagUpdate = parse_tags(_from_csv(cells[at["tags"]])) if "tags" in at else KEEP
    except InvalidAddress as exc:
        shown = one_line(raw_email)[:80]
        report.errors.append(f"{label}:{line}: {shown!r} is not a valid address ({exc}); row skipped")
        return
    key = email_key(address)
    if key in seen:
        report.errors.append(f"{label}:{line}: {address} already appears on line {seen[key]}; row skipped")
        return
    seen[key] = line
    name = _from_csv(clean_name(cells[at["name"]])) if "name" in at else ""
    outcome, _ = upsert(conn, address, name, tags, stamp, resubscribe=False, suppressed=suppressed)
    if outcome == "suppressed":
        report.suppressed += 1
    elif outcome == "added":
        report.added += 1
    elif outcome == "updated":
        report.updated += 1
    else:
        report.unchanged += 1


@translated
def import_rows(conn: Connection, handle: TextIO, label: str, now: datetime) -> ImportReport:
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
    stamp = timestamp(now)
    seen: dict[str, int] = {}
    suppressed = Checker(conn)
    for chunk in _chunks(rows, BATCH):
        with transaction(conn):  # short write transactions: an unsubscribe or a send never waits long
            for line, row in chunk:
                _import_row(conn, label, line, row, len(columns), at, stamp, seen, report, suppressed)
    return report


def export_csv(
    subscribers: Iterable[Subscriber], out: TextIO, consents: Mapping[str, consent.Consent] | None = None
) -> int:
    """Write every subscriber as CSV (re-importable), with their recorded consent; returns how many rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for sub in subscribers:
        given = (consents or {}).get(email_key(sub.email))
        row = (sub.email, sub.name, format_tags(sub.tags), sub.status, sub.created, sub.updated)
        # every column: a tag or an address can begin with "=" as well as a name
        writer.writerow([_csv_safe(str(cell)) for cell in row + (given.columns() if given else consent.NONE)])
        count += 1
    return count


def refuse_foreign_export(path: Path) -> None:
    """An export replaces only an earlier export (its first line is our header), never a user's file."""
    try:
        head = read_regular(path, str(path), 4096, "CSV file")
    except FileNotFoundError:
        return
    except (OSError, SourceError):  # a FIFO, a device, a folder: not ours either
        head = b""
    if head.partition(b"\n")[0].decode("utf-8", "replace") != ",".join(EXPORT_COLUMNS):
        raise DeliveryError(
            "is already there and is not an export of syndicate; give a new file name, or move it away first",
            path=path,
        )


def _from_csv(value: str) -> str:
    """Undo `_csv_safe`, so an export imports back unchanged."""
    return value[1:] if value[:1] == "'" and _looks_like_formula(value[1:]) else value


# what a spreadsheet may run as a formula (OWASP's list: tab and carriage return too)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _looks_like_formula(value: str) -> bool:
    """Starts with a formula character, maybe behind quotes: those are escaped too, so that
    removing one quote on import is always right ('=x and =x both survive the round trip)."""
    return value.lstrip("'")[:1] in _FORMULA_STARTS and value.lstrip("'") != ""


def _csv_safe(value: str) -> str:
    """Keep a spreadsheet from reading a cell such as '=HYPERLINK(…)' as a formula."""
    return "'" + value if _looks_like_formula(value) else value
