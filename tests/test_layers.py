"""Data moves one way: a module may import only from modules before it in LAYERS.

Imports inside functions count too (they are dependencies all the same); the
one exception is cli.py registering the command modules that extend it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "syndicate"

LAYERS = [
    "errors",
    "model",
    "text",
    "config",
    "sources",
    "sources.frontmatter",
    "sources.markdown",
    "sources.fetch",
    "sources.feed",
    "content",
    "select",
    "templating",
    "feeds",
    "pages",
    "inline",
    "digest",
    "message",
    "output",
    "fragstore",
    "cache",
    "loading",
    "digest_build",
    "build",
    "importer",
    "check",
    "scaffold",
    "subscribers",
    "tokens",
    "mail",
    "web",
    "watch",
    "cli_common",
    "cli_import",
    "cli_delivery",
    "cli",
    "__main__",
]
REGISTRATIONS = {("cli", "cli_import"), ("cli", "cli_delivery")}  # cli.py adds their commands to its group


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts) or "__init__"


def imported(path: Path) -> set[str]:
    """Package modules `path` imports, by name relative to the package."""
    here = module_name(path).split(".")
    package = here[:-1] if path.name != "__init__.py" else here
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if node.module is None:  # from . import x
                found |= {".".join([*base, alias.name]).strip(".") for alias in node.names}
            else:
                found.add(target.strip("."))
    return {name for name in found if name and name != "__init__"}


def test_every_module_has_a_place_in_the_layers() -> None:
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert modules - set(LAYERS) == set(), "add new modules to LAYERS"


def test_imports_only_point_backwards() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name == "__init__":
            continue
        for target in imported(path):
            if target not in rank:  # a name imported from the package itself, such as __version__
                continue
            if rank[target] >= rank[name] and (name, target) not in REGISTRATIONS:
                wrong.append(f"{name} imports {target}")
    assert wrong == []
