"""Writing the output directory: atomic, only when bytes change, never a path twice.

A crash at any moment leaves every file either as it was or complete (write
to a temporary file in the same directory, make it durable, rename). Files whose
bytes did not change are not touched, so mtimes and HTTP caches stay valid.

A build's streamed files are made durable in batches: their temporary files are
written without fsync, then one syncfs of the output folder's file system (Linux;
an fsync of each file elsewhere) puts a whole batch on disk before any of its
renames (see durable.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from syndicate.durable import TEMP_PREFIX, Staged, holds, put_in_place, settle, write_temporary
from syndicate.errors import BuildError
from syndicate.folders import MANIFEST, OWNER_LINE


def is_temporary(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and name.endswith(".tmp")


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` in one rename; never a half-written file."""
    put_in_place(write_temporary(path, data, fsync=durable), path)


def write_if_changed(target: Path, data: bytes, *, durable: bool = True) -> bool:
    """Atomically replace `target` unless it already holds exactly `data`; True when written."""
    if holds(target, data):
        return False
    atomic_write(target, data, durable=durable)
    return True


def safe_relative(rel: str) -> PurePosixPath:
    """A relative output path that cannot leave the output directory."""
    pure = PurePosixPath(rel)
    # check the raw parts: PurePosixPath quietly drops "" and "." (so "./x" and "x" would be two names for one file)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in rel.split("/")) or "\\" in rel or "\x00" in rel:
        raise BuildError(f"refusing to write outside the output directory: {rel!r}")
    return pure


WRITERS = 4  # threads writing streamed files while this one goes on making the next
WRITE_QUEUE = 64
BATCH_BYTES = 32 << 20  # a durable batch: its syncfs lets the disk work while the next files are made
BATCH_FILES = 64

Made = bytes | Callable[[], bytes]  # a file's bytes, or what makes them


