"""Reading every source and rendering every visible post: the first half of a build."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .config import Config
from .content import render_entry
from .errors import SourceError, SyndicateError
from .model import Entry, Post
from .select import check_unique, is_visible, newest_first
from .sources.markdown import read_markdown_dir

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LoadedSite:
    """Everything read and rendered for one build, before anything is written."""

    config: Config
    entries: tuple[Entry, ...]  # visible, newest first
    today: date


def read_posts(config: Config, warn: Warn) -> tuple[list[Post], list[SyndicateError]]:
    """Every post from every source, and every error that kept one out."""
    posts: list[Post] = []
    errors: list[SyndicateError] = []
    for source in config.sources:
        if source.kind == "markdown":
            for item in read_markdown_dir(Path(source.location), config.site.timezone, relative_to=config.root):
                (errors if isinstance(item, SourceError) else posts).append(item)  # type: ignore[arg-type]
        else:
            from .sources.feed import read_feed_source  # imported lazily: feedparser is slow to import

            found, problems = read_feed_source(source, config, warn)
            posts.extend(found)
            errors.extend(problems)
    return posts, errors


def load_site(config: Config, today: date, warn: Warn, *, keep_going: bool = False) -> tuple[LoadedSite, list[SyndicateError]]:
    posts, errors = read_posts(config, warn)
    if errors and not keep_going:
        return LoadedSite(config, (), today), errors
    tz = config.site.timezone
    entries = newest_first(render_entry(p, config.site) for p in posts if is_visible(p, today, tz))
    check_unique(entries)
    return LoadedSite(config, tuple(entries), today), errors
