"""An issue record as a TOML file (`2013-W16.toml`), written by `send` and committed with the posts.

tomli-w writes it (TOML has no writer in the standard library), tomllib reads it back.
The file is the whole truth about what an issue carried: a rebuild never changes it.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import tomli_w

from syndicate.config import CADENCES, Cadence
from syndicate.newsletter.ledger import CarriedNote, CarriedPost, IssueRecord

SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
HEADER = "# A sent issue of the newsletter, recorded by `syndicate send` before its first message.\n"


class BadRecord(ValueError):
    """A record file that cannot be read; the message says what is wrong."""


def file_name(key: str) -> str:
    if not SAFE_KEY.fullmatch(key) or ".." in key:
        raise BadRecord(f"{key!r} cannot name an issue record")
    return f"{key}.toml"


def record_bytes(record: IssueRecord) -> bytes:
    """The record as TOML: same record, same bytes."""
    doc: dict[str, Any] = {
        "key": record.key,
        "cadence": record.cadence,
        "start": record.start,
        "end": record.end,
        "began": record.began,
    }
    if record.skips_before is not None:
        doc["skips_before"] = record.skips_before
    doc["posts"] = [{"id": p.id, "title": p.title, "link": p.link, "published": p.published} for p in record.posts]
    doc["announcements"] = [
        {"id": n.id, "title": n.title, "link": n.link, "ends": n.ends} for n in record.announcements
    ]
    return (HEADER + tomli_w.dumps(doc)).encode("utf-8")


def _moment(table: dict[str, Any], name: str, tz: ZoneInfo) -> datetime:
    value = table.get(name)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise BadRecord(f"{name} must be a date and time with its UTC offset, like 2013-04-22T09:00:00-07:00")
    return value.astimezone(tz)


def _text(table: dict[str, Any], name: str) -> str:
    value = table.get(name)
    if not isinstance(value, str):
        raise BadRecord(f"{name} must be a string")
    return value


def _tables(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = doc.get(name, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise BadRecord(f"{name} must be a list of [[{name}]] tables")
    return cast(list[dict[str, Any]], value)


def parse_record(data: bytes, tz: ZoneInfo) -> IssueRecord:
    """A record file's bytes → the record, times in the site's zone. Raises BadRecord."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadRecord(f"not valid TOML: {exc}") from None
    cadence = doc.get("cadence")
    if cadence not in CADENCES:
        raise BadRecord(f"cadence must be one of {', '.join(CADENCES)}")
    posts = tuple(
        CarriedPost(_text(t, "id"), _text(t, "title"), _text(t, "link"), _moment(t, "published", tz))
        for t in _tables(doc, "posts")
    )
    notes = []
    for table in _tables(doc, "announcements"):
        ends = table.get("ends")
        if not isinstance(ends, date) or isinstance(ends, datetime):
            raise BadRecord("an announcement's ends must be a date like 2013-04-15")
        notes.append(CarriedNote(_text(table, "id"), _text(table, "title"), _text(table, "link"), ends))
    key = _text(doc, "key")
    file_name(key)
    return IssueRecord(
        key=key,
        cadence=cast(Cadence, cadence),
        start=_moment(doc, "start", tz),
        end=_moment(doc, "end", tz),
        began=_moment(doc, "began", tz),
        posts=posts,
        announcements=tuple(notes),
        skips_before=_moment(doc, "skips_before", tz) if "skips_before" in doc else None,
    )
