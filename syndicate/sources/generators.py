"""The habits of each static site generator, as its own documentation defines them.

Which files are posts and what names them (Hugo and Eleventy bundles, Jekyll's
`_posts` folders), the metadata spellings only one generator uses (Pelican's
`Status:`, Eleventy's `permalink: false` and `eleventyExcludeFromCollections`),
and Eleventy's directory data files, merged under a post's front matter.
Everything here is pure but for `find_posts` and `data_files`, which look at folders.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from syndicate.errors import SourceError, Warn

MAX_POST_BYTES = 8 * 1024 * 1024  # a file bigger than this is no post (refused before it is read)
MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html",)  # Jekyll and Hugo posts written in HTML, with front matter
RST_SUFFIXES = (".rst",)  # Pelican's default format
POST_SUFFIXES = MARKDOWN_SUFFIXES + HTML_SUFFIXES + RST_SUFFIXES
SECTION_PAGES = {"_index.md", "_index.markdown", "_index.html"}  # Hugo's list pages describe a section
# A bundle's page is named by its folder: Hugo's index.md, Eleventy's index.md or 2013-04-15-index.md
_BUNDLE_PAGE = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})-)?index\.(?:md|markdown|html|rst)$")
JEKYLL_POSTS = "_posts"
PELICAN_PAGES = "pages"  # Pelican's PAGE_PATHS: pages without dates, not articles
ELEVENTY_DATA = ".11tydata.json"
# Eleventy's own collection names: a data file's `tags` put posts into collections, not topics
COLLECTION_ONLY_KEYS = ("tags",)


def post_stem(path: Path | str) -> str:
    """The name a post's date and slug come from: the file's stem, or its folder's for a bundle's
    page (with the date of a dated page, so posts/x/2013-04-15-index.md is 2013-04-15-x)."""
    # string work, not pathlib: this runs for every post of every build (~1 µs against ~30)
    parts = (path if isinstance(path, str) else str(path)).replace(os.sep, "/").rsplit("/", 2)
    name = parts[-1]
    parent = parts[-2] if len(parts) > 1 else ""
    bundle = _BUNDLE_PAGE.match(name)
    if bundle and parent:
        return f"{bundle[1]}-{parent}" if bundle[1] else parent
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    return stem or name


def jekyll_categories(rel: str) -> tuple[str, ...]:
    """Jekyll's categories from the folders above `_posts` (blog/tech/_posts/x.md: blog, tech)."""
    if JEKYLL_POSTS not in rel:
        return ()
    parts = PurePosixPath(rel).parts
    if JEKYLL_POSTS not in parts[:-1]:
        return ()
    return tuple(parts[: parts.index(JEKYLL_POSTS)])


def find_posts(root: Path, warn: Warn | None = None) -> list[Path]:
    """Every post file below root, in a stable order; hidden and `_` folders skipped (see find_post_files)."""
    return [Path(path) for path, _stat in find_post_files(root, warn)]


PostFile = tuple[str, os.stat_result | None]  # a post file's path, and its lstat when it is a plain regular file


def find_post_files(root: Path, warn: Warn | None = None) -> list[PostFile]:
    """Every post file below root, in a stable order; hidden and `_` folders skipped.

    A Jekyll site's folder (one with `_posts` folders in it) gives only the files in
    those. Only regular files count: reading a FIFO or a device named `x.md` (or a
    link to one, such as /dev/zero) would block or never end. A link leading out of
    root is skipped (with a warning): it could publish any file the user can read.
    Paths are strings and each plain file comes with its lstat (a scan of 10,000
    posts needs no other stat call and no pathlib object).
    """
    if not root.is_dir():
        raise SourceError("posts directory not found; check [content] posts in syndicate.toml", path=root)
    walk = _Walk(root, warn)
    walk.folder(str(root), top=True)
    found = walk.found
    if walk.jekyll_site:
        prefix = len(str(root)) + 1
        found = [(p, st) for p, st in found if JEKYLL_POSTS in p[prefix:].split(os.sep)[:-1]]
    return found


