"""Each post's feed items, made where the post is rendered and kept in packs (see store.packs).

A build that keeps a post's items keeps no copy of its HTML: the entry it holds
is the post without it (`content_html` None), and feeds read the items instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.feeds.item_fields import with_first_image
from syndicate.feeds.writers import FRAGMENTERS
from syndicate.model import Author, Entry
from syndicate.store.entries import Cached
from syndicate.store.packs import write_pack

if TYPE_CHECKING:  # a worker process imports this module; the config's own imports are not needed there
    from syndicate.config import Config


@dataclass(frozen=True, slots=True)
class ItemStyle:
    """How every feed item is serialized. Items made with their post (and kept in packs) and items
    made when a feed is written both come from here, so the two cannot drift apart."""

    full_content: bool
    fallback: Author
    category_base: str
    first_image: bool = False

    @classmethod
    def of(cls, config: Config) -> ItemStyle:
        return cls(config.feeds.full_content, config.site.author, config.output_url, config.feeds.first_image)

    def items(self, fmt: str, entries: Sequence[Entry]) -> list[bytes]:
        """One serialized item per entry, in the given order."""
        if self.first_image:
            entries = [with_first_image(entry) for entry in entries]
        return FRAGMENTERS[fmt](
            entries, full_content=self.full_content, fallback=self.fallback, category_base=self.category_base
        )


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """Which feed items a build makes for each post, how, and where it keeps them (a packs folder)."""

    folder: Path
    formats: tuple[str, ...]
    style: ItemStyle

    @classmethod
    def of(cls, config: Config, folder: Path) -> ItemSpec:
        return cls(folder, tuple(config.feeds.formats), ItemStyle.of(config))


def without_html(entry: Entry) -> Entry:
    """The entry without its full HTML (cheap to keep and to send to another process)."""
    return entry if entry.content_html is None else replace(entry, content_html=None)


def with_items(entries: Sequence[Entry], spec: ItemSpec | None) -> list[Cached]:
    """Entries with their feed items serialized and stored (and their HTML then left out), when asked for."""
    if spec is None or not entries:
        return [(entry, None) for entry in entries]
    made = {fmt: spec.style.items(fmt, entries) for fmt in spec.formats}
    spec.folder.mkdir(parents=True, exist_ok=True)
    places = write_pack(spec.folder, [{fmt: made[fmt][i] for fmt in spec.formats} for i in range(len(entries))])
    return [(without_html(entry), stored) for entry, stored in zip(entries, places, strict=True)]
