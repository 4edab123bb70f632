"""A directory tree of Markdown files with front matter → Posts.

Reads the keys Jekyll and Hugo users already write; anything else lands in
`Post.extra` for templates. Only reading happens here: rendering, URLs and
drafts are decided later.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser

from syndicate.errors import SourceError
from syndicate.model import Announcement, Author, CallToAction, Enclosure, ExtraValue, Post
from syndicate.sources.frontmatter import key_line, parse_front_matter, split_front_matter
from syndicate.text import one_line, slugify

MARKDOWN_SUFFIXES = (".md", ".markdown")
MAX_POST_BYTES = 8 * 1024 * 1024
SECTION_PAGES = {"_index.md", "_index.markdown"}
BUNDLE_PAGES = {"index.md", "index.markdown"}  # a Hugo page bundle: the post is named by its folder


def post_stem(path: Path | str) -> str:
    """The name a post's date and slug come from: the file's stem, or its folder's for index.md."""
    pure = Path(path)
    return pure.parent.name if pure.name in BUNDLE_PAGES and pure.parent.name else pure.stem


_DATED_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_FILL_A, _FILL_B = datetime(2000, 1, 1), datetime(2001, 2, 2)  # see to_datetime
# Years a post may carry: RFC 822 wants four digits, and time-zone conversions and week
# arithmetic near year 1 or 9999 overflow Python's datetime.
EARLIEST_YEAR, LATEST_YEAR = 1000, 9000


class UnusableDate(ValueError):
    """A date that reads, but that no feed can carry; the message says what to write instead."""


# front-matter key → the Post field it feeds; first spelling found wins
_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "date": ("date", "published", "pubDate"),
    "updated": ("updated", "lastmod", "last_modified_at", "modified"),
    "slug": ("slug",),
    "tags": ("tags", "tag", "keywords"),
    "categories": ("categories", "category"),
    "author": ("authors", "author"),
    "summary": ("summary", "description", "excerpt"),
    "draft": ("draft",),
    "id": ("id", "guid"),
    "url": ("url", "link"),
    "image": ("image", "cover", "featured_image"),
    "announcement": ("announcement",),
    "enclosures": ("enclosures", "enclosure"),
}
_KNOWN = {key for keys in _ALIASES.values() for key in keys} | {"layout", "published", "format", "permalink"}


