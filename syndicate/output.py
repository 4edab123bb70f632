"""Writing the output directory: atomic, only when bytes change, never a path twice.

A crash at any moment leaves every file either as it was or complete (write
to a temporary file in the same directory, fsync, rename). Files whose bytes
did not change are not touched, so mtimes and HTTP caches stay valid.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import BuildError


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` in one rename; never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def safe_relative(rel: str) -> PurePosixPath:
    """A relative output path that cannot leave the output directory."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in pure.parts) or "\\" in rel or "\x00" in rel:
        raise BuildError(f"refusing to write outside the output directory: {rel!r}")
    return pure


@dataclass
class OutputPlan:
    """Every file a build produces, by path relative to the output directory."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path → (bytes, what made it)

    def add(self, rel: str, data: bytes, origin: str) -> None:
        safe_relative(rel)
        if rel in self.files:
            raise BuildError(f"{origin} and {self.files[rel][1]} would both write {rel}; rename one of them")
        self.files[rel] = (data, origin)


@dataclass(frozen=True, slots=True)
class WriteReport:
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]


MANIFEST = ".syndicate-manifest"


def write_plan(out_dir: Path, plan: OutputPlan, *, durable: bool = True) -> WriteReport:
    """Write what changed; remove files an earlier build made that this one no longer makes.

    Only files listed in the previous build's manifest are ever removed, so a
    user's own files in the output directory are left alone.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_orphan_temporaries(out_dir)
    written: list[str] = []
    unchanged = 0
    for rel in sorted(plan.files):
        data = plan.files[rel][0]
        target = out_dir / rel
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                unchanged += 1
                continue
        except (FileNotFoundError, NotADirectoryError):
            pass
        atomic_write(target, data, durable=durable)
        written.append(rel)
    removed = _remove_stale(out_dir, set(plan.files), durable)
    manifest = ("\n".join(sorted(plan.files)) + "\n").encode("utf-8")
    manifest_path = out_dir / MANIFEST
    if not manifest_path.exists() or manifest_path.read_bytes() != manifest:
        atomic_write(manifest_path, manifest, durable=durable)
    return WriteReport(tuple(written), unchanged, tuple(removed))


def _remove_stale(out_dir: Path, keep: set[str], durable: bool) -> list[str]:
    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return []
    removed = []
    for rel in manifest.read_text(encoding="utf-8").splitlines():
        if not rel or rel in keep:
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


def remove_orphan_temporaries(out_dir: Path) -> None:
    """Temporary files a killed build left behind (`.NAME.RANDOM.tmp`)."""
    for dirpath, _dirs, files in os.walk(out_dir):
        for name in files:
            if name.startswith(".") and name.endswith(".tmp"):
                Path(dirpath, name).unlink(missing_ok=True)
