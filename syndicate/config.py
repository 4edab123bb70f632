"""syndicate.toml → one frozen, validated `Config`.

Every problem names the file, the table and key, and what is expected, so a
typo is caught at once instead of silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.addresses import InvalidAddress, stored_address
from syndicate.errors import ConfigError, DeliveryError
from syndicate.folders import check_output_folder
from syndicate.model import Author, Site
from syndicate.toml_table import Table
from syndicate.urls import DEFAULT_MAX_BYTES, names_http_url

CONFIG_NAME = "syndicate.toml"
FeedFormat = Literal["rss", "atom", "json"]
FEED_FORMATS: tuple[FeedFormat, ...] = ("rss", "atom", "json")
DEFAULT_SUBJECT = "{site}: {count} new {posts}, {period}"
SENDER_MISSING = "the digest needs a sender address: set [site] author email or [digest] sender"
Cadence = Literal["weekly", "daily", "monthly", "post"]  # how often the newsletter goes out
CADENCES: tuple[Cadence, ...] = ("weekly", "daily", "monthly", "post")
SmtpSecurity = Literal["starttls", "ssl", "none"]
SMTP_PORTS: dict[SmtpSecurity, int] = {"starttls": 587, "ssl": 465, "none": 25}  # the standard port of each
SMTP_TIMEOUT = 30.0  # seconds
SMTP_CONNECTIONS = 16  # at once: a relay 20 ms away takes 10,000 messages in under a minute; lower it for a strict one
SMTP_RETRY_DELAYS = (1.0, 5.0, 20.0)  # seconds to wait before each retry of a 4xx answer, within one run
SMTP_PASSWORD_ENV = "SYNDICATE_SMTP_PASSWORD"  # noqa: S105 (the variable's name, not a password)


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
    since: date | None = None  # the first issue carries posts from this day; None: the last period's only
    cadence: Cadence = "weekly"  # one issue per ISO week, day, month, or new post
    records: Path | None = None  # the folder of sent-issue records; None: newsletter/ beside syndicate.toml
    max_posts: int = 50  # an issue that would carry more stops with a message (0: no limit)
    reminders: bool = True  # a period with no posts but an announcement ending soon gets a reminder issue
    subscribe_url: str = ""  # the app's subscribe form (confirm and manage are its siblings); default <site>/subscribe
    confirm_hours: int = 48  # how long a confirmation link works


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = SMTP_PORTS["starttls"]
    security: SmtpSecurity = "starttls"
    username: str = ""  # the password comes from the environment only (SMTP_PASSWORD_ENV)
    timeout: float = SMTP_TIMEOUT
    rate: float = 0.0  # messages per second, 0 = unlimited
    connections: int = SMTP_CONNECTIONS
    max_per_hour: int = 0  # a run stops cleanly at this many messages in the last hour (0: no limit)
    max_per_day: int = 0  # likewise for the last 24 hours
    bounce_address: str = ""  # envelope sender as local+TOKEN@domain (VERP); "" = the From address


@dataclass(frozen=True, slots=True)
class InboxConfig:
    """`syndicate inbox`: how soft bounces add up (each counts 1 and halves every `half_life_days`)."""

    soft_bounce_threshold: float = 3.0
    half_life_days: float = 7.0
    handled_folder: str = ""  # move handled reports here; "" = flag them where they are


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
    inbox: InboxConfig = field(default_factory=InboxConfig)
    database: Path | None = None
    max_feed_bytes: int = DEFAULT_MAX_BYTES

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def records_dir(self) -> Path:
        """Where `send` records each issue it starts: committed with the posts, published by the build."""
        return self.digest.records or self.root / "newsletter"

    @property
    def sender(self) -> Author:
        """Who the digest comes from: [digest] sender, else the site's author (either may lack an email)."""
        return self.digest.sender or self.site.author

    def sender_address(self) -> str:
        """The digest's From: address; DeliveryError when there is none to send from."""
        if not self.sender.email:
            raise DeliveryError(SENDER_MISSING)
        return self.sender.email


def find_config(start: Path) -> Path:
    """`start` itself when it is a file, else syndicate.toml inside it."""
    candidate = start if start.suffix == ".toml" else start / CONFIG_NAME
    if not candidate.is_file():
        raise ConfigError(
            f"no {CONFIG_NAME} here; run 'syndicate init DIR' to create a site or pass --site",
            path=candidate,
        )
    return candidate


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text; save it as UTF-8", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None


