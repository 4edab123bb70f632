"""Content hashes, the only thing the build cache trusts (never modification times alone):
the keys of cached entries, the recipes of outputs, and the salt that covers everything
besides the posts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from syndicate import __version__
from syndicate.render.entry import RENDERER_VERSION


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


# libraries that read posts: a new version may read the same bytes into another post
READERS = ("docutils", "pykakasi", "pyyaml", "python-dateutil")


def build_salt(config_bytes: bytes, templates: Iterable[Path | None]) -> str:
    """Everything besides the posts that changes outputs: versions, config, templates."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"syndicate {__version__}", RENDERER_VERSION]
    for package in (
        "cmarkgfm",
        "nh3",
        "feedgen",
        "jinja2",
        "premailer",
        "cssutils",
        "lxml",
        "python-slugify",
        "babel",
        *READERS,
    ):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} ?")
    versions = "; ".join(parts)
    # our own code too (the whole package): a fix changes outputs without a version bump
    code = folder_digest([Path(__file__).parent.parent], "*.py")
    return digest_of(versions, code, config_bytes, folder_digest(templates))
