"""The newsletter as a ledger, driven from the command line with a clock (--now) against a real
SMTP server on loopback: every post reaches subscribers exactly once, and the archive holds
what was sent.

Each scenario starts from the example site as a newsletter that has sent nothing (its
records removed), with three subscribers.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from click.testing import CliRunner
from conftest import build_site, copy_example_site, post_text
from hypothesis import given, settings
from hypothesis import strategies as st
from test_mail import SECRET, Recorder, SmtpServer, site_env

from syndicate.cli.main import main
from syndicate.config import SMTP_CONNECTIONS, Cadence, Config, load_config
from syndicate.model import Entry, Post
from syndicate.newsletter.ledger import IssueRecord, Ledger, Rules, next_drafts, record_of, window_draft
from syndicate.newsletter.periods import iso_week
from syndicate.newsletter.records import record_bytes
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs

LA = ZoneInfo("America/Los_Angeles")
READERS = ["ann@example.org", "bob@example.org", "cy@example.org"]
SUMMIT_TITLES = 8  # the sessions of 15-18 April (2013-W16)
INDEX_POST = "Liveblogs from the 2013 OpenStack Summit"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LA)


@pytest.fixture
def site(tmp_path: Path) -> Config:
    config_path = copy_example_site(tmp_path / "site")
    shutil.rmtree(config_path.parent / "samples" / "newsletter")
    config = load_config(config_path)  # writes into the copy's feeds/, as the command line does
    assert config.database is not None
    conn = subs.connect(config.database)
    for address in READERS:
        subs.add(conn, address, "", local("2013-04-01T00:00"))
    return config


class PageWatcher(Recorder):
    """A Recorder that also notes, for each message, whether the issue's web page was already written."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out
        self.page_there: list[bool] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        key = str(parse(data)["List-Archive"]).strip("<>").rstrip("/").rsplit("/", 1)[-1]
        self.page_there.append((self.out / "newsletter" / key / "index.html").is_file())
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink(site: Config) -> Any:
    server = SmtpServer(PageWatcher(site.output_dir))
    yield server
    server.stop()


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def send(config: Config, sink: SmtpServer, now: str, *args: str) -> Any:
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(sink.port), "--smtp-security", "none"]
    return CliRunner().invoke(
        main,
        ["send", "--now", now, *smtp, "--retry-delays", "0", *args, "--site", str(config.path)],
        env={"SYNDICATE_SECRET": SECRET.decode()},
    )


def received(sink: SmtpServer) -> list[EmailMessage]:
    return [parse(m.data) for m in sink.handler.received]


def issue_posts(message: EmailMessage) -> list[str]:
    """The post titles an issue message lists (from its HTML part), in order."""
    html_part = message.get_body(("html",))
    assert html_part is not None
    tree = lxml.html.fromstring(html_part.get_content())
    return [" ".join(h.text_content().split()) for h in tree.xpath("//div[@class='post']/h3")]


def record(config: Config, key: str) -> dict[str, Any]:
    return tomllib.loads((config.records_dir / f"{key}.toml").read_text(encoding="utf-8"))


def add_post(config: Config, name: str, title: str, when: str) -> None:
    (config.root / "samples" / "posts" / name).write_text(post_text(title, when), encoding="utf-8")


