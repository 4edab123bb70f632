"""[digest], [smtp] and [inbox] of syndicate.toml: the newsletter's settings, read into frozen values.

config.py reads the rest of the file and gathers these into its `Config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from syndicate.addresses import InvalidAddress, stored_address
from syndicate.errors import ConfigError
from syndicate.model import Author
from syndicate.toml_table import Table

DEFAULT_SUBJECT = "{site}: {count} new {posts}, {period}"
Cadence = Literal["weekly", "daily", "monthly", "post"]  # how often the newsletter goes out
CADENCES: tuple[Cadence, ...] = ("weekly", "daily", "monthly", "post")
SmtpSecurity = Literal["starttls", "ssl", "none"]
SMTP_PORTS: dict[SmtpSecurity, int] = {"starttls": 587, "ssl": 465, "none": 25}  # the standard port of each
SMTP_TIMEOUT = 30.0  # seconds
SMTP_CONNECTIONS = 16  # at once: a relay 20 ms away takes 10,000 messages in under a minute; lower it for a strict one
SMTP_RETRY_DELAYS = (1.0, 5.0, 20.0)  # seconds to wait before each retry of a 4xx answer, within one run
SMTP_PASSWORD_ENV = "SYNDICATE_SMTP_PASSWORD"  # noqa: S105 (the variable's name, not a password)


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


def _cadence(digest_t: Table) -> Cadence:
    cadence = digest_t.text("cadence", "weekly")
    if cadence not in CADENCES:
        raise digest_t.fail("cadence", f"one of {', '.join(CADENCES)}", cadence)
    return cadence


def digest_settings(top: Table, postal_address: str, root: Path) -> DigestConfig:
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


def smtp_settings(top: Table) -> SmtpConfig:
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


def inbox_settings(top: Table) -> InboxConfig:
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
