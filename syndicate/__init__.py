"""syndicate: a blog's posts → RSS, Atom and JSON feeds and a weekly email digest.

The public API, by name: load a site's config, build it, compose an issue,
send it, import a feed, manage subscribers; every error is a `SyndicateError`.
Names are imported on first use, so `import syndicate` (and `syndicate
--version`) stay fast.

    import syndicate
    config = syndicate.load_config(syndicate.find_config(Path(".")))
    result = syndicate.build_site(config, date.today(), print)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → (module, name there)
_EXPORTS: dict[str, tuple[str, str]] = {
    "SyndicateError": ("syndicate.errors", "SyndicateError"),
    "printable": ("syndicate.errors", "printable"),
    "CONFIG_NAME": ("syndicate.config", "CONFIG_NAME"),
    "SMTP_PASSWORD_ENV": ("syndicate.config", "SMTP_PASSWORD_ENV"),
    "SMTP_RETRY_DELAYS": ("syndicate.config", "SMTP_RETRY_DELAYS"),
    "SmtpSecurity": ("syndicate.config", "SmtpSecurity"),
    "Config": ("syndicate.config", "Config"),
    "find_config": ("syndicate.config", "find_config"),
    "load_config": ("syndicate.config", "load_config"),
    "BuildResult": ("syndicate.build.front", "BuildResult"),
    "build_site": ("syndicate.build.front", "build"),
    "init_site": ("syndicate.build.scaffold", "init_site"),
    "ping_last_build": ("syndicate.build.ping", "ping_last_build"),
    "PING_TIMEOUT": ("syndicate.build.ping", "PING_TIMEOUT"),
    "new_post": ("syndicate.build.scaffold", "new_post"),
    "placeholders_left": ("syndicate.build.scaffold", "placeholders_left"),
    "check_directory": ("syndicate.feeds.check", "check_directory"),
    "DigestFiles": ("syndicate.build.compose", "DigestFiles"),
    "compose_issue": ("syndicate.build.compose", "compose_issue"),
    "write_digest": ("syndicate.build.compose", "write_digest"),
    "IssueChoice": ("syndicate.build.compose", "IssueChoice"),
    "SendOutcome": ("syndicate.build.sending", "SendOutcome"),
    "IssueStatus": ("syndicate.build.sending", "IssueStatus"),
    "SmtpOverrides": ("syndicate.build.sending", "SmtpOverrides"),
    "mark_sent": ("syndicate.build.sending", "mark_sent"),
    "send_issue": ("syndicate.build.sending", "send_issue"),
    "send_status": ("syndicate.build.sending", "send_status"),
    "send_test_copy": ("syndicate.build.sending", "send_test_copy"),
    "write_dry_run": ("syndicate.build.sending", "write_dry_run"),
    "SendOptions": ("syndicate.delivery.send", "SendOptions"),
    "SendReport": ("syndicate.delivery.send", "SendReport"),
    "secret_from_env": ("syndicate.subscribers.tokens", "secret_from_env"),
    "DEFAULT_MAX_BYTES": ("syndicate.urls", "DEFAULT_MAX_BYTES"),
    "ImportExtras": ("syndicate.build.importing", "ImportExtras"),
    "ImportResult": ("syndicate.build.importing", "ImportResult"),
    "import_feed": ("syndicate.build.importing", "import_feed"),
    "add_subscriber": ("syndicate.build.subscribing", "add_subscriber"),
    "export_subscribers": ("syndicate.build.subscribing", "export_subscribers"),
    "import_subscribers": ("syndicate.build.subscribing", "import_subscribers"),
    "list_subscribers": ("syndicate.build.subscribing", "list_subscribers"),
    "remove_subscriber": ("syndicate.build.subscribing", "remove_subscriber"),
    "InboxReport": ("syndicate.build.inbox", "InboxReport"),
    "read_inbox": ("syndicate.build.inbox", "read_inbox"),
    "IMAP_PASSWORD_ENV": ("syndicate.delivery.imap", "IMAP_PASSWORD_ENV"),
    "InvalidAddress": ("syndicate.addresses", "InvalidAddress"),
    "KEEP_TAGS": ("syndicate.subscribers.store", "KEEP"),
    "SUBSCRIBER_STATUSES": ("syndicate.subscribers.store", "STATUSES"),
    "SubscriberStatus": ("syndicate.subscribers.store", "Status"),
    "TagUpdate": ("syndicate.subscribers.store", "TagUpdate"),
    "format_tags": ("syndicate.subscribers.store", "format_tags"),
    "normalize_email": ("syndicate.subscribers.store", "normalize_email"),
    "parse_tags": ("syndicate.subscribers.store", "parse_tags"),
    "parse_week": ("syndicate.newsletter.periods", "parse_week"),
    "parse_period": ("syndicate.newsletter.periods", "parse_period"),
    "local_server": ("syndicate.web.wsgi", "local_server"),
    "make_app": ("syndicate.web.wsgi", "make_app"),
}

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_MAX_BYTES",
    "IMAP_PASSWORD_ENV",
    "KEEP_TAGS",
    "PING_TIMEOUT",
    "SMTP_PASSWORD_ENV",
    "SMTP_RETRY_DELAYS",
    "SUBSCRIBER_STATUSES",
    "BuildResult",
    "Config",
    "DigestFiles",
    "ImportExtras",
    "ImportResult",
    "InboxReport",
    "InvalidAddress",
    "IssueChoice",
    "IssueStatus",
    "SendOptions",
    "SendOutcome",
    "SendReport",
    "SmtpOverrides",
    "SmtpSecurity",
    "SubscriberStatus",
    "SyndicateError",
    "TagUpdate",
    "__version__",
    "add_subscriber",
    "build_site",
    "check_directory",
    "compose_issue",
    "export_subscribers",
    "find_config",
    "format_tags",
    "import_feed",
    "import_subscribers",
    "init_site",
    "list_subscribers",
    "load_config",
    "local_server",
    "make_app",
    "mark_sent",
    "new_post",
    "normalize_email",
    "parse_period",
    "parse_tags",
    "parse_week",
    "ping_last_build",
    "placeholders_left",
    "printable",
    "read_inbox",
    "remove_subscriber",
    "secret_from_env",
    "send_issue",
    "send_status",
    "send_test_copy",
    "write_digest",
    "write_dry_run",
]  # every name in _EXPORTS (a test checks)


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562): start-up loads only what a command needs."""
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'syndicate' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:
    from syndicate.addresses import InvalidAddress
    from syndicate.build.compose import DigestFiles, IssueChoice, compose_issue, write_digest
    from syndicate.build.front import BuildResult
    from syndicate.build.front import build as build_site
    from syndicate.build.importing import ImportExtras, ImportResult, import_feed
    from syndicate.build.inbox import InboxReport, read_inbox
    from syndicate.build.ping import PING_TIMEOUT, ping_last_build
    from syndicate.build.scaffold import init_site, new_post
    from syndicate.build.sending import (
        IssueStatus,
        SendOutcome,
        SmtpOverrides,
        mark_sent,
        send_issue,
        send_status,
        send_test_copy,
        write_dry_run,
    )
    from syndicate.build.subscribing import (
        add_subscriber,
        export_subscribers,
        import_subscribers,
        list_subscribers,
        remove_subscriber,
    )
    from syndicate.config import (
        CONFIG_NAME,
        SMTP_PASSWORD_ENV,
        SMTP_RETRY_DELAYS,
        Config,
        SmtpSecurity,
        find_config,
        load_config,
    )
    from syndicate.delivery.imap import IMAP_PASSWORD_ENV
    from syndicate.delivery.send import SendOptions, SendReport
    from syndicate.errors import SyndicateError, printable
    from syndicate.feeds.check import check_directory
    from syndicate.newsletter.periods import parse_period, parse_week
    from syndicate.subscribers.store import KEEP as KEEP_TAGS
    from syndicate.subscribers.store import STATUSES as SUBSCRIBER_STATUSES
    from syndicate.subscribers.store import Status as SubscriberStatus
    from syndicate.subscribers.store import TagUpdate, format_tags, normalize_email, parse_tags
    from syndicate.subscribers.tokens import secret_from_env
    from syndicate.urls import DEFAULT_MAX_BYTES
    from syndicate.web.wsgi import local_server, make_app
