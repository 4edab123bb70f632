"""The output folder is syndicate's alone: which folders may never be one, and whose output a folder holds.

Its manifest (`.syndicate-manifest`, written by output.py) lists every file a build wrote,
under a first line naming the site by its URL.
"""

from __future__ import annotations

from pathlib import Path

from syndicate.errors import ConfigError

MANIFEST = ".syndicate-manifest"  # in the output folder: every file a build wrote, under a line naming the site's URL
OWNER_LINE = "# syndicate site: "
VERSION_CONTROL = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", "CVS"})


def check_output_folder(out: Path, watched: list[tuple[str, Path]], database: Path, path: Path, site_url: str) -> None:
    """The output folder is syndicate's alone: it holds none of the site's own files, and no other site's output."""

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"[output] dir {out} {why}; choose a folder of its own, such as public/", path=path)

    why = shared_folder(out, watched, path)
    if why is not None:
        raise refuse(why)
    if out in database.parents:
        raise refuse(f"contains the subscriber database {database}, which would be published")
    try:
        first = (out / MANIFEST).read_text(encoding="utf-8", errors="replace").partition("\n")[0]
    except OSError:
        return
    owner = first.removeprefix(OWNER_LINE) if first.startswith(OWNER_LINE) else site_url
    if owner != site_url:
        raise ConfigError(
            f"[output] dir {out} holds the output of another site, {owner}; choose a folder of its own "
            f"(or, if that site is gone or was this one under another URL, delete {out / MANIFEST})",
            path=path,
        )


def check_scratch_folder(folder: Path, option: str, watched: list[tuple[str, Path]], path: Path, output: Path) -> None:
    """A folder a command writes a few files into (`digest --out`, `send --dry-run`) is no folder of the
    site's own or of the user's: never /, home, the site's folder, its posts, templates or output."""
    why = shared_folder(folder.resolve(), [*watched, ("output folder", output)], path)
    if why is not None:
        raise ConfigError(f"{option} {folder} {why}; give it a new folder, such as /tmp/digest")


def shared_folder(out: Path, watched: list[tuple[str, Path]], path: Path) -> str | None:
    """Why `out` (absolute, resolved) holds files that are not syndicate's to write among; None when it is free."""
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no home to be found: nothing to compare with
        home = Path(out.anchor)
    if out in (Path(out.anchor), home):
        return "is the whole disk or your home folder"
    if out.name.startswith("."):
        return "is a hidden folder"
    if VERSION_CONTROL & set(out.parts):  # a build would write among a repository's own files
        return "is inside a version-control folder"
    for what, folder in watched:
        if out == folder or folder in out.parents:
            return f"is inside the {what} {folder}"
        if out in folder.parents:  # the build would write among them, and publish them
            return f"contains the {what} {folder}"
    if out == path.resolve().parent or out in path.resolve().parents:  # syndicate.toml, the cache, dotfiles
        return f"contains the site's folder {path.resolve().parent} (syndicate.toml, the cache)"
    return None


_PACKAGED_TEMPLATES = Path(__file__).parent / "templates"  # inside an installed wheel
_CHECKOUT_TEMPLATES = Path(__file__).parent.parent / "templates"  # a source checkout or editable install


def builtin_templates() -> Path:
    """The templates shipped with syndicate (here, not in templating.py: a build with nothing to do needs
    their place for its cache salt, not Jinja)."""
    return _PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir() else _CHECKOUT_TEMPLATES
