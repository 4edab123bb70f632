"""A directory tree of posts (Markdown, HTML or reStructuredText, with front matter) → Posts.

Reads the keys Jekyll, Hugo, Eleventy and Pelican users already write (each
generator's own habits are in sources/generators.py); anything else lands in
`Post.extra` for templates. Only reading happens here: rendering, URLs and
drafts are decided later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from syndicate.errors import SourceError
from syndicate.model import Post
from syndicate.sources.front_matter_fields import (
    EARLIEST_YEAR,
    KNOWN_KEYS,
    LATEST_YEAR,
    Where,
    announcement,
    authors,
    date_field,
    day_first_for,
    day_only_time,
    enclosures,
    fail,
    freeze,
    jekyll_permalink,
    limited_names,
    lowered,
    names_a_time,
    pick,
)
from syndicate.sources.frontmatter import NO_FRONT_MATTER, parse_front_matter, split_front_matter
from syndicate.sources.generators import (
    HTML_SUFFIXES,
    RST_SUFFIXES,
    eleventy_permalink,
    is_hidden,
    is_html_page,
    jekyll_categories,
    merged_data,
    native_authors,
    semicolon_lists,
)
from syndicate.sources.generators import MAX_POST_BYTES as MAX_POST_BYTES
from syndicate.sources.generators import DataFiles as DataFiles  # re-exported: build/ reads posts through here
from syndicate.sources.generators import find_posts as find_posts
from syndicate.sources.generators import post_stem as post_stem
from syndicate.text import one_line, slugify
from syndicate.urls import is_usable_link

_DATED_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")


@dataclass(frozen=True, slots=True)
class PostPlace:
    """What a post's place tells about it: the name its date and slug come from, Jekyll's
    categories from the folders above `_posts`, and Eleventy's directory data (shown path, bytes)."""

    stem: str
    folders: tuple[str, ...] = ()
    data: tuple[tuple[str, bytes], ...] = ()
    folder: str = ""  # the folder it is in, below the posts folder ("" at the top): Pelican's category

    @classmethod
    def of(cls, path: Path, data_files: DataFiles, relative_to: Path | None = None) -> PostPlace:
        """The place of a file below the data files' root; they are read here (OSError when one cannot be)."""
        text, root = str(path), str(data_files.root)
        # string work, not pathlib: this runs for every post of every build
        rel = text[len(root) + 1 :] if text.startswith(root + os.sep) else path.name
        rel = rel.replace(os.sep, "/")
        found = data_files.of(path)
        data = tuple((shown_path(p, relative_to), raw) for p, raw in found) if found else ()
        folder = rel.rsplit("/", 2)[-2] if "/" in rel else ""
        return cls(post_stem(rel), jekyll_categories(rel), data, folder)


def read_markdown_dir(
    root: Path, tz: ZoneInfo, *, relative_to: Path | None = None, language: str = ""
) -> Iterator[Post | SourceError]:
    """Yield a Post, or the error that kept a file out, for every post file below root."""
    data_files = DataFiles(root)
    for path in find_posts(root):
        shown = shown_path(path, relative_to)
        try:
            post = read_post_bytes(
                path.read_bytes(), shown, tz, PostPlace.of(path, data_files, relative_to), language=language
            )
        except SourceError as exc:
            yield exc
        except OSError as exc:
            yield SourceError(f"cannot read: {exc.strerror}", path=shown)
        else:
            if post is not None:
                yield post


def shown_path(path: Path, relative_to: Path | None) -> str:
    """A path as messages show it: relative to `relative_to` (the site's folder) when it is inside."""
    text = str(path)
    if relative_to is not None:
        root = str(relative_to)
        if text.startswith(root) and text[len(root) : len(root) + 1] == os.sep and root != os.sep:
            return text[len(root) + 1 :]  # what relative_to gives (both paths are normalized), without pathlib
        try:
            return str(path.relative_to(relative_to))
        except ValueError:
            pass
    return text


def decode_post(data: bytes, path: str) -> str:
    if not data or data.isspace():
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
    if "\r" not in text:  # one memchr; the replace of "\r\n" scans as slowly as any two-character search
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_post_bytes(data: bytes, path: str, tz: ZoneInfo, place: PostPlace | str, *, language: str = "") -> Post | None:
    """The post in one file's bytes; None for an HTML file without front matter (a page
    Jekyll copies as it is, not a post). `place` is a PostPlace, or only the stem."""
    place = place if isinstance(place, PostPlace) else PostPlace(place)
    text = decode_post(data, path)
    if path.endswith(RST_SUFFIXES):
        from syndicate.sources.rst import read_rst  # docutils takes ~80 ms to import, in every worker process

        meta, body = read_rst(text, path)
        meta = pelican_meta(meta, place.folder)
        front, first_line = "", 1
    else:
        try:
            kind, front, body, first_line = split_front_matter(text, path)
        except SourceError as exc:
            if path.endswith(HTML_SUFFIXES) and exc.message == NO_FRONT_MATTER:
                return None
            raise
        meta = parse_front_matter(kind, front, path, first_line)
        if kind == "native":
            meta = pelican_meta(meta, place.folder)
        if path.endswith(HTML_SUFFIXES):
            if is_html_page(meta, place.stem):
                return None
            meta.setdefault("format", "html")
    if place.data:
        meta = {**merged_data(place.data), **meta}
    if place.folders:
        meta = {**meta, "categories": [*place.folders, *_listed(meta.get("categories", meta.get("category")))]}
    return post_from_meta(meta, body, path, tz, place.stem, front, first_line, language=language)


