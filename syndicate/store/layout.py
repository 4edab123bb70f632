"""Where the build cache lives: `.syndicate-cache/` beside syndicate.toml, one folder or file per kind of data
(the build record and the lock are files).

Every name made by `cache_path` carries the cache's format number, so a syndicate that keeps its
data in another shape never reads what this one wrote (it starts a place of its own). The lock
has none: builds of every version must exclude each other.
"""

from __future__ import annotations

from pathlib import Path

from syndicate.output import atomic_write

CACHE_DIR = ".syndicate-cache"
# Bump when the cached data's shape changes. 5: entries carry no cache key, and an entry
# whose HTML is kept only in its feed items has content_html None (it was "").
FORMAT = 5


def cache_path(root: Path, name: str) -> Path:
    """The versioned place of one kind of cached data: `name` gets the format number."""
    return root / CACHE_DIR / f"{name}-v{FORMAT}"


def ignore_in_git(folder: Path) -> None:
    """Mark the cache folder as not source, for git (the cache is made again by any build)."""
    marker = folder / ".gitignore"
    if not marker.exists():
        atomic_write(marker, b"# created by syndicate: the build cache is not source\n*\n", durable=False)
