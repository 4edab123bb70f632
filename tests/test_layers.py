"""The house rules: folders are the stages, data moves one way, one adapter per library.

Imports inside functions count too: they are dependencies all the same.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "syndicate"

# Shared ground first, then the stages in data-flow order. A module may import
# shared ground and any stage before its own, never a stage after it.
SHARED = (
    "errors",
    "model",
    "text",
    "urls",
    "addresses",
    "toml_table",
    "mail_settings",
    "folders",
    "language",
    "config",
    "templating",
    "durable",
    "output",
)
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

# Every third-party library (and the two standard ones that speak a protocol of
# their own) is imported by its adapter only: one module, named here.
ADAPTERS: dict[str, frozenset[str]] = {
    "feedgen": frozenset({"feeds.formats"}),
    "feedparser": frozenset({"sources.rss_atom"}),
    "premailer": frozenset({"newsletter.inline"}),
    "cmarkgfm": frozenset({"render.markdown_html"}),
    "nh3": frozenset({"render.sanitize"}),
    "yaml": frozenset({"sources.yaml_text"}),  # load and dump
    "httpx": frozenset({"sources.fetch"}),
    "sqlite3": frozenset({"subscribers.db"}),
    "smtplib": frozenset({"delivery.smtp"}),
    "imaplib": frozenset({"delivery.imap"}),
    "mailbox": frozenset({"delivery.mailbox"}),
    "flufl": frozenset({"delivery.bounces"}),
    "jinja2": frozenset({"templating"}),
    "email_validator": frozenset({"addresses"}),
    "dateutil": frozenset({"sources.front_matter_fields"}),
    "dateparser": frozenset({"sources.feed_dates"}),
    "slugify": frozenset({"text"}),
    "pykakasi": frozenset({"text"}),  # Japanese romaji for slugs
    "docutils": frozenset({"sources.rst"}),  # Pelican's reStructuredText posts
    "watchfiles": frozenset({"cli.watch"}),
    "tomli_w": frozenset({"newsletter.records"}),  # writing TOML; tomllib reads it
    "babel": frozenset({"language"}),  # catalogs, plurals and dates in the site's language
    # lxml parses only in sources/markup; feedgen and premailer build on lxml and hand
    # out its trees, so their adapters touch those trees (and parse nothing)
    "lxml": frozenset({"sources.markup", "feeds.formats", "newsletter.inline"}),
}
# click is the command line's own library: every module of cli/ uses it, nothing else may.
THIRD_PARTY_OUTSIDE_ADAPTERS = frozenset({"click"})
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


def test_the_library_takes_nothing_from_the_public_api() -> None:
    """`from syndicate import X` (the public API) is for programs and the CLI; inside the
    library it would hide which stage a name comes from, so only the version is taken."""
    wrong = []
    for name, path in all_modules().items():
        if name.split(".")[0] in ("__init__", "__main__", "cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "syndicate":
                wrong += [f"{name} imports {a.name}" for a in node.names if a.name != "__version__"]
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


def test_each_library_is_imported_by_its_adapter_only() -> None:
    stdlib = set(sys.stdlib_module_names) - set(ADAPTERS)
    wrong: dict[str, list[str]] = {}
    for name, path in all_modules().items():
        for library in imports_of(path)[1] - stdlib - THIRD_PARTY_OUTSIDE_ADAPTERS:
            if name not in ADAPTERS.get(library, frozenset()):
                wrong.setdefault(library, []).append(name)
    assert wrong == {}, "import a library only in its adapter (a new library gets an entry in ADAPTERS)"


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
