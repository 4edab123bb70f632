"""The last answer of every remote [[sources]] feed, for conditional requests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from syndicate.output import atomic_write
from syndicate.sources.fetch import Fetched, Remembered
from syndicate.store.digests import digest_of
from syndicate.store.layout import cache_path, ignore_in_git


@dataclass
class SourceMemory:
    """The last answer for every remote [[sources]] feed, so that the next build asks with
    If-None-Match / If-Modified-Since and an unchanged feed costs the server a 304, not a download.

    The bytes are written before the record that names their hash; a record whose bytes
    are missing or different is forgotten (the feed is then fetched in full).
    """

    folder: Path | None  # None: remember nothing
    readable: bool = True

    @classmethod
    def open(cls, root: Path, *, enabled: bool = True, fresh: bool = False) -> SourceMemory:
        return cls(cache_path(root, "sources") if enabled else None, readable=not fresh)

    def _paths(self, location: str) -> tuple[Path, Path]:
        assert self.folder is not None
        name = digest_of("source", location)[:32]
        return self.folder / f"{name}.json", self.folder / f"{name}.body"

    def recall(self, location: str) -> Remembered | None:
        if self.folder is None or not self.readable:
            return None
        record_path, body_path = self._paths(location)
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            data = body_path.read_bytes()
            if record.get("location") != location or record.get("sha256") != hashlib.sha256(data).hexdigest():
                return None
            return Remembered(str(record["url"]), record.get("etag"), record.get("last_modified"), data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def remember(self, location: str, fetched: Fetched) -> None:
        """Keep a full answer that carries a validator (nothing to ask with otherwise)."""
        if self.folder is None or fetched.not_modified or not (fetched.etag or fetched.last_modified):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore_in_git(self.folder.parent)
        record_path, body_path = self._paths(location)
        atomic_write(body_path, fetched.data, durable=False)
        record = {
            "location": location,
            "url": fetched.url,
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "sha256": hashlib.sha256(fetched.data).hexdigest(),
        }
        atomic_write(record_path, json.dumps(record, sort_keys=True).encode("utf-8"), durable=False)
