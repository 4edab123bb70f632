"""`syndicate inbox`: bounce, complaint, unsubscribe and auto-reply fixtures in the formats big
providers send (tests/data/inbox), fed through a real maildir and mbox; and VERP on a real SMTP
server (aiosmtpd) on loopback. IMAP against a real Dovecot is in test_inbox_imap.py."""

from __future__ import annotations

import email
import mailbox
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT, copy_example_site
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.build.inbox import read_inbox
from syndicate.cli.main import main
from syndicate.config import Config, load_config
from syndicate.delivery.reports import read_report
from syndicate.errors import DeliveryError
from syndicate.subscribers import inbox_log, sendlog, suppression
from syndicate.subscribers import store as subs
from syndicate.subscribers.tokens import (
    ForgedToken,
    issue_tag,
    make_bounce_token,
    make_token,
    read_bounce_token,
    verp_address,
)

SECRET = b"test-secret-0123456789abcdef"
NOW = datetime(2013, 4, 29, 9, 0, tzinfo=UTC)
FIXTURES = REPO_ROOT / "tests" / "data" / "inbox"
ISSUE = "2013-W16"
PEOPLE = {
    "ann": "ann@example.net",
    "bob": "bob@contoso.example",
    "carol": "carol@example.net",
    "dan": "dan@example.net",
    "erin": "erin@yahoo.example",
    "frank": "frank@example.com",
    "grace": "grace@example.com",
    "heidi": "heidi@aol.example",
    "ivan": "ivan@example.net",
    "judy": "judy@example.net",
    "mallory": "mallory@yahoo.example",
    "olivia": "olivia@example.net",
    "peggy": "peggy@contoso.example",
    "victor": "victor@example.com",
    "zoe": "zoe@example.net",  # named by no report: must stay subscribed
}
# what each fixture must do, and to whom
EXPECTED_STATUS = {
    "ann": "bounced",  # Gmail DSN 5.1.1, by VERP token
    "bob": "bounced",  # Microsoft 365 NDR 5.1.10, by address
    "carol": "subscribed",  # one soft bounce (4.2.2 mailbox full) is not enough
    "dan": "unsubscribed",  # Gmail mailto unsubscribe, token in the subject
    "erin": "unsubscribed",  # Yahoo ARF complaint, redacted: by the original's tokens
    "frank": "bounced",  # Exim, X-Failed-Recipients
    "grace": "bounced",  # qmail
    "heidi": "unsubscribed",  # AOL ARF complaint, by Original-Rcpt-To
    "ivan": "subscribed",  # Gmail vacation reply
    "judy": "subscribed",  # delay warning
    "mallory": "bounced",  # Yahoo's plain-text bounce
    "olivia": "unsubscribed",  # mailto with the token in the address
    "peggy": "subscribed",  # Exchange automatic reply
    "victor": "subscribed",  # an old vacation program
    "zoe": "subscribed",
}


@pytest.fixture
def site(tmp_path: Path) -> Config:
    return load_config(copy_example_site(tmp_path / "site"))


def add_people(config: Config) -> dict[str, subs.Subscriber]:
    """Everyone in PEOPLE, subscribed a month ago, with a send-log row for ISSUE (as if it was sent)."""
    conn = subs.open_site_database(config)
    people = {
        name: subs.add(conn, address, name.title(), NOW - timedelta(days=30))[1] for name, address in PEOPLE.items()
    }
    sendlog.plan_issue(sendlog.open_log(conn), ISSUE, (NOW - timedelta(days=7)).isoformat())
    return people


def filled(text: str, people: dict[str, subs.Subscriber]) -> str:
    def token(match: re.Match[str]) -> str:
        kind, name = match[1], match[2]
        sub = people[name]
        if kind == "VERP":
            return make_bounce_token(SECRET, sub.id, ISSUE)
        return make_token(SECRET, sub.id, sub.nonce)

    return re.sub(r"\{\{(VERP|TOKEN):(\w+)\}\}", token, text)


def fixture_bytes(name: str, people: dict[str, subs.Subscriber]) -> bytes:
    return filled((FIXTURES / name).read_text(encoding="utf-8"), people).encode("utf-8")


def make_maildir(path: Path, people: dict[str, subs.Subscriber]) -> mailbox.Maildir:
    box = mailbox.Maildir(path, create=True)
    for fixture in sorted(FIXTURES.glob("*.eml")):
        box.add(fixture_bytes(fixture.name, people))
    return box


def statuses(config: Config) -> dict[str, str]:
    conn = subs.open_site_database(config)
    return {name: (s.status if (s := subs.find(conn, address)) else "gone") for name, address in PEOPLE.items()}


