"""One build of a site at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from syndicate.store.layout import CACHE_DIR, ignore_in_git


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
        ignore_in_git(folder)
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
