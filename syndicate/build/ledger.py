"""The records folder: reading the sent issues, writing a new one, and making an issue of a record.

Records are files in the site (`newsletter/2013-W16.toml` beside syndicate.toml by default),
meant to be committed with the posts. The database keeps each record's bytes too, from the
moment its send begins, so a record lost to a crash is written again by the next run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from syndicate.build.front import record_files
from syndicate.config import Config
from syndicate.errors import SyndicateError
from syndicate.model import Announcement, Entry, Post
from syndicate.newsletter.contents import Issue, make_issue
from syndicate.newsletter.ledger import CarriedNote, CarriedPost, IssueRecord, Ledger
from syndicate.newsletter.records import BadRecord, file_name, parse_record, record_bytes
from syndicate.output import write_if_changed
from syndicate.render.entry import render_entry


def read_ledger(config: Config) -> Ledger:
    """Every sent issue the site records, oldest first."""
    records = []
    for path in record_files(config):
        try:
            record = parse_record(path.read_bytes(), config.site.timezone)
        except BadRecord as exc:
            raise SyndicateError(f"{exc}; `syndicate send` writes this file: restore it from git", path=path) from None
        except OSError as exc:
            raise SyndicateError(f"cannot read: {exc.strerror}", path=path) from None
        if f"{record.key}.toml" != path.name:
            raise SyndicateError(f"holds issue {record.key!r}; rename it {record.key}.toml", path=path)
        records.append(record)
    records.sort(key=lambda r: (r.began, r.key))
    return Ledger(tuple(records))


def write_record(config: Config, record: IssueRecord) -> Path:
    """Write a record (again, after a crash: same bytes). Never replaces a different record."""
    return write_record_bytes(config, record.key, record_bytes(record))


def write_record_bytes(config: Config, key: str, data: bytes) -> Path:
    path = config.records_dir / file_name(key)
    try:
        if path.exists() and path.read_bytes() != data:
            raise SyndicateError(
                f"already records a different issue {key}; move it aside if it is stale, then run again", path=path
            )
        write_if_changed(path, data)
    except OSError as exc:
        raise SyndicateError(f"cannot write the issue record: {exc.strerror}", path=path) from None
    return path


def _stand_in(post: CarriedPost, config: Config, key: str) -> Entry:
    """A carried post that is gone from the site: its title and link, as the issue carried them."""
    stub = Post(
        source=f"issue record {key}",
        title=post.title,
        published=post.published,
        slug="",
        body="",
        body_format="html",
        id=post.id,
        url=post.link,
    )
    return render_entry(stub, config.site)


def _stand_in_note(note: CarriedNote, config: Config, key: str, published: datetime) -> Entry:
    stub = Post(
        source=f"issue record {key}",
        title=note.title,
        published=published,
        slug="",
        body="",
        body_format="html",
        id=note.id,
        url=note.link,
        announcement=Announcement(starts=note.ends, ends=note.ends),
    )
    return render_entry(stub, config.site)


def recorded_issue(config: Config, record: IssueRecord, by_id: Mapping[str, Entry]) -> Issue:
    """The issue a record describes: exactly the posts it carried, in its order, each with its current
    text when the site still has it, else with the title and link it was sent with."""
    posts: list[Entry] = []
    for carried in record.posts:
        entry = by_id.get(carried.id)
        posts.append(entry if entry is not None else _stand_in(carried, config, record.key))
    notes: list[Entry] = []
    for note in record.announcements:
        entry = by_id.get(note.id)
        if entry is None or entry.post.announcement is None:
            entry = _stand_in_note(note, config, record.key, record.start)
        notes.append(entry)
    return make_issue(record.period, posts, notes, record.began, record.cadence)


def entries_by_id(entries: Sequence[Entry]) -> dict[str, Entry]:
    return {e.id: e for e in entries}