def flags(box: mailbox.Maildir) -> dict[str, str]:
    """Subject → flags of every message in the maildir."""
    result = {}
    for key in box.keys():  # noqa: SIM118 (a mailbox is no dict)
        message = box.get_message(key)
        result[str(message["Subject"])] = message.get_flags()
    return result


# ------------------------------------------------------------------------------------------ reading reports


def test_each_fixture_reads_as_what_it_is(site: Config) -> None:
    people = add_people(site)
    kinds = {f.name: read_report(fixture_bytes(f.name, people)) for f in FIXTURES.glob("*.eml")}
    assert {name: r.what for name, r in kinds.items()} == {
        "aol-arf-complaint.eml": "complaint",
        "exim-bounce.eml": "bounce",
        "gmail-dsn-hard.eml": "bounce",
        "gmail-mailto-unsubscribe.eml": "unsubscribe",
        "gmail-vacation.eml": "auto_reply",
        "human-reply.eml": "other",
        "mailto-unsubscribe-address.eml": "unsubscribe",
        "old-autoreply.eml": "auto_reply",
        "outlook-ndr-hard.eml": "bounce",
        "outlook-oof.eml": "auto_reply",
        "postfix-delayed.eml": "delay",
        "postfix-dsn-soft.eml": "bounce",
        "qmail-bounce.eml": "bounce",
        "unknown-recipient-dsn.eml": "bounce",
        "yahoo-arf-complaint.eml": "complaint",
        "yahoo-bounce.eml": "bounce",
    }
    gmail = kinds["gmail-dsn-hard.eml"]
    assert [(f.kind, f.address) for f in gmail.findings] == [("hard_bounce", "ann@example.net")]
    assert gmail.findings[0].detail.startswith("5.1.1 550-5.1.1 The email account that you tried to reach does not")
    assert [(f.kind, f.address) for f in kinds["postfix-dsn-soft.eml"].findings] == [
        ("soft_bounce", "carol@example.net")
    ]
    assert kinds["outlook-ndr-hard.eml"].findings[0].detail.startswith("5.1.10 550 5.1.10 RESOLVER.ADR")
    assert [(f.kind, f.address) for f in kinds["yahoo-arf-complaint.eml"].findings] == [("complaint", "")]
    assert [(f.kind, f.address) for f in kinds["aol-arf-complaint.eml"].findings] == [
        ("complaint", "heidi@aol.example")
    ]
    assert [f.address for f in kinds["exim-bounce.eml"].findings] == ["frank@example.com"]
    assert [f.address for f in kinds["qmail-bounce.eml"].findings] == ["grace@example.com"]


@pytest.mark.parametrize(
    ("status", "action", "kind"),
    [
        ("5.1.1", "failed", "hard_bounce"),
        ("5.1.10", "failed", "hard_bounce"),
        ("5.2.1", "failed", "hard_bounce"),
        ("5.0.0", "failed", "hard_bounce"),
        ("5.2.2", "failed", "soft_bounce"),  # mailbox full
        ("5.7.1", "failed", "soft_bounce"),  # a policy block says nothing about the address
        ("4.4.7", "failed", "soft_bounce"),  # given up after retrying
        ("4.4.1", "delayed", None),
    ],
)
def test_status_codes_decide_hard_or_soft(status: str, action: str, kind: str | None) -> None:
    dsn = (
        "From: MAILER-DAEMON@relay.example.org\nTo: author@example.org\nSubject: report\nMessage-ID: <r@relay>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nsorry\n\n--b\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; relay.example.org\n\nFinal-Recipient: rfc822; a@example.net\nAction: {action}\n"
        f"Status: {status}\n\n--b--\n"
    )
    report = read_report(dsn.encode())
    assert [f.kind for f in report.findings] == ([kind] if kind else [])


