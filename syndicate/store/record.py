"""The last build's record: what every output was made from, so an unchanged one is not made again.

For every output file it keeps the hash of everything the file was made from
(its "recipe") and the size and mtime it was written with; an output whose
recipe and file are unchanged is not even regenerated. The record is deleted
before outputs are written and written again after, so a build killed in
between is followed by a full (still cached) regeneration.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syndicate.output import atomic_write
from syndicate.store.digests import digest_of
from syndicate.store.layout import cache_path, ignore_in_git


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
    future: int = 0  # posts waiting for their day (constant while the record is valid)
    sources: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # shown path → size, mtime_ns, key
    saved_ns: int = 0  # when this record was written (files modified later than ~that are always re-read)

    @classmethod
    def open(cls, root: Path, salt: str, out_dir: Path, *, enabled: bool, fresh: bool = False) -> BuildRecord:
        if not enabled:
            return cls(None)
        name = digest_of(str(out_dir.resolve()))[:16]
        record = cls(cache_path(root, f"build-{name}").with_suffix(".json"), salt=salt)  # name is hex: no dot
        if not fresh:  # --no-cache: trust nothing from before, but record this build for the next one
            record._read()
        return record

    def _read(self) -> None:
        assert self.path is not None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("salt") == self.salt:
                self.outputs = {k: (v[0], int(v[1]), int(v[2])) for k, v in data["outputs"].items()}
                self.fingerprint = str(data.get("fingerprint", ""))
                self.valid_from = str(data.get("valid_from", ""))
                self.valid_until = str(data.get("valid_until", ""))
                self.posts = int(data.get("posts", 0))
                self.future = int(data.get("future", 0))
                self.sources = {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in data.get("sources", {}).items()}
                self.saved_ns = int(data.get("saved_ns", 0))
        except Exception:
            self.outputs = {}

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
        future: int = 0,
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
        ignore_in_git(self.path.parent)
        record = {
            "salt": self.salt,
            "fingerprint": fingerprint,
            "valid_from": valid[0],
            "valid_until": valid[1],
            "posts": posts,
            "future": future,
            "outputs": outputs,
            "sources": sources or {},
            "saved_ns": time.time_ns(),
        }
        data = json.dumps(record, sort_keys=True).encode("utf-8")
        atomic_write(self.path, data, durable=False)


@dataclass(frozen=True, slots=True)
class Reuse:
    """Answers "was this output made from exactly these inputs last time?" (never, without a cache)."""

    record: BuildRecord
    out_dir: Path

    def unchanged(self, rel: str, recipe: str) -> bool:
        return self.record.unchanged(self.out_dir, rel, recipe)


NO_REUSE = Reuse(BuildRecord(None), Path("."))