def _site(top: Table) -> tuple[Site, str]:
    """[site], and its postal address (the digest's default)."""
    site_t = top.table("site")
    tz_name = site_t.text("timezone", "UTC")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"[site] timezone {tz_name!r} is not a known IANA time zone (such as 'Europe/Berlin')", path=top.path
        ) from None
    site_url = site_t.url("url", site_t.text("url"))
    author = site_t.author("author")
    if author is None:
        raise ConfigError('[site] author is required: author = { name = "…", email = "…" }', path=top.path)
    permalink = site_t.text("permalink", "/{year}/{month}/{day}/{slug}/")
    if "{slug}" not in permalink:
        raise site_t.fail("permalink", "a pattern containing {slug}", permalink)
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
    return site, postal_address


def _content(top: Table) -> tuple[list[SourceConfig], Path | None]:
    """[content]: the posts folder (unless [[sources]] replace it) and the templates folder."""
    root = top.path.parent
    content_t = top.table("content")
    sources: list[SourceConfig] = []
    if "posts" in content_t.data or "sources" not in top.data:
        posts_dir = (root / content_t.text("posts", "posts")).resolve()
        sources.append(SourceConfig("markdown", str(posts_dir)))
    templates = content_t.text("templates", "")
    templates_dir = (root / templates).resolve() if templates else None
    content_t.check_unknown()
    return sources, templates_dir


def _sources(top: Table) -> list[SourceConfig]:
    """[[sources]]: Markdown folders and feeds (files or URLs)."""
    path, root = top.path, top.path.parent
    top.used.add("sources")
    raw_sources = top.data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError("[[sources]] must be an array of tables", path=path)
    sources: list[SourceConfig] = []
    for n, item in enumerate(raw_sources, 1):
        if not isinstance(item, dict):
            raise ConfigError(f"[[sources]] #{n} must be a table", path=path)
        st = Table(item, f"sources #{n}", path)
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
        elif names_http_url(feed):  # a malformed one too ("http://[::1"): reading it will say so
            sources.append(SourceConfig("feed", feed, assume))
        else:
            sources.append(SourceConfig("feed", str((root / feed).resolve()), assume))
    return sources


def _output(top: Table, site: Site, output_dir: Path | None) -> tuple[Path, str]:
    """[output]: the folder (unless overridden) and the URL it is served at."""
    output_t = top.table("output")
    configured_out = top.path.parent / output_t.text("dir", "public")  # read even when overridden: a known key
    out = output_dir.resolve() if output_dir else configured_out.resolve()
    output_url = output_t.url("url", output_t.text("url", site.url))
    output_t.check_unknown()
    return out, output_url


def _feeds(top: Table) -> FeedsConfig:
    feeds_t = top.table("feeds")
    formats = feeds_t.get("formats", list, list(FEED_FORMATS), expected='a list such as ["rss", "atom", "json"]')
    if not formats:
        raise feeds_t.fail("formats", 'a list with at least one of "rss", "atom", "json"', formats)
    for fmt in formats:
        if fmt not in FEED_FORMATS:
            raise feeds_t.fail("formats", f"a list of {', '.join(FEED_FORMATS)}", fmt)
    max_items = feeds_t.get("max_items", int, 20, expected="a whole number")
    if max_items < 1:
        raise feeds_t.fail("max_items", "at least 1", max_items)
    feeds = FeedsConfig(
        formats=tuple(dict.fromkeys(cast(list[FeedFormat], formats))),
        max_items=max_items,
        full_content=feeds_t.get("full_content", bool, True, expected="true or false"),
        tags=feeds_t.get("tags", bool, True, expected="true or false"),
        categories=feeds_t.get("categories", bool, True, expected="true or false"),
    )
    feeds_t.check_unknown()
    return feeds


def _cadence(digest_t: Table) -> Cadence:
    cadence = digest_t.text("cadence", "weekly")
    if cadence not in CADENCES:
        raise digest_t.fail("cadence", f"one of {', '.join(CADENCES)}", cadence)
    return cadence


