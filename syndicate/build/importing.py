"""`syndicate import`: an existing feed → one Markdown file per item.

Each file gets full front matter (title, id, url, date, updated, slug, author,
tags, categories, summary, image, enclosures) written with yaml.safe_dump so it
reads back through sources/markdown.py unchanged, and the item's content as
sanitized HTML with absolute URLs. The HTML is kept as HTML (Markdown
conversion would lose tables, figures and attributes) and laid out so that
CommonMark passes it through as one raw HTML block: no blank lines (newlines
inside <pre> become &#10;), and a block-level tag first.

Files are named DATE-SLUG.md (the date in the site's time zone). A rerun finds
existing files by the `id` in their front matter, not by name, so it updates
them in place (only when the bytes change) and never writes a duplicate, even
after a title or a date changed. Writes are atomic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

from syndicate.errors import SourceError, SyndicateError
from syndicate.model import Author, Post
from syndicate.output import atomic_write
from syndicate.render.entry import sanitize_html
from syndicate.sources.feed import parse_feed_bytes
from syndicate.sources.fetch import DEFAULT_MAX_BYTES, Limits, fetch
from syndicate.sources.frontmatter import parse_front_matter, split_front_matter
from syndicate.sources.markdown import find_posts

Warn = Callable[[str], None]
Action = Literal["create", "update", "unchanged"]

# Tags that open a CommonMark HTML block which only a blank line ends (type 6).
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|dt"
    "|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|legend|li|link|main"
    "|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead"
    "|title|tr|track|ul"
)
_BLOCK_START = re.compile(rf"^</?(?:{_BLOCK_TAGS})(?:[\s/>]|$)", re.I)
_PRE = re.compile(r"<pre\b.*?</pre>", re.I | re.S)
_BLANK_LINES = re.compile(r"\n[ \t]*(?=\n)")
# A base for items with no absolute link of their own, taken back out after sanitizing.
_NO_BASE = "https://syndicate-import.invalid/"
# Numbers as FrontMatterLoader reads them (YAML 1.2 style): wider than what SafeDumper quotes.
_FLOAT = re.compile(
    r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)$"
)


@dataclass(frozen=True, slots=True)
class PlannedFile:
    path: Path
    action: Action
    title: str
    id: str | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str
    files: tuple[PlannedFile, ...]
    errors: tuple[SyndicateError, ...]
    dry_run: bool

    def count(self, action: Action) -> int:
        return sum(1 for f in self.files if f.action == action)


def import_feed(
    source: str,
    into: Path,
    *,
    tz: ZoneInfo,
    warn: Warn,
    max_bytes: int = DEFAULT_MAX_BYTES,
    dry_run: bool = False,
    assume_date: bool = False,
    durable: bool = True,
) -> ImportResult:
    """Read the feed at `source` and write (or, with dry_run, only plan) its items as Markdown files in `into`."""
    if into.exists() and not into.is_dir():
        raise SourceError("is a file; --into needs a folder", path=into)
    fetched = fetch(source, limits=Limits(max_bytes=max_bytes))
    posts, errors = parse_feed_bytes(fetched.data, fetched.url, tz, warn, assume_date=assume_date)
    feed_base = fetched.url if urlsplit(fetched.url).scheme in ("http", "https") else None
    plan = plan_import(posts, into, tz, warn, feed_base=feed_base)
    if not dry_run:
        written = 0
        for planned, data in plan:
            if planned.action != "unchanged":
                # each file atomic; durability for the whole import comes from one sync at the end
                atomic_write(planned.path, data, durable=False)
                written += 1
        if durable and written:
            os.sync()
    return ImportResult(source, tuple(p for p, _ in plan), tuple(errors), dry_run)


def plan_import(
    posts: Sequence[Post], into: Path, tz: ZoneInfo, warn: Warn, *, feed_base: str | None = None
) -> list[tuple[PlannedFile, bytes]]:
    """Where each post goes and what the file will hold; nothing is written."""
    by_id, taken = existing_files(into, warn)
    plan: list[tuple[PlannedFile, bytes]] = []
    done: set[str] = set()
    for post in sorted(posts, key=lambda p: (p.published, p.id or p.url or "", p.source)):
        ident = post.id or post.url
        if ident is not None:
            if ident in done:
                warn(f"{post.source}: id {ident!r} appears twice in the feed; kept the first, skipped this one")
                continue
            done.add(ident)
        data = post_markdown(post, tz, feed_base).encode("utf-8")
        path = by_id.get(ident) if ident is not None else None
        if path is None:
            path = _free_name(into, post, tz, taken)
            taken.add(path)
        action: Action = "create"
        if path.exists():
            action = "unchanged" if path.read_bytes() == data else "update"
        plan.append((PlannedFile(path, action, post.title, ident), data))
    return plan


def existing_files(into: Path, warn: Warn) -> tuple[dict[str, Path], set[Path]]:
    """Markdown files already in `into`: by the id in their front matter, and every path taken."""
    by_id: dict[str, Path] = {}
    taken: set[Path] = set()
    if not into.is_dir():
        return by_id, taken
    for path in find_posts(into):
        taken.add(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
            kind, front, _body, first = split_front_matter(text, str(path))
            meta = parse_front_matter(kind, front, str(path), first)
        except (OSError, UnicodeDecodeError, SourceError):
            continue  # not one of ours, or broken: left alone, and its name stays taken
        ident = meta.get("id", meta.get("guid"))
        if ident in (None, ""):
            continue
        key = str(ident).strip()
        if key in by_id:
            warn(f"{path} and {by_id[key]} have the same id {key!r}; updating {by_id[key]} only")
            continue
        by_id[key] = path
    return by_id, taken


def _free_name(into: Path, post: Post, tz: ZoneInfo, taken: set[Path]) -> Path:
    stem = f"{post.published.astimezone(tz).date().isoformat()}-{post.slug}"
    candidate = into / f"{stem}.md"
    n = 2
    while candidate in taken or candidate.exists():
        candidate = into / f"{stem}-{n}.md"
        n += 1
    return candidate


# ---------------------------------------------------------------- one post → one file


_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: ~10× faster


class _FrontMatterDumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """safe_dump that quotes every string FrontMatterLoader would read as something else."""


# Characters YAML treats as line breaks or will not write raw: only double quotes carry them safely.
_NEEDS_ESCAPES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if _NEEDS_ESCAPES.search(value) else "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    flow = all(isinstance(item, str | int | float) for item in value)  # tags: [a, b]; enclosures as a block
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_FrontMatterDumper.add_representer(str, _represent_str)
_FrontMatterDumper.add_representer(list, _represent_list)
_FrontMatterDumper.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def dump_front_matter(meta: dict[str, Any]) -> str:
    text = yaml.dump(
        meta,
        Dumper=_FrontMatterDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )
    return str(text)


def post_markdown(post: Post, tz: ZoneInfo, feed_base: str | None = None) -> str:
    """The whole Markdown file for one imported post."""
    del tz  # dates keep the offset the feed wrote them with
    base = post.url if post.url and urlsplit(post.url).scheme in ("http", "https") else feed_base
    meta: dict[str, Any] = {"title": post.title}
    if post.id:
        meta["id"] = post.id
    if post.url:
        meta["url"] = post.url
    meta["date"] = _plain_datetime(post.published)
    if post.updated:
        meta["updated"] = _plain_datetime(post.updated)
    meta["slug"] = post.slug
    if post.authors:
        meta["author"] = _authors(post.authors)
    if post.tags:
        meta["tags"] = list(post.tags)
    if post.categories:
        meta["categories"] = list(post.categories)
    if post.summary:
        meta["summary"] = markdown_safe_html(_sanitize(post.summary, base))
    if post.image:
        meta["image"] = post.image
    if post.enclosures:
        meta["enclosures"] = [{"url": e.url, "length": e.length, "type": e.type} for e in post.enclosures]
    meta["format"] = "html"
    body = markdown_safe_html(_sanitize(post.body, base))
    return f"---\n{dump_front_matter(meta)}---\n{body}\n"


def _plain_datetime(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def _authors(authors: Iterable[Author]) -> str | list[dict[str, str]]:
    listed = list(authors)
    if len(listed) == 1 and not listed[0].email and not listed[0].url:
        return listed[0].name
    result = []
    for author in listed:
        entry = {"name": author.name}
        if author.email:
            entry["email"] = author.email
        if author.url:
            entry["url"] = author.url
        result.append(entry)
    return result


def _sanitize(fragment: str, base: str | None) -> str:
    if base:
        return sanitize_html(fragment, base)
    # no absolute address to resolve against: keep relative URLs relative to the site's root
    return sanitize_html(fragment, _NO_BASE).replace(_NO_BASE, "/")


def markdown_safe_html(fragment: str) -> str:
    """HTML that CommonMark passes through untouched: one HTML block from start to end."""
    text = _PRE.sub(lambda m: m.group(0).replace("\r\n", "\n").replace("\n", "&#10;"), fragment.strip())
    text = _BLANK_LINES.sub("", text.replace("\r\n", "\n"))
    if text and not _BLOCK_START.match(text):
        text = f"<div>\n{text}\n</div>"
    return text
