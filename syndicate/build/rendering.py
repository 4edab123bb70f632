"""Rendering post files, spread over the worker processes when there are enough of them.

A cold or big build hands posts to the workers while the scan is still reading
the rest (EarlyRenders): the second core renders the first posts meanwhile, and
the bytes of a post handed over are not kept by this process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

from syndicate.build.scan import SourceFile
from syndicate.build.workers import PARALLEL_MIN, WorkerPool
from syndicate.config import Config
from syndicate.errors import SourceError
from syndicate.model import Site
from syndicate.store.entries import EntryCache

if TYPE_CHECKING:  # the renderers are imported when a post is rendered: a build with nothing to do renders none
    from concurrent.futures import Future, ProcessPoolExecutor

    from syndicate.build.items import ItemSpec
    from syndicate.build.render_posts import LoadedEntry, RenderJob

CHUNK = 200  # posts per task at most; fewer when that leaves a worker idle at the end
EARLY_CHUNK = 50  # posts per task while the scan goes on: small, so the workers start early and end together

# None: a file that is no post (an HTML page without front matter)
Rendered: TypeAlias = "LoadedEntry | SourceError | None"
RenderFiles = Callable[[Sequence["RenderJob"], Site, "ItemSpec | None"], list[Rendered]]


def _renderer() -> RenderFiles:
    """The task rendering posts (what a worker runs), imported when first needed."""
    from syndicate.build.render_posts import render_files

    return render_files


def render_all(jobs: list[RenderJob], site: Site, spec: ItemSpec | None, workers: WorkerPool | None) -> list[Rendered]:
    """Render every job, in worker processes when there are enough jobs to pay for them; in order."""
    pool = workers.get() if workers is not None and len(jobs) >= PARALLEL_MIN else None
    render_files = _renderer()
    if pool is None or workers is None:
        return render_files(jobs, site, spec)
    size = max(25, min(CHUNK, -(-len(jobs) // (workers.workers * 6))))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    try:
        results: list[Rendered] = []
        for part in pool.map(render_files, chunks, [site] * len(chunks), [spec] * len(chunks)):
            results.extend(part)
        return results
    except (OSError, RuntimeError):  # the processes could not start (sandbox), or broke: do it in this one
        workers.give_up()  # and later stages (the newsletter) too, rather than meet a broken pool
        return render_files(jobs, site, spec)


class EarlyRenders:
    """Posts the scan has read and the build cache does not hold, rendered as they come.

    Up to PARALLEL_MIN of them are held (a small change renders faster in this
    process) unless the scan has started the workers already (a first build of
    many posts); from then on they go to the workers in small tasks while the
    scan reads on. A task whose worker fails is rendered here again from its jobs,
    which are kept until its result is in.
    """

    def __init__(self, config: Config, cache: EntryCache, workers: WorkerPool) -> None:
        self.config, self.site, self.cache, self.workers = config, config.site, cache, workers
        self._spec: tuple[ItemSpec | None] | None = None
        self._held: list[RenderJob] = []
        self._tasks: list[tuple[list[RenderJob], Future[list[Rendered]] | None]] = []
        self._results: dict[str, Rendered] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._count = 0

    @property
    def spec(self) -> ItemSpec | None:
        """Which feed items to make with each post (None without a cache to keep them), worked out when first asked."""
        if self._spec is None:
            from syndicate.build.items import ItemSpec

            packs = self.cache.packs
            self._spec = (ItemSpec.of(self.config, packs.folder) if packs is not None else None,)
        return self._spec[0]

    def take(self, file: SourceFile) -> bool:
        """Start rendering a file just read, unless the cache holds it (True: taken)."""
        if file.data is None or file.place is None or (self.cache.packs is not None and self.cache.get(file.key)):
            return False
        self._held.append((file.key, file.shown, file.data, file.place))
        self._count += 1
        if self._pool is None and (self._count >= PARALLEL_MIN or self.workers.started):
            self._pool = self.workers.get()
        if self._pool is not None and len(self._held) >= EARLY_CHUNK:
            self._submit()
            self._collect(wait=False)
        return True

    def _submit(self) -> None:
        for start in range(0, len(self._held), EARLY_CHUNK):
            jobs = self._held[start : start + EARLY_CHUNK]
            future: Future[list[Rendered]] | None = None
            if self._pool is not None:
                try:
                    future = self._pool.submit(_renderer(), jobs, self.site, self.spec)
                except (OSError, RuntimeError):  # the pool broke: the rest is rendered here
                    self._pool = None
                    self.workers.give_up()
            self._tasks.append((jobs, future))
        self._held = []

    def results(self) -> dict[str, Rendered]:
        """Every taken file's result by key (waits for the workers)."""
        if self._held:
            if self._pool is None:  # too few to pay for the workers: render them here, in one go
                self._tasks.append((self._held, None))
                self._held = []
            else:
                self._submit()
        self._collect(wait=True)
        return self._results

    def _collect(self, *, wait: bool) -> None:
        """The results of the tasks in order, as far as they are done (all of them, waiting, with `wait`);
        a task's jobs (the posts' bytes) are let go once its result is in."""
        while self._tasks:
            jobs, future = self._tasks[0]
            if not wait and (future is None or not future.done()):
                return
            done: list[Rendered] | None = None
            if future is not None:
                try:
                    done = future.result()
                except (OSError, RuntimeError):  # the worker broke: render its jobs here
                    self.workers.give_up()
            if done is None:
                done = _renderer()(jobs, self.site, self.spec)
            self._results.update((job[0], result) for job, result in zip(jobs, done, strict=True))
            self._tasks.pop(0)
