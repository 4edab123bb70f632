"""A TOML table read key by key, for syndicate.toml.

Each reader checks one value's type and range and, when it is wrong, says
which file, table and key, what was expected and what was found. The keys a
table was asked for are remembered, so any other key is reported as unknown
(with the nearest known name) instead of being silently ignored.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar, cast

from syndicate.errors import ConfigError
from syndicate.model import Author
from syndicate.urls import is_absolute_http_url, split_checked

T = TypeVar("T")
N = TypeVar("N", int, float)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class Table:
    """A TOML table read key by key; remembers which keys were used."""

    def __init__(self, data: Mapping[str, Any], name: str, path: Path) -> None:
        self.data = data
        self.name = name
        self.path = path
        self.used: set[str] = set()

    def fail(self, key: str, expected: str, value: object) -> ConfigError:
        where = f"[{self.name}] " if self.name else ""  # top-level keys have no table
        return ConfigError(f"{where}{key} must be {expected}, got {value!r}", path=self.path)

    def get(self, key: str, kind: type[T], default: T | None = None, *, expected: str = "") -> T:
        self.used.add(key)
        if key not in self.data:
            if default is None:
                raise ConfigError(f"[{self.name}] {key} is required", path=self.path)
            return default
        value = self.data[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise self.fail(key, expected or f"a {kind.__name__}", value)
        return cast(T, value)

    def text(self, key: str, default: str | None = None, *, multiline: bool = False) -> str:
        """A string value, stripped; required ones (no default) may not be empty. Values that end
        up in headers and feed titles must be one line: a line break there would start a new header."""
        value = self.get(key, str, default, expected="a string").strip()
        if default is None and not value:
            raise self.fail(key, "a non-empty string", value)
        if _CONTROL.search(value.replace("\n", "").replace("\t", "") if multiline else value):
            raise self.fail(key, "one line of text without control characters", value)
        return value

    def number(self, key: str, kind: type[N], default: N, low: N, high: N | None = None, *, expected: str) -> N:
        """An int or float in [low, high]."""
        value = self.get(key, kind, default, expected=expected)
        if value < low or (high is not None and value > high):
            raise self.fail(key, expected, value)
        return value

    def url(self, key: str, value: str) -> str:
        """`value` (read from `key`) as an absolute http(s) URL ending in "/"."""
        if split_checked(value) is None or not is_absolute_http_url(value):
            raise self.fail(key, "an absolute http(s) URL", value)
        return value if value.endswith("/") else value + "/"

    def author(self, key: str) -> Author | None:
        """A name, or a table { name, email, url }; None when the key is absent."""
        self.used.add(key)
        if key not in self.data:
            return None
        value = self.data[key]
        if isinstance(value, str):
            return Author(name=self.text(key))
        if not isinstance(value, dict):
            raise self.fail(key, "a name or a table { name, email }", value)
        sub = Table(value, f"{self.name}.{key}", self.path)
        author = Author(name=sub.text("name"), email=sub.text("email", "") or None, url=sub.text("url", "") or None)
        sub.check_unknown()
        return author

    def day(self, key: str) -> date | None:
        """An optional TOML date (2013-04-01, no quotes); a date-time or a string is refused."""
        self.used.add(key)
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, date) or isinstance(value, datetime):
            shown = value.isoformat() if isinstance(value, datetime | time) else value  # not datetime.datetime(...)
            raise self.fail(key, "a date written as 2013-04-01 (no quotes, no time)", shown)
        return value

    def table(self, key: str) -> Table:
        value = self.get(key, dict, {}, expected="a table")
        return Table(value, f"{self.name}.{key}" if self.name else key, self.path)

    def check_unknown(self) -> None:
        for key in self.data:
            if key not in self.used:
                hint = difflib.get_close_matches(key, sorted(self.used), n=1)
                fix = f"; did you mean {hint[0]!r}?" if hint else "; remove it or check its spelling"
                where = f"[{self.name}] " if self.name else ""
                raise ConfigError(f"{where}unknown key {key!r}{fix}", path=self.path)
