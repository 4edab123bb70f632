"""Content hashes, the only thing the build cache trusts (never modification times alone):
the keys of cached entries, the recipes of outputs, and the salt that covers everything
besides the posts."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from syndicate import __version__


def digest_of(*parts: bytes | str) -> str:
    """A hash of the parts in order; each part's length goes in first, so no two lists of parts collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def folder_digest(folders: Iterable[Path | None], pattern: str = "*") -> str:
    """A hash of every file below the given folders (templates), by name and content."""
    parts: list[bytes | str] = []
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                parts += [str(path.relative_to(folder)), path.read_bytes()]
    return digest_of(*parts)


def installed_distributions() -> list[str]:
    """Every installed distribution on sys.path, by its metadata folder's name ("feedgen-1.0.0.dist-info").

    A new version of any library that reads, renders or writes (cmarkgfm, nh3, feedgen,
    PyYAML, docutils, Babel, ...) may turn the same posts into other bytes. Listing the
    folders costs a millisecond; asking importlib.metadata for each library by name took 35.
    """
    found: set[str] = set()
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file or a folder that is gone
            continue
        found.update(name for name in names if name.endswith((".dist-info", ".egg-info")))
    return sorted(found)


def build_salt(config_bytes: bytes, templates: Iterable[Path | None]) -> str:
    """Everything besides the posts that changes outputs: versions, config, templates."""
    versions = "; ".join([f"syndicate {__version__}", *installed_distributions()])
    # our own code too (the whole package): a fix changes outputs without a version bump
    code = folder_digest([Path(__file__).parent.parent], "*.py")
    return digest_of(versions, code, config_bytes, folder_digest(templates))
