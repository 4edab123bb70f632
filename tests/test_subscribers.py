"""The subscriber list (SQLite), CSV import/export, and the signed unsubscribe tokens."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT, copy_example_site
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.cli.main import main
from syndicate.errors import DeliveryError
from syndicate.subscribers import csvfile, sendlog
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import DatabaseBusy, DatabaseError, translated
from syndicate.subscribers.tokens import (
    ForgedToken,
    StaleToken,
    check_current,
    make_token,
    read_token,
    secret_from_env,
    unsubscribe_url,
)

NOW = datetime(2013, 4, 29, 9, 0, tzinfo=UTC)
LATER = datetime(2013, 5, 6, 9, 0, tzinfo=UTC)
SECRET = b"test-secret-0123456789abcdef"


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return subs.connect(tmp_path / "db" / "subscribers.sqlite3")


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ the database


def test_database_is_wal_and_one_file(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.sqlite3"
    conn = subs.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    subs.add(conn, "a@example.org", "A", NOW)
    assert subs.find(subs.connect(path), "A@EXAMPLE.ORG") is not None  # another connection sees it


def test_a_locked_database_is_our_error_and_a_bug_in_sql_is_not(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.sqlite3"
    holder, waiting = subs.connect(path), subs.connect(path)
    waiting.execute("PRAGMA busy_timeout = 50")  # not the real 10 s: the test would wait that long
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy, match="in use by another process"):
            subs.add(waiting, "a@example.org", "A", NOW)
    finally:
        holder.execute("ROLLBACK")
    assert subs.find(waiting, "a@example.org") is None  # nothing half-done
    with pytest.raises(sqlite3.OperationalError):  # our mistake: a traceback, not a message for the user
        translated(lambda: waiting.execute("SELECT no_such_column FROM subscribers"))()


def test_a_damaged_database_is_our_error(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.sqlite3"
    path.write_bytes(b"not a database " * 100)
    with pytest.raises(DatabaseError, match="cannot open the subscriber database"):
        subs.connect(path)


def test_add_is_unique_however_capitalised(conn: sqlite3.Connection) -> None:
    outcome, first = subs.add(conn, "Ann.Lee@Example.ORG", "Ann", NOW)
    assert outcome == "added" and first.email == "Ann.Lee@example.org" and first.status == "subscribed"
    outcome, again = subs.add(conn, "ann.lee@example.org", "Ann Lee", LATER)
    assert outcome == "updated" and again.id == first.id and again.name == "Ann Lee"
    assert again.created == first.created and again.updated == LATER.isoformat(timespec="seconds")
    assert subs.counts(conn) == {"subscribed": 1, "unsubscribed": 0, "bounced": 0}
    outcome, _ = subs.add(conn, "ANN.LEE@example.org", None, LATER)
    assert outcome == "unchanged"  # no name given: the name stays


def test_invalid_addresses_are_refused(conn: sqlite3.Connection) -> None:
    for bad in ("", "no-at-sign", "a@b", "x@localhost", "two@@example.org", "a@example.org\r\nBcc: x@example.org"):
        with pytest.raises(DeliveryError, match="not a valid address"):
            subs.add(conn, bad, "", NOW)
    assert subs.all_subscribers(conn) == []


def test_names_are_one_clean_line(conn: sqlite3.Connection) -> None:
    _, sub = subs.add(conn, "e@example.org", "Eve\r\nBcc: x@example.org\x00\u202e", NOW)
    assert sub.name == "Eve Bcc: x@example.org"
    _, encoded = subs.add(conn, "w@example.org", "=?utf-8?q?Bcc=3A_x=40example=2Eorg?=", NOW)
    assert "=?" not in encoded.name
    _, long = subs.add(conn, "l@example.org", "n" * 1000, NOW)
    assert len(long.name) == subs.MAX_NAME


def test_remove_keeps_the_record_and_import_cannot_resubscribe(conn: sqlite3.Connection, tmp_path: Path) -> None:
    subs.add(conn, "a@example.org", "A", NOW)
    subs.remove(conn, "A@example.org", LATER)
    found = subs.find(conn, "a@example.org")
    assert found is not None and found.status == "unsubscribed"
    report = csvfile.import_csv(conn, write_csv(tmp_path / "s.csv", "email,name\na@example.org,A\n"), LATER)
    assert report.unchanged == 1
    found = subs.find(conn, "a@example.org")
    assert found is not None and found.status == "unsubscribed"
    _, back = subs.add(conn, "a@example.org", "A", LATER)
    assert back.status == "unsubscribed"  # adding again does not re-subscribe either…
    outcome, back = subs.add(conn, "a@example.org", "A", LATER, resubscribe=True)
    assert outcome == "resubscribed" and back.status == "subscribed"  # …unless asked to
    subs.remove(conn, "a@example.org", LATER, forget=True)
    assert subs.find(conn, "a@example.org") is None
    with pytest.raises(DeliveryError, match="not in the subscriber list"):
        subs.remove(conn, "a@example.org", LATER)


def test_forget_erases_the_send_log_rows_and_a_reused_id_inherits_none(conn: sqlite3.Connection) -> None:
    _, gone = subs.add(conn, "gone@example.org", "Gone", NOW)
    sendlog.open_log(conn)
    sendlog.plan_issue(conn, "2013-W16", "2013-04-22T08:00:00")
    sendlog.set_state(conn, "2013-W16", gone.id, "sent", "250 OK", "2013-04-22T08:00:01", count_attempt=True)
    subs.remove(conn, "gone@example.org", LATER, forget=True)
    assert [r.email for r in sendlog.log_rows(conn)] == []  # the address is erased from the log too

    _, new = subs.add(conn, "new@example.org", "New", LATER)
    assert new.id > gone.id  # a row id is never handed out twice (AUTOINCREMENT)…
    planned = sendlog.plan_issue(conn, "2013-W16", "2013-04-23T08:00:00")
    assert [(r.email, r.state) for r in planned] == [("new@example.org", "pending")]  # …and no "sent" row


def test_resubscribing_keeps_the_nonce(conn: sqlite3.Connection) -> None:
    _, sub = subs.add(conn, "a@example.org", "A", NOW)
    out = subs.set_status(conn, sub.id, "unsubscribed", LATER)
    assert out is not None and out.nonce == sub.nonce  # unsubscribing twice is harmless
    back = subs.set_status(conn, sub.id, "subscribed", LATER)
    assert back is not None and back.nonce == sub.nonce  # old messages' unsubscribe links keep working
    subs.remove(conn, "a@example.org", LATER)
    _, again = subs.add(conn, "a@example.org", None, LATER, resubscribe=True)
    assert again.nonce == sub.nonce


def test_tag_filters(conn: sqlite3.Connection) -> None:
    assert subs.parse_tags(" OpenStack ; SDN,, ") == frozenset({"OpenStack", "SDN"})
    assert subs.parse_tags("  ") is None
    _, sub = subs.add(conn, "t@example.org", "T", NOW, tags=frozenset({"SDN"}))
    assert sub.tags == frozenset({"SDN"})
    _, sub = subs.add(conn, "t@example.org", "T", NOW)  # tags not given: kept
    assert sub.tags == frozenset({"SDN"})
    _, sub = subs.add(conn, "t@example.org", "T", NOW, tags=None)  # cleared: every post
    assert sub.tags is None


# ------------------------------------------------------------------------------------------ CSV


def test_sample_csv_imports_cleanly_and_reimport_changes_nothing(conn: sqlite3.Connection) -> None:
    sample = REPO_ROOT / "samples" / "subscribers.csv"
    first = csvfile.import_csv(conn, sample, NOW)
    assert (first.added, first.updated, first.errors) == (8, 0, [])
    people = subs.all_subscribers(conn)
    assert all(p.email.endswith("@example.org") for p in people)
    assert any(any(ord(c) > 127 for c in p.name) for p in people)
    assert sum(1 for p in people if p.tags) == 1
    second = csvfile.import_csv(conn, sample, LATER)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 8)
    assert len(subs.all_subscribers(conn)) == 8


def test_bad_rows_are_reported_with_line_numbers_and_skipped(conn: sqlite3.Connection, tmp_path: Path) -> None:
    text = (
        "Email,Name,Tags\n"  # 1: header (any case)
        "ok1@example.org,One,\n"  # 2
        "not-an-address,Bad,\n"  # 3
        "\n"  # 4: blank lines are fine
        "ok2@example.org,Two,SDN;Puppet\n"  # 5
        "OK1@example.org,Again,\n"  # 6: duplicate of line 2
        "ok3@example.org,Three,,extra\n"  # 7: too many fields
        '"ok4@example.org","Four, with comma",""\n'  # 8
        "ok5@example.org\n"  # 9: short rows are fine
        ",Nobody,\n"  # 10: no address
    )
    report = csvfile.import_csv(conn, write_csv(tmp_path / "list.csv", text), NOW)
    lines = [int(e.split(":")[1]) for e in report.errors]
    assert lines == [3, 6, 7, 10]
    assert all(e.startswith(f"{tmp_path / 'list.csv'}:") and "skipped" in e for e in report.errors)
    assert "already appears on line 2" in report.errors[1]
    assert report.added == 4  # ok1, ok2, ok4, ok5
    four = subs.find(conn, "ok4@example.org")
    assert four is not None and four.name == "Four, with comma"
    two = subs.find(conn, "ok2@example.org")
    assert two is not None and two.tags == frozenset({"SDN", "Puppet"})


def test_header_problems_stop_the_import(conn: sqlite3.Connection, tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="header"):
        csvfile.import_csv(conn, write_csv(tmp_path / "a.csv", "a@example.org,A\n"), NOW)
    with pytest.raises(DeliveryError, match="unknown column 'tag'"):
        csvfile.import_csv(conn, write_csv(tmp_path / "b.csv", "email,name,tag\n"), NOW)
    (tmp_path / "c.csv").write_bytes(b"email,name\nx@example.org,\xff\n")
    with pytest.raises(DeliveryError, match="not UTF-8") as info:
        csvfile.import_csv(conn, tmp_path / "c.csv", NOW)
    assert info.value.line == 2
    assert subs.all_subscribers(conn) == []


def test_reimport_updates_names_and_tags(conn: sqlite3.Connection, tmp_path: Path) -> None:
    csvfile.import_csv(conn, write_csv(tmp_path / "a.csv", "email,name,tags\na@example.org,Ann,SDN\n"), NOW)
    report = csvfile.import_csv(conn, write_csv(tmp_path / "b.csv", "email,name,tags\na@example.org,Ann Lee,\n"), LATER)
    assert report.updated == 1
    sub = subs.find(conn, "a@example.org")
    assert sub is not None and sub.name == "Ann Lee" and sub.tags is None
    csvfile.import_csv(conn, write_csv(tmp_path / "c.csv", "email,name\na@example.org,Ann Lee\n"), LATER)
    assert subs.find(conn, "a@example.org") == sub  # no tags column: tags untouched


def test_export_imports_back_unchanged(conn: sqlite3.Connection, tmp_path: Path) -> None:
    subs.add(conn, "a@example.org", '=HYPERLINK("x")', NOW)
    subs.add(conn, "b@example.org", 'Zoë, "quoted"', NOW, tags=frozenset({"SDN", "Open Stack"}))
    subs.add(conn, "c@example.org", "Gone", NOW)
    subs.remove(conn, "c@example.org", NOW)
    buffer = io.StringIO()
    assert csvfile.export_csv(subs.all_subscribers(conn), buffer) == 3
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert rows[0]["name"] == '\'=HYPERLINK("x")'  # a spreadsheet shows it as text
    assert rows[2]["status"] == "unsubscribed"
    before = subs.all_subscribers(conn)
    report = csvfile.import_csv(conn, write_csv(tmp_path / "export.csv", buffer.getvalue()), LATER)
    assert (report.unchanged, report.errors) == (3, [])
    assert subs.all_subscribers(conn) == before


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_csv_text_imports_or_fails_cleanly(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    conn = subs.connect(folder / "s.sqlite3")
    try:
        report = csvfile.import_rows(conn, io.StringIO("email,name,tags\n" + text, newline=""), "x.csv", NOW)
    except DeliveryError:
        return
    for sub in subs.all_subscribers(conn):
        assert "\r" not in sub.name and "\n" not in sub.name and "\x00" not in sub.name
        assert subs.normalize_email(sub.email) == sub.email
    assert report.added == len(subs.all_subscribers(conn))


# ------------------------------------------------------------------------------------------ tokens


def test_token_round_trip_and_url() -> None:
    token = make_token(SECRET, 42, "0123456789abcdef")
    claim = read_token(SECRET, token)
    assert (claim.subscriber_id, claim.nonce) == (42, "0123456789abcdef")
    url = unsubscribe_url("https://blog.example.org/unsubscribe", token)
    assert url == f"https://blog.example.org/unsubscribe?token={token}"
    assert unsubscribe_url("https://x.example/u?list=a", token) == f"https://x.example/u?list=a&token={token}"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("42.", "43.", 1),  # another subscriber
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t.split(".")[0] + ".fedcba9876543210." + t.split(".")[2],  # nonce changed
        lambda t: make_token(b"another-secret-0123456789", 42, "0123456789abcdef"),
        lambda t: "",
        lambda t: "42.0123456789abcdef",
        lambda t: t + "=",
        lambda t: "../../etc/passwd",
    ],
)
def test_forged_tokens_are_rejected(mutate: object) -> None:
    token = make_token(SECRET, 42, "0123456789abcdef")
    assert callable(mutate)
    with pytest.raises(ForgedToken):
        read_token(SECRET, mutate(token))


def test_token_stays_current_after_resubscribe(conn: sqlite3.Connection) -> None:
    _, sub = subs.add(conn, "a@example.org", "A", NOW)
    claim = read_token(SECRET, make_token(SECRET, sub.id, sub.nonce))
    check_current(claim, sub.nonce)
    subs.set_status(conn, sub.id, "unsubscribed", LATER)
    again = subs.get(conn, sub.id)
    assert again is not None
    check_current(claim, again.nonce)  # still current: a second unsubscribe click works
    subs.set_status(conn, sub.id, "subscribed", LATER)
    fresh = subs.get(conn, sub.id)
    assert fresh is not None
    check_current(claim, fresh.nonce)  # a link from before the re-subscription still unsubscribes
    with pytest.raises(StaleToken):
        check_current(claim, None)  # deleted subscriber


def test_secret_comes_from_the_environment() -> None:
    with pytest.raises(DeliveryError, match="SYNDICATE_SECRET is not set"):
        secret_from_env({})
    with pytest.raises(DeliveryError, match="too short"):
        secret_from_env({"SYNDICATE_SECRET": "short"})
    assert secret_from_env({"SYNDICATE_SECRET": "x" * 32}) == b"x" * 32


# ------------------------------------------------------------------------------------------ CLI


def test_cli_subscriber_commands(tmp_path: Path) -> None:
    config = copy_example_site(tmp_path / "site")
    site = ["--site", str(config)]
    runner = CliRunner()
    sample = str(REPO_ROOT / "samples" / "subscribers.csv")

    imported = runner.invoke(main, ["subscribers", "import", sample, *site])
    assert imported.exit_code == 0, imported.output
    assert "8 added, 0 updated, 0 unchanged, 0 rows skipped" in imported.output

    added = runner.invoke(main, ["subscribers", "add", "New@Example.org", "--name", "New One", "--tags", "SDN", *site])
    assert added.exit_code == 0 and "added New@example.org (subscribed)" in added.output
    removed = runner.invoke(main, ["subscribers", "remove", "ann.lee@example.org", *site])
    assert removed.exit_code == 0 and "unsubscribed ann.lee@example.org" in removed.output

    listed = runner.invoke(main, ["subscribers", "list", *site])
    assert listed.exit_code == 0
    assert "9 subscribers: 8 subscribed, 1 unsubscribed, 0 bounced" in listed.output
    assert "New One" in listed.output and "SDN" in listed.output

    exported = runner.invoke(main, ["subscribers", "export", *site])
    assert exported.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(exported.output)))) == 9

    bad = tmp_path / "bad.csv"
    bad.write_text("email,name\nfine@example.org,Fine\nbroken,Broken\n", encoding="utf-8")
    partial = runner.invoke(main, ["subscribers", "import", str(bad), *site])
    assert partial.exit_code == 1
    assert f"{bad}:3: 'broken' is not a valid address" in partial.output
    assert "1 added" in partial.output

    invalid = runner.invoke(main, ["subscribers", "add", "nope", *site])
    assert invalid.exit_code == 1 and "not a valid address" in invalid.output and "Traceback" not in invalid.output


class BrokenAfter(io.StringIO):
    """A CSV file whose reading fails after `lines` lines, as a killed import or a failing disk would stop."""

    def __init__(self, text: str, lines: int) -> None:
        super().__init__(text)
        self.left = lines

    def __next__(self) -> str:
        if self.left == 0:
            raise OSError("read failed")
        self.left -= 1
        return super().__next__()


def test_an_import_commits_in_batches_and_a_rerun_completes_it(conn: sqlite3.Connection) -> None:
    rows = "email,name\n" + "".join(f"r{n:04d}@example.org,R {n}\n" for n in range(1200))
    with pytest.raises(OSError):
        csvfile.import_rows(conn, BrokenAfter(rows, 1 + 700), "big.csv", datetime(2013, 4, 1, tzinfo=UTC))
    # the batches before the failure are in; the one it broke is rolled back whole
    assert len(subs.all_subscribers(conn)) == csvfile.BATCH
    report = csvfile.import_rows(conn, io.StringIO(rows), "big.csv", datetime(2013, 4, 2, tzinfo=UTC))
    assert (report.added, report.unchanged) == (1200 - csvfile.BATCH, csvfile.BATCH)
    assert len(subs.all_subscribers(conn)) == 1200
