"""Rendered entries kept between builds: a post's source bytes (+ its path) → its Entry.

An unchanged post is never parsed or rendered again. Keys are content hashes
(see digests), never modification times. A cache that cannot be read (crash,
older format, another syndicate or renderer version) is ignored and rebuilt,
never trusted.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

from syndicate.model import Entry
from syndicate.output import atomic_write
from syndicate.store.layout import cache_path, ignore_in_git
from syndicate.store.packs import PackReader, Stored, remove_unused

# A rendered post and where its feed items are kept in packs (then its HTML is left out: content_html None).
Cached = tuple[Entry, Stored | None]

SHARDS = 64


def _shard(key: str) -> int:
    return int(key[:4], 16) % SHARDS


@dataclass
class EntryCache:
    """Rendered entries by key, in shards loaded on first use; only changed shards are rewritten.

    Reading tolerates anything (a damaged or foreign shard is just empty, an
    entry whose feed items' pack is gone is a miss); writing is atomic per shard.
    """

    folder: Path | None  # None: caching disabled
    salt: str
    readable: bool = True  # False: start afresh (--no-cache) but still save what this build renders
    shards: dict[int, dict[str, Cached]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    dirty: set[int] = field(default_factory=set)
    packs: PackReader | None = None  # where rendered posts' feed items are kept (beside the shards)

    @classmethod
    def open(cls, root: Path, salt: str, *, enabled: bool, fresh: bool = False) -> EntryCache:
        if not enabled:
            return cls(None, salt)
        packs = PackReader(cache_path(root, "items"))
        return cls(cache_path(root, "entries"), salt, readable=not fresh, packs=packs)

    def _load(self, shard: int) -> dict[str, Cached]:
        found = self.shards.get(shard)
        if found is not None:
            return found
        entries: dict[str, Cached] = {}
        if self.folder is not None and self.readable:
            try:
                with (self.folder / f"{shard:02d}.pickle").open("rb") as handle:
                    stored_salt, stored = pickle.load(handle)  # noqa: S301 - our own file, salted and versioned
                if stored_salt == self.salt and isinstance(stored, dict):
                    entries = stored
            except Exception:
                entries = {}
        self.shards[shard] = entries
        return entries

    def get(self, key: str) -> Cached | None:
        hit = self._load(_shard(key)).get(key)
        if hit is None:
            return None
        stored = hit[1]
        if stored is not None and (self.packs is None or not self.packs.usable(stored)):
            return None  # its feed items are gone: render it again
        self.used.add(key)
        return hit

    def put(self, key: str, entry: Entry, stored: Stored | None = None) -> None:
        self._load(_shard(key))[key] = (entry, stored)
        self.used.add(key)
        self.dirty.add(_shard(key))

    def save(self) -> None:
        """Write the shards that changed, forgetting entries no post uses any more
        and removing the packs no cached entry points into."""
        if self.folder is None:
            return
        if self.packs is not None:  # every shard is looked at, so that no stale entry keeps a pack alive
            for shard in range(SHARDS):
                self._load(shard)
                if not self.readable:  # --no-cache: what earlier builds left in any shard is replaced
                    self.dirty.add(shard)
        self._forget_unused()
        if not self.dirty:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore_in_git(self.folder.parent)
        for shard in sorted(self.dirty):
            data = pickle.dumps((self.salt, self.shards[shard]), protocol=pickle.HIGHEST_PROTOCOL)
            atomic_write(self.folder / f"{shard:02d}.pickle", data, durable=False)
        self.dirty.clear()
        if self.packs is not None:
            live = {pack for entries in self.shards.values() for _, s in entries.values() if s for pack in s.packs()}
            remove_unused(self.packs.folder, live)

    def _forget_unused(self) -> None:
        for shard, entries in self.shards.items():
            stale = [k for k in entries if k not in self.used]
            for key in stale:
                del entries[key]
            if stale:
                self.dirty.add(shard)

    def close(self) -> None:
        if self.packs is not None:
            self.packs.release()
