"""Every post's serialized feed items, kept on disk: made once, read by every feed that lists the post.

A rendered post's RSS <item>, Atom <entry> and JSON Feed item are made where
the post is rendered (often a worker process), written to a "pack" file in
the build cache, and only their places are kept in memory. Assembling a feed
reads the pieces it lists straight from the packs (the operating system's
file cache keeps them), so neither the posts' HTML nor thousands of
serialized items have to stay in this process's memory.

A pack is named by the hash of its bytes and written atomically, before any
cache entry points into it; a pack whose size is not what its name promises
is treated as missing, and the posts pointing into it are rendered again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .output import atomic_write

SUFFIX = ".pack"


@dataclass(frozen=True, slots=True)
class Stored:
    """Where one post's items are: a pack, and (format, offset, length) for each feed format."""

    pack: str
    spans: tuple[tuple[str, int, int], ...]

    def span(self, fmt: str) -> tuple[int, int] | None:
        for name, offset, length in self.spans:
            if name == fmt:
                return offset, length
        return None


def write_pack(folder: Path, items: Sequence[Mapping[str, bytes]]) -> list[Stored]:
    """One pack holding every format's fragment of every given post; the places, in the same order."""
    pieces: list[bytes] = []
    places: list[list[tuple[str, int, int]]] = []
    offset = 0
    for formats in items:
        spans = []
        for fmt, data in formats.items():
            spans.append((fmt, offset, len(data)))
            pieces.append(data)
            offset += len(data)
        places.append(spans)
    blob = b"".join(pieces)
    name = f"{hashlib.sha256(blob).hexdigest()[:32]}-{len(blob)}{SUFFIX}"
    target = folder / name
    if not target.exists():  # same bytes, same name: an identical pack is already there
        atomic_write(target, blob, durable=False)
    return [Stored(name, tuple(spans)) for spans in places]


def pack_size(name: str) -> int:
    """The size a pack's name promises (-1 for a name that is not a pack's)."""
    stem = name.removesuffix(SUFFIX)
    size = stem.rsplit("-", 1)[-1]
    return int(size) if name.endswith(SUFFIX) and size.isdigit() else -1


@dataclass
class PackReader:
    """Reads fragments by their place; packs are opened once and checked against their names."""

    folder: Path
    _fds: dict[str, int] = field(default_factory=dict)
    _sound: dict[str, bool] = field(default_factory=dict)

    def usable(self, stored: Stored) -> bool:
        """True when the pack is there with the size its name promises."""
        known = self._sound.get(stored.pack)
        if known is None:
            try:
                known = (self.folder / stored.pack).stat().st_size == pack_size(stored.pack)
            except OSError:
                known = False
            self._sound[stored.pack] = known
        return known

    def read(self, stored: Stored, fmt: str) -> bytes:
        span = stored.span(fmt)
        if span is None:
            raise KeyError(f"no {fmt} fragment in {stored.pack}")
        fd = self._fds.get(stored.pack)
        if fd is None:
            fd = os.open(self.folder / stored.pack, os.O_RDONLY)
            self._fds[stored.pack] = fd
        offset, length = span
        data = os.pread(fd, length, offset)
        if len(data) != length:
            raise OSError(f"build cache pack {stored.pack} is shorter than recorded; build with --no-cache")
        return data

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


def remove_unused(folder: Path, used: Iterable[str]) -> int:
    """Delete the packs no cached post points into any more (left by edits, --no-cache or a crash)."""
    keep = set(used)
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if name.endswith(SUFFIX) and name not in keep:
            (folder / name).unlink(missing_ok=True)
            removed += 1
    return removed
