"""`subscribers export` is inert in a spreadsheet, in every column, and still imports back unchanged."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.subscribers import csvfile
from syndicate.subscribers import store as subs

NOW = datetime(2013, 4, 29, 9, 0, tzinfo=UTC)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def export(conn: subs.Connection) -> str:
    buffer = io.StringIO()
    csvfile.export_csv(subs.all_subscribers(conn), buffer)
    return buffer.getvalue()


def test_every_column_is_escaped_and_imports_back(tmp_path: Path) -> None:
    conn = subs.connect(tmp_path / "a.sqlite3")
    subs.add(conn, "=cmd@example.org", "@SUM(A1)", NOW, tags=frozenset({"=HYPERLINK(x)"}))
    subs.add(conn, "+1@example.org", "'=already quoted", NOW, tags=frozenset({"-rm"}))
    subs.add(conn, "-x@example.org", "'plain quote", NOW)
    text = export(conn)
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert cell[:1] not in FORMULA, f"{cell!r} would run as a formula"
    again = subs.connect(tmp_path / "b.sqlite3")
    report = csvfile.import_rows(again, io.StringIO(text, newline=""), "export.csv", NOW)
    assert (report.added, report.errors) == (3, [])
    assert [(s.email, s.name, s.tags) for s in subs.all_subscribers(again)] == [
        (s.email, s.name, s.tags) for s in subs.all_subscribers(conn)
    ]
    assert "'=cmd@example.org" in text and "'=HYPERLINK(x)" in text and "''=already quoted" in text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="'=+-@\tab", max_size=8))
def test_escaping_is_undone_exactly(value: str) -> None:
    safe = csvfile._csv_safe(value)
    assert safe[:1] not in FORMULA
    assert csvfile._from_csv(safe) == value