@dataclass
class OutputPlan:
    """Every file a build produces, by path relative to the output directory.

    A file is either `add`ed with its bytes, or `keep`-ed when the build cache
    shows it was made from the very same inputs last time and is untouched.
    """

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path → (bytes, what made it)
    kept: dict[str, str] = field(default_factory=dict)  # path → what made it
    recipes: dict[str, str] = field(default_factory=dict)  # path → hash of its inputs, when known
    sink: Path | None = None  # when set, files are written as they are added (bounded memory)
    durable: bool = True
    streamed_written: list[str] = field(default_factory=list)
    streamed_unchanged: int = 0
    known: set[str] = field(default_factory=set)  # paths an earlier (maybe killed) build may have written
    force: bool = False  # adopt files found in the output folder that syndicate did not write
    whole_folder: bool = True  # a build takes the whole folder (a send adds one issue's files only)
    owner: str | None = None  # the URL of the site whose output this is, recorded in the manifest
    # durable streaming: threads write temporary files; a batch is made durable, then renamed, by one more
    _writers: ThreadPoolExecutor | None = None
    _settler: ThreadPoolExecutor | None = None
    _journal: int | None = None  # open file descriptor of the PENDING journal
    _batch: list[Staged] = field(default_factory=list)
    _batch_bytes: int = 0
    _staging: list[Future[Path | None]] = field(default_factory=list)  # files not yet made, maybe
    _settling: list[Future[list[tuple[str, bool]]]] = field(default_factory=list)
    _slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(WRITE_QUEUE))

    def stream_to(self, out_dir: Path, *, durable: bool = True) -> None:
        """Write each file as soon as it is added instead of holding every output in memory."""
        self.open_folder(out_dir)
        self.sink, self.durable = out_dir, durable
        if durable:
            self._writers = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="syndicate-write")
            self._settler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="syndicate-settle")

    def open_folder(self, out_dir: Path) -> None:
        """Take over the output folder: what earlier builds wrote is known, their leftovers are gone,
        and a folder of someone else's files is refused (unless `force`)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        self.known = written_before(out_dir)
        first = not (out_dir / MANIFEST).exists() and not (out_dir / PENDING).exists()
        if self.whole_folder and not self.force and first:
            foreign = next((name for name in sorted(os.listdir(out_dir)) if not is_temporary(name)), None)
            if foreign is not None:
                raise BuildError(
                    f"the output folder holds files syndicate did not write, such as {foreign}; "
                    "choose an empty folder, or build with --force to let syndicate take them over",
                    path=out_dir,
                )
        remove_orphan_temporaries(out_dir, self.known)

    def _refuse_foreign(self, out_dir: Path, rel: str) -> None:
        """Never overwrite a file no build of ours wrote, unless told to take it over."""
        if rel not in self.known and not self.force and os.path.lexists(out_dir / rel):
            raise BuildError(
                f"{rel} was not written by syndicate; move it away, or build with --force to let syndicate replace it",
                path=out_dir,
            )

    def _stage(self, target: Path, made: Made) -> Path | None:
        """The file's temporary (not yet durable nor renamed); None when the target already holds its bytes."""
        try:
            data = made() if callable(made) else made
            return None if holds(target, data) else write_temporary(target, data, fsync=False)
        finally:
            self._slots.release()

    def wait_until_made(self) -> None:
        """Every file added so far has been made (what its maker reads is no longer needed)."""
        wait(self._staging)
        self._staging.clear()

    def _seal_batch(self) -> None:
        """Hand the files staged so far to the settling thread: made durable together, then renamed."""
        if self._batch and self._settler is not None:
            self._settling.append(self._settler.submit(settle, self._batch))
        self._batch, self._batch_bytes = [], 0

    def wait_for_writes(self) -> None:
        """Every streamed file is on disk (or its write's error is raised here), in the order added."""
        self._seal_batch()
        try:
            errors = []
            for settling in self._settling:  # each batch settles (or cleans up) whatever another's fate
                try:
                    for rel, written in settling.result():
                        if written:
                            self.streamed_written.append(rel)
                        else:
                            self.streamed_unchanged += 1
                except Exception as exc:
                    errors.append(exc)
            if errors:
                raise errors[0]
        finally:
            self._settling.clear()
            for pool in (self._writers, self._settler):
                if pool is not None:
                    pool.shutdown(wait=True)
            self._writers = self._settler = None

    @contextlib.contextmanager
    def in_place_on_error(self) -> Iterator[None]:
        """A failure while streaming still puts the files already made in place (complete, as if each
        was written alone) and leaves no temporary; then the error goes on."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.wait_for_writes()
            raise

    def _claim(self, rel: str, origin: str) -> None:
        safe_relative(rel)
        other = self.files[rel][1] if rel in self.files else self.kept.get(rel)
        if other is not None:
            raise BuildError(f"{origin} and {other} would both write {rel}; rename one of them")

    def add(self, rel: str, made: Made, origin: str, recipe: str | None = None) -> None:
        """A file by its bytes, or by what makes them: that runs in a writer thread when streaming
        durably (the file's assembly overlaps the planning of the next ones), here otherwise."""
        self._claim(rel, origin)
        data = made() if callable(made) and (self._writers is None or recipe is None) else made
        if recipe is None:  # made from nothing but what the record's salt covers: its bytes identify it
            assert isinstance(data, bytes)
            recipe = "sha256:" + hashlib.sha256(data).hexdigest()
        if self.sink is None:
            assert isinstance(data, bytes)
            self.files[rel], self.recipes[rel] = (data, origin), recipe
            return
        self._refuse_foreign(self.sink, rel)
        self.note(self.sink, rel)
        # streamed: written (or being written), so only the path is remembered
        self.files[rel], self.recipes[rel] = (b"", origin), recipe
        if self._writers is not None:
            self._slots.acquire()  # at most WRITE_QUEUE files wait in memory for their write
            self._submit(rel, self.sink / rel, data)
        elif write_if_changed(self.sink / rel, data() if callable(data) else data, durable=self.durable):
            self.streamed_written.append(rel)
        else:
            self.streamed_unchanged += 1

    def _submit(self, rel: str, target: Path, made: Made) -> None:
        assert self._writers is not None
        staging = self._writers.submit(self._stage, target, made)
        self._staging.append(staging)
        self._batch.append((rel, target, staging))
        self._batch_bytes += len(made) if isinstance(made, bytes) else 0
        if self._batch_bytes >= BATCH_BYTES or len(self._batch) >= BATCH_FILES:
            self._seal_batch()

    def note(self, out_dir: Path, rel: str) -> None:
        """Journal a path before its first write, so a build killed before it writes the manifest
        still has every file it made removed by the next build if that one no longer makes it."""
        if rel in self.known:
            return
        if self._journal is None:
            self._journal = os.open(out_dir / PENDING, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(self._journal, (rel + "\n").encode("utf-8"))  # unbuffered: a killed process cannot lose it
        self.known.add(rel)

    def close_journal(self) -> None:
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None

    def keep(self, rel: str, origin: str, recipe: str) -> None:
        self._claim(rel, origin)
        self.kept[rel] = origin
        self.recipes[rel] = recipe

    def __len__(self) -> int:
        return len(self.files) + len(self.kept)

    def paths(self) -> set[str]:
        return set(self.files) | set(self.kept)


@dataclass(frozen=True, slots=True)
class WriteReport:
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]


PENDING = MANIFEST + ".pending"  # paths a running build has started writing, until the new manifest is in place


def written_before(out_dir: Path) -> set[str]:
    """Every path an earlier build wrote or started to write: its manifest and any unfinished journal."""
    paths: set[str] = set()
    for name in (MANIFEST, PENDING):
        try:
            text = (out_dir / name).read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
        paths.update(line for line in text.splitlines() if line and not line.startswith(OWNER_LINE))
    return paths


def write_plan(out_dir: Path, plan: OutputPlan, *, durable: bool = True) -> WriteReport:
    """Write what changed; remove files an earlier build made that this one no longer makes.

    Only files listed in the previous build's manifest are ever removed, so a
    user's own files in the output directory are left alone.
    """
    plan.wait_for_writes()
    if plan.sink is None:
        plan.open_folder(out_dir)
        for rel in sorted(plan.files):
            plan._refuse_foreign(out_dir, rel)  # before anything is written: a refused build changes nothing
    written: list[str] = list(plan.streamed_written)
    unchanged = plan.streamed_unchanged + len(plan.kept)
    for rel in sorted(plan.files):
        if plan.sink is not None:
            break
        plan.note(out_dir, rel)
        if write_if_changed(out_dir / rel, plan.files[rel][0], durable=durable):
            written.append(rel)
        else:
            unchanged += 1
    removed = _remove_stale(out_dir, plan.paths(), durable)
    # the site by its URL: the same wherever the site and its output live, and published anyway
    header = [OWNER_LINE + plan.owner] if plan.owner is not None else []
    manifest = ("\n".join(header + sorted(plan.paths())) + "\n").encode("utf-8")
    manifest_path = out_dir / MANIFEST
    if not manifest_path.exists() or manifest_path.read_bytes() != manifest:
        atomic_write(manifest_path, manifest, durable=durable)
    plan.close_journal()
    (out_dir / PENDING).unlink(missing_ok=True)  # the manifest now lists everything this build made
    return WriteReport(tuple(written), unchanged, tuple(removed))


def _remove_stale(out_dir: Path, keep: set[str], durable: bool) -> list[str]:
    removed = []
    for rel in sorted(written_before(out_dir)):
        if rel in keep:
            continue
        try:
            target = out_dir / safe_relative(rel)
        except BuildError:
            continue
        try:
            target.unlink()
            removed.append(rel)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            continue
        _prune_empty_dirs(target.parent, out_dir)
    return removed


def _prune_empty_dirs(start: Path, stop: Path) -> None:
    current = start
    while current != stop and stop in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def remove_orphan_temporaries(out_dir: Path, known: set[str]) -> None:
    """Temporary files a killed build left behind, by their name only syndicate uses: only in the
    output folder's top and the folders of files a build of ours wrote, never the whole tree."""
    folders = {out_dir} | {(out_dir / rel).parent for rel in known if _is_safe(rel)}
    for folder in sorted(folders):
        try:
            names = os.listdir(folder)
        except OSError:  # gone, or not a folder: nothing of ours to clean there
            continue
        for name in names:
            if is_temporary(name):
                Path(folder, name).unlink(missing_ok=True)


def _is_safe(rel: str) -> bool:
    try:
        safe_relative(rel)
    except BuildError:
        return False
    return True
