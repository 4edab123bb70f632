"""The subscriber list as `syndicate subscribers` uses it: each call opens the site's database."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import TextIO

from syndicate.config import Config
from syndicate.output import atomic_write
from syndicate.subscribers import consent, csvfile, signup
from syndicate.subscribers import store as subs
from syndicate.subscribers.csvfile import ImportReport
from syndicate.subscribers.store import AddOutcome, Status, Subscriber, TagUpdate


def import_subscribers(config: Config, file: Path, now: datetime) -> ImportReport:
    """Add or update everyone in a CSV file (email,name[,tags]); bad rows are reported, not imported."""
    return csvfile.import_csv(subs.open_site_database(config), file, now)


def export_subscribers(config: Config, status: Status | None, out: Path | TextIO) -> int:
    """Write the subscribers (with this status) and their recorded consent as CSV to a file (atomically)
    or a stream; how many."""
    if isinstance(out, Path):
        csvfile.refuse_foreign_export(out)
    conn = subs.open_site_database(config)
    rows, consents = subs.all_subscribers(conn, status), consent.all_consent(conn)
    if not isinstance(out, Path):
        return csvfile.export_csv(rows, out, consents)
    buffer = StringIO()
    count = csvfile.export_csv(rows, buffer, consents)
    atomic_write(out, buffer.getvalue().encode("utf-8"))
    return count


def add_subscriber(
    config: Config, email: str, name: str | None, now: datetime, *, tags: TagUpdate, resubscribe: bool
) -> tuple[AddOutcome, Subscriber]:
    """Add a subscriber, or update one already there: what happened ("added", ...), and the record."""
    return subs.add(subs.open_site_database(config), email, name, now, tags=tags, resubscribe=resubscribe)


def remove_subscriber(config: Config, email: str, now: datetime, *, forget: bool) -> Subscriber:
    """Unsubscribe an address (kept, so imports cannot bring it back), or with `forget` delete it."""
    conn = subs.open_site_database(config)
    removed = subs.remove(conn, email, now, forget=forget)
    if forget:  # erased means erased: the consent record, a pause and pending requests go too
        signup.forget(conn, removed.email)
    return removed


def list_subscribers(config: Config, status: Status | None) -> tuple[list[Subscriber], dict[Status, int]]:
    """The subscribers (with this status), and how many there are of each status."""
    conn = subs.open_site_database(config)
    return subs.all_subscribers(conn, status), subs.counts(conn)
