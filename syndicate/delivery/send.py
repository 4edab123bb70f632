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
import heapq
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from syndicate.config import SMTP_PASSWORD_ENV, SMTP_RETRY_DELAYS
from syndicate.delivery.breaker import Breaker
from syndicate.delivery.smtp import ConnectError, Reply, Transport
from syndicate.errors import DeliveryError
from syndicate.newsletter.issue import Rendered
from syndicate.newsletter.message import Recipient, message_bytes
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection
from syndicate.subscribers.sendlog import State
from syndicate.subscribers.tokens import make_bounce_token, make_token, unsubscribe_url, verp_address

Composer = Callable[[frozenset[str] | None], Rendered | None]
Personalizer = Callable[[Rendered, Recipient], EmailMessage]
NOTHING_TO_SEND = "this week has no posts; there is nothing to send"


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends, no Bcc ever)."""
    del message["Bcc"]
    return message_bytes(message)


@dataclass(frozen=True, slots=True)
class SendOptions:
    rate: float = 0.0  # messages per second; 0 = as fast as the server takes them
    retry_delays: tuple[float, ...] = SMTP_RETRY_DELAYS  # waits before retrying a 4xx, in this run
    resend_unknown: bool = False
    retry_failed: bool = False


@dataclass
class SendReport:
    issue: str
    sent: int = 0
    skipped: int = 0  # sent by an earlier run, unsubscribed, no matching posts, or failed earlier
    failed: int = 0
    deferred: int = 0
    unknown: list[str] = field(default_factory=list)  # left in `sending`: for review
    problems: list[str] = field(default_factory=list)  # one line per failed or deferred recipient

    @property
    def clean(self) -> bool:
        return not (self.failed or self.deferred or self.unknown)


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
    url = unsubscribe_url(head.unsubscribe_base, token)
    return Recipient(email=sub.email, name=sub.name, unsubscribe_url=url, unsubscribe_token=token)


class _Run:
    def __init__(
        self,
        conn: Connection,
        issues: IssueCache,
        personalize: Personalizer,
        transport: Transport,
        head: Letterhead,
        options: SendOptions,
        clock: subs.Clock,
        sleep: Callable[[float], None],
    ) -> None:
        self.conn = conn
        self.issues = issues
        self.personalize = personalize
        self.transport = transport
        self.head = head
        self.options = options
        self.clock = clock
        self.sleep = sleep
        self.key = base_issue(issues).key
        self.report = SendReport(self.key)
        self._next_at = 0.0
        self.breaker = Breaker()

    def _stamp(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def _set(self, sid: int, state: State, detail: str, *, count_attempt: bool) -> None:
        sendlog.set_state(self.conn, self.key, sid, state, detail, self._stamp(), count_attempt=count_attempt)

    def plan(self) -> list[int]:
        """Add a pending row for every current subscriber; return the rows this run should try."""
        rows = sendlog.plan_issue(self.conn, self.key, self._stamp())
        wanted: set[State] = {"pending", "deferred"}
        if self.options.resend_unknown:
            wanted.add("sending")
        if self.options.retry_failed:
            wanted.add("failed")
        todo = []
        for row in rows:
            if row.state in wanted and row.status == "subscribed":
                todo.append(row.subscriber_id)
            elif row.state == "sending":
                self.report.unknown.append(row.email)
            else:
                self.report.skipped += 1
        return todo

    def _pace(self) -> None:
        if self.options.rate <= 0:
            return
        now = time.monotonic()
        if self._next_at > now:
            self.sleep(self._next_at - now)
        self._next_at = max(self._next_at, now) + 1.0 / self.options.rate

    def _connect(self) -> None:
        delays = self.options.retry_delays
        for attempt in range(len(delays) + 1):
            try:
                self.transport.connect()
                return
            except ConnectError as exc:
                if not exc.transient or attempt == len(delays):
                    raise
                self.sleep(delays[attempt])

    def attempt(self, sid: int) -> Reply | None:
        """Try one subscriber once; None when there was nothing to send."""
        sub = subs.get(self.conn, sid)
        if sub is None or sub.status != "subscribed":
            self.report.skipped += 1
            return None
        issue = self.issues(sub.tags)
        if issue is None:
            self._set(sid, "skipped", "no posts match the subscriber's tags", count_attempt=False)
            self.report.skipped += 1
            return None
        data = wire_bytes(self.personalize(issue, recipient_for(sub, self.head)))
        self._pace()
        marked = False

        def before_end() -> None:
            nonlocal marked
            self._set(sid, "sending", "", count_attempt=True)
            marked = True

        reply = Reply("not_sent", 0, "not connected", "connection")
        for _ in range(2):  # a connection that dropped between messages: reconnect once and go on
            if not self.transport.connected:
                self._connect()
            reply = self.transport.deliver(envelope_sender(self.head, sid, self.key), sub.email, data, before_end)
            if reply.kind != "not_sent":
                break
        if reply.refuses_the_sender:
            # the server refuses us, not this reader: mark nobody (this row goes back to waiting) and stop
            if marked:
                self._set(sid, "deferred", reply.describe(), count_attempt=False)
            raise DeliveryError(
                f"the SMTP server refuses to take mail from us: {reply.describe()}; nobody was marked failed "
                f"or bounced; check [smtp] host, username and {SMTP_PASSWORD_ENV}, then run again"
            )
        self._record(sub, reply, counted=marked)
        self._check_breaker(sid, reply)
        return reply

    def _check_breaker(self, sid: int, reply: Reply) -> None:
        """Stop when the same refusal hit many recipients in a row, putting them back untried."""
        streak = self.breaker.observe(sid, reply)
        if not streak:
            return
        for refused, bounced in streak:
            self._set(refused, "deferred", f"put back: the server refused {len(streak)} in a row", count_attempt=False)
            if bounced:
                subs.undo_bounce(self.conn, refused, self.clock())
        raise DeliveryError(
            f"the SMTP server refused {len(streak)} recipients in a row with the same answer: {reply.describe()}; "
            "that is the server, not them: nobody was marked failed or bounced; fix the server and run again"
        )

    def _record(self, sub: subs.Subscriber, reply: Reply, *, counted: bool) -> None:
        detail = reply.describe()
        if reply.kind == "accepted":
            self._set(sub.id, "sent", detail, count_attempt=not counted)
        elif reply.kind == "permanent":
            self._set(sub.id, "failed", detail, count_attempt=not counted)
            if reply.bounced:
                subs.set_status(self.conn, sub.id, "bounced", self.clock())
        elif reply.kind == "unknown":
            self._set(sub.id, "sending", detail, count_attempt=False)
        else:  # transient, or the connection failed twice before the message could be accepted
            self._set(sub.id, "deferred", detail, count_attempt=not counted)

    def run(self, todo: list[int], progress: Callable[[int], None] | None) -> SendReport:
        queue: list[tuple[float, int, int]] = []  # (due, subscriber id, retries so far)
        delays = self.options.retry_delays
        for sid in todo:
            reply = self.attempt(sid)
            if reply is not None and reply.kind in ("transient", "not_sent") and delays:
                heapq.heappush(queue, (time.monotonic() + delays[0], sid, 1))
            else:
                self._tally(sid, reply)
            if progress is not None:
                progress(1)
        while queue:
            due, sid, tries = heapq.heappop(queue)
            wait = due - time.monotonic()
            if wait > 0:
                self.transport.close()  # do not hold an idle connection open while waiting
                self.sleep(wait)
            reply = self.attempt(sid)
            if reply is not None and reply.kind in ("transient", "not_sent") and tries < len(delays):
                heapq.heappush(queue, (time.monotonic() + delays[tries], sid, tries + 1))
            else:
                self._tally(sid, reply)
        return self.report

    def _tally(self, sid: int, reply: Reply | None) -> None:
        if reply is None:
            return
        email = sendlog.logged_email(self.conn, self.key, sid)
        if reply.kind == "accepted":
            self.report.sent += 1
        elif reply.kind == "permanent":
            self.report.failed += 1
            self.report.problems.append(f"{email}: failed: {reply.describe()}")
        elif reply.kind == "unknown":
            self.report.unknown.append(email)
        else:
            self.report.deferred += 1
            self.report.problems.append(f"{email}: deferred: {reply.describe()}")


def send_issue(
    conn: Connection,
    compose: Composer,
    personalize: Personalizer,
    transport: Transport,
    head: Letterhead,
    *,
    options: SendOptions,
    clock: subs.Clock,
    on_plan: Callable[[str, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send one issue to every subscriber who has not had it; see the module docstring.

    `on_plan(issue_key, count)` is called once the work is known (for a progress bar).
    """
    sendlog.open_log(conn)
    run = _Run(conn, IssueCache(compose), personalize, transport, head, options, clock, sleep)
    todo = run.plan()
    if on_plan is not None:
        on_plan(run.key, len(todo))
    try:
        return run.run(todo, progress)
    finally:
        transport.close()