@given(st.binary(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_any_bytes_read_as_some_report_without_raising(data: bytes) -> None:
    report = read_report(data)
    assert report.what in ("bounce", "complaint", "unsubscribe", "delay", "auto_reply", "other")


def test_bounce_tokens_survive_case_folding_and_refuse_forgeries() -> None:
    token = make_bounce_token(SECRET, 42, "2013-04-15..2013-04-21")
    address = verp_address("bounces@example.org", token)
    assert address == address.lower() and len(address.partition("@")[0]) <= 64
    claim = read_bounce_token(SECRET, token.upper())  # a server that folded the local part
    assert (claim.subscriber_id, claim.issue_tag) == (42, issue_tag("2013-04-15..2013-04-21"))
    # any issue key fits, a post's long slug (the "post" cadence) too, in a fixed length
    slug = "getting-from-grizzly-to-havana-a-devops-upgrade-pattern-with-crowbar-2"
    long_token = make_bounce_token(SECRET, 9_999_999, slug)
    assert len(verp_address("bounces@example.org", long_token).partition("@")[0]) <= 64
    assert read_bounce_token(SECRET, long_token).issue_tag == issue_tag(slug) != issue_tag("2013-W16")
    with pytest.raises(ForgedToken):
        read_bounce_token(b"another-secret-0123456789", token)
    with pytest.raises(ForgedToken):
        read_bounce_token(SECRET, token.replace("42.", "43.", 1))


# ------------------------------------------------------------------------------------------ acting on a maildir


def test_a_maildir_of_reports_changes_exactly_the_right_subscribers(site: Config, tmp_path: Path) -> None:
    people = add_people(site)
    box = make_maildir(tmp_path / "Maildir", people)
    before = set(box.keys())
    report = read_inbox(site, str(tmp_path / "Maildir"), SECRET, "", NOW, dry_run=False)
    assert statuses(site) == EXPECTED_STATUS
    assert report.read == 16 and report.ignored == 4 and report.handled == 10
    assert sorted(line.split(":")[0] for line in report.changes) == sorted(
        PEOPLE[n] for n, s in EXPECTED_STATUS.items() if s != "subscribed"
    )
    assert [line.split(":")[0] for line in report.events] == ["carol@example.net"]
    assert len(report.unmatched) == 2
    assert any("stranger@example.net is not on the list" in line for line in report.unmatched)
    assert any("Walter" in line or "walter@example.net" in line for line in report.unmatched)

    conn = subs.open_site_database(site)
    assert suppression.is_suppressed(conn, "erin@yahoo.example") and suppression.is_suppressed(
        conn, "heidi@aol.example"
    )
    assert not suppression.is_suppressed(conn, "dan@example.net")  # an unsubscribe is no complaint
    with pytest.raises(DeliveryError, match="suppression list"):
        subs.add(conn, "erin@yahoo.example", "Erin", NOW, resubscribe=True)  # a complainer is not signed up again
    outcome, dan = subs.add(conn, "dan@example.net", "Dan", NOW, resubscribe=True)
    assert outcome == "resubscribed" and dan.status == "subscribed"
    ann_events = inbox_log.events(conn, people["ann"].id)
    assert [(e.kind, e.issue) for e in ann_events] == [("hard_bounce", ISSUE)]  # the VERP token names the issue

    # handled messages are flagged, never deleted; the others are left as they were
    assert set(box.keys()) == before
    marked = flags(box)
    assert (
        "F" in marked["Delivery Status Notification (Failure)"]
        and "S" in marked["Mail delivery failed: returning message to sender"]
    )
    untouched = ["Re: Example Blog: 8 new posts, week of 15 April 2013", "Delayed Mail (still being retried)"]
    assert all(marked[subject] == "" for subject in untouched)

    again = read_inbox(site, str(tmp_path / "Maildir"), SECRET, "", NOW, dry_run=False)
    assert (again.handled, again.already, again.changes) == (0, 10, [])  # nothing is counted twice


def test_dry_run_reports_the_same_and_changes_nothing(site: Config, tmp_path: Path) -> None:
    people = add_people(site)
    box = make_maildir(tmp_path / "Maildir", people)
    files_before = sorted(p.name for p in (tmp_path / "Maildir").rglob("*") if p.is_file())
    dry = read_inbox(site, str(tmp_path / "Maildir"), SECRET, "", NOW, dry_run=True)
    assert statuses(site) == dict.fromkeys(PEOPLE, "subscribed")
    assert inbox_log.events(subs.open_site_database(site)) == []
    assert sorted(p.name for p in (tmp_path / "Maildir").rglob("*") if p.is_file()) == files_before
    assert all(f == "" for f in flags(box).values())
    real = read_inbox(site, str(tmp_path / "Maildir"), SECRET, "", NOW, dry_run=False)
    assert sorted(dry.changes) == sorted(real.changes) and dry.unmatched == real.unmatched


def test_soft_bounces_add_up_and_decay(site: Config, tmp_path: Path) -> None:
    people = add_people(site)
    template = fixture_bytes("postfix-dsn-soft.eml", people).decode()
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(path, create=True)

    def bounce_on(day: datetime, n: int) -> None:
        text = template.replace(
            "Message-Id: <20130427081000.4Qx9Zt6Hb2z9sY@relay.example.org>", f"Message-Id: <soft-{n}@relay>"
        )
        text = text.replace("Date: Sat, 27 Apr 2013 08:10:00 +0000 (UTC)", f"Date: {email.utils.format_datetime(day)}")
        box.add(text.encode())

    # three soft bounces a month apart never reach the threshold of 3: each has faded by the next
    for n, days_ago in enumerate((60, 30, 0)):
        bounce_on(NOW - timedelta(days=days_ago), n)
    read_inbox(site, str(path), SECRET, "", NOW, dry_run=False)
    assert statuses(site)["carol"] == "subscribed"
    # three more within a week do
    for n, days_ago in enumerate((5, 2, 1), 10):
        bounce_on(NOW - timedelta(days=days_ago), n)
    report = read_inbox(site, str(path), SECRET, "", NOW, dry_run=False)
    assert statuses(site)["carol"] == "bounced"
    assert any(line.startswith("carol@example.net: bounced (soft bounce, score 3.") for line in report.changes)
    assert inbox_log.decayed_score([NOW - timedelta(days=7)], NOW, 7.0) == pytest.approx(0.5)


def test_a_forged_token_changes_nobody_and_an_old_one_still_unsubscribes(site: Config, tmp_path: Path) -> None:
    people = add_people(site)
    conn = subs.open_site_database(site)
    stale = make_token(SECRET, people["dan"].id, people["dan"].nonce)
    subs.set_status(conn, people["dan"].id, "unsubscribed", NOW)
    subs.set_status(conn, people["dan"].id, "subscribed", NOW)  # signed up again: the same token (issue 15)
    forged = make_token(b"not-our-secret-0123456789", people["zoe"].id, people["zoe"].nonce)
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for n, token in enumerate((stale, forged)):
        box.add(
            f"From: x@example.net\nTo: author@example.org\nSubject: unsubscribe {token}\n"
            f"Message-ID: <u{n}@x>\n\nbye\n".encode()
        )
    report = read_inbox(site, str(tmp_path / "Maildir"), SECRET, "", NOW, dry_run=False)
    # an unsubscribe from any past email always works, as its link does; a forged one changes nobody
    assert statuses(site)["dan"] == "unsubscribed" and statuses(site)["zoe"] == "subscribed"
    assert len(report.unmatched) == 1


def test_an_mbox_is_read_and_its_handled_messages_flagged(site: Config, tmp_path: Path) -> None:
    people = add_people(site)
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for name in ("gmail-dsn-hard.eml", "human-reply.eml", "yahoo-arf-complaint.eml"):
        box.add(fixture_bytes(name, people))
    box.close()
    report = read_inbox(site, str(path), SECRET, "", NOW, dry_run=False)
    assert (report.handled, len(report.unmatched)) == (2, 1)
    assert statuses(site)["ann"] == "bounced" and statuses(site)["erin"] == "unsubscribed"
    after = mailbox.mbox(path)
    assert len(after) == 3
    assert sorted(m.get_flags() for m in after) == ["", "ROF", "ROF"]  # read, old, flagged
    after.close()


def test_a_maildir_folder_for_handled_messages(site: Config, tmp_path: Path) -> None:
    people = add_people(site)
    box = make_maildir(tmp_path / "Maildir", people)
    read_inbox(site, str(tmp_path / "Maildir"), SECRET, "", NOW, dry_run=False, move_to="Handled")
    moved = box.get_folder("Handled")
    assert len(moved) == 10 and len(box) == 6  # 16 messages, none lost
    assert statuses(site) == EXPECTED_STATUS


# ------------------------------------------------------------------------------------------ the command line


def test_cli_inbox(site: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    people = add_people(site)
    make_maildir(tmp_path / "Maildir", people)
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET.decode())
    runner = CliRunner()
    args = ["inbox", str(tmp_path / "Maildir"), "--site", str(site.root)]
    dry = runner.invoke(main, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "(dry run: nothing changed)" in dry.output
    assert "ann@example.net: bounced (hard bounce, 2013-W16): 5.1.1" in dry.output
    real = runner.invoke(main, args)
    assert real.exit_code == 0, real.output
    assert "read 16 messages: 10 handled, 9 subscribers changed, 0 handled before" in real.output
    assert "unmatched: " in real.output
    missing = runner.invoke(main, ["inbox", str(tmp_path / "nowhere"), "--site", str(site.root)])
    assert missing.exit_code == 1 and "no such mailbox" in missing.output and "Traceback" not in missing.output
    monkeypatch.delenv("SYNDICATE_SECRET")
    nosecret = runner.invoke(main, args)
    assert nosecret.exit_code == 1 and "SYNDICATE_SECRET is not set" in nosecret.output
