"""VERP end to end: `syndicate send` with [smtp] bounce_address to a real SMTP server (aiosmtpd on
loopback) gives each message its own signed envelope sender; a bounce sent back to that address
is read by `syndicate inbox` and bounces exactly that subscriber, even when the report names a
forwarded address; the List-Unsubscribe mailto carries the subscriber's own token."""

from __future__ import annotations

import mailbox
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT, copy_example_site
from test_mail import SmtpServer, fresh_site, recorder, smtp_server

from syndicate.cli.main import main
from syndicate.config import load_config
from syndicate.delivery.send import Letterhead, envelope_sender
from syndicate.subscribers import store as subs
from syndicate.subscribers.tokens import issue_tag, read_bounce_token, read_token

SECRET = "test-secret-0123456789abcdef"
WEEK = "2013-W16"


__all__ = ["recorder", "smtp_server"]  # the fixtures, shared with test_mail.py


def bounce_for(envelope_sender: str, reported: str) -> bytes:
    """A Postfix-style DSN, delivered to the message's envelope sender."""
    return (
        f"Return-Path: <>\nDelivered-To: {envelope_sender}\nFrom: MAILER-DAEMON@relay.example.net\n"
        f"To: {envelope_sender}\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn-1@relay>\n"
        "Date: Mon, 22 Apr 2013 08:10:00 +0000\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nsorry\n\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; relay.example.net\n\n"
        f"Final-Recipient: rfc822; {reported}\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\n\n--b--\n"
    ).encode()


def test_bounces_come_back_to_a_signed_address_per_subscriber_and_issue(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = fresh_site(tmp_path).path  # a newsletter that has sent nothing yet
    with config_path.open("a", encoding="utf-8") as toml:
        toml.write('\n[smtp]\nbounce_address = "bounces@example.org"\n')
    site = ["--site", str(config_path.parent)]
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    runner = CliRunner()
    imported = runner.invoke(main, ["subscribers", "import", str(REPO_ROOT / "samples" / "subscribers.csv"), *site])
    assert imported.exit_code == 0, imported.output
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_server.port), "--smtp-security", "none"]
    sent = runner.invoke(main, ["send", "--week", WEEK, "--today", "2013-04-30", *smtp, *site])
    assert sent.exit_code == 0, sent.output

    config = load_config(config_path)
    conn = subs.open_site_database(config)
    received = smtp_server.handler.received
    assert len(received) == 8, sent.output
    senders = {}
    for message in received:
        (recipient,) = message.recipients
        sub = subs.find(conn, recipient)
        assert sub is not None
        local, _, domain = message.sender.partition("@")
        assert domain == "example.org" and local.startswith("bounces+") and len(local) <= 64
        claim = read_bounce_token(SECRET.encode(), local.removeprefix("bounces+"))
        assert (claim.subscriber_id, claim.issue_tag) == (sub.id, issue_tag(WEEK))
        assert message.message["From"].addresses[0].addr_spec == "author@example.org"  # From: is unchanged
        mailto = re.search(r"<mailto:([^>]+)>", str(message.message["List-Unsubscribe"]))
        assert mailto is not None
        subject = unquote(mailto[1].partition("?subject=")[2])
        assert subject.startswith("unsubscribe ")
        assert read_token(SECRET.encode(), subject.removeprefix("unsubscribe ")).subscriber_id == sub.id
        senders[recipient] = message.sender
    assert len(set(senders.values())) == 8  # one address per recipient

    # the report names a forwarded address, but the envelope it came back to names Bob
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(bounce_for(senders["bob.stone@example.org"], "bob@forwarded.example"))
    read = runner.invoke(main, ["inbox", str(tmp_path / "Maildir"), *site])
    assert read.exit_code == 0, read.output
    assert "bob.stone@example.org: bounced (hard bounce, 2013-W16): 5.1.1 550 5.1.1 no such user" in read.output
    bounced = [s.email for s in subs.all_subscribers(conn, "bounced")]
    assert bounced == ["bob.stone@example.org"]


def test_without_a_bounce_address_the_envelope_sender_is_the_from_address() -> None:
    head = Letterhead("author@example.org", SECRET.encode(), "https://blog.example.org/unsubscribe")
    assert envelope_sender(head, 3, WEEK) == "author@example.org"
    verp = Letterhead(
        "author@example.org", SECRET.encode(), "https://x.example/u", bounce_address="bounces@example.org"
    )
    local = envelope_sender(verp, 3, WEEK).removesuffix("@example.org")
    assert read_bounce_token(SECRET.encode(), local.removeprefix("bounces+")).subscriber_id == 3


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[smtp]\nbounce_address = "not an address"\n', "[smtp] bounce_address must be an address such as"),
        ("[inbox]\nsoft_bounce_threshold = 0\n", "[inbox] soft_bounce_threshold must be a number of soft bounces"),
        ("[inbox]\nhalf_life = 3\n", "[inbox] unknown key 'half_life'; did you mean 'half_life_days'?"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path: Path, table: str, message: str) -> None:
    config_path = copy_example_site(tmp_path / "site")
    with config_path.open("a", encoding="utf-8") as toml:
        toml.write("\n" + table)
    result = CliRunner().invoke(main, ["subscribers", "list", "--site", str(config_path.parent)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