def test_a_late_post_goes_into_the_next_issue_and_the_sent_issue_keeps_what_it_carried(
    site: Config, sink: SmtpServer
) -> None:
    first = send(site, sink, ("2013-04-22T09:00"))
    assert first.exit_code == 0, first.output
    assert "2013-W16: sent 3," in first.output
    messages = received(sink)
    assert len(messages) == 3 and {str(m["To"]) for m in messages} == set(READERS)
    assert all(len(issue_posts(m)) == SUMMIT_TITLES for m in messages)
    assert all(m["Date"].datetime == local("2013-04-22T09:00") for m in messages)  # the clock, not the week
    assert all(sink.handler.page_there), "the web page must exist before the first message goes out"
    w16 = record(site, "2013-W16")
    assert len(w16["posts"]) == SUMMIT_TITLES and w16["began"] == local("2013-04-22T09:00")

    # a post dated in W16 appears after W16 was sent
    add_post(site, "2013-04-19-late-notes.md", "Late Notes From Friday", "2013-04-19 17:00:00")
    second = send(site, sink, ("2013-04-29T09:00"))
    assert second.exit_code == 0, second.output
    late = received(sink)[3:]
    assert len(late) == 3
    assert all(issue_posts(m) == ["Late Notes From Friday", INDEX_POST] for m in late)
    assert all(m["Date"].datetime == local("2013-04-29T09:00") for m in late)
    assert record(site, "2013-W16") == w16  # a sent issue never changes
    assert [p["title"] for p in record(site, "2013-W17")["posts"]] == ["Late Notes From Friday", INDEX_POST]

    # the archive publishes what was sent: W16 still lists its 8 posts, not 9
    build_site(site)
    page = lxml.html.fromstring((site.output_dir / "newsletter" / "2013-W16" / "index.html").read_bytes())
    assert len(page.xpath("//div[@class='post']")) == SUMMIT_TITLES
    assert "Late Notes From Friday" not in page.text_content()
    archived = parse((site.output_dir / "newsletter" / "2013-W16" / "issue.eml").read_bytes())
    assert archived["Date"].datetime == local("2013-04-22T09:00")  # when sending began, from the record
    feed = feedparser.parse((site.output_dir / "newsletter" / "rss.xml").read_bytes())
    assert not feed.bozo and [e.title for e in feed.entries] == [
        "Example Blog: 2 new posts, week of 22 April 2013",
        "Example Blog: 8 new posts, week of 15 April 2013",
    ]

    # nothing new: nothing sent, and that is not an error
    third = send(site, sink, ("2013-04-30T09:00"))
    assert third.exit_code == 0 and "no new posts since 2013-W17: nothing to send" in third.output
    assert len(received(sink)) == 6


def test_a_missed_week_goes_into_the_next_issue(site: Config, sink: SmtpServer) -> None:
    assert send(site, sink, ("2013-04-22T09:00")).exit_code == 0  # W16
    add_post(site, "2013-05-01-may-day.md", "May Day Notes", "2013-05-01 10:00:00")
    # no send on 29 April (W17 missed); on 6 May the issue carries W17 and W18
    result = send(site, sink, ("2013-05-06T09:00"))
    assert result.exit_code == 0, result.output
    w18 = received(sink)[3:]
    assert len(w18) == 3 and all(issue_posts(m) == [INDEX_POST, "May Day Notes"] for m in w18)
    assert all("22 April to 5 May 2013" in str(m["Subject"]) for m in w18), w18[0]["Subject"]
    assert record(site, "2013-W18")["start"] == local("2013-04-22T00:00")


def test_an_unfinished_week_is_sent_only_when_asked(site: Config, sink: SmtpServer) -> None:
    assert send(site, sink, ("2013-04-22T09:00")).exit_code == 0  # W16
    refused = send(site, sink, ("2013-04-25T10:00"), "--week", "this")
    assert refused.exit_code == 1
    assert "2013-W17 has not ended" in refused.output and "--until now" in refused.output
    assert len(received(sink)) == 3
    # asked: the posts so far go out now, and count as carried
    early = send(site, sink, ("2013-04-25T10:00"), "--until", "now")
    assert early.exit_code == 0, early.output
    assert all(issue_posts(m) == [INDEX_POST] for m in received(sink)[3:])
    add_post(site, "2013-04-26-friday.md", "Friday Wrap-up", "2013-04-26 12:00:00")
    rest = send(site, sink, ("2013-04-29T09:00"))
    assert rest.exit_code == 0, rest.output
    assert all(issue_posts(m) == ["Friday Wrap-up"] for m in received(sink)[6:])
    assert sorted(p.stem for p in site.records_dir.glob("*.toml")) == ["2013-W16", "2013-W17", "2013-W17-2"]
    assert Counter(t for m in received(sink) for t in issue_posts(m))[INDEX_POST] == 3  # once per reader


def test_an_announcement_alone_gets_a_reminder_issue(site: Config, sink: SmtpServer) -> None:
    first = send(site, sink, ("2013-04-08T09:00"))  # W14: the giveaway post
    assert first.exit_code == 0, first.output
    reminder = send(site, sink, ("2013-04-15T09:00"))  # W15: no posts, the giveaway ends on 15 April
    assert reminder.exit_code == 0, reminder.output
    messages = received(sink)[3:]
    assert len(messages) == 3
    assert all("last chance" in str(m["Subject"]) and "ends Monday 15 April" in str(m["Subject"]) for m in messages)
    assert record(site, "2013-W15")["posts"] == []
    again = send(site, sink, ("2013-04-15T10:00"))  # no second reminder for the same announcement
    assert "nothing to send" in again.output and len(received(sink)) == 6