class _Walk:
    """One walk of a posts folder, top-down, folders and files in name order (as os.walk, links to
    folders not followed)."""

    def __init__(self, root: Path, warn: Warn | None) -> None:
        self.root, self.warn = root, warn
        self.found: list[PostFile] = []
        self.jekyll_site = False
        self._inside: Path | None = None

    def folder(self, path: str, *, top: bool = False) -> None:
        try:
            with os.scandir(path) as listing:
                entries = list(listing)
        except OSError:
            return
        folders: list[str] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder:
                folders.append(entry.name)
            else:
                files.append(entry)
        self.jekyll_site = self.jekyll_site or JEKYLL_POSTS in folders
        for entry in sorted(files, key=lambda e: e.name):
            name = entry.name
            if name in SECTION_PAGES or name.startswith(".") or not name.endswith(POST_SUFFIXES):
                continue
            self._file(entry)
        for name in sorted(folders):
            if name == JEKYLL_POSTS or not (name.startswith((".", "_")) or (top and name == PELICAN_PAGES)):
                sub = os.path.join(path, name)
                if not os.path.islink(sub):
                    self.folder(sub)

    def _file(self, entry: os.DirEntry[str]) -> None:
        try:
            st: os.stat_result | None = entry.stat(follow_symlinks=False)
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):  # no link, nothing but a regular file
            self.found.append((entry.path, st))
            return
        path = Path(entry.path)
        # (a dangling link stays, to be reported: it leaks nothing)
        if path.is_symlink() and path.exists():
            if self._inside is None:
                self._inside = self.root.resolve()
            if not path.resolve().is_relative_to(self._inside):
                if self.warn is not None:
                    self.warn(f"{path}: a link to {path.resolve()}, outside the posts folder; skipped")
                return
        if path.exists() and not path.is_file():  # a dangling link stays, to be reported
            return
        self.found.append((entry.path, None))


class DataFiles:
    """Eleventy's directory data files below one root, each folder listed and each file read once.

    For one post, lowest priority first: for every folder from root down to the post's,
    <folder>/<folder>.json and <folder>/<folder>.11tydata.json, then the post's own
    <name>.json and <name>.11tydata.json. (JavaScript data files cannot be run here.)
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._inside: Path | None = None  # root, links resolved: a data file must lead no further out
        self._json: dict[str, frozenset[str]] = {}  # folder → the names of its JSON files
        self._folders: dict[str, list[Path]] = {}  # folder → the directory data files that apply there
        self._bytes: dict[Path, bytes] = {}
        self._quiet: dict[str, bool] = {}  # folder → no data file can apply to a post in it

    def _names(self, folder: str) -> frozenset[str]:
        names = self._json.get(folder)
        if names is None:
            try:
                names = frozenset(n for n in os.listdir(folder) if n.endswith(".json"))
            except OSError:
                names = frozenset()
            self._json[folder] = names
        return names

    def _folder_files(self, folder: Path) -> list[Path]:
        key = str(folder)
        found = self._folders.get(key)
        if found is None:
            inside = folder != self.root and self.root in folder.parents
            above = self._folder_files(folder.parent) if inside else []
            names = self._names(key)
            own = [folder / n for n in (f"{folder.name}.json", f"{folder.name}{ELEVENTY_DATA}") if n in names]
            found = self._folders[key] = above + own
        return found

    def of(self, path: Path) -> list[tuple[Path, bytes]]:
        """The data files that apply to one post, with their bytes (OSError when one cannot be read)."""
        key = os.path.dirname(str(path))  # strings first: pathlib costs more than the rest of a scan
        above = self._folders.get(key)
        if above is None:
            above = self._folder_files(path.parent)
        names = self._names(key)
        if not (above or names):
            return []
        stem = path.name.rsplit(".", 1)[0]
        own = [path.parent / n for n in (f"{stem}.json", f"{stem}{ELEVENTY_DATA}") if n in names]
        return [(p, self._read(p)) for p in [*above, *own] if p.is_file() and self._within(p)]

    def may_apply(self, path: str) -> bool:
        """False when no data file can apply to the post at `path` (nothing is read; True may still find none)."""
        key, _, name = path.rpartition(os.sep)
        quiet = self._quiet.get(key)
        if quiet is None:  # no data file above the folder and no JSON file in it: none for any post there
            quiet = self._quiet[key] = not self._folder_files(Path(key)) and not self._names(key)
        if quiet:
            return False
        stem = name.rsplit(".", 1)[0]
        names = self._names(key)
        return bool(self._folder_files(Path(key))) or f"{stem}.json" in names or f"{stem}{ELEVENTY_DATA}" in names

    def _within(self, path: Path) -> bool:
        """A data file that is a link out of the posts folder is ignored, as such a post is: it could publish
        any JSON file the user can read."""
        if not path.is_symlink():
            return True
        if self._inside is None:
            self._inside = self.root.resolve()
        return path.resolve().is_relative_to(self._inside)

    def _read(self, path: Path) -> bytes:
        data = self._bytes.get(path)
        if data is None:
            data = self._bytes[path] = path.read_bytes()
        return data


def merged_data(files: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """Eleventy's data files (shown path, bytes) merged in order, later keys winning; a data
    file's `tags` left out (they name Eleventy collections such as "posts", not topics)."""
    merged: dict[str, Any] = {}
    for shown, data in files:
        try:
            value = json.loads(data.decode("utf-8-sig"))
        except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, too deep, an integer too long
            line = getattr(exc, "lineno", None)
            raise SourceError(
                "Eleventy data file is not valid JSON; check its commas and quotes", path=shown, line=line
            ) from None
        if not isinstance(value, dict):
            raise SourceError("Eleventy data file must hold one JSON object", path=shown)
        merged.update({k: v for k, v in value.items() if k not in COLLECTION_ONLY_KEYS})
    return merged


