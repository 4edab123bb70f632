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
import re
import smtplib
import socket
import sqlite3
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol

from syndicate.config import SmtpConfig
from syndicate.errors import DeliveryError
from syndicate.newsletter.message import ComposedIssue, Recipient, message_bytes
from syndicate.output import atomic_write
from syndicate.subscribers import store as subs
from syndicate.subscribers.tokens import make_token, unsubscribe_url
from syndicate.text import one_line

PASSWORD_ENV = "SYNDICATE_SMTP_PASSWORD"  # noqa: S105 (the variable's name, not a password)
State = Literal["pending", "sending", "sent", "failed", "deferred", "skipped"]
STATES: tuple[State, ...] = ("pending", "sending", "sent", "failed", "deferred", "skipped")
DEFAULT_RETRY_DELAYS = (1.0, 5.0, 20.0)
BOUNCE_CODES = frozenset({550, 551, 553})  # the mailbox does not exist or is not acceptable

_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS send_log (
    issue TEXT NOT NULL,
    subscriber_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'deferred', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    PRIMARY KEY (issue, subscriber_id)
) WITHOUT ROWID;
"""

Composer = Callable[[frozenset[str] | None], ComposedIssue | None]
Personalizer = Callable[[ComposedIssue, Recipient], EmailMessage]
Clock = Callable[[], datetime]


def open_log(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.executescript(_LOG_SCHEMA)
    return conn


# ---------------------------------------------------------------------------------------------- SMTP


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    username: str = ""
    password: str = ""
    timeout: float = 30.0

    def __str__(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


def smtp_target(
    smtp: SmtpConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    security: Literal["starttls", "ssl", "none"] | None = None,
    environ: Mapping[str, str] | None = None,
) -> SmtpTarget:
    """[smtp] settings with command-line overrides; the password only ever comes from the environment."""
    env = os.environ if environ is None else environ
    password = env.get(PASSWORD_ENV, "")
    if smtp.username and not password:
        raise DeliveryError(f"[smtp] username is set but {PASSWORD_ENV} is not; set it to the SMTP password")
    chosen = security or smtp.security
    default_port = {"ssl": 465, "starttls": 587, "none": 25}[chosen]
    return SmtpTarget(
        host=host or smtp.host,
        port=port or (smtp.port if security is None else default_port),
        security=chosen,
        username=smtp.username,
        password=password,
        timeout=smtp.timeout,
    )


ReplyKind = Literal["accepted", "transient", "permanent", "unknown", "not_sent"]


@dataclass(frozen=True, slots=True)
class Reply:
    """What became of one message: the server's answer and at which step it came."""

    kind: ReplyKind
    code: int
    text: str
    stage: str  # MAIL, RCPT, DATA, end of data, connection

    def describe(self) -> str:
        code = f"{self.code} " if self.code else ""
        return f"{code}{self.text} (at {self.stage})".strip()


class ConnectError(DeliveryError):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Transport(Protocol):
    @property
    def connected(self) -> bool: ...

    def connect(self) -> None: ...

    def deliver(self, sender: str, recipient: str, data: bytes, before_end: Callable[[], None]) -> Reply: ...

    def close(self) -> None: ...


def _text(raw: bytes | str) -> str:
    value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return one_line(value)[:300]


def _classify(code: int, text: bytes | str, stage: str) -> Reply:
    if 200 <= code < 300:
        return Reply("accepted", code, _text(text), stage)
    return Reply("permanent" if code >= 500 else "transient", code, _text(text), stage)


_EOL = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"^\.", re.M)


def dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, leading dots doubled, ending in CRLF (RFC 5321 4.5.2)."""
    body = _LEADING_DOT.sub(b"..", _EOL.sub(b"\r\n", data))
    return body if body.endswith(b"\r\n") else body + b"\r\n"


class SmtpTransport:
    """One SMTP connection reused for many messages; `connect` again after it drops.

    DATA is driven by hand (not smtplib.sendmail) so the caller can commit the
    send log between the message body and the final dot: before the dot the
    server cannot have accepted anything.
    """

    def __init__(self, target: SmtpTarget, *, local_hostname: str | None = None) -> None:
        self.target = target
        self.local_hostname = local_hostname or socket.getfqdn()  # once, not per reconnect (it may ask DNS)
        self._smtp: smtplib.SMTP | None = None

    @property
    def connected(self) -> bool:
        return self._smtp is not None

    def connect(self) -> None:
        self.close()
        t = self.target
        context = ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            if t.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    t.host, t.port, local_hostname=self.local_hostname, timeout=t.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(t.host, t.port, local_hostname=self.local_hostname, timeout=t.timeout)
            # the final dot goes out in its own small write after the log commit; without this,
            # Nagle's algorithm holds it until the server's delayed ACK (about 40 ms per message)
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if t.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ConnectError(
                        f'the SMTP server {t} does not offer STARTTLS; set [smtp] security to "ssl" or, '
                        'for a local relay only, "none"',
                        transient=False,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if t.username:
                smtp.login(t.username, t.password)
        except ConnectError:
            _quietly_close(smtp)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(smtp)
            raise ConnectError(
                f"the SMTP server {t} refused the login for {t.username!r} ({exc.smtp_code}); "
                f"check [smtp] username and {PASSWORD_ENV}",
                transient=False,
            ) from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            _quietly_close(smtp)
            raise ConnectError(f"TLS with the SMTP server {t} failed: {exc}", transient=False) from None
        except smtplib.SMTPResponseException as exc:
            _quietly_close(smtp)
            raise ConnectError(
                f"the SMTP server {t} answered {exc.smtp_code} {_text(exc.smtp_error)}", transient=exc.smtp_code < 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            _quietly_close(smtp)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            raise ConnectError(f"cannot talk to the SMTP server {t}: {reason}", transient=True) from None
        self._smtp = smtp

    def deliver(self, sender: str, recipient: str, data: bytes, before_end: Callable[[], None]) -> Reply:
        """Send one message; `before_end` runs (and must commit) just before the final dot."""
        smtp = self._smtp
        if smtp is None:
            return Reply("not_sent", 0, "not connected", "connection")
        stage = "MAIL"
        try:
            code, text = smtp.mail(sender)
            if code != 250:
                return self._refused(code, text, stage)
            stage = "RCPT"
            code, text = smtp.rcpt(recipient)
            if code not in (250, 251):
                return self._refused(code, text, stage)
            stage = "DATA"
            code, text = smtp.docmd("DATA")
            if code != 354:
                return self._refused(code, text, stage)
            smtp.send(dot_stuffed(data))
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Reply("not_sent", 0, f"connection lost: {exc}", stage)
        before_end()
        try:
            smtp.send(b".\r\n")
            code, text = smtp.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Reply("unknown", 0, f"connection lost waiting for the server's answer: {exc}", "end of data")
        if code == 421:
            self.close()
        return _classify(code, text, "end of data")

    def _refused(self, code: int, text: bytes, stage: str) -> Reply:
        if code == 421:  # the server is closing the connection
            self.close()
        elif self._smtp is not None:
            try:
                self._smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()
        return _classify(code, text, stage)

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(smtp)

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _quietly_close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        with suppress(OSError):
            smtp.close()


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends, no Bcc ever)."""
    del message["Bcc"]
    return message_bytes(message)


# ---------------------------------------------------------------------------------------------- send log


@dataclass(frozen=True, slots=True)
class SendOptions:
    rate: float = 0.0  # messages per second; 0 = as fast as the server takes them
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS  # waits before retrying a 4xx, in this run
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
    attempted: int = 0

    @property
    def clean(self) -> bool:
        return not (self.failed or self.deferred or self.unknown)


@dataclass(frozen=True, slots=True)
class LogRow:
    issue: str
    subscriber_id: int
    email: str
    state: State
    attempts: int
    detail: str
    updated: str


def log_rows(conn: sqlite3.Connection, issue: str | None = None) -> list[LogRow]:
    open_log(conn)
    sql = "SELECT issue, subscriber_id, email, state, attempts, detail, updated FROM send_log"
    rows = (
        conn.execute(sql + " WHERE issue = ? ORDER BY subscriber_id", (issue,))
        if issue
        else conn.execute(sql + " ORDER BY issue, subscriber_id")
    )
    return [LogRow(*row) for row in rows]


def mark_sent(conn: sqlite3.Connection, issue: str, email: str, now: datetime) -> bool:
    """Resolve a reviewed `sending` row as delivered (the user checked the server's log)."""
    open_log(conn)
    cur = conn.execute(
        "UPDATE send_log SET state = 'sent', detail = 'marked sent after review', updated = ? "
        "WHERE issue = ? AND state = 'sending' AND lower(email) = lower(?)",
        (now.isoformat(timespec="seconds"), issue, email.strip()),
    )
    return cur.rowcount > 0


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
        self._issues: dict[frozenset[str] | None, ComposedIssue | None] = {}

    def __call__(self, tags: frozenset[str] | None) -> ComposedIssue | None:
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


def _base_issue(issues: IssueCache) -> ComposedIssue:
    base = issues(None)
    if base is None:
        raise DeliveryError("this week has no posts; there is nothing to send")
    return base


def recipient_for(sub: subs.Subscriber, head: Letterhead) -> Recipient:
    token = make_token(head.secret, sub.id, sub.nonce)
    return Recipient(email=sub.email, name=sub.name, unsubscribe_url=unsubscribe_url(head.unsubscribe_base, token))


