"""A [[sources]] feed of the config → the plain values sources/ reads it with (sources/ knows no Config)."""

from __future__ import annotations

from collections.abc import Callable

from syndicate.config import Config, SourceConfig
from syndicate.errors import SyndicateError
from syndicate.model import Post
from syndicate.sources.fetch import FeedMemory, Limits


def read_configured_feed(
    source: SourceConfig, config: Config, warn: Callable[[str], None], memory: FeedMemory | None = None
) -> tuple[list[Post], list[SyndicateError]]:
    """Fetch and read one [[sources]] feed under the site's limits and time zone."""
    from syndicate.sources.feed import read_feed_source  # imported lazily: feedparser is slow to import

    return read_feed_source(
        source.location,
        config.site.timezone,
        warn,
        limits=Limits(max_bytes=config.max_feed_bytes),
        assume_date=source.assume_date,
        memory=memory,
    )