def is_html_page(meta: Mapping[str, Any], stem: str) -> bool:
    """An HTML file with front matter but neither title nor date, nor a dated name: a page or a
    template (a listing, a layout's page), not a post."""
    keys = {key.lower() for key in meta}
    return not ({"title", "date", "publishdate"} & keys) and not re.match(r"\d{4}-\d{2}-\d{2}-", stem)


def is_hidden(meta: Mapping[str, Any]) -> bool:
    """What each generator says keeps a post out of its feeds besides `draft`: Pelican's
    `Status: draft` or `hidden`, Eleventy's `permalink: false` and `eleventyExcludeFromCollections`,
    Hugo's `headless: true` and `build: {list: never}` (or `render: never`: no page to link to)."""
    status = meta.get("status")
    if isinstance(status, str) and status.strip().lower() in ("draft", "hidden", "skip"):
        return True
    build = meta.get("build", meta.get("_build"))
    if isinstance(build, dict) and any(str(build.get(k, "")).lower() in ("never", "false") for k in ("list", "render")):
        return True
    return (
        meta.get("permalink") is False
        or meta.get("eleventyexcludefromcollections") is True
        or meta.get("headless") is True
    )


def native_authors(value: object) -> object:
    """Pelican's `Authors: A, B` as a list of names; with semicolons (`Doyle, Conan; Poe, Edgar`)
    only they separate, so names may hold commas."""
    if isinstance(value, str) and ("," in value or ";" in value):
        return [name.strip() for name in re.split(";" if ";" in value else ",", value) if name.strip()]
    return value


def semicolon_lists(meta: dict[str, Any]) -> dict[str, Any]:
    """Pelican's tag lists separated by semicolons, so that a tag may hold a comma."""
    for key in ("tags", "keywords"):
        value = meta.get(key)
        if isinstance(value, str) and ";" in value:
            meta[key] = [name.strip() for name in value.split(";") if name.strip()]
    return meta


_ELEVENTY_VARS = re.compile(r"{{-?\s*(page\.fileSlug|slug|title\s*\|\s*slug(?:ify)?)\s*-?}}")


def eleventy_permalink(pattern: str, slug: str) -> str | None:
    """An Eleventy permalink with the variables that name a post filled in (page.fileSlug,
    `title | slugify`); None when it uses others, leaving the link to the site's pattern."""
    path = _ELEVENTY_VARS.sub(slug, pattern)
    if "{{" in path or "{%" in path:
        return None
    if path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return path if path.startswith("/") else "/" + path
