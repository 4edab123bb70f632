"""Front matter (YAML between ``---`` or TOML between ``+++``) → a plain dict.

YAML is read by sources/yaml_text.py (its rules are there), TOML by tomllib.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from syndicate.errors import SourceError
from syndicate.sources.yaml_text import load_yaml_front_matter

MAX_NODES = 10_000  # more values than any real front matter; stops alias bombs
MAX_DEPTH = 50  # deeper nesting would exhaust Python's recursion limit further on


def split_front_matter(text: str, path: str) -> tuple[str, str, str, int]:
    """Return (kind, front matter, body, line of the first front-matter line).

    kind is "yaml" or "toml"; the body starts after the closing fence.
    """
    if text.startswith("---"):
        kind, fence = "yaml", re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
    elif text.startswith("+++"):
        kind, fence = "toml", re.compile(r"^\+\+\+[ \t]*$", re.M)
    else:
        raise SourceError(
            "no front matter: start the file with a '---' line, a title: and a date:, then '---'", path=path, line=1
        )
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() not in ("---", "+++"):
        raise SourceError("the opening front-matter fence must be alone on its line", path=path, line=1)
    close = fence.search(text, first_nl + 1)
    if close is None:
        raise SourceError(f"front matter never closes: add a line '{text[:3]}' after the last key", path=path, line=1)
    front = text[first_nl + 1 : close.start()]
    end = text.find("\n", close.end())
    body = "" if end < 0 else text[end + 1 :]
    return kind, front, body, 2


def _count_nodes(value: Any, budget: list[int], path: str, line: int, depth: int = 0) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise SourceError(
            f"front matter has more than {MAX_NODES} values (an alias bomb?); simplify it", path=path, line=line
        )
    if depth > MAX_DEPTH:
        raise SourceError(
            f"front matter is nested more than {MAX_DEPTH} levels deep; simplify it", path=path, line=line
        )
    if isinstance(value, dict):
        for k, v in value.items():
            _count_nodes(k, budget, path, line, depth + 1)
            _count_nodes(v, budget, path, line, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _count_nodes(v, budget, path, line, depth + 1)


def parse_front_matter(kind: str, front: str, path: str, first_line: int) -> dict[str, Any]:
    if kind == "toml":
        try:
            data: Any = tomllib.loads(front)
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"line (\d+)", str(exc))
            raise SourceError(
                f"TOML front matter: {exc}",
                path=path,
                line=first_line + int(line.group(1)) - 1 if line else first_line,
            ) from None
    else:
        data = load_yaml_front_matter(front, path, first_line)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError("front matter must be a set of 'key: value' lines", path=path, line=first_line)
    _count_nodes(data, [MAX_NODES], path, first_line)
    return {str(k): v for k, v in data.items()}


def key_line(front: str, key: str, first_line: int) -> int:
    """The line where a top-level key appears, for messages about its value."""
    m = re.search(rf"^[\"']?{re.escape(key)}[\"']?\s*[:=]", front, re.M)
    return first_line + front.count("\n", 0, m.start()) if m else first_line
