"""Packs: files in the build cache that hold every post's serialized feed items.

A pack is one file holding, back to back, the items of one feed format (RSS
<item>s, Atom <entry>s or JSON Feed items) of a batch of posts, made where
those posts were rendered (often a worker process). A `Stored` says where one
post's items are: for each format, the pack, the offset and the length. Only
those places stay in memory; assembling a feed reads the items it lists
straight from the packs (one pread each; the operating system's file cache
keeps the packs), so neither the posts' HTML nor thousands of serialized items
stay in the building process's memory.

A pack is named by the hash of its bytes and its size, and written atomically
before any cached entry points into it; a pack whose size is not what its name
promises is treated as missing, and the posts pointing into it are rendered again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from syndicate.model import quick_pickling
from syndicate.output import atomic_write

SUFFIX = ".pack"


@dataclass(frozen=True, slots=True)
class Stored:
    """Where one post's items are: (format, pack, offset, length) for each feed format."""

    parts: tuple[tuple[str, str, int, int], ...]

    def packs(self) -> list[str]:
        return [pack for _fmt, pack, _offset, _length in self.parts]

    def part(self, fmt: str) -> tuple[str, int, int] | None:
        for name, pack, offset, length in self.parts:
            if name == fmt:
                return pack, offset, length
        return None


quick_pickling(Stored)


def write_pack(folder: Path, items: Sequence[Mapping[str, bytes]]) -> list[Stored]:
    """For each format, one pack holding that format's item of every given post; the places, in order.

    One pack per format: the feeds of one format are assembled together, so the file
    cache holds what they read close together.
    """
    formats = list(dict.fromkeys(fmt for formats in items for fmt in formats))
    places: list[list[tuple[str, str, int, int]]] = [[] for _ in items]
    for fmt in formats:
        spans: list[tuple[int, int, int]] = []
        pieces: list[bytes] = []
        offset = 0
        for index, formats_of_post in enumerate(items):
            data = formats_of_post.get(fmt)
            if data is None:
                continue
            spans.append((index, offset, len(data)))
            pieces.append(data)
            offset += len(data)
        blob = b"".join(pieces)
        name = f"{hashlib.sha256(blob).hexdigest()[:32]}-{len(blob)}{SUFFIX}"
        target = folder / name
        try:
            present = target.stat().st_size == len(blob)  # same bytes, same name: already there
        except OSError:
            present = False
        if not present:
            atomic_write(target, blob, durable=False)
        for index, start, length in spans:
            places[index].append((fmt, name, start, length))
    return [Stored(tuple(parts)) for parts in places]


def pack_size(name: str) -> int:
    """The size a pack's name promises (-1 for a name that is not a pack's)."""
    stem = name.removesuffix(SUFFIX)
    size = stem.rsplit("-", 1)[-1]
    return int(size) if name.endswith(SUFFIX) and size.isdigit() else -1


@dataclass
class PackReader:
    """Reads items by their place, each with one pread: memory holds only the feed being assembled."""

    folder: Path
    _fds: dict[str, int] = field(default_factory=dict)
    _sound: dict[str, bool] = field(default_factory=dict)
    _opening: threading.Lock = field(default_factory=threading.Lock)

    def usable(self, stored: Stored) -> bool:
        """True when every pack it points into is there with the size its name promises."""
        for pack in stored.packs():
            known = self._sound.get(pack)
            if known is None:
                try:
                    known = (self.folder / pack).stat().st_size == pack_size(pack)
                except OSError:
                    known = False
                self._sound[pack] = known
            if not known:
                return False
        return True

    def read(self, stored: Stored, fmt: str) -> bytes:
        part = stored.part(fmt)
        if part is None:
            raise KeyError(f"no {fmt} item stored for this post")
        pack, offset, length = part
        fd = self._fds.get(pack)
        if fd is None:
            with self._opening:  # feeds are assembled in the output's writer threads
                fd = self._fds.get(pack)
                if fd is None:
                    fd = self._fds[pack] = os.open(self.folder / pack, os.O_RDONLY)
        data = os.pread(fd, length, offset)
        if len(data) != length:
            raise OSError(f"build cache pack {pack} is shorter than recorded; build with --no-cache")
        return data

    def release(self) -> None:
        """Close the packs read so far (between formats: each format has packs of its own), once
        nothing reads them any more."""
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