def find_posts(root: Path) -> list[Path]:
    """Every Markdown file below root, in a stable order; hidden folders skipped.

    Only regular files count: reading a FIFO or a device named `x.md` (or a link to one,
    such as /dev/zero) would block or never end.
    """
    if not root.is_dir():
        raise SourceError("posts directory not found; check [content] posts in syndicate.toml", path=root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name in SECTION_PAGES:  # Hugo's list pages (_index.md) describe a section, not a post
                continue
            path = Path(dirpath) / name
            special = path.exists() and not path.is_file()  # a dangling link stays, to be reported
            if name.endswith(MARKDOWN_SUFFIXES) and not name.startswith(".") and not special:
                found.append(path)
    return found


def read_markdown_dir(root: Path, tz: ZoneInfo, *, relative_to: Path | None = None) -> Iterator[Post | SourceError]:
    """Yield a Post, or the error that kept a file out, for every file below root."""
    for path in find_posts(root):
        shown = _shown(path, relative_to)
        try:
            yield read_post_bytes(path.read_bytes(), shown, tz, post_stem(path))
        except SourceError as exc:
            yield exc
        except OSError as exc:
            yield SourceError(f"cannot read: {exc.strerror}", path=shown)


def _shown(path: Path, relative_to: Path | None) -> str:
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


_HOST = re.compile(r"^(?:[\w-]+(?:\.[\w-]+)*\.?|[0-9A-Fa-f:.]+)$")  # a name, or an IP address


def is_link(text: str) -> bool:
    """A path, or an http(s) URL with a host a browser would accept: no spaces, controls or other schemes."""
    if not text or re.search(r"[\s\x00-\x1f\x7f]", text):
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    if parts.scheme not in ("", "http", "https"):
        return False
    return not parts.netloc or bool(parts.hostname and _HOST.match(parts.hostname))


def _pick(meta: Mapping[str, Any], field: str) -> tuple[str | None, Any]:
    for key in _ALIASES[field]:
        if key in meta:
            if key == "published" and isinstance(meta[key], bool):
                continue  # Jekyll's `published: false` is a draft flag, not a date
            return key, meta[key]
    return None, None


def _fail(msg: str, path: str, front: str, key: str | None, first_line: int) -> SourceError:
    line = key_line(front, key, first_line) if key else first_line
    return SourceError(msg, path=path, line=line)


def to_datetime(value: object, tz: ZoneInfo) -> datetime:
    """A front-matter date (YAML/TOML value or string) as an aware datetime.

    Naive values are wall-clock time in the site's time zone. Raises ValueError.
    """
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            result = datetime.fromisoformat(text)
        except ValueError:
            try:
                # dateutil fills whatever the text lacks from a default (today, unless told):
                # parse against two different defaults and refuse text without a full date.
                # A zone name it does not know ("10:00 XYZ") is a warning there; here it is an error.
                with warnings.catch_warnings():
                    warnings.simplefilter("error", dateparser.UnknownTimezoneWarning)
                    result = dateparser.parse(text, default=_FILL_A)
                    if result.date() != dateparser.parse(text, default=_FILL_B).date():
                        raise ValueError(f"{text!r} is not a full date with year, month and day")
            except dateparser.UnknownTimezoneWarning:
                raise UnusableDate("its time zone name is not known; write an offset such as +02:00 instead") from None
            except (ValueError, ArithmeticError, dateparser.ParserError) as exc:  # decimal errors on huge numbers
                raise ValueError(str(exc)) from None
    else:
        raise ValueError(f"{value!r} is not a date")
    if not EARLIEST_YEAR <= result.year <= LATEST_YEAR:
        raise UnusableDate(f"the year {result.year} is out of range; use a year from {EARLIEST_YEAR} to {LATEST_YEAR}")
    if result.tzinfo is None:
        result = result.replace(tzinfo=tz)
    return result.replace(microsecond=0)


def _date_field(meta: Mapping[str, Any], field: str, tz: ZoneInfo, where: tuple[str, str, int]) -> datetime | None:
    key, value = _pick(meta, field)
    if key is None or value in (None, ""):
        return None
    try:
        return to_datetime(value, tz)
    except ValueError as exc:
        path, front, first = where
        problem = str(exc) if isinstance(exc, UnusableDate) else "write it as 2013-04-15 or 2013-04-15 14:00:00"
        raise _fail(f"{key}: cannot read {value!r} as a date; {problem}", path, front, key, first) from None


@lru_cache(maxsize=1 << 14)  # tag and category names repeat across thousands of posts
def _short_name_line(text: str) -> str:
    return one_line(text)


def _name_line(text: str) -> str:
    return _short_name_line(text) if len(text) <= 200 else one_line(text)  # a long one is not kept


def _names(value: object) -> tuple[str, ...]:
    """Tags or categories: a list, or one string separated by commas (or spaces)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = value.split(",") if "," in value else value.split()
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict | list):
            continue
        name = _name_line(str(item))
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return tuple(seen.values())


MAX_NAMES = 200  # tags (or categories) on one post; each is three feeds, so 10,000 would be 30,000 files


def _limited_names(meta: Mapping[str, Any], field: str, where: tuple[str, str, int]) -> tuple[str, ...]:
    key, value = _pick(meta, field)
    names = _names(value)
    if len(names) > MAX_NAMES:
        path, front, first = where
        raise _fail(f"{key}: {len(names)} names; a post may have at most {MAX_NAMES}", path, front, key, first)
    return names


def _authors(value: object) -> tuple[Author, ...]:
    items = value if isinstance(value, list) else [value]
    result: list[Author] = []
    for item in items:
        if isinstance(item, dict):
            name = one_line(str(item.get("name", "")))
            if name:
                email = item.get("email")
                url = item.get("url") or item.get("uri")
                result.append(Author(name, str(email) if email else None, str(url) if url else None))
        elif item is not None and one_line(str(item)):
            result.append(Author(one_line(str(item))))
    return tuple(result)


def freeze(value: Any) -> ExtraValue:
    """Front-matter values as immutable data for `Post.extra`."""
    if isinstance(value, dict):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, str | int | float | bool | date | datetime) or value is None:
        return value
    return str(value)


def _announcement(value: object, tz: ZoneInfo, where: tuple[str, str, int]) -> Announcement:
    path, front, first = where

    def fail(msg: str) -> SourceError:
        return _fail(f"announcement: {msg}", path, front, "announcement", first)

    if not isinstance(value, dict):
        raise fail("must be a table with starts, ends and rules")

    def day(key: str) -> date:
        if key not in value:
            raise fail(f"{key} is required (a date such as 2013-04-15)")
        try:
            return to_datetime(value[key], tz).date()
        except UnusableDate as exc:
            raise fail(f"{key}: {exc}") from None
        except ValueError:
            raise fail(f"{key}: cannot read {value[key]!r} as a date") from None

    starts, ends = day("starts"), day("ends")
    if ends < starts:
        raise fail(f"ends ({ends}) is before starts ({starts})")
    rules = value.get("rules", [])
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not all(isinstance(r, str | int | float) for r in rules):
        raise fail("rules must be a list of sentences")
    cta = value.get("cta")
    call = None
    if cta is not None:
        if not isinstance(cta, dict) or not cta.get("text") or not cta.get("url"):
            raise fail("cta must be a table with text and url")
        call = CallToAction(one_line(str(cta["text"])), str(cta["url"]).strip())
    prize = value.get("prize")
    return Announcement(
        starts=starts,
        ends=ends,
        rules=tuple(one_line(str(r)) for r in rules if one_line(str(r))),
        prize=one_line(str(prize)) if prize else None,
        cta=call,
    )


def _enclosures(value: object) -> tuple[Enclosure, ...]:
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, dict) and item.get("url"):
            try:
                length = int(item.get("length", 0) or 0)
            except (TypeError, ValueError):
                length = 0
            result.append(
                Enclosure(str(item["url"]), max(length, 0), str(item.get("type") or "application/octet-stream"))
            )
    return tuple(result)


_JEKYLL_TOKEN = re.compile(r":(year|short_year|month|i_month|day|i_day|title|slug|categories|category)\b")


def jekyll_permalink(pattern: str, local: datetime, slug: str, meta: Mapping[str, Any]) -> str:
    """A Jekyll permalink such as /:year/:month/:title/ filled in for one post; a plain path stays as it is."""
    categories = _names(meta.get("categories", meta.get("category")))
    values = {
        "year": f"{local.year:04d}",
        "short_year": f"{local.year % 100:02d}",
        "month": f"{local.month:02d}",
        "i_month": str(local.month),
        "day": f"{local.day:02d}",
        "i_day": str(local.day),
        "title": slug,
        "slug": slug,
        "categories": "/".join(slugify(c) for c in categories),
        "category": slugify(categories[0]) if categories else "",
    }
    path = _JEKYLL_TOKEN.sub(lambda m: values[m[1]], pattern)
    return re.sub(r"/{2,}", "/", path)


def post_from_meta(
    meta: Mapping[str, Any], body: str, path: str, tz: ZoneInfo, stem: str, front: str = "", first_line: int = 1
) -> Post:
    where = (path, front, first_line)
    title_key, title = _pick(meta, "title")
    if title is None or isinstance(title, dict | list) or not one_line(str(title)):
        raise _fail("missing title: add 'title: …' to the front matter", path, front, title_key, first_line)

    dated = _DATED_NAME.match(stem)
    published = _date_field(meta, "date", tz, where)
    if published is None and dated and EARLIEST_YEAR <= int(dated[1]) <= LATEST_YEAR:
        try:
            published = datetime(int(dated[1]), int(dated[2]), int(dated[3]), tzinfo=tz)
        except ValueError:
            published = None
    if published is None:
        raise _fail(
            "missing date: add 'date: 2013-04-15 14:00:00' (or name the file 2013-04-15-slug.md)",
            path,
            front,
            None,
            first_line,
        )
    updated = _date_field(meta, "updated", tz, where)
    if updated is not None and updated < published:
        updated = None  # an "update" before publication is noise; the published date stands

    _, slug_value = _pick(meta, "slug")
    slug_source = str(slug_value) if slug_value not in (None, "") else (dated[4] if dated else stem)
    slug = slugify(slug_source)

    _, draft = _pick(meta, "draft")
    if meta.get("published") is False:  # Jekyll's way of saying draft
        draft = True
    _, summary = _pick(meta, "summary")
    _, ident = _pick(meta, "id")
    url_key, url = _pick(meta, "url")
    if url in (None, "") and isinstance(meta.get("permalink"), str) and meta["permalink"].strip():
        # Jekyll's per-post permalink: where that post's page lives
        url_key, url = "permalink", jekyll_permalink(meta["permalink"].strip(), published.astimezone(tz), slug, meta)
    if url not in (None, "") and not is_link(str(url).strip()):
        raise _fail(
            f"{url_key}: {url!r} is not a link; write a path such as /2013/04/15/slug/ or a full https:// URL",
            path,
            front,
            url_key,
            first_line,
        )
    _, image = _pick(meta, "image")
    _, author = _pick(meta, "author")
    _, announcement = _pick(meta, "announcement")
    _, enclosures = _pick(meta, "enclosures")
    extra = {k: freeze(v) for k, v in meta.items() if k not in _KNOWN}
    return Post(
        source=path,
        title=one_line(str(title)),
        published=published,
        slug=slug,
        body=body,
        # `format: html` (written by `syndicate import`): the body is HTML already, not Markdown
        body_format="html" if str(meta.get("format", "")).strip().lower() == "html" else "markdown",
        id=str(ident).strip() if ident not in (None, "") else None,
        url=str(url).strip() if url not in (None, "") else None,
        updated=updated,
        tags=_limited_names(meta, "tags", where),
        categories=_limited_names(meta, "categories", where),
        authors=_authors(author),
        summary=str(summary) if summary not in (None, "") and not isinstance(summary, dict | list) else None,
        draft=draft is True or (isinstance(draft, str) and draft.strip().lower() in ("true", "yes")),
        image=str(image).strip() if image not in (None, "") and not isinstance(image, dict | list) else None,
        enclosures=_enclosures(enclosures) if enclosures else (),
        announcement=_announcement(announcement, tz, where) if announcement is not None else None,
        extra=MappingProxyType(extra),
        line=first_line,
    )