class _Run:
    def __init__(
        self,
        conn: sqlite3.Connection,
        issues: IssueCache,
        personalize: Personalizer,
        transport: Transport,
        head: Letterhead,
        options: SendOptions,
        clock: Clock,
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
        self.key = _base_issue(issues).key
        self.report = SendReport(self.key)
        self._next_at = 0.0

    def _stamp(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def _set(self, sid: int, state: State, detail: str, *, count_attempt: bool) -> None:
        # Autocommit: each UPDATE is its own transaction, in the WAL before this returns, so a killed
        # process loses none. Only `sending` waits for fsync as well: were a later commit lost to a power
        # cut, the row falls back to `sending` (reported, never resent) or, before the final dot, to
        # `pending` (the server cannot have the message) -- never to a state that sends twice. The next
        # `sending` commit syncs the earlier ones with it: one fsync per message instead of two.
        self.conn.execute(f"PRAGMA synchronous = {'FULL' if state == 'sending' else 'NORMAL'}")
        self.conn.execute(
            "UPDATE send_log SET state = ?, detail = ?, updated = ?, attempts = attempts + ? "
            "WHERE issue = ? AND subscriber_id = ?",
            (state, detail, self._stamp(), int(count_attempt), self.key, sid),
        )

    def plan(self) -> list[int]:
        """Add a pending row for every current subscriber; return the rows this run should try."""
        with subs.transaction(self.conn):
            self.conn.execute(
                "INSERT OR IGNORE INTO send_log (issue, subscriber_id, email, state, updated) "
                "SELECT ?, id, email, 'pending', ? FROM subscribers WHERE status = 'subscribed'",
                (self.key, self._stamp()),
            )
        wanted: set[State] = {"pending", "deferred"}
        if self.options.resend_unknown:
            wanted.add("sending")
        if self.options.retry_failed:
            wanted.add("failed")
        todo = []
        for sid, email, state, status in self.conn.execute(
            "SELECT l.subscriber_id, l.email, l.state, s.status FROM send_log l "
            "LEFT JOIN subscribers s ON s.id = l.subscriber_id WHERE l.issue = ? ORDER BY l.subscriber_id",
            (self.key,),
        ):
            if state in wanted and status == "subscribed":
                todo.append(int(sid))
            elif state == "sending":
                self.report.unknown.append(str(email))
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
            reply = self.transport.deliver(self.head.sender, sub.email, data, before_end)
            if reply.kind != "not_sent":
                break
        self.report.attempted += 1
        self._record(sub, reply, counted=marked)
        return reply

    def _record(self, sub: subs.Subscriber, reply: Reply, *, counted: bool) -> None:
        detail = reply.describe()
        if reply.kind == "accepted":
            self._set(sub.id, "sent", detail, count_attempt=not counted)
        elif reply.kind == "permanent":
            self._set(sub.id, "failed", detail, count_attempt=not counted)
            if reply.stage == "RCPT" and reply.code in BOUNCE_CODES:
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
        email = self.conn.execute(
            "SELECT email FROM send_log WHERE issue = ? AND subscriber_id = ?", (self.key, sid)
        ).fetchone()[0]
        if reply.kind == "accepted":
            self.report.sent += 1
        elif reply.kind == "permanent":
            self.report.failed += 1
            self.report.problems.append(f"{email}: failed: {reply.describe()}")
        elif reply.kind == "unknown":
            self.report.unknown.append(str(email))
        else:
            self.report.deferred += 1
            self.report.problems.append(f"{email}: deferred: {reply.describe()}")


def send_issue(
    conn: sqlite3.Connection,
    compose: Composer,
    personalize: Personalizer,
    transport: Transport,
    head: Letterhead,
    *,
    options: SendOptions,
    clock: Clock,
    on_plan: Callable[[str, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send one issue to every subscriber who has not had it; see the module docstring.

    `on_plan(issue_key, count)` is called once the work is known (for a progress bar).
    """
    open_log(conn)
    run = _Run(conn, IssueCache(compose), personalize, transport, head, options, clock, sleep)
    todo = run.plan()
    if on_plan is not None:
        on_plan(run.key, len(todo))
    try:
        return run.run(todo, progress)
    finally:
        transport.close()


def pending_recipients(conn: sqlite3.Connection, issues: IssueCache) -> Iterator[tuple[subs.Subscriber, ComposedIssue]]:
    """The subscribers a real run would send to now, with their issue (read-only)."""
    open_log(conn)
    key = _base_issue(issues).key
    done = {
        int(sid)
        for (sid,) in conn.execute(
            "SELECT subscriber_id FROM send_log WHERE issue = ? AND state IN ('sent', 'sending', 'failed', 'skipped')",
            (key,),
        )
    }
    for sub in subs.all_subscribers(conn, "subscribed"):
        if sub.id in done:
            continue
        issue = issues(sub.tags)
        if issue is not None:
            yield sub, issue


def write_dry_run(
    conn: sqlite3.Connection, compose: Composer, personalize: Personalizer, head: Letterhead, folder: Path
) -> list[Path]:
    """Write the personalised messages a real run would send, as .eml files; the send log is untouched."""
    issues = IssueCache(compose)
    written = []
    for n, (sub, issue) in enumerate(pending_recipients(conn, issues), 1):
        safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", sub.email)[:100]
        path = folder / f"{issue.key}-{n:05d}-{safe}.eml"
        atomic_write(path, wire_bytes(personalize(issue, recipient_for(sub, head))), durable=False)
        written.append(path)
    return written


def send_test_copy(transport: Transport, sender: str, address: str, message: EmailMessage) -> Reply:
    """One message to one address, outside the send log (a proof to look at)."""
    transport.connect()
    try:
        return transport.deliver(sender, address, wire_bytes(message), lambda: None)
    finally:
        transport.close()
