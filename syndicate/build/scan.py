"""Finding every post file and its key (a hash of its path and bytes, and of the Eleventy data
files that apply to it), before anything is parsed."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.build.workers import PARALLEL_MIN, WorkerPool
from syndicate.config import Config
from syndicate.errors import SourceError, SyndicateError, Warn
from syndicate.sources.generators import MAX_POST_BYTES, DataFiles, find_post_files
from syndicate.store.digests import digest_of

if TYPE_CHECKING:  # the readers are imported when a file is read: a build with nothing to do reads none
    from syndicate.sources.markdown import PostPlace


@dataclass(frozen=True, slots=True)
class SourceFile:
    key: str  # hash of path and bytes
    shown: str  # path as messages show it
    path: str
    data: bytes | None  # None: known unchanged from the last build (its key came from there)
    size: int = 0
    mtime_ns: int = 0
    place: PostPlace | None = None  # its stem, Jekyll folders and Eleventy data; None when not read
    root: Path | None = None  # the posts folder it was found in (its place is worked out from there)
    taken: bool = False  # handed to the renderers as soon as it was read (its bytes then dropped here)


def _key(shown: str, data: bytes, place: PostPlace) -> str:
    return digest_of(shown, data, *(part for item in place.data for part in item))


# shown path → (size, mtime_ns, key) from the last build
KnownFiles = dict[str, tuple[int, int, str]]

Scanned = tuple[list[SourceFile], list[SyndicateError]]


def scan_markdown(
    config: Config,
    known: KnownFiles | None = None,
    settled_before_ns: int = 0,
    workers: WorkerPool | None = None,
    warn: Warn | None = None,
    take: Callable[[SourceFile], bool] | None = None,
) -> Scanned:
    """Every post's key (a hash of its path and bytes), without parsing anything.

    A file whose size and modification time are what the last build recorded keeps
    that build's key without being read again (git's trick); a file modified too
    close to that build (`settled_before_ns`) is always read and hashed, since a
    change within the clock's resolution would not show in its time. A file read is
    offered to `take` (rendering.EarlyRenders), which may start rendering it at once.
    """
    files: list[SourceFile] = []
    errors: list[SyndicateError] = []
    known, site_root = known or {}, str(config.root) + os.sep
    for root in (Path(source.location) for source in config.sources if source.kind == "markdown"):
        data_files = DataFiles(root)
        listed = find_post_files(root, warn)
        if not known and len(listed) >= PARALLEL_MIN and workers is not None:
            workers.warm()  # a first build of many posts: the workers start while the first files are read
        for path, lstat in listed:  # shown as shown_path would, pathlib only when needed
            shown = path[len(site_root) :] if path.startswith(site_root) else _shown(path, config.root)
            try:
                st = lstat or os.stat(path)  # a link within the posts folder: what it leads to
                if st.st_size > MAX_POST_BYTES:  # refuse before reading a huge file into memory
                    raise SourceError(
                        f"file is over {MAX_POST_BYTES // (1024 * 1024)} MB; is it really a post?", path=shown
                    )
                seen = known.get(shown)
                # a post with data files is always hashed again: a data file's change shows in no time of its own
                if (
                    seen is not None
                    and seen[:2] == (st.st_size, st.st_mtime_ns)
                    and st.st_mtime_ns < settled_before_ns
                    and not data_files.may_apply(path)
                ):
                    files.append(SourceFile(seen[2], shown, path, None, st.st_size, st.st_mtime_ns, None, root))
                    continue
                place, data = _read(path, shown, data_files, config.root)
            except SourceError as exc:
                errors.append(exc)
                continue
            except OSError as exc:
                errors.append(SourceError(f"cannot read: {exc.strerror}", path=shown))
                continue
            files.append(
                _read_file(
                    SourceFile(_key(shown, data, place), shown, path, data, st.st_size, st.st_mtime_ns, place, root),
                    take,
                    workers,
                    len(files),
                )
            )
    return files, errors


def _shown(path: str, site_root: Path) -> str:
    from syndicate.sources.markdown import shown_path

    return shown_path(Path(path), site_root)


def _read(path: str, shown: str, data_files: DataFiles, site_root: Path) -> tuple[PostPlace, bytes]:
    """A post file's place and bytes (never a FIFO swapped in since the walk)."""
    from syndicate.sources.fetch import read_regular
    from syndicate.sources.markdown import PostPlace

    return PostPlace.of(Path(path), data_files, site_root), read_regular(Path(path), shown, MAX_POST_BYTES, "post")


def _read_file(
    found: SourceFile, take: Callable[[SourceFile], bool] | None, workers: WorkerPool | None, count: int
) -> SourceFile:
    """A file just read, offered to `take`: then its bytes are let go here."""
    if take is not None and take(found):
        return replace(found, data=None, place=None, taken=True)
    if take is None and count == PARALLEL_MIN and workers is not None:
        workers.warm()  # probably enough to render in workers: start them while the rest is read
    return found
