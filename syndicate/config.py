"""syndicate.toml → one frozen, validated `Config`.

Every problem names the file, the table and key, and what is expected, so a
typo is caught at once instead of silently ignored.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.errors import ConfigError
from syndicate.model import Author, Site
from syndicate.urls import HTTP_SCHEMES, is_absolute_http_url, scheme_of

CONFIG_NAME = "syndicate.toml"
FeedFormat = Literal["rss", "atom", "json"]
FEED_FORMATS: tuple[FeedFormat, ...] = ("rss", "atom", "json")
DEFAULT_SUBJECT = "{site}: {count} new {posts}, week of {week_start}"
T = TypeVar("T")
N = TypeVar("N", int, float)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One place posts come from: a Markdown directory, a feed file or a feed URL."""

    kind: Literal["markdown", "feed"]
    location: str  # a resolved path, or an http(s) URL
    assume_date: bool = False


@dataclass(frozen=True, slots=True)
class FeedsConfig:
    formats: tuple[FeedFormat, ...] = FEED_FORMATS
    max_items: int = 20
    full_content: bool = True
    tags: bool = True
    categories: bool = True


@dataclass(frozen=True, slots=True)
class DigestConfig:
    enabled: bool = True
    sender: Author | None = None  # From:; defaults to the site author
    postal_address: str = ""
    subject: str = DEFAULT_SUBJECT
    unsubscribe_url: str = ""  # https URL of the unsubscribe endpoint; default <site>/unsubscribe
    unsubscribe_mailto: str = ""  # defaults to the sender's address
    list_id: str = ""  # defaults to "<site title> <digest.<domain>>"
    max_items: int = 0  # issues in the digest's own feed; 0 = all
    since: date | None = None  # the first issue is this day's week; None: every week with posts


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    timeout: float = 30.0
    rate: float = 0.0  # messages per second, 0 = unlimited


@dataclass(frozen=True, slots=True)
class Config:
    path: Path  # the syndicate.toml this came from
    site: Site
    sources: tuple[SourceConfig, ...]
    output_dir: Path
    output_url: str  # where output_dir is served, ends with "/"
    templates_dir: Path | None
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    database: Path | None = None
    max_feed_bytes: int = 20 * 1024 * 1024

    @property
    def root(self) -> Path:
        return self.path.parent


class _Table:
    """A TOML table read key by key; remembers which keys were used."""

    def __init__(self, data: Mapping[str, Any], name: str, path: Path) -> None:
        self.data = data
        self.name = name
        self.path = path
        self.used: set[str] = set()

    def _fail(self, key: str, expected: str, value: object) -> ConfigError:
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
            raise self._fail(key, expected or f"a {kind.__name__}", value)
        return cast(T, value)

    def text(self, key: str, default: str | None = None, *, multiline: bool = False) -> str:
        """A string value, stripped; required ones (no default) may not be empty. Values that end
        up in headers and feed titles must be one line: a line break there would start a new header."""
        value = self.get(key, str, default, expected="a string").strip()
        if default is None and not value:
            raise self._fail(key, "a non-empty string", value)
        if _CONTROL.search(value.replace("\n", "").replace("\t", "") if multiline else value):
            raise self._fail(key, "one line of text without control characters", value)
        return value

    def number(self, key: str, kind: type[N], default: N, low: N, high: N | None = None, *, expected: str) -> N:
        """An int or float in [low, high]."""
        value = self.get(key, kind, default, expected=expected)
        if value < low or (high is not None and value > high):
            raise self._fail(key, expected, value)
        return value

    def table(self, key: str) -> _Table:
        value = self.get(key, dict, {}, expected="a table")
        return _Table(value, f"{self.name}.{key}" if self.name else key, self.path)

    def check_unknown(self) -> None:
        for key in self.data:
            if key not in self.used:
                hint = difflib.get_close_matches(key, sorted(self.used), n=1)
                fix = f"; did you mean {hint[0]!r}?" if hint else "; remove it or check its spelling"
                where = f"[{self.name}] " if self.name else ""
                raise ConfigError(f"{where}unknown key {key!r}{fix}", path=self.path)


def _scheme(location: str) -> str:
    try:
        return scheme_of(location)
    except ValueError:  # "http://[::1": malformed, so not a usable URL; reading it will say so
        return location.split(":", 1)[0].lower() if ":" in location else ""


