"""The build cache in `.syndicate-cache/` beside syndicate.toml.

Two things are kept, both keyed by content hashes (never by mtime alone):
- rendered entries: a post's source bytes (+ its path) → its Entry, so an
  unchanged post is never parsed or rendered again;
- the last build's record: for every output file, the hash of everything it
  was made from (its "recipe") and the size and mtime it was written with, so
  an output whose recipe and file are unchanged is not even regenerated.

Everything is written atomically; a cache that cannot be read (crash, older
format, another syndicate or renderer version) is ignored and rebuilt, never
trusted. The build record is deleted before outputs are written and written
again after, so a build killed in between is followed by a full (still
cached) regeneration.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .content import RENDERER_VERSION
from .model import Entry
from .output import atomic_write

CACHE_DIR = ".syndicate-cache"
FORMAT = 3  # bump when the cached data's shape changes



def digest_of(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def folder_digest(folders: Iterable[Path | None]) -> str:
    """A hash of every file below the given folders (templates), by name and content."""
    parts: list[bytes | str] = []
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts += [str(path.relative_to(folder)), path.read_bytes()]
    return digest_of(*parts)


@dataclass
class EntryCache:
    """Rendered entries by key; `load` tolerates anything, `save` is atomic."""

    path: Path | None  # None: caching disabled
    salt: str
    entries: dict[str, Entry] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    dirty: bool = False

    @classmethod
    def open(cls, root: Path, salt: str, *, enabled: bool) -> EntryCache:
        if not enabled:
            return cls(None, salt)
        path = root / CACHE_DIR / f"entries-v{FORMAT}.pickle"
        cache = cls(path, salt)
        try:
            with path.open("rb") as handle:
                stored_salt, entries = pickle.load(handle)  # noqa: S301 - our own file, salted and versioned
            if stored_salt == salt and isinstance(entries, dict):
                cache.entries = entries
        except Exception:
            cache.entries = {}
        return cache

    def get(self, key: str) -> Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.used.add(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.entries[key] = entry
        self.used.add(key)
        self.dirty = True

    def save(self) -> None:
        if self.path is None:
            return
        if set(self.entries) != self.used:  # forget posts that are gone
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
            self.dirty = True
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _ignore_in_git(self.path.parent)
        atomic_write(self.path, pickle.dumps((self.salt, self.entries), protocol=pickle.HIGHEST_PROTOCOL), durable=False)


def _ignore_in_git(folder: Path) -> None:
    marker = folder / ".gitignore"
    if not marker.exists():
        atomic_write(marker, b"# created by syndicate: the build cache is not source\n*\n", durable=False)


@dataclass
class BuildRecord:
    """What the last complete build wrote: rel path → (recipe, size, mtime_ns)."""

    path: Path | None
    outputs: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    salt: str = ""

    @classmethod
    def open(cls, root: Path, salt: str, out_dir: Path, *, enabled: bool) -> BuildRecord:
        if not enabled:
            return cls(None)
        name = digest_of(str(out_dir.resolve()))[:16]
        path = root / CACHE_DIR / f"build-{name}-v{FORMAT}.json"
        record = cls(path, salt=salt)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("salt") == salt:
                record.outputs = {k: (v[0], int(v[1]), int(v[2])) for k, v in data["outputs"].items()}
        except Exception:
            record.outputs = {}
        return record

    def unchanged(self, out_dir: Path, rel: str, recipe: str) -> bool:
        """True when `rel` was made from this very recipe and nobody touched the file since."""
        known = self.outputs.get(rel)
        if known is None or known[0] != recipe:
            return False
        try:
            st = os.stat(out_dir / rel)
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns) == known[1:]

    def invalidate(self) -> None:
        """Forget the record on disk before outputs change (a crash then means: regenerate all)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def save(self, out_dir: Path, recipes: dict[str, str]) -> None:
        if self.path is None:
            return
        outputs: dict[str, Any] = {}
        for rel, recipe in sorted(recipes.items()):
            try:
                st = os.stat(out_dir / rel)
            except OSError:
                continue
            outputs[rel] = [recipe, st.st_size, st.st_mtime_ns]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _ignore_in_git(self.path.parent)
        data = json.dumps({"salt": self.salt, "outputs": outputs}, sort_keys=True).encode("utf-8")
        atomic_write(self.path, data, durable=False)


def build_salt(config_bytes: bytes, templates: Iterable[Path | None]) -> str:
    """Everything besides the posts that changes outputs: versions, config, templates."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"syndicate {__version__}", RENDERER_VERSION]
    for package in ("cmarkgfm", "nh3", "feedgen", "jinja2", "premailer", "cssutils", "lxml", "python-slugify"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} ?")
    versions = "; ".join(parts)
    return digest_of(versions, config_bytes, folder_digest(templates))
