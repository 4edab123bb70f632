"""Sending over several connections at once, with PIPELINING, sending limits, a circuit breaker
and Ctrl+C: against real aiosmtpd servers on loopback (see test_mail.py for the server).

Whatever the number of connections, every recipient gets the issue once, and the send log
is written by one thread.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from test_mail import (
    WEEK,
    Recorder,
    SmtpServer,
    add_people,
    connect,
    fresh_site,
    run_send,
    site_env,
    states,
)

from syndicate.config import Config
from syndicate.errors import DeliveryError


class Busy(Recorder):
    """Counts the sessions in the middle of a message at once, and can delay every answer to the dot."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.active = 0
        self.most = 0

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.active -= 1
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def site(tmp_path: Path) -> Config:
    return fresh_site(tmp_path)


@pytest.fixture
def smtp_server() -> Any:
    server = SmtpServer(Recorder())
    yield server
    server.stop()


@pytest.fixture
def busy() -> Any:
    handler = Busy(delay=0.05)
    server = SmtpServer(handler)
    yield server
    server.stop()


def test_several_connections_send_each_message_once(site: Config, busy: SmtpServer) -> None:
    emails = add_people(connect(site), 40)
    report = run_send(site, busy, connections=4)
    handler = busy.handler
    assert isinstance(handler, Busy)
    assert handler.count() == Counter(emails) and report.sent == 40 and report.clean
    assert 2 <= handler.connections <= 4  # several connections, never more than asked
    assert handler.most >= 2  # and messages in flight on them at the same time
    assert set(states(site).values()) == {"sent"}


class Pipelined(Recorder):
    """Offers PIPELINING (RFC 2920) and notes, at each MAIL, whether RCPT and DATA had already arrived,
    and at each final dot, whether the next message's MAIL came with it."""

    def __init__(self) -> None:
        super().__init__()
        self.ahead: list[bool] = []
        self.followed: list[bool] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        waiting = bytes(server._reader._buffer)  # type: ignore[attr-defined]
        self.followed.append(waiting.startswith(b"MAIL FROM:"))
        return await super().handle_DATA(server, session, envelope)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        waiting = bytes(server._reader._buffer)  # type: ignore[attr-defined]  # what the client sent already
        self.ahead.append(b"RCPT TO:" in waiting and b"DATA\r\n" in waiting)
        envelope.mail_from = address
        return "250 OK"


@pytest.mark.parametrize("offered", [True, False])
def test_pipelining_is_used_when_offered(site: Config, offered: bool) -> None:
    handler = Pipelined() if offered else Recorder()
    server = SmtpServer(handler)
    try:
        emails = add_people(connect(site), 6)
        emails[3:3] = []
        handler.always = {emails[2]: "550 5.1.1 no such user"}  # a refusal inside the pipeline
        report = run_send(site, server, connections=1)
    finally:
        server.stop()
    assert handler.count() == Counter(e for e in emails if e != emails[2])
    assert report.sent == 5 and report.failed == 1
    assert states(site)[emails[2]] == "failed"
    if offered:
        assert isinstance(handler, Pipelined) and handler.ahead == [True] * 6  # MAIL, RCPT, DATA in one write
        # and a final dot carries the next envelope when that message is ready (the second always is);
        # the last dot has none
        assert handler.followed[0] and not handler.followed[-1] and len(handler.followed) == 5


def test_a_connection_lost_after_a_dot_that_carried_the_next_envelope(site: Config) -> None:
    """The answer to a dot never comes, and the next message's envelope went out with that dot: the
    first is unknown (left for review), the second goes again on a new connection, once."""
    handler = Pipelined()
    server = SmtpServer(handler)
    try:
        emails = add_people(connect(site), 6)
        handler.vanish_for = {emails[2]}
        report = run_send(site, server, connections=1)
    finally:
        server.stop()
    assert handler.count() == Counter(emails)  # everyone once: the vanished message was kept by the server
    assert report.unknown == [emails[2]] and report.sent == 5
    assert states(site) == {e: "sending" if e == emails[2] else "sent" for e in emails}
    assert handler.connections == 2


def test_the_same_refusal_for_many_in_a_row_stops_the_run(site: Config, smtp_server: SmtpServer) -> None:
    emails = add_people(connect(site), 30)
    smtp_server.handler.always = {e: "451 4.3.2 system not accepting messages" for e in emails}
    with pytest.raises(DeliveryError, match=r"the last 10 recipients were all refused with 451 4\.3\.2"):
        run_send(site, smtp_server, connections=1, retry_delays=())
    log = Counter(states(site).values())
    # ten in a row (and the one more already handed to the connection), then stop: the rest wait
    assert log["deferred"] in (10, 11) and log["pending"] == 30 - log["deferred"] and len(log) == 2


def test_max_per_hour_stops_cleanly_and_the_next_run_goes_on(site: Config, smtp_server: SmtpServer) -> None:
    emails = add_people(connect(site), 12)
    first = run_send(site, smtp_server, max_per_hour=5)
    assert first.sent == 5 and first.waiting == 7 and not first.clean
    assert "max_per_hour" in first.stopped
    assert sum(smtp_server.handler.count().values()) == 5
    again = run_send(site, smtp_server, max_per_hour=5)  # the same hour: nothing more
    assert again.sent == 0 and again.waiting == 7
    later = run_send(site, smtp_server, max_per_hour=5, clock_offset=timedelta(hours=2))
    assert later.sent == 5
    assert sum(smtp_server.handler.count().values()) == 10
    assert all(n == 1 for n in smtp_server.handler.count().values()) and set(smtp_server.handler.count()) < set(emails)


@pytest.mark.parametrize("pipelining", [False, True])
def test_ctrl_c_stops_soon_and_loses_nothing(site: Config, tmp_path: Path, pipelining: bool) -> None:
    handler = Busy(delay=0.4)  # a slow server: each answer to the final dot takes 0.4 s
    handler.pipelining = pipelining
    server = SmtpServer(handler)
    emails = add_people(connect(site), 40)
    command = [
        sys.executable, "-m", "syndicate", "send", "--site", str(site.path), "--week", WEEK, "--today", "2013-04-30",
        "--smtp-host", "127.0.0.1", "--smtp-port", str(server.port), "--smtp-security", "none", "--connections", "4",
    ]  # fmt: skip
    try:
        sender = subprocess.Popen(command, env=site_env(), stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while sum(handler.count().values()) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        asked = time.monotonic()
        sender.send_signal(signal.SIGINT)
        _, stderr = sender.communicate(timeout=30)
        took = time.monotonic() - asked
    finally:
        server.stop()
    assert sender.returncode == 1 and "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert took < 5, took  # within about two seconds; the margin is for a loaded machine
    counts = handler.count()
    for email, state in states(site).items():
        if state == "sent":
            assert counts[email] == 1
        elif state == "pending":
            assert counts[email] == 0  # never its final dot: the server has nothing
        else:
            assert state == "sending"  # its dot went out; the answer did not come in time
    assert all(counts[e] <= 1 for e in emails)
