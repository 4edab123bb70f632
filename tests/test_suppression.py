"""Erasure and suppression: `remove --forget` leaves only a salted hash, which keeps the address
from coming back; row ids are never reused, and an older database is upgraded in place."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT, copy_example_site

from syndicate.cli.main import main
from syndicate.errors import DeliveryError
from syndicate.subscribers import csvfile, inbox_log, sendlog, suppression
from syndicate.subscribers import store as subs

NOW = datetime(2013, 4, 29, 9, 0, tzinfo=UTC)
LATER = datetime(2013, 5, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return subs.connect(tmp_path / "subscribers.sqlite3")


def dump(conn: sqlite3.Connection) -> str:
    return "\n".join(conn.iterdump())


def test_forget_erases_the_address_everywhere_and_keeps_a_salted_hash(conn: sqlite3.Connection) -> None:
    _, gone = subs.add(conn, "Gone.Person@Example.org", "Gone", NOW)
    subs.add(conn, "stays@example.org", "Stays", NOW)
    sendlog.plan_issue(sendlog.open_log(conn), "2013-W16", "2013-04-22T08:00:00")
    with conn:
        inbox_log.record(
            conn,
            inbox_log.Event("<r1@mx>", gone.id, gone.email, "soft_bounce", "2013-W16", "4.2.2", NOW.isoformat()),
        )
    subs.remove(conn, "gone.person@example.org", LATER, forget=True)
    text = dump(conn).lower()
    assert "gone.person" not in text and "gone" not in text.replace("stays", "")  # no trace of the address
    assert inbox_log.events(conn) == []
    assert suppression.count(conn) == 1
    salt = conn.execute("SELECT salt FROM suppression_salt").fetchone()[0]
    stored = conn.execute("SELECT address_hash FROM suppressed").fetchone()[0]
    assert stored == suppression.address_hash(salt, "gone.person@example.org")
    assert stored != suppression.address_hash("another-salt", "gone.person@example.org")  # salted
    assert suppression.is_suppressed(conn, "gone.person@example.org")
    assert not suppression.is_suppressed(conn, "stays@example.org")


def test_a_forgotten_address_is_skipped_by_import_and_refused_by_add(conn: sqlite3.Connection, tmp_path: Path) -> None:
    subs.add(conn, "gone@example.org", "Gone", NOW)
    subs.remove(conn, "gone@example.org", LATER, forget=True)
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("email,name\nGONE@example.org,Gone\nnew@example.org,New\n", encoding="utf-8")
    report = csvfile.import_csv(conn, csv_file, LATER)
    assert (report.added, report.suppressed, report.errors) == (1, 1, [])
    assert subs.find(conn, "gone@example.org") is None
    with pytest.raises(DeliveryError, match="suppression list"):
        subs.add(conn, "gone@example.org", "Gone", LATER)
    with pytest.raises(DeliveryError, match="suppression list"):
        subs.add(conn, "gone@example.org", "Gone", LATER, resubscribe=True)
    assert subs.find(conn, "gone@example.org") is None


def test_row_ids_are_never_reused(conn: sqlite3.Connection) -> None:
    ids = [subs.add(conn, f"p{n}@example.org", "", NOW)[1].id for n in range(3)]
    subs.remove(conn, "p2@example.org", NOW, forget=True)  # the highest id: plain rowids would give it out again
    _, newcomer = subs.add(conn, "new@example.org", "", NOW)
    assert newcomer.id == max(ids) + 1


OLD_SCHEMA = """
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('subscribed', 'unsubscribed', 'bounced')),
    tags TEXT,
    nonce TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE send_log (
    issue TEXT NOT NULL, subscriber_id INTEGER NOT NULL, email TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL,
    PRIMARY KEY (issue, subscriber_id)
) WITHOUT ROWID;
INSERT INTO subscribers VALUES (1, 'a@example.org', 'a@example.org', 'A', 'subscribed', '["SDN"]',
    '0123456789abcdef', '2013-04-01T00:00:00+00:00', '2013-04-01T00:00:00+00:00');
INSERT INTO subscribers VALUES (2, 'b@example.org', 'b@example.org', 'B', 'bounced', NULL,
    '0123456789abcdee', '2013-04-01T00:00:00+00:00', '2013-04-02T00:00:00+00:00');
INSERT INTO send_log VALUES ('2013-W15', 1, 'a@example.org', 'sent', 1, '250', '2013-04-15T00:00:00+00:00');
INSERT INTO send_log VALUES ('2013-W15', 7, 'deleted@example.org', 'sent', 1, '250', '2013-04-15T00:00:00+00:00');
"""


def test_an_older_database_is_upgraded_in_place_keeping_every_row(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()
    conn = subs.connect(path)
    table_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'subscribers'").fetchone()[0]
    assert "AUTOINCREMENT" in table_sql
    people = subs.all_subscribers(conn)
    assert [(s.id, s.email, s.status, s.tags, s.nonce) for s in people] == [
        (1, "a@example.org", "subscribed", frozenset({"SDN"}), "0123456789abcdef"),
        (2, "b@example.org", "bounced", None, "0123456789abcdee"),
    ]
    assert len(sendlog.log_rows(conn)) == 2
    _, newcomer = subs.add(conn, "c@example.org", "C", NOW)
    assert newcomer.id == 8  # above every id the send log has seen, not only the table's own
    again = subs.connect(path)  # a second open finds it upgraded and changes nothing
    assert subs.get(again, 8) is not None


def test_cli_forget_then_import_says_so(tmp_path: Path) -> None:
    site = copy_example_site(tmp_path / "site").parent
    runner = CliRunner()
    sample = str(REPO_ROOT / "samples" / "subscribers.csv")
    assert runner.invoke(main, ["subscribers", "import", sample, "--site", str(site)]).exit_code == 0
    forgot = runner.invoke(main, ["subscribers", "remove", "ann.lee@example.org", "--forget", "--site", str(site)])
    assert forgot.exit_code == 0, forgot.output
    again = runner.invoke(main, ["subscribers", "import", sample, "--site", str(site)])
    assert again.exit_code == 0, again.output
    assert "0 added, 0 updated, 7 unchanged, 0 rows skipped, 1 suppressed" in again.output
    added = runner.invoke(main, ["subscribers", "add", "Ann.Lee@example.org", "--site", str(site)])
    assert added.exit_code == 1 and "suppression list" in added.output
