"""Delivery over SMTP: a real aiosmtpd server on loopback, started by each test.

The servers misbehave on purpose: temporary (421/451) and permanent (550)
refusals, connections dropped after a few messages or before an answer, and a
sender killed with SIGKILL in the middle of a run. Whatever happens, every
subscribed recipient must end up with exactly one message, or be reported.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from itertools import pairwise
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from click.testing import CliRunner
from conftest import EXAMPLE_TODAY, copy_example_site
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.build.compose import compose_issue
from syndicate.cli.main import main
from syndicate.config import Config, load_config
from syndicate.delivery import send as mail
from syndicate.delivery import smtp
from syndicate.errors import DeliveryError
from syndicate.newsletter.issue import Rendered, unsubscribe_base
from syndicate.newsletter.message import Recipient, personalize
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs
from syndicate.subscribers.tokens import read_token

SECRET = b"test-secret-0123456789abcdef"
NOW = datetime(2013, 4, 29, 9, 0, tzinfo=UTC)
WEEK = "2013-W16"
FAST = (0.01, 0.02, 0.04)  # retry waits for tests: bounded, and short


# ------------------------------------------------------------------------------------------ the SMTP server


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message and can misbehave.

    `rcpt_replies[address]` is a list of replies given to that address's next
    RCPT commands, one per attempt (then it is accepted); "drop" closes the
    connection there. `drop_after` closes each connection after that many
    messages; `vanish_for` addresses get their message kept but the connection
    is closed before the server answers the final dot.
    """

    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    always: dict[str, str] = field(default_factory=dict)
    drop_after: int | None = None
    vanish_for: set[str] = field(default_factory=set)
    data_replies: dict[str, str] = field(default_factory=dict)  # recipient → the answer to its final dot
    pipelining: bool = False  # offer PIPELINING (RFC 2920)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> Counter[str]:
        with self.lock:
            return Counter(r for m in self.received for r in m.recipients)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            queue = self.rcpt_replies.get(address)
            reply = queue.pop(0) if queue else self.always.get(address)
        if reply == "drop":
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
            done = getattr(session, "delivered", 0) + 1
        session.delivered = done  # type: ignore[attr-defined]
        transport = server.transport
        assert transport is not None
        if set(envelope.rcpt_tos) & self.vanish_for:
            transport.abort()  # kept the message, but the client never hears so
        elif self.drop_after is not None and done >= self.drop_after:
            asyncio.get_running_loop().call_soon(transport.close)  # after this answer goes out
        for address in envelope.rcpt_tos:
            if address in self.data_replies:
                return self.data_replies[address]
        return "250 OK queued"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 with an ephemeral port, in its own thread and event loop."""

    def __init__(self, handler: Recorder) -> None:
        self.handler = handler
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        assert ready.wait(10), "SMTP server did not start"

    def _factory(self) -> SMTP:
        self.handler.connections += 1
        return SMTP(self.handler, hostname="sink.test", loop=self.loop)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(self.loop.create_server(self._factory, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def smtp_server(recorder: Recorder) -> Iterator[SmtpServer]:
    server = SmtpServer(recorder)
    yield server
    server.stop()


# ------------------------------------------------------------------------------------------ helpers


def fresh_site(tmp_path: Path) -> Config:
    """The example site as a newsletter that has sent nothing yet (its issue records removed)."""
    config_path = copy_example_site(tmp_path / "site")
    shutil.rmtree(config_path.parent / "samples" / "newsletter")
    return load_config(config_path, output_dir=tmp_path / "out")


@pytest.fixture
def site(tmp_path: Path) -> Config:
    return fresh_site(tmp_path)


def connect(config: Config) -> sqlite3.Connection:
    assert config.database is not None
    return subs.connect(config.database)


def add_people(conn: sqlite3.Connection, count: int, *, start: int = 0) -> list[str]:
    emails = [f"reader{n:03d}@example.org" for n in range(start, start + count)]
    for n, address in enumerate(emails, start):
        subs.add(conn, address, f"Reader {n}", NOW)
    return emails


def composer(config: Config) -> Callable[[frozenset[str] | None], Rendered | None]:
    def compose(tags: frozenset[str] | None) -> Rendered | None:
        return compose_issue(config, EXAMPLE_TODAY, lambda _m: None, week=WEEK, tags=tags)

    return compose


def run_send(
    config: Config,
    server: SmtpServer,
    *,
    compose: Callable[[frozenset[str] | None], Rendered | None] | None = None,
    clock_offset: timedelta = timedelta(),
    **options: Any,
) -> mail.SendReport:
    target = smtp.SmtpTarget("127.0.0.1", server.port, "none", timeout=10)
    head = mail.Letterhead("author@example.org", SECRET, unsubscribe_base(config))
    return mail.send_issue(
        connect(config),
        compose or composer(config),
        lambda issue, r, d: personalize(config, issue, r, d),
        lambda: smtp.SmtpTransport(target, local_hostname="sender.test"),
        head,
        options=mail.SendOptions(**{"retry_delays": FAST, **options}),
        clock=lambda: NOW + clock_offset,
    )


def states(config: Config) -> dict[str, str]:
    return {row.email: row.state for row in sendlog.log_rows(connect(config), WEEK)}


def site_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env.update({"SYNDICATE_SECRET": SECRET.decode(), "PYTHONUNBUFFERED": "1", **extra})
    return env


# ------------------------------------------------------------------------------------------ delivery


def test_every_subscriber_gets_one_personalised_message(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    conn = connect(site)
    emails = add_people(conn, 12)
    subs.add(conn, "left@example.org", "Left", NOW)
    subs.remove(conn, "left@example.org", NOW)
    hostile = {
        "crlf@example.org": "Eve\r\nBcc: victim@example.org",
        "jinja@example.org": "{{ config }} {% raw %}",
        "markup@example.org": "<b>Bold</b> & <script>alert(1)</script>",
    }
    for address, name in hostile.items():
        conn.execute(  # straight into the table: names from older versions or other tools are not cleaned
            "INSERT INTO subscribers (email, email_key, name, status, nonce, created, updated) "
            "VALUES (?, ?, ?, 'subscribed', ?, ?, ?)",
            (address, address, name, subs.new_nonce(), NOW.isoformat(), NOW.isoformat()),
        )
    subs.add(conn, "sdn@example.org", "Tagged", NOW, tags=frozenset({"sdn"}))

    report = run_send(site, smtp_server)

    everyone = [*emails, *hostile, "sdn@example.org"]
    assert recorder.count() == Counter(everyone)
    assert (report.sent, report.failed, report.deferred, report.unknown) == (len(everyone), 0, 0, [])
    by_address = {m.recipients[0]: m for m in recorder.received}
    for address in everyone:
        received = by_address[address]
        message = received.message
        assert received.sender == "author@example.org"
        assert message["To"].addresses[0].addr_spec == address
        assert len(message.get_all("To") or []) == 1 and message["Bcc"] is None
        assert message["Message-ID"] and message["Date"] and message["List-Id"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        raw_header = received.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        assert "=?" not in raw_header.split("List-Unsubscribe:", 1)[1].split("\r\n", 1)[0]  # a plain URL
        url = str(message["List-Unsubscribe"]).split(">", 1)[0].lstrip("<")
        assert url.startswith("https://blog.example.org/unsubscribe?token=")
        claim = read_token(SECRET, url.split("token=", 1)[1])
        found = subs.find(conn, address)
        assert found is not None and claim.subscriber_id == found.id and claim.nonce == found.nonce
        html = message.get_body(("html",))
        assert html is not None and url.replace("&", "&amp;") in html.get_content()
    assert "left@example.org" not in recorder.count()

    crlf = by_address["crlf@example.org"].message
    assert crlf["To"].addresses[0].display_name == "Eve Bcc: victim@example.org"
    assert "victim@example.org" not in recorder.count()
    markup = by_address["markup@example.org"].message.get_body(("html",))
    assert markup is not None
    assert "<b>Bold</b>" not in markup.get_content() and "&lt;b&gt;Bold&lt;/b&gt;" in markup.get_content()
    jinja = by_address["jinja@example.org"].message.get_body(("plain",))
    assert jinja is not None and "{{ config }} {% raw %}" in jinja.get_content()

    full = by_address["reader000@example.org"].message
    tagged = by_address["sdn@example.org"].message
    assert "8 new posts" in str(full["Subject"]) and "1 new post" in str(tagged["Subject"])

    again = run_send(site, smtp_server)
    assert (again.sent, again.skipped) == (0, len(everyone))
    assert recorder.count() == Counter(everyone)  # nobody twice


def test_leading_dots_survive_data(site: Config, smtp_server: SmtpServer, recorder: Recorder) -> None:
    conn = connect(site)
    add_people(conn, 1)
    base = composer(site)(None)
    assert base is not None

    def personal(issue: Rendered, recipient: Recipient, when: datetime) -> EmailMessage:
        message = personalize(site, issue, recipient, when)
        message.get_body(("plain",)).set_content(".\n..leading dots\n.\nend\n", cte="7bit")  # type: ignore[union-attr]
        return message

    target = smtp.SmtpTarget("127.0.0.1", smtp_server.port, "none", timeout=10)
    head = mail.Letterhead("author@example.org", SECRET, unsubscribe_base(site))
    transport = lambda: smtp.SmtpTransport(target, local_hostname="sender.test")  # noqa: E731
    report = mail.send_issue(
        conn, lambda _t: base, personal, transport, head, options=mail.SendOptions(), clock=lambda: NOW
    )
    assert report.sent == 1
    body = recorder.received[0].message.get_body(("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n") == ".\n..leading dots\n.\nend\n"


def test_temporary_and_permanent_refusals(site: Config, smtp_server: SmtpServer, recorder: Recorder) -> None:
    conn = connect(site)
    emails = add_people(conn, 10)
    slow, busy, gone, closing = emails[1], emails[2], emails[3], emails[4]
    recorder.rcpt_replies = {slow: ["451 4.7.1 try again later", "451 4.7.1 still busy"], closing: ["421 4.3.2 bye"]}
    recorder.always = {busy: "451 4.3.0 mailbox busy", gone: "550 5.1.1 no such user"}

    report = run_send(site, smtp_server)

    counts = recorder.count()
    assert counts == Counter(e for e in emails if e not in (busy, gone))  # the others: once each
    assert report.sent == 8 and report.failed == 1 and report.deferred == 1
    assert any(gone in line and "550" in line for line in report.problems)
    log = states(site)
    assert log[slow] == "sent" and log[closing] == "sent"
    assert log[busy] == "deferred" and log[gone] == "failed"
    rows = {r.email: r for r in sendlog.log_rows(conn, WEEK)}
    assert rows[busy].attempts == len(FAST) + 1  # bounded: the first try and one per wait
    assert rows[slow].attempts == 3
    bounced = subs.find(conn, gone)
    assert bounced is not None and bounced.status == "bounced"

    recorder.always = {}  # the busy mailbox recovers; the next run sends to it alone
    again = run_send(site, smtp_server)
    assert (again.sent, again.failed, again.deferred) == (1, 0, 0)
    assert recorder.count() == Counter(e for e in emails if e != gone)
    assert states(site)[busy] == "sent"


def test_reconnects_when_the_server_drops_the_connection(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    conn = connect(site)
    emails = add_people(conn, 11)
    recorder.drop_after = 3
    recorder.rcpt_replies = {emails[5]: ["drop"]}  # and once in the middle of a transaction

    report = run_send(site, smtp_server, connections=1)  # one connection, so the drops fall where said

    assert recorder.count() == Counter(emails)
    assert report.sent == 11 and report.clean
    # 0-2 | 3-4, dropped at the RCPT for 5 | 5-7 | 8-10: every drop answered by a new connection
    assert recorder.connections == 4


def test_lost_answer_is_unknown_and_not_resent_unless_asked(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    conn = connect(site)
    emails = add_people(conn, 5)
    recorder.vanish_for = {emails[2]}

    report = run_send(site, smtp_server)

    assert report.unknown == [emails[2]] and report.sent == 4 and not report.clean
    assert states(site)[emails[2]] == "sending"
    assert recorder.count() == Counter(emails)  # the server did take it

    recorder.vanish_for = set()
    again = run_send(site, smtp_server)
    assert again.sent == 0 and again.unknown == [emails[2]]
    assert recorder.count()[emails[2]] == 1  # never silently resent

    forced = run_send(site, smtp_server, resend_unknown=True)
    assert forced.sent == 1 and forced.clean
    assert recorder.count()[emails[2]] == 2  # resent because the user asked


def test_a_garbled_answer_after_the_dot_is_unknown_and_never_sent_twice(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    conn = connect(site)
    emails = add_people(conn, 6)
    # answers smtplib cannot read (code -1), an empty one, and a 3xx that makes no sense after the dot
    garbled = {emails[1]: "OK: queued as 12345", emails[2]: "2.0.0 Ok: queued", emails[3]: "", emails[4]: "354 go on"}
    recorder.data_replies = dict(garbled)

    report = run_send(site, smtp_server)

    assert sorted(report.unknown) == sorted(garbled) and report.sent == 2 and not report.clean
    assert all(states(site)[address] == "sending" for address in garbled)
    assert recorder.count() == Counter(emails)  # each taken once by the server, none retried in the run
    rows = {r.email: r for r in sendlog.log_rows(conn, WEEK)}
    assert all("unreadable answer" in (rows[address].detail or "") for address in garbled)

    again = run_send(site, smtp_server)  # a second run (cron) must not send them again
    assert again.sent == 0 and sorted(again.unknown) == sorted(garbled)
    assert recorder.count() == Counter(emails)


def test_a_relay_that_refuses_us_stops_the_run_and_marks_nobody(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    conn = connect(site)
    emails = add_people(conn, 5)
    recorder.always = {address: "550 5.7.1 Relaying denied" for address in emails[1:]}

    with pytest.raises(DeliveryError, match=r"refuses to take mail from us: 550 5\.7\.1 Relaying denied"):
        run_send(site, smtp_server)

    assert recorder.count() == Counter([emails[0]])
    log = states(site)
    assert log[emails[0]] == "sent" and all(log[address] == "pending" for address in emails[1:])
    assert all(s.status == "subscribed" for s in subs.all_subscribers(conn))  # nobody bounced

    recorder.always = {}  # the relay is fixed (credentials set): the next run sends to the rest, once each
    again = run_send(site, smtp_server)
    assert again.sent == 4 and again.clean
    assert recorder.count() == Counter(emails)


@pytest.mark.parametrize(
    ("stage", "code", "text", "refuses_us", "bounced"),
    [
        ("RCPT", 550, "5.1.1 no such user", False, True),
        ("RCPT", 550, "no such user", False, True),  # no enhanced code: the reply code decides
        ("RCPT", 552, "5.2.2 mailbox full", False, False),
        ("RCPT", 550, "5.7.1 Relaying denied", True, False),
        ("RCPT", 554, "Relay access denied", True, False),
        ("RCPT", 530, "Authentication required", True, False),
        ("MAIL", 550, "sender not allowed", True, False),
        ("end of data", 550, "5.7.26 unauthenticated sender (DMARC)", True, False),
        ("RCPT", 450, "4.7.1 greylisted", False, False),
    ],
)
def test_what_a_refusal_says(stage: str, code: int, text: str, refuses_us: bool, bounced: bool) -> None:
    reply = smtp.Reply("permanent" if code >= 500 else "transient", code, text, stage)
    assert (reply.refuses_the_sender, reply.bounced) == (refuses_us, bounced)


def test_subscribers_who_leave_or_match_nothing_are_skipped(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    conn = connect(site)
    emails = add_people(conn, 4)
    subs.add(conn, "books@example.org", "", NOW, tags=frozenset({"Nothing-tagged-so"}))
    subs.remove(conn, emails[0], NOW)

    report = run_send(site, smtp_server)

    assert recorder.count() == Counter(emails[1:])
    assert report.sent == 3 and report.skipped == 1
    assert states(site)["books@example.org"] == "skipped"
    assert emails[0] not in states(site)


def test_week_without_posts_is_an_error(site: Config, smtp_server: SmtpServer) -> None:
    add_people(connect(site), 2)
    with pytest.raises(DeliveryError, match="no posts"):
        run_send(site, smtp_server, compose=lambda _t: None)


def test_starttls_required_but_not_offered(site: Config, smtp_server: SmtpServer) -> None:
    transport = smtp.SmtpTransport(smtp.SmtpTarget("127.0.0.1", smtp_server.port, "starttls"), local_hostname="x")
    with pytest.raises(smtp.ConnectError, match="does not offer STARTTLS"):
        transport.connect()


def test_connection_refused_is_one_clear_error(site: Config) -> None:
    add_people(connect(site), 2)
    target = smtp.SmtpTarget("127.0.0.1", 9, "none", timeout=2)  # discard port: nothing listens
    head = mail.Letterhead("author@example.org", SECRET, unsubscribe_base(site))
    with pytest.raises(DeliveryError, match="cannot talk to the SMTP server"):
        mail.send_issue(
            connect(site),
            composer(site),
            lambda issue, r, d: personalize(site, issue, r, d),
            lambda: smtp.SmtpTransport(target, local_hostname="x"),
            head,
            options=mail.SendOptions(retry_delays=FAST),
            clock=lambda: NOW,
        )
    assert set(states(site).values()) == {"pending"}  # nothing was marked as being sent


def test_password_only_from_the_environment(site: Config) -> None:
    from dataclasses import replace

    settings = replace(site.smtp, username="mailer")
    with pytest.raises(DeliveryError, match="SYNDICATE_SMTP_PASSWORD"):
        smtp.smtp_target(settings, password="")
    target = smtp.smtp_target(settings, password="pw", security="ssl")
    assert (target.password, target.port, target.security) == ("pw", 465, "ssl")


def test_one_sender_at_a_time(site: Config) -> None:
    assert site.database is not None
    with mail.send_lock(site.database), pytest.raises(DeliveryError, match="another"), mail.send_lock(site.database):
        pass


def test_dot_stuffing() -> None:
    assert smtp.dot_stuffed(b"a\n.b\r\n..c\rd") == b"a\r\n..b\r\n...c\r\nd\r\n"
    # CRLF throughout (every composed message) takes the shortcut; it must stuff the same way
    assert smtp.dot_stuffed(b".a\r\n.\r\nb\r\n..\r\n") == b"..a\r\n..\r\nb\r\n...\r\n"
    assert smtp.dot_stuffed(b"a\r\nb\r\n") == b"a\r\nb\r\n"
    assert smtp.dot_stuffed(b"a\r\n.b") == b"a\r\n..b\r\n"  # no final CRLF: the long way


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"", b"a", b".", b"..", b".a", b"a.", b" ."]),
            st.sampled_from([b"\r\n"] * 6 + [b"\n", b"\r", b""]),
        ),
        max_size=12,
    ).map(lambda lines: b"".join(line + end for line, end in lines))
)
def test_dot_stuffing_by_either_path_is_rfc_5321s(data: bytes) -> None:
    """The CRLF shortcut and the general path agree with the rule written out: CRLF line ends, a dot
    doubled at the start of every line, a final CRLF."""
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    if len(lines) > 1 and lines[-1] == b"":
        lines.pop()  # a final line end ends the last line (an empty message is one empty line)
    assert smtp.dot_stuffed(data) == b"".join(
        (b"." if line.startswith(b".") else b"") + line + b"\r\n" for line in lines
    )


# ------------------------------------------------------------------------------------------ the command line


def cli(config: Config, *args: str, **env: str) -> Any:
    environment = {"SYNDICATE_SECRET": SECRET.decode(), **env}
    return CliRunner().invoke(main, [*args, "--site", str(config.path)], env=environment, catch_exceptions=False)


def test_cli_dry_run_test_copy_and_status(
    site: Config, smtp_server: SmtpServer, recorder: Recorder, tmp_path: Path
) -> None:
    conn = connect(site)
    emails = add_people(conn, 3)
    port = str(smtp_server.port)
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", port, "--smtp-security", "none"]

    dry = cli(site, "send", "--week", WEEK, "--today", "2013-04-30", "--dry-run", str(tmp_path / "dry"))
    assert dry.exit_code == 0, dry.output
    files = sorted((tmp_path / "dry").glob("*.eml"))
    assert len(files) == 3 and not recorder.received
    parsed = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]
    assert sorted(str(m["To"]) for m in parsed) == [f"Reader {n} <{e}>" for n, e in enumerate(emails)]

    test_copy = cli(site, "send", "--week", WEEK, "--today", "2013-04-30", "--to", "proof@example.org", *smtp)
    assert test_copy.exit_code == 0, test_copy.output
    assert recorder.count() == Counter({"proof@example.org": 1})
    assert sendlog.log_rows(conn, WEEK) == []  # a test copy is not a delivery

    sent = cli(site, "send", "--week", WEEK, "--today", "2013-04-30", *smtp)
    assert sent.exit_code == 0, sent.output
    assert "2013-W16: sent 3, already had it 0, nothing matched their tags 0, deferred 0, failed 0, unknown 0" in (
        sent.output
    )
    status = cli(site, "send", "--week", WEEK, "--status")
    assert "2013-W16: 3 recipients: 3 sent" in status.output
    # each copy arrived as the dry run wrote it (but for its Date:), though a send writes it dot-stuffed
    undated = [re.sub(rb"\r\nDate: [^\r]*", b"", m.data) for m in recorder.received[1:]]
    assert sorted(undated) == sorted(re.sub(rb"\r\nDate: [^\r]*", b"", p.read_bytes()) for p in files)
    assert any(b"\r\n." in data for data in undated)  # and a line of it starts with a dot


def test_cli_needs_the_secret(site: Config) -> None:
    add_people(connect(site), 1)
    result = CliRunner().invoke(main, ["send", "--week", WEEK, "--site", str(site.path), "--dry-run", "x"], env={})
    assert result.exit_code == 1
    assert "SYNDICATE_SECRET is not set" in result.output


def test_cli_reports_failures_with_exit_code_1(site: Config, smtp_server: SmtpServer, recorder: Recorder) -> None:
    emails = add_people(connect(site), 3)
    recorder.always = {emails[0]: "550 5.1.1 unknown user"}
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_server.port), "--smtp-security", "none"]
    result = cli(site, "send", "--week", WEEK, "--today", "2013-04-30", "--retry-delays", "0", *smtp)
    assert result.exit_code == 1
    assert "sent 2, already had it 0, nothing matched their tags 0, deferred 0, failed 1" in result.output
    assert f"{emails[0]}: failed: 550 5.1.1 unknown user (at RCPT)" in result.output


TODAY_AFTER = "2013-04-23"


def test_a_rerun_with_nothing_to_send_still_names_the_unknown_outcomes(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    emails = add_people(connect(site), 3)
    recorder.vanish_for = {emails[1]}  # the server takes the message and never answers
    # the day after the week: with the issue sent, no other period is finished, so a run has nothing to send
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_server.port), "--smtp-security", "none"]
    first = cli(site, "send", "--week", WEEK, "--today", TODAY_AFTER, *smtp)
    assert first.exit_code == 1 and "unknown 1" in first.output
    recorder.vanish_for = set()
    for week in (["--week", WEEK], []):  # the issue named, or the next one asked for
        again = cli(site, "send", *week, "--today", TODAY_AFTER, *smtp)
        assert again.exit_code == 0, again.output
        assert f"{WEEK}: 1 recipients have no known outcome" in again.output
        assert f"--status --week {WEEK} --verbose" in again.output
    assert recorder.count()[emails[1]] == 1  # named, never resent
    resent = cli(site, "send", "--week", WEEK, "--today", TODAY_AFTER, "--resend-unknown", *smtp)
    assert resent.exit_code == 0 and "no known outcome" not in resent.output


# ------------------------------------------------------------------------------------------ SIGKILL


@pytest.mark.parametrize("pipelining", [False, True])
def test_killed_sender_then_rerun_sends_each_exactly_once(
    site: Config, smtp_server: SmtpServer, recorder: Recorder, pipelining: bool
) -> None:
    recorder.pipelining = pipelining  # with it, each final dot can carry the next envelope
    conn = connect(site)
    emails = add_people(conn, 40)
    command = [
        sys.executable, "-m", "syndicate", "send", "--site", str(site.path), "--week", WEEK,
        "--today", "2013-04-30", "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_server.port),
        "--smtp-security", "none",
    ]  # fmt: skip
    env = site_env()
    for round_ in range(3):  # kill it three times, at different points
        rate = ["--rate", "25"] if round_ < 2 else []  # the last time, kill it while it runs flat out
        sender = subprocess.Popen([*command, *rate], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = 5 + 9 * round_
        deadline = time.monotonic() + 60
        while sum(recorder.count().values()) < target and sender.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        sender.send_signal(signal.SIGKILL)
        sender.wait(10)
    # SIGKILL left the lock behind only as a closed file: the next run may start
    left = {"pending", "deferred"} & set(states(site).values())
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    log = states(site)
    unknown = sorted(e for e, state in log.items() if state == "sending")
    counts = recorder.count()
    assert all(counts[e] <= 1 for e in emails), "nobody may get the issue twice"
    assert [e for e in emails if counts[e] == 0] == [e for e in unknown if counts[e] == 0]
    if unknown and left:  # the rerun went on with the issue, and lists the unknown outcomes
        assert rerun.returncode == 1 and all(e in rerun.stderr for e in unknown)
    elif unknown:  # killed with every dot sent (many connections, flat out): nothing to go on with
        assert rerun.returncode == 0 and "was sent already" in rerun.stdout + rerun.stderr, rerun
        assert f"{len(unknown)} recipients have no known outcome" in rerun.stderr, rerun.stderr
        status = subprocess.run([*command[:8], "--status", "--verbose"], env=env, capture_output=True, text=True)
        assert all(e in status.stdout for e in unknown), status.stdout  # the review finds them
    if unknown:
        # review: those the server has are marked sent; the rest are resent on request
        delivered = [e for e in unknown if counts[e] == 1]
        if delivered:
            marks = [a for e in delivered for a in ("--mark-sent", e)]
            subprocess.run([*command, *marks], env=env, check=True, capture_output=True, timeout=60)
        final = subprocess.run([*command, "--resend-unknown"], env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr
    else:
        assert rerun.returncode == 0, rerun.stderr
    assert recorder.count() == Counter(emails)
    assert set(states(site).values()) == {"sent"}


def test_sigkill_leaves_only_pending_or_sending_rows(site: Config, smtp_server: SmtpServer, recorder: Recorder) -> None:
    """Between the body and the final dot the row is committed as `sending`; before it, `pending`."""
    conn = connect(site)
    add_people(conn, 30)
    command = [
        sys.executable, "-m", "syndicate", "send", "--site", str(site.path), "--week", WEEK,
        "--today", "2013-04-30", "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_server.port),
        "--smtp-security", "none", "--rate", "40",
    ]  # fmt: skip
    sender = subprocess.Popen(command, env=site_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while sum(recorder.count().values()) < 10 and time.monotonic() < deadline:
        time.sleep(0.005)
    sender.send_signal(signal.SIGKILL)
    sender.wait(10)
    counts = recorder.count()
    for row in sendlog.log_rows(conn, WEEK):
        if row.state == "sent":
            assert counts[row.email] == 1
        elif row.state == "pending":
            assert counts[row.email] == 0  # a pending row was never accepted
        else:
            assert row.state == "sending"


def test_each_message_is_dated_when_it_is_sent(site: Config, smtp_server: SmtpServer, recorder: Recorder) -> None:
    emails = add_people(connect(site), 3)
    ticks = iter(NOW + timedelta(minutes=n) for n in range(1000))
    stamps: list[datetime] = []

    def clock() -> datetime:
        stamps.append(next(ticks))
        return stamps[-1]

    target = smtp.SmtpTarget("127.0.0.1", smtp_server.port, "none", timeout=10)
    head = mail.Letterhead("author@example.org", SECRET, unsubscribe_base(site))
    mail.send_issue(
        connect(site),
        composer(site),
        lambda issue, r, d: personalize(site, issue, r, d),
        lambda: smtp.SmtpTransport(target, local_hostname="sender.test"),
        head,
        options=mail.SendOptions(retry_delays=FAST),
        clock=clock,
    )
    dates = {m.recipients[0]: m.message["Date"].datetime for m in recorder.received}
    assert sorted(dates) == sorted(emails)
    # each Date: is a reading of the clock taken for that message, none of them the week's end
    assert all(d in stamps for d in dates.values()) and len(set(dates.values())) == 3
    assert all(d > NOW for d in dates.values())


def test_a_send_to_many_tag_filters_loads_the_site_once_and_gives_each_its_posts(
    site: Config, smtp_server: SmtpServer, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = compose_issue(site, EXAMPLE_TODAY, lambda _m: None, week=WEEK)
    assert everything is not None
    posts = {e.link: {n.casefold() for n in (*e.post.tags, *e.post.categories)} for e in everything.issue.entries}
    names = sorted({n for e in everything.issue.entries for n in (*e.post.tags, *e.post.categories)})
    assert len(names) >= 5, names  # the sample week has enough tags for the filters to differ
    filters: list[frozenset[str] | None] = [None, frozenset({"no such tag"})]
    filters += [frozenset({name}) for name in names]
    filters += [frozenset({a, b}) for a, b in pairwise(names)]
    filters.append(frozenset({names[0].upper()}))  # the same filter as names[0], spelled otherwise
    conn = connect(site)
    wanted: dict[str, frozenset[str] | None] = {}
    for n, tags in enumerate(filters * 2):  # two readers per filter
        address = f"reader{n:03d}@example.org"
        subs.add(conn, address, f"Reader {n}", NOW, tags=tags)
        wanted[address] = tags

    from syndicate.build import compose

    loads: list[object] = []
    real_load = compose.load_site

    def counting_load(*args: Any, **kwargs: Any) -> Any:
        loads.append(args)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(compose, "load_site", counting_load)
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_server.port), "--smtp-security", "none"]
    result = cli(site, "send", "--week", WEEK, "--today", "2013-04-30", *smtp)
    assert result.exit_code == 0, result.output
    assert len(loads) == 1  # one load (and one rendering of the posts) for every filter

    received = {r.recipients[0]: r.message for r in recorder.received}
    for address, tags in wanted.items():
        expected = {link for link, names_of in posts.items() if tags is None or names_of & {t.casefold() for t in tags}}
        if not expected:
            assert address not in received  # nothing for them this week
            continue
        html_part = received[address].get_body(("html",))
        assert html_part is not None
        links = set(lxml.html.fromstring(html_part.get_content()).xpath("//a/@href"))
        assert links & set(posts) == expected, (address, tags)


@settings(max_examples=500, deadline=None)
@given(st.from_regex(smtp._PLAIN_ADDRESS, fullmatch=True) | st.text(max_size=30))
def test_envelope_addresses_are_quoted_as_smtplib_quotes_them(address: str) -> None:
    """MAIL FROM and RCPT TO with PIPELINING skip smtplib's address parse for a plain address."""
    import smtplib

    assert smtp._quoted(address) == smtplib.quoteaddr(address)


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(["https://blog.example.org/unsubscribe", "https://x.org/u?list=a#top", "/u", "http://h"]),
    token=st.from_regex(r"[0-9]{1,6}\.[0-9a-f]{16}\.[A-Za-z0-9_-]{22}", fullmatch=True)
    | st.text(alphabet="aZ09_.~-/+ %&=?#é", min_size=1)
    | st.text(min_size=1),
)
def test_token_urls_are_what_urlencode_makes(base: str, token: str) -> None:
    """A send writes two token URLs per message by a shortcut; it must match the URL built in full."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    from syndicate.subscribers.tokens import unsubscribe_url

    parts = urlsplit(base)
    query = (parts.query + "&" if parts.query else "") + urlencode({"token": token})
    assert unsubscribe_url(base, token) == urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
