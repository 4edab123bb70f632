"""The circuit breaker: the same permanent refusal for many recipients in a row stops the run and
marks none of them, on a real SMTP server (aiosmtpd on loopback, from test_mail.py)."""

from __future__ import annotations

import pytest
from test_mail import Recorder, SmtpServer, add_people, connect, recorder, run_send, site, smtp_server, states

from syndicate.config import Config
from syndicate.delivery.breaker import BREAKER_LIMIT
from syndicate.errors import DeliveryError
from syndicate.subscribers import store as subs

__all__ = ["recorder", "site", "smtp_server"]  # the fixtures, shared with test_mail.py


def unknown_user(address: str) -> str:
    return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"


def test_the_same_refusal_for_everyone_stops_the_run_and_marks_nobody(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    conn = connect(site)
    emails = add_people(conn, BREAKER_LIMIT + 5)
    nonces = {s.email: s.nonce for s in subs.all_subscribers(conn)}
    recorder.always = {address: unknown_user(address) for address in emails}
    with pytest.raises(DeliveryError, match=f"refused {BREAKER_LIMIT} recipients in a row with the same answer"):
        run_send(site, smtp_server)
    assert recorder.received == []
    after = subs.all_subscribers(conn)
    assert {s.status for s in after} == {"subscribed"}  # nobody bounced…
    assert {s.email: s.nonce for s in after} == nonces  # …and their unsubscribe links still work
    assert set(states(site).values()) <= {"pending", "deferred"}  # nobody failed: the next run tries them all

    recorder.always = {}  # the server is fixed
    report = run_send(site, smtp_server)
    assert report.sent == BREAKER_LIMIT + 5 and report.failed == 0


def test_a_few_bad_addresses_are_bounced_and_the_run_goes_on(
    site: Config, smtp_server: SmtpServer, recorder: Recorder
) -> None:
    conn = connect(site)
    emails = add_people(conn, 20)
    bad = emails[3 : 3 + BREAKER_LIMIT - 1]  # one short of the limit, in a row
    recorder.always = {address: unknown_user(address) for address in bad}
    report = run_send(site, smtp_server)
    assert report.sent == 20 - len(bad) and report.failed == len(bad)
    assert sorted(s.email for s in subs.all_subscribers(conn, "bounced")) == sorted(bad)


def test_different_refusals_are_no_streak(site: Config, smtp_server: SmtpServer, recorder: Recorder) -> None:
    conn = connect(site)
    emails = add_people(conn, BREAKER_LIMIT + 2)
    answers = ("550 5.1.1 User unknown", "550 5.1.2 Bad destination system address")
    recorder.always = {address: answers[n % 2] for n, address in enumerate(emails)}
    report = run_send(site, smtp_server)
    assert report.failed == BREAKER_LIMIT + 2
    assert len(subs.all_subscribers(conn, "bounced")) == BREAKER_LIMIT + 2
