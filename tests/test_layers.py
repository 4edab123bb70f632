"""The house rules: folders are the stages, data moves one way, one adapter per library.

Imports inside functions count too: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "syndicate"

# Shared ground first, then the stages in data-flow order. A module may import
# shared ground and any stage before its own, never a stage after it.
SHARED = ("errors", "model", "text", "urls", "toml_table", "config", "templating", "output")
STAGES = (
    "sources",
    "render",
    "feeds",
    "newsletter",
    "subscribers",
    "delivery",
    "store",
    "build",
    "web",
    "cli",
)
# The shared modules in their own order (each may use those before it).
SHARED_ORDER = {name: i for i, name in enumerate(SHARED)}

# Third-party libraries (and the two standard ones that talk to the outside
# through a protocol of their own) each imported by one module only: its adapter.
ADAPTERS = {
    "feedgen": "feeds.formats",
    "feedparser": "sources.rss_atom",
    "premailer": "newsletter.inline",
    "cmarkgfm": "render.markdown_html",
    "nh3": "render.sanitize",
    "yaml": "sources.yaml_text",
    "httpx": "sources.fetch",
    "sqlite3": "subscribers.db",
    "smtplib": "delivery.smtp",
    "jinja2": "templating",
}
MAX_LINES = 400
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts) or "__init__"


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """(modules of the package, top-level outside modules) that `path` imports."""
    ours: set[str] = set()
    outside: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: use absolute imports (from syndicate.x import y)"
            module = node.module or ""
            if module == "syndicate" or module.startswith("syndicate."):
                base = module.removeprefix("syndicate").lstrip(".")
                for alias in node.names:
                    candidate = f"{base}.{alias.name}".lstrip(".")
                    ours.add(candidate if candidate in all_modules() else base)
            else:
                outside.add(module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "syndicate" or alias.name.startswith("syndicate."):
                    ours.add(alias.name.removeprefix("syndicate").lstrip("."))
                else:
                    outside.add(alias.name.split(".")[0])
    return {name for name in ours if name}, outside


def place(module: str) -> tuple[int, int]:
    """Where a module stands: shared ground first (in its order), then each stage."""
    top = module.split(".")[0]
    if top in SHARED_ORDER:
        return (0, SHARED_ORDER[top])
    if top in STAGES:
        return (1, STAGES.index(top))
    return (2, 0)  # __main__


def test_every_module_is_shared_ground_or_in_a_stage() -> None:
    loose = [
        name
        for name in all_modules()
        if name not in ("__init__", "__main__") and name.split(".")[0] not in (*SHARED, *STAGES)
    ]
    assert loose == [], "put new modules in a stage folder (or shared ground)"


def test_imports_never_point_up_the_stages() -> None:
    wrong = []
    for name, path in all_modules().items():
        if name in ("__init__", "__main__"):
            continue
        ours, _ = imports_of(path)
        for target in ours:
            if target == "__init__" or (target.split(".")[0] == name.split(".")[0] and place(name)[0] == 1):
                continue  # within one stage, modules may use each other
            if target.split(".")[0] not in (*SHARED, *STAGES):
                continue  # a name the package itself exports, such as __version__
            if place(target) >= place(name):
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_sources_know_no_config_and_no_cache() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, path in all_modules().items()
        if name.startswith("sources")
        for target in imports_of(path)[0]
        if target.split(".")[0] in ("config", "store")
    ]
    assert wrong == []


def test_only_the_build_touches_the_store() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, path in all_modules().items()
        if not name.startswith(("build", "store"))
        for target in imports_of(path)[0]
        if target.startswith("store")
    ]
    assert wrong == []


def test_only_the_cli_imports_click() -> None:
    wrong = [
        name
        for name, path in all_modules().items()
        if "click" in imports_of(path)[1] and name != "cli" and not name.startswith("cli.")
    ]
    assert wrong == []


def test_each_adapted_library_is_imported_by_its_adapter_only() -> None:
    users: dict[str, set[str]] = {library: set() for library in ADAPTERS}
    for name, path in all_modules().items():
        for library in imports_of(path)[1] & set(ADAPTERS):
            users[library].add(name)
    wrong = {}
    for library, adapter in ADAPTERS.items():
        found = users[library]
        if adapter is None:
            ok = len(found) <= 1
        elif "." in adapter:
            ok = found <= {adapter}
        else:  # a whole package is the adapter (sqlite3 in subscribers/, smtplib in delivery/), one module of it
            ok = len(found) <= 1 and all(n.split(".")[0] == adapter for n in found)
        if not ok:
            wrong[library] = sorted(found)
    assert wrong == {}


def test_modules_and_functions_stay_small() -> None:
    big = []
    for name, path in all_modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_LINES:
            big.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    big.append(f"{name}.{node.name}: {length} lines")
    assert big == []
