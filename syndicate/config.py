"""syndicate.toml → one frozen, validated `Config`.

Every problem names the file, the table and key, and what is expected, so a
typo is caught at once instead of silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urljoin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.errors import LONG_NUMBER, ConfigError, DeliveryError
from syndicate.folders import check_output_folder
from syndicate.language import Language, check_language, language_for
from syndicate.mail_settings import (
    CADENCES,
    SMTP_CONNECTIONS,
    SMTP_PASSWORD_ENV,
    SMTP_PORTS,
    SMTP_RETRY_DELAYS,
    SMTP_TIMEOUT,
    Cadence,
    DigestConfig,
    InboxConfig,
    SmtpConfig,
    SmtpSecurity,
    digest_settings,
    inbox_settings,
    smtp_settings,
)
from syndicate.model import Author, Site
from syndicate.toml_table import Table
from syndicate.urls import DEFAULT_MAX_BYTES, is_absolute_http_url, names_http_url, split_checked

# the newsletter's settings live in mail_settings.py; importers find them here too, beside `Config`
__all__ = [
    "CADENCES",
    "CONFIG_NAME",
    "FEED_FORMATS",
    "SENDER_MISSING",
    "SMTP_CONNECTIONS",
    "SMTP_PASSWORD_ENV",
    "SMTP_PORTS",
    "SMTP_RETRY_DELAYS",
    "SMTP_TIMEOUT",
    "Cadence",
    "Config",
    "DigestConfig",
    "FeedFormat",
    "FeedsConfig",
    "InboxConfig",
    "SmtpConfig",
    "SmtpSecurity",
    "SourceConfig",
    "find_config",
    "load_config",
]

CONFIG_NAME = "syndicate.toml"
SENDER_MISSING = "the digest needs a sender address: set [site] author email or [digest] sender"
FeedFormat = Literal["rss", "atom", "json"]
FEED_FORMATS: tuple[FeedFormat, ...] = ("rss", "atom", "json")


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
    authors: bool = True  # per-author feeds, when the posts have more than one author
    tag_url: str = ""  # the blog's page for a tag, "{slug}" in it: "/tags/{slug}/"; "" for the feed index
    hubs: tuple[str, ...] = ()  # WebSub hubs, announced in every feed and pinged by `syndicate ping`
    archives: bool = False  # RFC 5005: older posts in archive documents (the site feed's)
    archive_size: int = 20  # posts in each archive document
    archive_tags: bool = False  # tag, category and author feeds get archives too
    first_image: bool = False  # a post without `image` is shown in feeds by the first image in its text


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
    locale_dir: Path | None = None  # the site's own catalogs: [site] locale_dir, else locale/ beside the config

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def words(self) -> Language:
        """The site's language: words from the catalogs (the site's over the shipped), dates and plurals."""
        return language_for(self.site.language, self.locale_dir)

    @property
    def records_dir(self) -> Path:
        """Where `send` records each issue it starts: committed with the posts, published by the build."""
        return self.digest.records or self.root / "newsletter"

    @property
    def sender(self) -> Author:
        """Who the digest comes from: [digest] sender, else the site's author (either may lack an email)."""
        return self.digest.sender or self.site.author

    def own_folders(self) -> list[tuple[str, Path]]:
        """The site's folders no command may write among: what each is, and where."""
        posts = [("posts directory", Path(s.location)) for s in self.sources if s.kind == "markdown"]
        return posts + ([("templates folder", self.templates_dir)] if self.templates_dir else [])

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
    except RecursionError:  # tomllib recurses once per level of [ or {
        raise ConfigError("not valid TOML: nested too deeply; simplify it", path=path) from None
    except ValueError:  # an integer of more than 4,300 digits (UnicodeDecodeError is caught above)
        raise ConfigError(f"not valid TOML: {LONG_NUMBER}", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None


def _site(top: Table) -> tuple[Site, str, Path]:
    """[site], its postal address (the digest's default) and the folder of its own catalogs."""
    site_t = top.table("site")
    language = site_t.text("language", "en")
    check_language(language, top.path)
    locale_dir = top.path.parent / site_t.text("locale_dir", "locale")
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
        language=language,
        timezone=tz,
        author=author,
        permalink=permalink,
        icon=_image_url(site_t, "icon", site_url),
        logo=_image_url(site_t, "logo", site_url),
    )
    postal_address = site_t.text("postal_address", "", multiline=True)
    site_t.check_unknown()
    return site, postal_address, locale_dir.resolve()


def _image_url(table: Table, key: str, site_url: str) -> str:
    """An image's URL as written (absolute, or relative to the site's URL), made absolute; "" when absent."""
    value = table.text(key, "")
    if not value:
        return ""
    absolute = urljoin(site_url, value)
    if split_checked(absolute) is None or not is_absolute_http_url(absolute):
        raise table.fail(key, "an image URL, absolute or relative to [site] url", value)
    return absolute


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
    tag_url, hubs = _links(feeds_t)
    feeds = FeedsConfig(
        formats=tuple(dict.fromkeys(cast(list[FeedFormat], formats))),
        max_items=max_items,
        full_content=feeds_t.get("full_content", bool, True, expected="true or false"),
        tags=feeds_t.get("tags", bool, True, expected="true or false"),
        categories=feeds_t.get("categories", bool, True, expected="true or false"),
        authors=feeds_t.get("authors", bool, True, expected="true or false"),
        tag_url=tag_url,
        hubs=hubs,
        archives=feeds_t.get("archives", bool, False, expected="true or false"),
        archive_size=feeds_t.number("archive_size", int, 20, 1, expected="a whole number of posts (at least 1)"),
        archive_tags=feeds_t.get("archive_tags", bool, False, expected="true or false"),
        first_image=feeds_t.get("first_image", bool, False, expected="true or false"),
    )
    feeds_t.check_unknown()
    return feeds


def _links(feeds_t: Table) -> tuple[str, tuple[str, ...]]:
    """[feeds] tag_url and hubs."""
    tag_url = feeds_t.text("tag_url", "")
    if tag_url and "{slug}" not in tag_url:
        raise feeds_t.fail("tag_url", 'a pattern containing {slug}, such as "/tags/{slug}/"', tag_url)
    hubs = feeds_t.get("hubs", list, [], expected='a list of hub URLs, such as ["https://pubsubhubbub.appspot.com/"]')
    for hub in hubs:
        if not isinstance(hub, str) or split_checked(hub) is None or not is_absolute_http_url(hub):
            raise feeds_t.fail("hubs", "a list of absolute http(s) URLs", hub)
    return tag_url, tuple(dict.fromkeys(hubs))


def load_config(path: Path, *, output_dir: Path | None = None) -> Config:
    """Read and validate `path`; relative paths in it are relative to its folder."""
    root = path.parent
    top = Table(_read_toml(path), "", path)
    site, postal_address, locale_dir = _site(top)
    sources, templates_dir = _content(top)
    sources += _sources(top)
    out, output_url = _output(top, site, output_dir)
    feeds = _feeds(top)
    digest = digest_settings(top, postal_address, root)
    smtp = smtp_settings(top)
    inbox = inbox_settings(top)
    db = top.get("database", str, "", expected="a path")
    max_bytes = top.number("max_feed_bytes", int, DEFAULT_MAX_BYTES, 1, expected="a positive number of bytes")
    top.check_unknown()
    database = (root / db).resolve() if db else root / "subscribers.sqlite3"
    config = Config(
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
        locale_dir=locale_dir,
    )
    check_output_folder(out, config.own_folders(), database.resolve(), path, site.url)
    return config
