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

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syndicate import __version__
from syndicate.model import Entry
from syndicate.output import atomic_write
from syndicate.render.entry import RENDERER_VERSION
from syndicate.sources.fetch import Fetched, Remembered
from syndicate.store.packs import PackReader, Stored, remove_unused

CACHE_DIR = ".syndicate-cache"
FORMAT = 4  # bump when the cached data's shape changes

Cached = tuple[
    Entry, Stored | None
]  # a rendered post (its HTML left out when its feed items are stored) and where those are


def digest_of(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def folder_digest(folders: Iterable[Path | None], pattern: str = "*") -> str:
    """A hash of every file below the given folders (templates), by name and content."""
    parts: list[bytes | str] = []
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                parts += [str(path.relative_to(folder)), path.read_bytes()]
    return digest_of(*parts)


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
    memory: SourceMemory | None = None  # the last answers of remote [[sources]] feeds

    @classmethod
    def open(cls, root: Path, salt: str, *, enabled: bool, fresh: bool = False) -> EntryCache:
        if not enabled:
            return cls(None, salt)
        folder = root / CACHE_DIR / f"entries-v{FORMAT}"
        packs = PackReader(root / CACHE_DIR / f"items-v{FORMAT}")
        return cls(folder, salt, readable=not fresh, packs=packs, memory=SourceMemory.open(root, fresh=fresh))

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
        for shard, entries in self.shards.items():
            stale = [k for k in entries if k not in self.used]
            for key in stale:
                del entries[key]
            if stale:
                self.dirty.add(shard)
        if not self.dirty:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        _ignore_in_git(self.folder.parent)
        for shard in sorted(self.dirty):
            data = pickle.dumps((self.salt, self.shards[shard]), protocol=pickle.HIGHEST_PROTOCOL)
            atomic_write(self.folder / f"{shard:02d}.pickle", data, durable=False)
        self.dirty.clear()
        if self.packs is not None:
            live = {pack for entries in self.shards.values() for _, s in entries.values() if s for pack in s.packs()}
            remove_unused(self.packs.folder, live)

    def close(self) -> None:
        if self.packs is not None:
            self.packs.release()


@contextlib.contextmanager
def build_lock(root: Path, waiting: Callable[[str], None]) -> Iterator[bool]:
    """One build of a site at a time (say `build --watch` and a build by hand): the second waits.

    Builds share the cache, whose pruning would otherwise remove what the other is reading.
    The lock is the kernel's (flock), so it dies with its process, even on SIGKILL. Yields
    False, holding nothing, when the cache folder cannot be made or written (a read-only
    checkout): the build then goes on without the cache.
    """
    folder = root / CACHE_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _ignore_in_git(folder)
        fd = os.open(folder / "build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        waiting(f"{folder}: cannot keep the build cache here ({exc.strerror or exc}); building without it")
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting(f"waiting for another build of this site to finish (it holds {folder / 'build.lock'})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)


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
    def open(cls, root: Path, *, fresh: bool = False) -> SourceMemory:
        return cls(root / CACHE_DIR / f"sources-v{FORMAT}", readable=not fresh)

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
        _ignore_in_git(self.folder.parent)
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
    fingerprint: str = ""  # of every input (salt and post keys); "" when a source is not a local file
    valid_from: str = ""  # ISO dates: the `today` values that gave this very build
    valid_until: str = ""
    posts: int = 0
    sources: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # shown path → size, mtime_ns, key
    saved_ns: int = 0  # when this record was written (files modified later than ~that are always re-read)

    @classmethod
    def open(cls, root: Path, salt: str, out_dir: Path, *, enabled: bool, fresh: bool = False) -> BuildRecord:
        if not enabled:
            return cls(None)
        name = digest_of(str(out_dir.resolve()))[:16]
        path = root / CACHE_DIR / f"build-{name}-v{FORMAT}.json"
        record = cls(path, salt=salt)
        if fresh:  # --no-cache: trust nothing from before, but record this build for the next one
            return record
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("salt") == salt:
                record.outputs = {k: (v[0], int(v[1]), int(v[2])) for k, v in data["outputs"].items()}
                record.fingerprint = str(data.get("fingerprint", ""))
                record.valid_from = str(data.get("valid_from", ""))
                record.valid_until = str(data.get("valid_until", ""))
                record.posts = int(data.get("posts", 0))
                record.sources = {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in data.get("sources", {}).items()}
                record.saved_ns = int(data.get("saved_ns", 0))
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

    def still_current(self, out_dir: Path, fingerprint: str, today: str) -> bool:
        """Nothing changed: same inputs, a `today` that shows the same posts, every output untouched."""
        if not fingerprint or fingerprint != self.fingerprint or not self.outputs:
            return False
        if not (self.valid_from <= today < self.valid_until):
            return False
        return all(self.unchanged(out_dir, rel, known[0]) for rel, known in self.outputs.items())

    def invalidate(self) -> None:
        """Forget the record on disk before outputs change (a crash then means: regenerate all)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def save(
        self,
        out_dir: Path,
        recipes: dict[str, str],
        *,
        fingerprint: str,
        valid: tuple[str, str],
        posts: int,
        sources: dict[str, tuple[int, int, str]] | None = None,
    ) -> None:
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
        record = {
            "salt": self.salt,
            "fingerprint": fingerprint,
            "valid_from": valid[0],
            "valid_until": valid[1],
            "posts": posts,
            "outputs": outputs,
            "sources": sources or {},
            "saved_ns": time.time_ns(),
        }
        data = json.dumps(record, sort_keys=True).encode("utf-8")
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
    # our own code too (the whole package): a fix changes outputs without a version bump
    code = folder_digest([Path(__file__).parent.parent], "*.py")
    return digest_of(versions, code, config_bytes, folder_digest(templates))


@dataclass(frozen=True, slots=True)
class Reuse:
    """Answers "was this output made from exactly these inputs last time?" (never, without a cache)."""

    record: BuildRecord
    out_dir: Path

    def unchanged(self, rel: str, recipe: str) -> bool:
        return self.record.unchanged(self.out_dir, rel, recipe)


NO_REUSE = Reuse(BuildRecord(None), Path("."))