def find_config(start: Path) -> Path:
    """`start` itself when it is a file, else syndicate.toml inside it."""
    candidate = start if start.suffix == ".toml" else start / CONFIG_NAME
    if not candidate.is_file():
        raise ConfigError(
            f"no {CONFIG_NAME} here; run 'syndicate init DIR' to create a site or pass --site",
            path=candidate,
        )
    return candidate


def _absolute_url(table: _Table, key: str, value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise table._fail(key, "an absolute http(s) URL", value) from None
    if not is_absolute_http_url(value):
        raise table._fail(key, "an absolute http(s) URL", value)
    return value if value.endswith("/") else value + "/"


def _author(table: _Table, key: str, default: Author | None) -> Author | None:
    if key not in table.data:
        table.used.add(key)
        return default
    value = table.data[key]
    table.used.add(key)
    if isinstance(value, str):
        return Author(name=table.text(key))
    if not isinstance(value, dict):
        raise table._fail(key, "a name or a table { name, email }", value)
    sub = _Table(value, f"{table.name}.{key}", table.path)
    author = Author(name=sub.text("name"), email=sub.text("email", "") or None, url=sub.text("url", "") or None)
    sub.check_unknown()
    return author


def _day(table: _Table, key: str) -> date | None:
    """An optional TOML date (2013-04-01, no quotes); a date-time or a string is refused."""
    table.used.add(key)
    value = table.data.get(key)
    if value is None:
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        shown = value.isoformat() if isinstance(value, datetime | time) else value  # not datetime.datetime(...)
        raise table._fail(key, "a date written as 2013-04-01 (no quotes, no time)", shown)
    return value


def load_config(path: Path, *, output_dir: Path | None = None) -> Config:
    """Read and validate `path`; relative paths in it are relative to its folder."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text; save it as UTF-8", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None
    root = path.parent
    top = _Table(raw, "", path)

    site_t = top.table("site")
    tz_name = site_t.text("timezone", "UTC")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"[site] timezone {tz_name!r} is not a known IANA time zone (such as 'Europe/Berlin')", path=path
        ) from None
    site_url = _absolute_url(site_t, "url", site_t.text("url"))
    author = _author(site_t, "author", None)
    if author is None:
        raise ConfigError('[site] author is required: author = { name = "…", email = "…" }', path=path)
    permalink = site_t.text("permalink", "/{year}/{month}/{day}/{slug}/")
    if "{slug}" not in permalink:
        raise site_t._fail("permalink", "a pattern containing {slug}", permalink)
    site = Site(
        title=site_t.text("title"),
        url=site_url,
        description=site_t.text("description", "", multiline=True) or site_t.text("title"),
        language=site_t.text("language", "en"),
        timezone=tz,
        author=author,
        permalink=permalink,
    )
    postal_address = site_t.text("postal_address", "", multiline=True)
    site_t.check_unknown()

    content_t = top.table("content")
    sources: list[SourceConfig] = []
    if "posts" in content_t.data or "sources" not in raw:
        posts_dir = (root / content_t.text("posts", "posts")).resolve()
        sources.append(SourceConfig("markdown", str(posts_dir)))
    templates = content_t.text("templates", "")
    templates_dir = (root / templates).resolve() if templates else None
    content_t.check_unknown()

    top.used.add("sources")
    raw_sources = raw.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError("[[sources]] must be an array of tables", path=path)
    for n, item in enumerate(raw_sources, 1):
        if not isinstance(item, dict):
            raise ConfigError(f"[[sources]] #{n} must be a table", path=path)
        st = _Table(item, f"sources #{n}", path)
        kind = st.text("type", "")
        markdown = st.text("markdown", "")
        feed = st.text("feed", "")
        assume = st.get("assume_date", bool, False, expected="true or false")
        st.check_unknown()
        if kind:
            raise ConfigError(
                f'[[sources]] #{n}: type is not a key; use markdown = "DIR" or feed = "FILE or URL"', path=path
            )
        if bool(markdown) == bool(feed):
            raise ConfigError(
                f'[[sources]] #{n} needs exactly one of markdown = "DIR" or feed = "FILE or URL"', path=path
            )
        if markdown:
            sources.append(SourceConfig("markdown", str((root / markdown).resolve())))
        elif _scheme(feed) in HTTP_SCHEMES:
            sources.append(SourceConfig("feed", feed, assume))
        else:
            sources.append(SourceConfig("feed", str((root / feed).resolve()), assume))

    output_t = top.table("output")
    configured_out = root / output_t.text("dir", "public")  # read even when overridden, so the key counts as known
    out = output_dir.resolve() if output_dir else configured_out.resolve()
    output_url = _absolute_url(output_t, "url", output_t.text("url", site.url))
    output_t.check_unknown()
    for source in sources:
        if source.kind == "markdown":
            src = Path(source.location)
            if out == src or src in out.parents:
                raise ConfigError(
                    f"[output] dir {out} is inside the posts directory {src}; choose a directory outside it",
                    path=path,
                )
            if out in src.parents:  # the build would write (and clean up) among the posts
                raise ConfigError(
                    f"[output] dir {out} contains the posts directory {src}; choose a directory beside it",
                    path=path,
                )

    feeds_t = top.table("feeds")
    formats = feeds_t.get("formats", list, list(FEED_FORMATS), expected='a list such as ["rss", "atom", "json"]')
    if not formats:
        raise feeds_t._fail("formats", 'a list with at least one of "rss", "atom", "json"', formats)
    for fmt in formats:
        if fmt not in FEED_FORMATS:
            raise feeds_t._fail("formats", f"a list of {', '.join(FEED_FORMATS)}", fmt)
    max_items = feeds_t.get("max_items", int, 20, expected="a whole number")
    if max_items < 1:
        raise feeds_t._fail("max_items", "at least 1", max_items)
    feeds = FeedsConfig(
        formats=tuple(dict.fromkeys(cast(list[FeedFormat], formats))),
        max_items=max_items,
        full_content=feeds_t.get("full_content", bool, True, expected="true or false"),
        tags=feeds_t.get("tags", bool, True, expected="true or false"),
        categories=feeds_t.get("categories", bool, True, expected="true or false"),
    )
    feeds_t.check_unknown()

    digest_t = top.table("digest")
    sender = _author(digest_t, "sender", None)
    digest = DigestConfig(
        enabled=digest_t.get("enabled", bool, True, expected="true or false"),
        sender=sender,
        postal_address=digest_t.text("postal_address", postal_address, multiline=True),
        subject=digest_t.text("subject", DEFAULT_SUBJECT),
        unsubscribe_url=digest_t.text("unsubscribe_url", ""),
        unsubscribe_mailto=digest_t.text("unsubscribe_mailto", ""),
        list_id=digest_t.text("list_id", ""),
        max_items=digest_t.number("max_items", int, 0, 0, expected="a whole number (0 for all issues)"),
        since=_day(digest_t, "since"),
    )
    if digest.unsubscribe_url:
        _absolute_url(digest_t, "unsubscribe_url", digest.unsubscribe_url)
    digest_t.check_unknown()

    smtp_t = top.table("smtp")
    security = smtp_t.text("security", "starttls")
    if security not in ("starttls", "ssl", "none"):
        raise smtp_t._fail("security", "one of starttls, ssl, none", security)
    port = smtp_t.number("port", int, 0, 0, 65535, expected="a port number (1 to 65535)")
    smtp = SmtpConfig(
        host=smtp_t.text("host", "localhost"),
        port=port or {"ssl": 465, "starttls": 587, "none": 25}[security],
        security=cast(Literal["starttls", "ssl", "none"], security),
        username=smtp_t.text("username", ""),
        timeout=smtp_t.number("timeout", float, 30.0, 0.001, expected="a positive number of seconds"),
        rate=smtp_t.number("rate", float, 0.0, 0.0, expected="messages per second (0 for no limit)"),
    )
    if "password" in smtp_t.data:
        raise ConfigError(
            "[smtp] password must not be stored in the config file; set SYNDICATE_SMTP_PASSWORD instead", path=path
        )
    smtp_t.check_unknown()

    db = top.get("database", str, "", expected="a path")
    max_bytes = top.number("max_feed_bytes", int, 20 * 1024 * 1024, 1, expected="a positive number of bytes")
    top.check_unknown()
    return Config(
        path=path.resolve(),  # absolute, so posts can be shown relative to the site's folder from any cwd
        site=site,
        sources=tuple(sources),
        output_dir=out,
        output_url=output_url,
        templates_dir=templates_dir,
        feeds=feeds,
        digest=digest,
        smtp=smtp,
        database=(root / db).resolve() if db else root / "subscribers.sqlite3",
        max_feed_bytes=max_bytes,
    )
