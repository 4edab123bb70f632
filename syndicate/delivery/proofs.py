"""Looking before sending: the messages a run would send, written as files (a dry
run), and one test copy to one address. Neither touches the send log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from syndicate.delivery.send import (
    Composer,
    IssueCache,
    Letterhead,
    Personalizer,
    base_issue,
    recipient_for,
    wire_bytes,
)
from syndicate.delivery.smtp import Reply, Transport
from syndicate.newsletter.issue import Rendered
from syndicate.output import atomic_write
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection


def pending_recipients(conn: Connection, issues: IssueCache) -> Iterator[tuple[subs.Subscriber, Rendered]]:
    """The subscribers a real run would send to now, with their issue (read-only)."""
    sendlog.open_log(conn)
    done = sendlog.settled(conn, base_issue(issues).key)
    for sub in subs.all_subscribers(conn, "subscribed"):
        if sub.id in done:
            continue
        issue = issues(sub.tags)
        if issue is not None:
            yield sub, issue


def write_dry_run(
    conn: Connection, compose: Composer, personalize: Personalizer, head: Letterhead, folder: Path, date: datetime
) -> list[Path]:
    """Write the personalised messages a real run would send (dated `date`), as .eml files; the send log
    is untouched."""
    issues = IssueCache(compose)
    written = []
    for n, (sub, issue) in enumerate(pending_recipients(conn, issues), 1):
        safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", sub.email)[:100]
        path = folder / f"{issue.key}-{n:05d}-{safe}.eml"
        atomic_write(path, wire_bytes(personalize(issue, recipient_for(sub, head), date)), durable=False)
        written.append(path)
    return written


def send_test_copy(transport: Transport, sender: str, address: str, message: EmailMessage) -> Reply:
    """One message to one address, outside the send log (a proof to look at)."""
    transport.connect()
    try:
        return transport.deliver(sender, address, wire_bytes(message), lambda: True)
    finally:
        transport.close()
