"""Dates written in another language (`Seg, 24 Set 2018 10:00:00 +0000`): the only module importing dateparser.

RFC 822 and RFC 3339 are read by sources/feed_item.py; feedparser knows more
English spellings. What none of them reads, and what holds a word (a month or a
day name), comes here. dateparser carries the month and day names of some two
hundred languages from CLDR, which a table of our own would not; it is imported
only when such a date turns up. The feed's own language is tried first (a few
milliseconds a date), then every language (about two seconds once), and the
language found is kept for the feed's next dates. Dates that are only digits
are never guessed here: their day-month order is ambiguous.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

_MAX_MISSES = 3
_WORD = re.compile(r"[^\W\d_]{2,}")
_DIGITS = re.compile(r"\d")
_OFFSET = re.compile(r"(?:([+-])(\d{2}):?(\d{2})|\b(GMT|UTC|UT|Z))\s*$", re.I)


class ForeignDates:
    """Reads one feed's non-English dates; remembers the language that worked."""

    def __init__(self, tz: ZoneInfo, language: str | None = None) -> None:
        self._tz = tz
        hint = (language or "").strip().lower().replace("_", "-").split("-")[0]
        self._languages: list[str] | None = [hint] if hint.isalpha() and hint != "en" else None
        self._misses = 0
        self._parsers: dict[tuple[str, ...] | None, Any] = {}  # one parser per language list: building one loads data

    def read(self, text: str) -> datetime | None:
        """The date in `text` as an aware datetime in its own offset (else the site's zone); None when unreadable."""
        if len(text) > 100 or not _WORD.search(text) or not _DIGITS.search(text):
            return None
        searching = self._misses < _MAX_MISSES  # every language: ~2 s once, then ~40 ms a date
        found = self._parse(text, self._languages) if self._languages is not None or searching else None
        if found is None and self._languages is not None and searching:
            found = self._parse(text, None)
        if found is None:
            self._misses += 1  # a feed of unreadable dates stops costing a search through every language
        return found

    def _parse(self, text: str, languages: list[str] | None) -> datetime | None:
        from dateparser.date import DateDataParser  # ~0.1 s to import, and only feeds in other languages need it

        settings = {
            "STRICT_PARSING": True,  # a day, a month and a year, or nothing
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": getattr(self._tz, "key", None) or "UTC",  # for a date written without an offset
            "PREFER_DATES_FROM": "past",
        }
        key = tuple(languages) if languages is not None else None
        try:
            if key not in self._parsers:
                self._parsers[key] = DateDataParser(languages=languages, settings=settings)
            data = self._parsers[key].get_date_data(text)
        except (ValueError, TypeError, OverflowError, LookupError):  # an unknown language code, a nonsense number
            return None
        value = data.date_obj if data is not None else None
        if not isinstance(value, datetime) or value.tzinfo is None:
            return None
        if languages is None and data.locale:
            self._languages = [str(data.locale).split("-")[0]]  # the rest of the feed is in the same language
        return _as_written(value, text).replace(microsecond=0)


def _as_written(value: datetime, text: str) -> datetime:
    """The same instant in the offset the text was written with (dateparser gives it in the zone it was told)."""
    match = _OFFSET.search(text)
    if match is None:
        return value
    if match.group(4):
        return value.astimezone(UTC)
    minutes = int(match.group(2)) * 60 + int(match.group(3))
    if minutes >= 24 * 60:
        return value
    return value.astimezone(timezone(timedelta(minutes=-minutes if match.group(1) == "-" else minutes)))
