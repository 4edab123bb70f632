"""The public API: what `syndicate/__init__.py` names, imported lazily, and the CLI uses nothing else."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT, copy_example_site

import syndicate

CLI = REPO_ROOT / "syndicate" / "cli"


def test_every_public_name_resolves() -> None:
    assert set(syndicate.__all__) == {"__version__", *syndicate._EXPORTS}
    for name in syndicate.__all__:
        assert getattr(syndicate, name) is not None, name


def test_the_cli_imports_only_the_public_api() -> None:
    wrong = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                wrong += [f"{path.name}: import {a.name}" for a in node.names if a.name.startswith("syndicate")]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("syndicate"):
                if node.module == "syndicate":
                    wrong += [f"{path.name}: {a.name}" for a in node.names if a.name not in syndicate.__all__]
                elif not (node.module or "").startswith("syndicate.cli"):
                    wrong.append(f"{path.name}: from {node.module} import ...")
    assert wrong == []


def test_importing_the_package_imports_none_of_its_modules() -> None:
    code = "import sys, syndicate; print(sorted(m for m in sys.modules if m.startswith('syndicate.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert done.stdout.strip() == "[]"


def test_the_readme_example_runs_and_prints_what_it_shows(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(.*?)```\n\n```\n(.*?)```", readme, re.S)
    assert found, "the README's Python example moved"
    code, shown = found.groups()
    site = copy_example_site(tmp_path / "site").parent
    code = code.replace('Path("/tmp/feeds")', f"Path({str(tmp_path / 'feeds')!r})")
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=site,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.stdout == shown.replace("/tmp/feeds", str(tmp_path / "feeds"))
