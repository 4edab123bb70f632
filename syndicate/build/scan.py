"""Finding every post file and its key (a hash of its path and bytes, and of the Eleventy data
files that apply to it), before anything is parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from syndicate.build.workers import PARALLEL_MIN, WorkerPool
from syndicate.config import Config
from syndicate.errors import SourceError, SyndicateError, Warn
from syndicate.sources.fetch import read_regular
from syndicate.sources.markdown import MAX_POST_BYTES, DataFiles, PostPlace, find_posts, shown_path
from syndicate.store.digests import digest_of


@dataclass(frozen=True, slots=True)
class SourceFile:
    key: str  # hash of path and bytes
    shown: str  # path as messages show it
    path: Path
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
    offered to `take` (see loading.EarlyRenders), which may start rendering it at once.
    """
    files: list[SourceFile] = []
    errors: list[SyndicateError] = []
    known = known or {}
    to_read = 0
    for source in config.sources:
        if source.kind != "markdown":
            continue
        root = Path(source.location)
        data_files = DataFiles(root)
        for path in find_posts(root, warn):
            shown = shown_path(path, config.root)
            try:
                st = path.stat()
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
                    and not data_files.of(path)
                ):
                    files.append(SourceFile(seen[2], shown, path, None, st.st_size, st.st_mtime_ns, None, root))
                    continue
                place = PostPlace.of(path, data_files, config.root)
                data = read_regular(path, shown, MAX_POST_BYTES, "post")  # never a FIFO swapped in since the walk
                to_read += 1
                if to_read == PARALLEL_MIN and workers is not None and take is None:
                    workers.warm()  # enough to render in workers: start them while the rest is read
            except SourceError as exc:
                errors.append(exc)
                continue
            except OSError as exc:
                errors.append(SourceError(f"cannot read: {exc.strerror}", path=shown))
                continue
            found = SourceFile(_key(shown, data, place), shown, path, data, st.st_size, st.st_mtime_ns, place, root)
            if take is not None and take(found):
                found = SourceFile(found.key, shown, path, None, st.st_size, st.st_mtime_ns, None, root, taken=True)
            files.append(found)
    return files, errors
