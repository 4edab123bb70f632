"""Delivering an issue over SMTP, with a send log that makes every run resumable.

The send log is a table in the subscriber database with one row per (issue,
subscriber). A row is `pending` until the message has travelled up to the
final "." of DATA; it is committed as `sending` just before that dot goes out,
and as `sent`, `deferred` (4xx, after bounded retries) or `failed` (5xx) when
the server has answered. So after a crash at any moment:

- `pending` rows were never accepted by the server (it cannot accept a message
  whose end it has not seen) and the next run sends them;
- `sent` rows are never sent again;
- a `sending` row is the one case nobody can know: the server may have accepted
  the message just before the crash. It is reported for review and resent
  only when asked (`--resend-unknown`), never silently.

Per-subscriber tag filters are honoured by composing one issue per distinct
filter (cached); personalising a message is cheap.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from syndicate.config import SMTP_CONNECTIONS, SMTP_RETRY_DELAYS
from syndicate.delivery.lanes import Lanes
from syndicate.delivery.smtp import Transport
from syndicate.errors import DeliveryError
from syndicate.newsletter.issue import Rendered
from syndicate.newsletter.message import Recipient, message_bytes
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection
from syndicate.subscribers.tokens import make_bounce_token, make_token, unsubscribe_url, verp_address

Composer = Callable[[frozenset[str] | None], Rendered | None]
# one recipient's message (or its wire bytes already); the datetime is its Date: header
Personalizer = Callable[[Rendered, Recipient, datetime], EmailMessage | bytes]
NOTHING_TO_SEND = "this issue has no posts; there is nothing to send"


def wire_bytes(message: EmailMessage | bytes) -> bytes:
    """The message as it goes on the wire (CRLF line ends, no Bcc ever)."""
    if isinstance(message, bytes):  # newsletter.message.personal_bytes: written without one
        return message
    del message["Bcc"]
    return message_bytes(message)


@dataclass(frozen=True, slots=True)
class SendOptions:
    rate: float = 0.0  # messages per second; 0 = as fast as the server takes them
    retry_delays: tuple[float, ...] = SMTP_RETRY_DELAYS  # waits before retrying a 4xx, in this run
    resend_unknown: bool = False
    retry_failed: bool = False
    connections: int = SMTP_CONNECTIONS  # SMTP connections at once
    max_per_hour: int = 0  # stop cleanly once this many messages went out in the last hour (0: no limit)
    max_per_day: int = 0  # likewise for the last 24 hours


@dataclass
class SendReport:
    """One issue's run, by what happened to each recipient."""

    issue: str
    sent: int = 0
    already_had: int = 0  # an earlier run sent it to them
    no_match: int = 0  # no post of the issue matches their tags
    left: int = 0  # unsubscribed (or bounced) since the issue was planned
    failed_before: int = 0  # refused in an earlier run; sent again only with --retry-failed
    failed: int = 0
    deferred: int = 0
    unknown: list[str] = field(default_factory=list)  # left in `sending`: for review
    problems: list[str] = field(default_factory=list)  # one line per failed or deferred recipient
    waiting: int = 0  # not tried: the run stopped first (a sending limit, Ctrl+C)
    stopped: str = ""  # why the run stopped before everyone was tried

    @property
    def skipped(self) -> int:
        """Everyone this run did not try."""
        return self.already_had + self.no_match + self.left + self.failed_before

    @property
    def clean(self) -> bool:
        return not (self.failed or self.deferred or self.unknown or self.waiting)


@contextmanager
def send_lock(database: Path) -> Iterator[None]:
    """One sender per database at a time (the lock dies with the process, even on SIGKILL)."""
    lock_path = database.with_name(database.name + ".send-lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeliveryError(
                "another `syndicate send` is using this database; wait for it to finish", path=database
            ) from None
        yield
    finally:
        os.close(fd)


class IssueCache:
    """One composed issue per distinct tag filter."""

    def __init__(self, compose: Composer) -> None:
        self._compose = compose
        self._issues: dict[frozenset[str] | None, Rendered | None] = {}

    def __call__(self, tags: frozenset[str] | None) -> Rendered | None:
        key = frozenset(t.casefold() for t in tags) if tags else None
        if key not in self._issues:
            self._issues[key] = self._compose(tags)
        return self._issues[key]


@dataclass(frozen=True, slots=True)
class Letterhead:
    """What every message of a run shares."""

    sender: str  # envelope sender
    secret: bytes
    unsubscribe_base: str
    manage_base: str = ""  # the manage page; each recipient's link carries their unsubscribe token
    bounce_address: str = ""  # [smtp] bounce_address: each message's envelope sender is local+TOKEN@domain


def envelope_sender(head: Letterhead, subscriber_id: int, issue: str) -> str:
    """The sender address a bounce of this message goes back to: one per recipient and issue (VERP)."""
    if not head.bounce_address:
        return head.sender
    return verp_address(head.bounce_address, make_bounce_token(head.secret, subscriber_id, issue))


def base_issue(issues: IssueCache) -> Rendered:
    base = issues(None)
    if base is None:
        raise DeliveryError(NOTHING_TO_SEND)
    return base


def recipient_for(sub: subs.Subscriber, head: Letterhead) -> Recipient:
    token = make_token(head.secret, sub.id, sub.nonce)
    token_url = unsubscribe_url(head.unsubscribe_base, token)
    manage = unsubscribe_url(head.manage_base, token) if head.manage_base else ""
    return Recipient(sub.email, sub.name, token_url, manage_url=manage, unsubscribe_token=token)


def send_issue(
    conn: Connection,
    compose: Composer,
    personalize: Personalizer,
    connect: Callable[[], Transport],
    head: Letterhead,
    *,
    options: SendOptions,
    clock: subs.Clock,
    on_plan: Callable[[str, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Send one issue to every subscriber who has not had it, over `options.connections` connections
    made by `connect`; see the module docstring.

    `on_plan(issue_key, count)` is called once the work is known (for a progress bar).
    """
    from syndicate.delivery.dispatch import Dispatch  # the lanes' threads: only a real send needs them

    sendlog.open_log(conn)
    issues = IssueCache(compose)
    key = base_issue(issues).key
    lanes = Lanes(connect, options.connections, options.retry_delays)
    run = Dispatch(conn, issues, personalize, lanes, head, options, clock, SendReport(key))
    todo = run.plan()
    if on_plan is not None:
        on_plan(key, len(todo))
    return run.run(todo, progress)
