"""Where each imported post goes, and whether import may write there: it never overwrites what it did not create.

Every file import writes says where it came from (`imported_from:`, the old
site's address, else the feed's). A rerun finds files by the `id` in their front
matter, in the import folder and in the site's other posts folders, and:

- updates a file in place (only when its bytes change) when it came from the
  same source;
- refuses an item whose id is already another post's, a hand-written one or one
  imported from elsewhere, naming both, and leaves that file as it is;
- names new files DATE-SLUG.md (the date in the site's time zone), never
  reusing a name that is taken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from syndicate.errors import SourceError, Warn
from syndicate.model import Post
from syndicate.sources.frontmatter import parse_front_matter, split_front_matter
from syndicate.sources.markdown import find_posts

Action = Literal["create", "update", "unchanged"]
ORIGIN_KEY = "imported_from"


@dataclass(frozen=True, slots=True)
class PlannedFile:
    path: Path
    action: Action
    title: str
    id: str | None


@dataclass(frozen=True, slots=True)
class Existing:
    """A post file already there: where, and the source an import wrote it from (None: not written by import)."""

    path: Path
    origin: str | None


def same_origin(origin: str) -> str:
    """The form an origin is written and compared in (https://blog.example.org and …org/ are one site)."""
    return origin.strip().rstrip("/")


def plan_import(
    posts: Sequence[Post],
    into: Path,
    tz: ZoneInfo,
    warn: Warn,
    *,
    origin: str,
    text_of: Callable[[Post], bytes],
    look_in: Sequence[Path] = (),
) -> tuple[list[tuple[PlannedFile, bytes]], list[SourceError]]:
    """Each post's file and bytes; an error for each post refused because its id belongs to another post."""
    by_id, taken = existing_files([into, *look_in], warn)
    origin = same_origin(origin)
    plan: list[tuple[PlannedFile, bytes]] = []
    refused: list[SourceError] = []
    done: set[str] = set()
    for post in sorted(posts, key=lambda p: (p.published, p.id or p.url or "", p.source)):
        ident = post.id or post.url
        if ident is not None:
            if ident in done:
                warn(f"{post.source}: id {ident!r} appears twice in the feed; kept the first, skipped this one")
                continue
            done.add(ident)
        found = by_id.get(ident) if ident is not None else None
        if found is not None and found.origin != origin:
            refused.append(_clash(post, ident or "", found, origin))
            continue
        data = text_of(post)
        path = found.path if found is not None else _free_name(into, post, tz, taken)
        taken.add(path)
        action: Action = "create"
        if path.exists():
            action = "unchanged" if path.read_bytes() == data else "update"
        plan.append((PlannedFile(path, action, post.title, ident), data))
    return plan, refused


def _clash(post: Post, ident: str, found: Existing, origin: str) -> SourceError:
    if found.origin is None:
        whose = (
            f"a post this import did not write (if an earlier import of {origin} did, "
            f"add `{ORIGIN_KEY}: {origin}` to its front matter)"
        )
    else:
        whose = f"a post imported from {found.origin}"
    return SourceError(
        f"its id {ident!r} is already the id of {found.path}, {whose}; not imported, and that file left as it is: "
        "give one of the two another id",
        path=post.source,
    )


def existing_files(folders: Sequence[Path], warn: Warn) -> tuple[dict[str, Existing], set[Path]]:
    """Post files already in `folders`: by the id in their front matter, and every path taken."""
    by_id: dict[str, Existing] = {}
    taken: set[Path] = set()
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in find_posts(folder):
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            taken.add(path)
            meta = _front_matter(path)
            ident = meta.get("id", meta.get("guid")) if meta else None
            if meta is None or ident in (None, ""):
                continue
            key = str(ident).strip()
            if key in by_id:
                warn(f"{path} and {by_id[key].path} have the same id {key!r}; comparing with {by_id[key].path} only")
                continue
            origin = meta.get(ORIGIN_KEY)
            by_id[key] = Existing(path, same_origin(str(origin)) if origin not in (None, "") else None)
    return by_id, taken


def _front_matter(path: Path) -> dict[str, object] | None:
    try:
        text = path.read_text(encoding="utf-8-sig")
        kind, front, _body, first = split_front_matter(text, str(path))
        meta = parse_front_matter(kind, front, str(path), first)
    except (OSError, UnicodeDecodeError, SourceError):
        return None  # broken, or no front matter: left alone, and its name stays taken
    return dict(meta) if isinstance(meta, dict) else None


def _free_name(into: Path, post: Post, tz: ZoneInfo, taken: set[Path]) -> Path:
    stem = f"{post.published.astimezone(tz).date().isoformat()}-{post.slug}"
    candidate = into / f"{stem}.md"
    n = 2
    while candidate in taken or candidate.exists():
        candidate = into / f"{stem}-{n}.md"
        n += 1
    return candidate