@pytest.mark.parametrize(
    ("cadence", "now", "keys", "posts"),
    [
        ("daily", "2013-04-16T08:00", ["2013-04-15"], [2]),
        ("monthly", "2013-05-01T08:00", ["2013-04"], [10]),
        ("post", "2013-04-16T08:00", ["nicira-nvp-deep-dive"], [1]),
    ],
)
def test_each_cadence(
    site: Config, sink: SmtpServer, cadence: str, now: str, keys: list[str], posts: list[int]
) -> None:
    with site.path.open("a", encoding="utf-8") as config_file:
        config_file.write(f'cadence = "{cadence}"\n')  # appended to the example's [digest] table
    result = send(site, sink, now)
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in site.records_dir.glob("*.toml")) == keys
    assert [len(record(site, k)["posts"]) for k in keys] == posts
    assert len(received(sink)) == 3 * len(keys)


def test_the_post_cadence_sends_one_issue_per_new_post(site: Config, sink: SmtpServer) -> None:
    with site.path.open("a", encoding="utf-8") as config_file:
        config_file.write('cadence = "post"\n')
    assert send(site, sink, ("2013-04-16T08:00")).exit_code == 0  # the newest post only: no back catalogue
    result = send(site, sink, ("2013-04-17T08:00"))
    assert result.exit_code == 0, result.output
    titles = [issue_posts(m) for m in received(sink)[3:]]
    assert sorted(map(tuple, titles)) == sorted(
        [("Considerations for Building a Private Cloud, Folsom Update",)] * 3
        + [("Building HA OpenStack with Puppet in 20 Minutes",)] * 3
    )


def test_a_flood_stops_with_a_way_on(site: Config, sink: SmtpServer) -> None:
    refused = send(site, sink, ("2013-05-01T08:00"), "--since", "2013-03-01", "--max-posts", "5")
    assert refused.exit_code == 1
    assert "10 posts wait to be mailed" in refused.output and "--max-posts 10" in refused.output
    assert not received(sink) and not site.records_dir.exists()
    sent = send(site, sink, ("2013-05-01T08:00"), "--since", "2013-03-01", "--max-posts", "10")
    assert sent.exit_code == 0, sent.output
    assert all(len(issue_posts(m)) == 10 for m in received(sink))


def test_a_record_lost_in_a_crash_is_written_again_and_its_issue_resumed(site: Config, sink: SmtpServer) -> None:
    """The database keeps each record's bytes from the moment its send begins."""
    from conftest import record_sent_issue

    (path,) = record_sent_issue(site, local("2013-04-22T09:00"))
    data = path.read_bytes()
    assert site.database is not None
    assert sendlog.start_issue(subs.connect(site.database), "2013-W16", data, "2013-04-22T09:00:00-07:00")
    path.unlink()  # killed after the database noted the issue, before the file was written
    result = send(site, sink, ("2013-04-22T09:05"))
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == data
    assert all(sink.handler.page_there)  # its web page too, before the first message
    assert len(received(sink)) == 3 and all(len(issue_posts(m)) == SUMMIT_TITLES for m in received(sink))
    assert sorted(p.name for p in site.records_dir.iterdir()) == ["2013-W16.toml"]


def command(config: Config, port: int, now: str) -> list[str]:
    return [
        sys.executable, "-m", "syndicate", "send", "--site", str(config.path), "--now", now,
        "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-security", "none", "--retry-delays", "0",
    ]  # fmt: skip