def _digest(top: Table, postal_address: str, root: Path) -> DigestConfig:
    digest_t = top.table("digest")
    sender = digest_t.author("sender")
    digest = DigestConfig(
        enabled=digest_t.get("enabled", bool, True, expected="true or false"),
        sender=sender,
        postal_address=digest_t.text("postal_address", postal_address, multiline=True),
        subject=digest_t.text("subject", DEFAULT_SUBJECT),
        unsubscribe_url=digest_t.text("unsubscribe_url", ""),
        unsubscribe_mailto=digest_t.text("unsubscribe_mailto", ""),
        list_id=digest_t.text("list_id", ""),
        max_items=digest_t.number("max_items", int, 0, 0, expected="a whole number (0 for all issues)"),
        since=digest_t.day("since"),
        cadence=_cadence(digest_t),
        records=(root / digest_t.text("records")).resolve() if "records" in digest_t.data else None,
        max_posts=digest_t.number("max_posts", int, 50, 0, expected="a whole number (0 for no limit)"),
        reminders=digest_t.get("reminders", bool, True, expected="true or false"),
        subscribe_url=digest_t.text("subscribe_url", ""),
        confirm_hours=digest_t.number("confirm_hours", int, 48, 1, expected="a whole number of hours (at least 1)"),
    )
    for key in ("unsubscribe_url", "subscribe_url"):
        if getattr(digest, key):
            digest_t.url(key, getattr(digest, key))
    digest_t.check_unknown()
    return digest


def _bounce_address(smtp_t: Table) -> str:
    text = smtp_t.text("bounce_address", "")
    try:
        return stored_address(text) if text else ""
    except InvalidAddress:
        raise smtp_t.fail("bounce_address", "an address such as bounces@example.org", text) from None


def _smtp(top: Table) -> SmtpConfig:
    smtp_t = top.table("smtp")
    security = smtp_t.text("security", "starttls")
    if security not in SMTP_PORTS:
        raise smtp_t.fail("security", f"one of {', '.join(SMTP_PORTS)}", security)
    port = smtp_t.number("port", int, 0, 0, 65535, expected="a port number (1 to 65535)")
    smtp = SmtpConfig(
        host=smtp_t.text("host", "localhost"),
        port=port or SMTP_PORTS[security],
        security=security,
        username=smtp_t.text("username", ""),
        timeout=smtp_t.number("timeout", float, SMTP_TIMEOUT, 0.001, expected="a positive number of seconds"),
        rate=smtp_t.number("rate", float, 0.0, 0.0, expected="messages per second (0 for no limit)"),
        connections=smtp_t.number("connections", int, SMTP_CONNECTIONS, 1, 100, expected="1 to 100 connections"),
        max_per_hour=smtp_t.number("max_per_hour", int, 0, 0, expected="a whole number (0 for no limit)"),
        max_per_day=smtp_t.number("max_per_day", int, 0, 0, expected="a whole number (0 for no limit)"),
        bounce_address=_bounce_address(smtp_t),
    )
    if "password" in smtp_t.data:
        raise ConfigError(
            f"[smtp] password must not be stored in the config file; set {SMTP_PASSWORD_ENV} instead", path=top.path
        )
    smtp_t.check_unknown()
    return smtp


def _inbox(top: Table) -> InboxConfig:
    inbox_t = top.table("inbox")
    inbox = InboxConfig(
        soft_bounce_threshold=inbox_t.number(
            "soft_bounce_threshold", float, 3.0, 1.0, expected="a number of soft bounces, at least 1"
        ),
        half_life_days=inbox_t.number("half_life_days", float, 7.0, 0.01, expected="a positive number of days"),
        handled_folder=inbox_t.text("handled_folder", ""),
    )
    inbox_t.check_unknown()
    return inbox


def load_config(path: Path, *, output_dir: Path | None = None) -> Config:
    """Read and validate `path`; relative paths in it are relative to its folder."""
    root = path.parent
    top = Table(_read_toml(path), "", path)
    site, postal_address = _site(top)
    sources, templates_dir = _content(top)
    sources += _sources(top)
    out, output_url = _output(top, site, output_dir)
    feeds = _feeds(top)
    digest = _digest(top, postal_address, root)
    smtp = _smtp(top)
    inbox = _inbox(top)
    db = top.get("database", str, "", expected="a path")
    max_bytes = top.number("max_feed_bytes", int, DEFAULT_MAX_BYTES, 1, expected="a positive number of bytes")
    top.check_unknown()
    database = (root / db).resolve() if db else root / "subscribers.sqlite3"
    watched = [("posts directory", Path(s.location)) for s in sources if s.kind == "markdown"]
    watched += [("templates folder", templates_dir)] if templates_dir else []
    check_output_folder(out, watched, database.resolve(), path, site.url)
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
        inbox=inbox,
        database=database,
        max_feed_bytes=max_bytes,
    )
