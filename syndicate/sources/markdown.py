"""A directory tree of Markdown files with front matter → Posts.

Reads the keys Jekyll and Hugo users already write; anything else lands in
`Post.extra` for templates. Only reading happens here: rendering, URLs and
drafts are decided later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from syndicate.errors import SourceError, Warn
from syndicate.model import Post
from syndicate.sources.front_matter_fields import (
    EARLIEST_YEAR,
    KNOWN_KEYS,
    LATEST_YEAR,
    Where,
    announcement,
    authors,
    date_field,
    enclosures,
    fail,
    freeze,
    jekyll_permalink,
    limited_names,
    pick,
)
from syndicate.sources.frontmatter import parse_front_matter, split_front_matter
from syndicate.text import one_line, slugify
from syndicate.urls import is_usable_link

MARKDOWN_SUFFIXES = (".md", ".markdown")
MAX_POST_BYTES = 8 * 1024 * 1024
SECTION_PAGES = {"_index.md", "_index.markdown"}
BUNDLE_PAGES = {"index.md", "index.markdown"}  # a Hugo page bundle: the post is named by its folder


def post_stem(path: Path | str) -> str:
    """The name a post's date and slug come from: the file's stem, or its folder's for index.md."""
    pure = Path(path)
    return pure.parent.name if pure.name in BUNDLE_PAGES and pure.parent.name else pure.stem


_DATED_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")


def find_posts(root: Path, warn: Warn | None = None) -> list[Path]:
    """Every Markdown file below root, in a stable order; hidden folders skipped.

    Only regular files count: reading a FIFO or a device named `x.md` (or a link to one,
    such as /dev/zero) would block or never end. A link leading out of root is skipped
    (with a warning): it could publish any file the user can read.
    """
    if not root.is_dir():
        raise SourceError("posts directory not found; check [content] posts in syndicate.toml", path=root)
    inside = root.resolve()
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name in SECTION_PAGES:  # Hugo's list pages (_index.md) describe a section, not a post
                continue
            path = Path(dirpath) / name
            # (a dangling link stays, to be reported: it leaks nothing)
            if path.is_symlink() and path.exists() and not path.resolve().is_relative_to(inside):
                if warn is not None and name.endswith(MARKDOWN_SUFFIXES):
                    warn(f"{path}: a link to {path.resolve()}, outside the posts folder; skipped")
                continue
            special = path.exists() and not path.is_file()  # a dangling link stays, to be reported
            if name.endswith(MARKDOWN_SUFFIXES) and not name.startswith(".") and not special:
                found.append(path)
    return found


def read_markdown_dir(root: Path, tz: ZoneInfo, *, relative_to: Path | None = None) -> Iterator[Post | SourceError]:
    """Yield a Post, or the error that kept a file out, for every file below root."""
    for path in find_posts(root):
        shown = shown_path(path, relative_to)
        try:
            yield read_post_bytes(path.read_bytes(), shown, tz, post_stem(path))
        except SourceError as exc:
            yield exc
        except OSError as exc:
            yield SourceError(f"cannot read: {exc.strerror}", path=shown)


def shown_path(path: Path, relative_to: Path | None) -> str:
    """A path as messages show it: relative to `relative_to` (the site's folder) when it is inside."""
    if relative_to is not None:
        try:
            return str(path.relative_to(relative_to))
        except ValueError:
            pass
    return str(path)


def decode_post(data: bytes, path: str) -> str:
    if not data.strip():
        raise SourceError("empty file: add front matter with a title and a date", path=path)
    if len(data) > MAX_POST_BYTES:
        raise SourceError(f"file is over {MAX_POST_BYTES // (1024 * 1024)} MB; is it really a post?", path=path)
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes), not Markdown text", path=path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8", path=path, line=line
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_post_bytes(data: bytes, path: str, tz: ZoneInfo, stem: str) -> Post:
    text = decode_post(data, path)
    kind, front, body, first_line = split_front_matter(text, path)
    meta = parse_front_matter(kind, front, path, first_line)
    return post_from_meta(meta, body, path, tz, stem, front, first_line)


