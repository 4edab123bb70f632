"""Front-matter values → the typed values of a Post's fields, with messages that name the key and its line.

Reads the spellings Jekyll and Hugo users already write (see ALIASES); dates are
read leniently (YAML/TOML dates, ISO 8601, anything dateutil knows with a full
date) but must fit in a feed.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser

from syndicate.errors import SourceError
from syndicate.model import Announcement, Author, CallToAction, Enclosure, ExtraValue
from syndicate.sources.frontmatter import key_line
from syndicate.text import one_line, slugify
from syndicate.urls import is_usable_link

_FILL_A, _FILL_B = datetime(2000, 1, 1), datetime(2001, 2, 2)  # see to_datetime
# Years a post may carry: RFC 822 wants four digits, and time-zone conversions and week
# arithmetic near year 1 or 9999 overflow Python's datetime.
EARLIEST_YEAR, LATEST_YEAR = 1000, 9000

# Where a value was written, for messages: (path, front matter, its first line)
Where = tuple[str, str, int]


class UnusableDate(ValueError):
    """A date that reads, but that no feed can carry; the message says what to write instead."""


# front-matter key (lower case: Hugo and Pelican read keys in any case) → the Post field it
# feeds; first spelling found wins. Hugo's publishDate is the date its feeds give a post.
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "date": ("publishdate", "date", "published", "pubdate"),
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
    "expires": ("expirydate", "unpublishdate", "expires"),
}
KNOWN_KEYS = {key for keys in ALIASES.values() for key in keys} | {"layout", "published", "format", "permalink"}


def lowered(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The front matter with its keys in lower case, the first spelling of each kept."""
    result: dict[str, Any] = {}
    for key, value in meta.items():
        result.setdefault(key.lower(), value)
    return result


def pick(meta: Mapping[str, Any], field: str) -> tuple[str | None, Any]:
    for key in ALIASES[field]:
        if key in meta:
            if key == "published" and isinstance(meta[key], bool):
                continue  # Jekyll's `published: false` is a draft flag, not a date
            return key, meta[key]
    return None, None


def fail(msg: str, path: str, front: str, key: str | None, first_line: int) -> SourceError:
    line = key_line(front, key, first_line) if key else first_line
    return SourceError(msg, path=path, line=line)


# A date whose day and month are both written as numbers: 03/04/2026, 3.4.26, 03-04-2026
_NUMERIC_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b")
# Jekyll (Ruby's Time.parse) reads an ISO day and time and ignores what it does not know, such
# as the stray year in "2023-01-29 18:30:22 2023 -0800"; the offset still counts.
_JEKYLL_LENIENT = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?)(?:\.\d+)?)?\b.*?"
    r"(?:\s(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?$"
)
MONTH_FIRST_LANGUAGES = frozenset({"en-us", "en-ph", "en-as", "en-gu", "en-um", "en-vi", "en-pr", "en-mh", "en-fm"})
AMBIGUOUS_LANGUAGES = frozenset({"", "en", "en-ca"})  # English without a country (or Canada) writes either way


def day_first_for(language: str) -> bool | None:
    """Whether 03/04/2026 is 3 April in this [site] language: False in the United States' English,
    None (refuse: ask for an ISO date) in English without a country, True everywhere else."""
    tag = language.strip().lower().replace("_", "-")
    if tag in MONTH_FIRST_LANGUAGES:
        return False
    return None if tag in AMBIGUOUS_LANGUAGES else True


def _day_first(text: str, day_first: bool | None) -> bool:
    match = _NUMERIC_DAY_MONTH.match(text)
    if match is None:
        return False
    first, second = int(match[1]), int(match[2])
    if first > 12 or second > 12 or first == second or day_first is not None:
        return bool(first > 12 or (second <= 12 and day_first))
    raise UnusableDate(
        f"it could be {first} {_MONTHS[second - 1]} or {second} {_MONTHS[first - 1]}; write it as year-month-day "
        f"({match[0].strip()} in en-GB is {_iso(first, second, match[0])}), or set [site] language with a country"
    )


def _iso(day: int, month: int, written: str) -> str:
    year = int(re.split(r"[/.-]", written.strip())[2])
    return f"{year + 2000 if year < 100 else year:04d}-{month:02d}-{day:02d}"


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _parse_text(text: str, day_first: bool | None, lenient: bool = True) -> datetime:
    """A date written as text, in any spelling dateutil knows with a full date (or Jekyll's)."""
    if text.lower() in ("last modified", "created", "git last modified", "git created"):
        raise UnusableDate(
            f"Eleventy's {text!r} is the file's own time, which every checkout changes; "
            "write the date, such as 2013-04-15"
        )
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    first = _day_first(text, day_first)
    try:
        # dateutil fills whatever the text lacks from a default (today, unless told):
        # parse against two different defaults and refuse text without a full date.
        # A zone name it does not know ("10:00 XYZ") is a warning there; here it is an error.
        with warnings.catch_warnings():
            warnings.simplefilter("error", dateparser.UnknownTimezoneWarning)
            result = dateparser.parse(text, default=_FILL_A, dayfirst=first)
            result.utcoffset()  # dateutil takes offsets of a day or more ("08:00-30:0"); datetime raises here
            if result.date() != dateparser.parse(text, default=_FILL_B, dayfirst=first).date():
                raise ValueError(f"{text!r} is not a full date with year, month and day")
            return result
    except dateparser.UnknownTimezoneWarning:
        raise UnusableDate("its time zone name is not known; write an offset such as +02:00 instead") from None
    except dateparser.ParserError as exc:
        jekyll = _JEKYLL_LENIENT.match(text) if lenient else None
        if jekyll is None:
            raise ValueError(str(exc)) from None
        zone = jekyll[3] or ""
        zone = "+00:00" if zone in ("Z", "UTC", "GMT") else zone
        return _parse_text(f"{jekyll[1]}T{jekyll[2] or '00:00'}{zone}", None, lenient=False)
    except (ValueError, ArithmeticError) as exc:  # decimal errors on huge numbers
        raise ValueError(str(exc)) from None