def pelican_meta(meta: dict[str, Any], folder: str) -> dict[str, Any]:
    """Pelican's metadata as Pelican reads it: lists split at semicolons when there are any, and
    the folder a post is in as its category when it names none (USE_FOLDER_AS_CATEGORY)."""
    meta = semicolon_lists(meta)
    if folder and "category" not in meta and "categories" not in meta:
        meta["category"] = folder
    return meta


def _listed(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in (value.split(",") if "," in value else value.split()) if v.strip()]
    return list(value) if isinstance(value, list | tuple) else [value]


def post_from_meta(
    meta: Mapping[str, Any],
    body: str,
    path: str,
    tz: ZoneInfo,
    stem: str,
    front: str = "",
    first_line: int = 1,
    *,
    language: str = "",
) -> Post:
    where = (path, front, first_line)
    original, meta = meta, lowered(meta)
    title_key, title = pick(meta, "title")
    if title is None or isinstance(title, dict | list) or not one_line(str(title)):
        raise fail("missing title: add 'title: …' to the front matter", path, front, title_key, first_line)
    dated = _DATED_NAME.match(stem)
    _, slug_value = pick(meta, "slug")
    slug = slugify(str(slug_value) if slug_value not in (None, "") else (dated[4] if dated else stem), language)
    day_first = day_first_for(language)
    published = _published(meta, dated, tz, where, slug, day_first)
    updated = _dated(meta, "updated", tz, where, slug, day_first)
    if updated is not None and updated < published:
        updated = None  # an "update" before publication is noise; the published date stands
    _, draft = pick(meta, "draft")
    if meta.get("published") is False or is_hidden(meta):  # Jekyll's, Pelican's and Eleventy's drafts
        draft = True
    _, ident = pick(meta, "id")
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
        # `format: html` (written by `syndicate import`, or an .html or .rst post): the body is HTML already
        body_format="html" if str(meta.get("format", "")).strip().lower() == "html" else "markdown",
        id=str(ident).strip() if ident not in (None, "") else None,
        url=_url(meta, published.astimezone(tz), slug, where),
        updated=updated,
        tags=limited_names(meta, "tags", where),
        categories=limited_names(meta, "categories", where),
        authors=authors(native_authors(author)),
        summary=_summary(meta, body),
        draft=draft is True or (isinstance(draft, str) and draft.strip().lower() in ("true", "yes")),
        image=str(image).strip() if image not in (None, "") and not isinstance(image, dict | list) else None,
        enclosures=enclosures(enclosed) if enclosed else (),
        announcement=announcement(announced, tz, where) if announced is not None else None,
        expires=_dated(meta, "expires", tz, where, slug, day_first),
        extra=MappingProxyType({k: freeze(v) for k, v in original.items() if k.lower() not in KNOWN_KEYS}),
        line=first_line,
    )


def _summary(meta: Mapping[str, Any], body: str) -> str | None:
    """The front matter's summary, else the text before Jekyll's `excerpt_separator` when the post sets one."""
    _, summary = pick(meta, "summary")
    if summary not in (None, "") and not isinstance(summary, dict | list):
        return str(summary)
    separator = meta.get("excerpt_separator")
    if isinstance(separator, str) and separator and separator in body:
        return body[: body.index(separator)].strip() or None
    return None


def _dated(
    meta: Mapping[str, Any], field: str, tz: ZoneInfo, where: Where, slug: str, day_first: bool | None
) -> datetime | None:
    """A date field; a day without a time gets its time of day from the slug (see day_only_time)."""
    value = date_field(meta, field, tz, where, day_first)
    if value is None or names_a_time(pick(meta, field)[1]) or value.time() != time():
        return value
    return day_only_time(value, slug)


def _published(
    meta: Mapping[str, Any], dated: re.Match[str] | None, tz: ZoneInfo, where: Where, slug: str, day_first: bool | None
) -> datetime:
    """The date of the front matter, else of a dated file name (2013-04-15-slug.md), else the
    last modification the front matter gives (Hugo's own fallback for `date`)."""
    published = _dated(meta, "date", tz, where, slug, day_first)
    if published is None and dated and EARLIEST_YEAR <= int(dated[1]) <= LATEST_YEAR:
        try:
            published = day_only_time(datetime(int(dated[1]), int(dated[2]), int(dated[3]), tzinfo=tz), slug)
        except ValueError:
            published = None
    if published is None:
        published = _dated(meta, "updated", tz, where, slug, day_first)
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
    permalink = meta.get("permalink")
    if url in (None, "") and isinstance(permalink, str) and permalink.strip():
        # Jekyll's or Eleventy's per-post permalink: where that post's page lives
        pattern = permalink.strip()
        url_key = "permalink"
        if "{{" in pattern or "{%" in pattern:
            url = eleventy_permalink(pattern, slug)
        else:
            url = jekyll_permalink(pattern, local, slug, meta)
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