def post_from_meta(
    meta: Mapping[str, Any], body: str, path: str, tz: ZoneInfo, stem: str, front: str = "", first_line: int = 1
) -> Post:
    where = (path, front, first_line)
    title_key, title = pick(meta, "title")
    if title is None or isinstance(title, dict | list) or not one_line(str(title)):
        raise fail("missing title: add 'title: …' to the front matter", path, front, title_key, first_line)
    dated = _DATED_NAME.match(stem)
    published = _published(meta, dated, tz, where)
    updated = date_field(meta, "updated", tz, where)
    if updated is not None and updated < published:
        updated = None  # an "update" before publication is noise; the published date stands
    _, slug_value = pick(meta, "slug")
    slug = slugify(str(slug_value) if slug_value not in (None, "") else (dated[4] if dated else stem))
    _, draft = pick(meta, "draft")
    if meta.get("published") is False:  # Jekyll's way of saying draft
        draft = True
    _, summary = pick(meta, "summary")
    _, ident = pick(meta, "id")
    url = _url(meta, published.astimezone(tz), slug, where)
    _, image = pick(meta, "image")
    _, author = pick(meta, "author")
    _, announced = pick(meta, "announcement")
    _, enclosed = pick(meta, "enclosures")
    return Post(
        source=path,
        title=one_line(str(title)),
        published=published,
        slug=slug,
        body=body,
        # `format: html` (written by `syndicate import`): the body is HTML already, not Markdown
        body_format="html" if str(meta.get("format", "")).strip().lower() == "html" else "markdown",
        id=str(ident).strip() if ident not in (None, "") else None,
        url=url,
        updated=updated,
        tags=limited_names(meta, "tags", where),
        categories=limited_names(meta, "categories", where),
        authors=authors(author),
        summary=str(summary) if summary not in (None, "") and not isinstance(summary, dict | list) else None,
        draft=draft is True or (isinstance(draft, str) and draft.strip().lower() in ("true", "yes")),
        image=str(image).strip() if image not in (None, "") and not isinstance(image, dict | list) else None,
        enclosures=enclosures(enclosed) if enclosed else (),
        announcement=announcement(announced, tz, where) if announced is not None else None,
        extra=MappingProxyType({k: freeze(v) for k, v in meta.items() if k not in KNOWN_KEYS}),
        line=first_line,
    )


def _published(meta: Mapping[str, Any], dated: re.Match[str] | None, tz: ZoneInfo, where: Where) -> datetime:
    """The date of the front matter, else of a dated file name (2013-04-15-slug.md)."""
    published = date_field(meta, "date", tz, where)
    if published is None and dated and EARLIEST_YEAR <= int(dated[1]) <= LATEST_YEAR:
        try:
            published = datetime(int(dated[1]), int(dated[2]), int(dated[3]), tzinfo=tz)
        except ValueError:
            published = None
    if published is None:
        path, front, first_line = where
        raise fail(
            "missing date: add 'date: 2013-04-15 14:00:00' (or name the file 2013-04-15-slug.md)",
            path,
            front,
            None,
            first_line,
        )
    return published


def _url(meta: Mapping[str, Any], local: datetime, slug: str, where: Where) -> str | None:
    """The post's url (or link), else its Jekyll permalink; None to let the site's pattern decide."""
    url_key, url = pick(meta, "url")
    if url in (None, "") and isinstance(meta.get("permalink"), str) and meta["permalink"].strip():
        # Jekyll's per-post permalink: where that post's page lives
        url_key, url = "permalink", jekyll_permalink(meta["permalink"].strip(), local, slug, meta)
    if url not in (None, "") and not is_usable_link(str(url).strip()):
        path, front, first_line = where
        raise fail(
            f"{url_key}: {url!r} is not a link; write a path such as /2013/04/15/slug/ or a full https:// URL",
            path,
            front,
            url_key,
            first_line,
        )
    return str(url).strip() if url not in (None, "") else None