def day_only_time(day: datetime, slug: str) -> datetime:
    """A post dated with a day alone, placed at a time of that day made from its slug.

    Posts of one day must not share a timestamp (the W3C validator warns when two Atom
    entries have the same updated) and their order must be the same on every build:
    the seconds after midnight are a hash of the slug, which the build keeps unique.
    """
    # aware + timedelta is wall-clock arithmetic: the same time of day on a day when clocks change
    return day + _seconds_into_the_day(slug)


@lru_cache(maxsize=1 << 14)
def _seconds_into_the_day(slug: str) -> timedelta:
    digest = hashlib.sha256(slug.encode("utf-8", "surrogatepass")).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % 86_400)


def names_a_time(value: object) -> bool:
    """Whether a front-matter date says the time of day (2013-04-15 alone does not)."""
    return isinstance(value, datetime) or (isinstance(value, str) and ":" in value)


def to_datetime(value: object, tz: ZoneInfo, day_first: bool | None = True) -> datetime:
    """A front-matter date (YAML/TOML value or string) as an aware datetime.

    Naive values are wall-clock time in the site's time zone; `day_first` says how to read
    03/04/2026 (None: refuse it as ambiguous). Raises ValueError.
    """
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        result = _parse_text(value.strip(), day_first)
    else:
        raise ValueError(f"{value!r} is not a date")
    if not EARLIEST_YEAR <= result.year <= LATEST_YEAR:
        raise UnusableDate(f"the year {result.year} is out of range; use a year from {EARLIEST_YEAR} to {LATEST_YEAR}")
    if result.tzinfo is None:
        result = result.replace(tzinfo=tz)
    return result.replace(microsecond=0)


def date_field(
    meta: Mapping[str, Any], field: str, tz: ZoneInfo, where: Where, day_first: bool | None = True
) -> datetime | None:
    key, value = pick(meta, field)
    if key is None or value in (None, ""):
        return None
    try:
        return to_datetime(value, tz, day_first)
    except ValueError as exc:
        path, front, first = where
        problem = str(exc) if isinstance(exc, UnusableDate) else "write it as 2013-04-15 or 2013-04-15 14:00:00"
        raise fail(f"{key}: cannot read {value!r} as a date; {problem}", path, front, key, first) from None


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


def limited_names(meta: Mapping[str, Any], field: str, where: Where) -> tuple[str, ...]:
    key, value = pick(meta, field)
    names = _names(value)
    if len(names) > MAX_NAMES:
        path, front, first = where
        raise fail(f"{key}: {len(names)} names; a post may have at most {MAX_NAMES}", path, front, key, first)
    return names


def authors(value: object) -> tuple[Author, ...]:
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
    if isinstance(value, set | frozenset):  # YAML's !!set: sorted, so every build writes it alike
        return tuple(sorted((freeze(v) for v in value), key=str))
    if isinstance(value, bytes):  # YAML's !!binary
        return value.decode("utf-8", "replace")
    if isinstance(value, str | int | float | bool | date | datetime) or value is None:
        return value
    return str(value)  # a TOML local time, for one


def announcement(value: object, tz: ZoneInfo, where: Where) -> Announcement:
    path, front, first = where

    def refuse(msg: str) -> SourceError:
        return fail(f"announcement: {msg}", path, front, "announcement", first)

    if not isinstance(value, dict):
        raise refuse("must be a table with starts, ends and rules")

    def day(key: str) -> date:
        if key not in value:
            raise refuse(f"{key} is required (a date such as 2013-04-15)")
        try:
            return to_datetime(value[key], tz).date()
        except UnusableDate as exc:
            raise refuse(f"{key}: {exc}") from None
        except ValueError:
            raise refuse(f"{key}: cannot read {value[key]!r} as a date") from None

    starts, ends = day("starts"), day("ends")
    if ends < starts:
        raise refuse(f"ends ({ends}) is before starts ({starts})")
    rules = value.get("rules", [])
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not all(isinstance(r, str | int | float) for r in rules):
        raise refuse("rules must be a list of sentences")
    cta = value.get("cta")
    call = None
    if cta is not None:
        target = cta.get("url") or cta.get("link") if isinstance(cta, dict) else None  # the docs use both words
        if not isinstance(cta, dict) or not cta.get("text") or not target:
            raise refuse("cta must be a table with text and url (or link)")
        if not is_usable_link(str(target).strip()):  # no javascript:, data: or malformed hosts in an email
            raise refuse(f"cta url {str(target)!r} is not an http(s) link or a path on the site")
        call = CallToAction(one_line(str(cta["text"])), str(target).strip())
    prize = value.get("prize")
    return Announcement(
        starts=starts,
        ends=ends,
        rules=tuple(one_line(str(r)) for r in rules if one_line(str(r))),
        prize=one_line(str(prize)) if prize else None,
        cta=call,
    )


def enclosures(value: object) -> tuple[Enclosure, ...]:
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