def test_sigkill_between_the_record_and_the_first_message(site: Config, sink: SmtpServer) -> None:
    mute = socket.create_server(("127.0.0.1", 0))  # accepts connections, never greets: the sender waits
    try:
        sender = subprocess.Popen(command(site, mute.getsockname()[1], "2013-04-22T09:00"), env=site_env())
        assert site.database is not None
        conn = subs.connect(site.database)
        deadline = time.monotonic() + 60
        # recorded and planned, and stuck waiting for a server that never greets: no message can go out
        while time.monotonic() < deadline and not (
            sendlog.log_rows(conn, "2013-W16") and (site.records_dir / "2013-W16.toml").exists()
        ):
            time.sleep(0.01)
        sender.send_signal(signal.SIGKILL)
        sender.wait(10)
    finally:
        mute.close()
    assert (site.records_dir / "2013-W16.toml").exists()
    assert site.database is not None  # someone subscribes before the rerun: the issue was planned without them
    subs.add(subs.connect(site.database), "late@example.org", "", local("2013-04-22T09:20"))
    rerun = subprocess.run(command(site, sink.port, "2013-04-22T09:30"), env=site_env(), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert sink.handler.count() == Counter(READERS)  # the same issue, to each reader once
    assert sorted(p.name for p in site.records_dir.iterdir()) == ["2013-W16.toml"]
    assert all(len(issue_posts(m)) == SUMMIT_TITLES for m in received(sink))


def test_sigkill_while_sending_then_rerun(site: Config, sink: SmtpServer) -> None:
    assert site.database is not None
    conn = subs.connect(site.database)
    for n in range(40):
        subs.add(conn, f"more{n:02d}@example.org", "", local("2013-04-01T00:00"))
    everyone = [*READERS, *(f"more{n:02d}@example.org" for n in range(40))]
    sender = subprocess.Popen([*command(site, sink.port, "2013-04-22T09:00"), "--rate", "40"], env=site_env())
    deadline = time.monotonic() + 60
    while sum(sink.handler.count().values()) < 10 and time.monotonic() < deadline:
        time.sleep(0.005)
    sender.send_signal(signal.SIGKILL)
    sender.wait(10)
    rerun = subprocess.run(command(site, sink.port, "2013-04-22T09:30"), env=site_env(), capture_output=True, text=True)
    counts = sink.handler.count()
    assert all(counts[e] <= 1 for e in everyone), "nobody may get the issue twice"
    unknown = {r.email for r in sendlog.log_rows(conn, "2013-W16") if r.state == "sending"}
    missing = {e for e in everyone if counts[e] == 0}
    assert missing <= unknown and len(unknown) <= SMTP_CONNECTIONS  # only those whose final dot was in flight
    assert all(e in rerun.stderr for e in unknown)  # ...and it is reported for review
    assert sorted(p.name for p in site.records_dir.iterdir()) == ["2013-W16.toml"]  # resumed, not a new issue


def test_status_keeps_the_outcomes_apart(site: Config, sink: SmtpServer) -> None:
    assert site.database is not None
    conn = subs.connect(site.database)
    subs.add(conn, "tags@example.org", "", local("2013-04-01T00:00"), tags=frozenset({"gardening"}))
    sink.handler.always = {"bob@example.org": "550 5.1.1 no such user"}
    result = send(site, sink, ("2013-04-22T09:00"))
    assert result.exit_code == 1
    assert (
        "2013-W16: sent 2, already had it 0, nothing matched their tags 1, deferred 0, failed 1, unknown 0"
        in result.output
    )
    status = CliRunner().invoke(main, ["send", "--status", "--verbose", "--site", str(site.path)])
    assert "2013-W16: 4 recipients: 2 sent, 1 failed, 1 nothing matched their tags" in status.output
    lines = [line.split() for line in status.output.splitlines()[1:]]
    assert lines[1][:2] == ["failed", "bob@example.org"]
    again = send(site, sink, "2013-04-22T10:00", "--week", "2013-W16")
    assert again.exit_code == 0 and "2013-W16 was sent already" in again.output


def test_the_record_file_reads_back_as_written(site: Config) -> None:
    from conftest import record_sent_issue

    from syndicate.build.ledger import read_ledger

    record_sent_issue(site, local("2013-04-22T09:00"))
    (read,) = read_ledger(site).records
    assert record_bytes(read) == (site.records_dir / "2013-W16.toml").read_bytes()


# --- the ledger's rule, for any history ------------------------------------------------------------


def entry_at(n: int, published: datetime) -> Entry:
    post = Post(source=f"p{n}.md", title=f"Post {n}", published=published, slug=f"p{n}", body="")
    link = f"https://blog.example.org/p{n}/"
    return Entry(post, f"tag:blog.example.org,2013:p{n}", link, f"Post {n}", None, "", "", published)


@settings(max_examples=150, deadline=None)
@given(
    posts=st.lists(st.tuples(st.integers(0, 60 * 24), st.integers(0, 20 * 24)), min_size=1, max_size=25),
    sends=st.lists(st.integers(0, 70 * 24), min_size=1, max_size=12),
    cadence=st.sampled_from(["weekly", "daily", "monthly", "post"]),
)
def test_every_post_after_the_first_issue_is_carried_exactly_once(
    posts: list[tuple[int, int]], sends: list[int], cadence: Cadence
) -> None:
    """Posts dated at `published` hours from 1 April appear `delay` hours later (late and backdated posts);
    sends happen at any hours. Whatever the history, a final send long after carries the rest: every post
    from the first issue's start on is carried by exactly one issue, and none before it."""
    origin = datetime(2013, 4, 1, tzinfo=LA)
    timeline = [(origin + timedelta(hours=p), origin + timedelta(hours=p + d)) for p, d in posts]
    records: list[IssueRecord] = []
    for hour in [*sorted(sends), 200 * 24]:
        now = origin + timedelta(hours=hour, minutes=30)
        visible = [entry_at(n, pub) for n, (pub, shown) in enumerate(timeline) if shown <= now and pub <= now]
        rules = Rules(cadence, LA, now, max_posts=0, reminders=False)
        for draft in next_drafts(visible, Ledger(tuple(records)), rules):
            records.append(record_of(draft, cadence, now))
    carried = Counter(p.id for r in records for p in r.posts)
    assert all(count == 1 for count in carried.values())
    floor = Ledger(tuple(records)).floor
    for n, (published, _) in enumerate(timeline):
        ident = entry_at(n, published).id
        assert (ident in carried) == (floor is not None and published >= floor), (n, published, floor)
    assert len({r.key for r in records}) == len(records)  # no two issues share a key


def test_a_resumed_issue_gets_its_web_page_before_its_first_message(site: Config, sink: SmtpServer) -> None:
    site.output_dir.mkdir(parents=True, exist_ok=True)
    (site.output_dir / "newsletter").write_text("in the way", encoding="utf-8")  # the page cannot be written
    failed = send(site, sink, "2013-04-22T09:00")
    assert failed.exit_code == 1 and "cannot write the issue's web page" in failed.output
    assert not received(sink)
    (site.output_dir / "newsletter").unlink()
    resumed = send(site, sink, "2013-04-22T09:30")
    assert resumed.exit_code == 0, resumed.output
    assert "2013-W16: sent 3" in resumed.output
    assert sink.handler.page_there == [True, True, True]


def drafts_at(entries: list[Entry], records: list[IssueRecord], now: datetime, **rules: Any) -> list[Any]:
    return next_drafts(entries, Ledger(tuple(records)), Rules(rules.pop("cadence", "weekly"), LA, now, **rules))


def promo_at(published: datetime, starts: str, ends: str) -> Entry:
    from syndicate.model import Announcement

    entry = entry_at(99, published)
    ann = Announcement(datetime.fromisoformat(starts).date(), datetime.fromisoformat(ends).date())
    post = dataclasses.replace(entry.post, announcement=ann)
    return dataclasses.replace(entry, post=post, id="tag:blog.example.org,2013:promo")


def test_no_reminder_once_the_deadline_has_passed() -> None:
    promo = promo_at(local("2013-04-01T09:00"), "2013-04-01", "2013-04-15")
    post = entry_at(1, local("2013-04-10T09:00"))
    records: list[IssueRecord] = []
    for now in ("2013-04-08T09:00", "2013-04-15T09:00"):  # W14 (the promo) and W15 (a post) are sent
        for draft in drafts_at([promo, post], records, local(now)):
            records.append(record_of(draft, "weekly", local(now)))
    assert [len(r.posts) for r in records] == [1, 1]
    # W16 has no posts; the giveaway ended on its Monday: a reminder on the 22nd would come too late
    assert drafts_at([promo, post], records, local("2013-04-22T09:00")) == []


def test_a_first_issue_sent_by_name_starts_the_newsletter_there() -> None:
    old = [entry_at(n, local("2012-01-02T09:00") + timedelta(days=7 * n)) for n in range(30)]
    new = entry_at(100, local("2013-04-16T09:00"))
    ledger = Ledger(())
    period = iso_week(2013, 14, LA)
    first = window_draft([*old, new], ledger, period, Rules("weekly", LA, local("2013-04-08T09:00")))
    assert first is None  # nothing in W14...
    period = iso_week(2013, 16, LA)
    draft = window_draft([*old, new], ledger, period, Rules("weekly", LA, local("2013-04-22T09:00")))
    assert draft is not None and draft.skips_before == period.start
    records = [record_of(draft, "weekly", local("2013-04-22T09:00"))]
    # ...and the next scheduled issue does not dig up the back catalogue
    assert drafts_at([*old, new], records, local("2013-04-29T09:00")) == []


def test_posts_with_the_same_slug_get_keys_of_their_own() -> None:
    one = entry_at(1, local("2013-04-16T09:00"))
    two = dataclasses.replace(entry_at(2, local("2013-04-16T10:00")), post=one.post)
    two = dataclasses.replace(two, id="tag:other")
    base = entry_at(0, local("2013-04-15T09:00"))
    records = [
        record_of(d, "post", local("2013-04-15T12:00"))
        for d in drafts_at([base], [], local("2013-04-15T12:00"), cadence="post")
    ]
    later = drafts_at([base, one, two], records, local("2013-04-17T09:00"), cadence="post")
    assert [d.period.key for d in later] == ["p1", "p1-2"]
