"""Worker processes shared by the stages of one build, and the garbage collector's pace during it."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # multiprocessing is imported when a pool starts: a build with nothing to do starts none
    import multiprocessing.context
    from concurrent.futures import ProcessPoolExecutor

PRELOAD = "syndicate.build.render_posts"  # what a worker needs to render posts
PARALLEL_MIN = 400  # fewer uncached posts than this render faster in one process

# The cyclic garbage collector's default (a pass every 700 new objects) spends a few per cent of a
# big build walking thousands of live entries that are not garbage; builds make few cycles.
BUILD_GC_THRESHOLD = (50_000, 20, 20)


def worker_context() -> multiprocessing.context.BaseContext:
    """Workers start from a small server process, not as copies of this one: a fork after
    thousands of posts are loaded would count that memory again in every worker."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # the server imports the renderers once and every worker is forked with them: no worker imports
    # them again (nor the parent's __main__, which could be any script)
    context.set_forkserver_preload([PRELOAD])
    return context


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(*BUILD_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def start_worker() -> None:
    """Set up a worker process (it lives for one build)."""
    gc.set_threshold(*BUILD_GC_THRESHOLD)


def _ready() -> None:
    """A task that only makes a worker start (and import the build, with the renderers)."""
    import syndicate.build.render_posts  # noqa: F401 - what the first real task would import, done while idle


class WorkerPool:
    """Worker processes shared by the stages of one build (rendering posts, then the newsletter
    issues), started on first use: a small site never starts any, a big one starts them once."""

    def __init__(self) -> None:
        self.workers = min(os.cpu_count() or 1, 4)
        self._pool: ProcessPoolExecutor | None = None
        self._failed = self.workers < 2

    def get(self) -> ProcessPoolExecutor | None:
        """The pool, or None where worker processes are not worth it or not possible."""
        if self._pool is None and not self._failed:
            from concurrent.futures import ProcessPoolExecutor

            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=worker_context(), initializer=start_worker
                )
            except (OSError, RuntimeError, ValueError):  # no processes here (sandbox)
                self._failed = True
        return self._pool

    @property
    def started(self) -> bool:
        """True once the pool is up (warm() was asked for, or work was given)."""
        return self._pool is not None

    def warm(self) -> None:
        """Start the workers now (they take a moment to import), before any work is ready for them."""
        pool = self.get()
        if pool is not None:
            with contextlib.suppress(OSError, RuntimeError):
                for _ in range(self.workers):
                    pool.submit(_ready)

    def give_up(self) -> None:
        """No worker processes for the rest of this build (they could not start, or a pool broke)."""
        self._failed = True
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
