"""Shared test helpers: the repository's example site, and small throwaway sites.

`make_site` and `build_site` are plain functions (import them with
`from conftest import build_site, make_site`); the fixtures below wrap the
repository's own example configuration.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicate.build.site import BuildResult, build
from syndicate.config import Config, load_config

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
EXAMPLE_TODAY = date(2013, 4, 30)
# every header a digest message carries, no more (a name or title must never add one)
DIGEST_HEADERS = frozenset(
    {
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Id",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "List-Archive",
        "MIME-Version",
        "Content-Type",
    }
)  # a week after the example site's newest post

# The minimal syndicate.toml from issue 2; it must keep working as written.
MINIMAL_CONFIG: dict[str, dict[str, Any]] = {
    "site": {
        "title": "Example Blog",
        "url": "https://blog.example.org/",
        "description": "Notes on clouds and networks",
        "language": "en",
        "timezone": "America/Los_Angeles",
        "author": {"name": "Example Author", "email": "author@example.org"},
    },
    "content": {"posts": "posts"},
    "output": {"dir": "public"},
    "feeds": {"formats": ["rss", "atom", "json"], "max_items": 20, "full_content": True},
}


def toml_value(value: object) -> str:
    """Just enough TOML writing for test configs (strings, numbers, booleans, dates, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):  # a TOML local date (or, for a datetime, a local date-time)
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml_text(tables: Mapping[str, Mapping[str, object]]) -> str:
    lines: list[str] = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in table.items())
        lines.append("")
    return "\n".join(lines)


def write_site(root: Path, posts: Mapping[str, str | bytes], **config_overrides: Mapping[str, object]) -> Path:
    """Write syndicate.toml (the minimal one, with `config_overrides` merged per table) and the posts.

    `posts` maps a path below posts/ to the file's text (or bytes). Returns the config path.
    """
    tables = {name: dict(table) for name, table in MINIMAL_CONFIG.items()}
    for name, table in config_overrides.items():
        tables.setdefault(name, {}).update(table)
    root.mkdir(parents=True, exist_ok=True)
    config_path = root / "syndicate.toml"
    config_path.write_text(toml_text(tables), encoding="utf-8")
    posts_dir = root / "posts"
    posts_dir.mkdir(exist_ok=True)
    for rel, text in posts.items():
        target = posts_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
    return config_path


def make_site(tmp_path: Path, posts: Mapping[str, str | bytes], **config_overrides: Mapping[str, object]) -> Config:
    """A site in tmp_path built from the minimal config; e.g. make_site(tmp_path, posts, feeds={"max_items": 2})."""
    return load_config(write_site(tmp_path, posts, **config_overrides))


def post_text(title: str, when: str = "2013-04-15 10:00:00", body: str = "Some text.", **keys: object) -> str:
    """A Markdown post with YAML front matter; extra keys are written as flow-style YAML values."""
    import json

    lines = ["---", f"title: {json.dumps(title)}", f"date: {when}"]
    lines += [f"{key}: {json.dumps(value)}" for key, value in keys.items()]
    lines += ["---", body, ""]
    return "\n".join(lines)


def build_site(config: Config, today: date = EXAMPLE_TODAY, warnings: list[str] | None = None) -> BuildResult:
    """Build like `syndicate build`, without fsync; warnings are collected into `warnings` when given."""
    sink = warnings if warnings is not None else []
    return build(config, today, sink.append, durable=False)


def output_files(folder: Path) -> dict[str, bytes]:
    """Every file below folder, by POSIX path relative to it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_example_site(dest: Path) -> Path:
    """The repository's syndicate.toml and samples/, copied to dest; returns the config path.

    Building the copy gives the same bytes as building the repository (the URLs come
    from the config), but the build cache lands in dest, so every test build is fresh
    and nothing is left behind in the checkout.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "syndicate.toml", dest / "syndicate.toml")
    shutil.copytree(REPO_ROOT / "samples", dest / "samples")
    return dest / "syndicate.toml"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def example_config(tmp_path: Path) -> Config:
    """The repository's example site (a fresh copy of syndicate.toml and samples/), writing into tmp_path/out."""
    return load_config(copy_example_site(tmp_path / "example"), output_dir=tmp_path / "out")


def record_sent_issue(config: Config, now: datetime, week: str | None = None) -> list[Path]:
    """Record the issues `syndicate send` would begin at `now` (the named period's, or the next ones),
    as a send does before its first message, without sending anything. Returns the record files."""
    from syndicate.build.compose import IssueChoice, SiteEntries, choose
    from syndicate.build.ledger import read_ledger, write_record
    from syndicate.newsletter.ledger import record_of

    entries = SiteEntries(config, now.date(), lambda _m: None)()
    drafts = choose(config, read_ledger(config), entries, IssueChoice(now, week))
    return [write_record(config, record_of(d, config.digest.cadence, now)) for d in drafts]
