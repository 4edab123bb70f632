"""Front matter → a plain dict: YAML between ``---``, TOML between ``+++``, a JSON object
(Hugo), or Pelican's ``Key: value`` lines up to the first blank line.

YAML is read by sources/yaml_text.py (its rules are there), TOML by tomllib.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from syndicate.errors import LONG_NUMBER, SourceError
from syndicate.sources.yaml_text import load_yaml_front_matter

MAX_NODES = 10_000  # more values than any real front matter; stops alias bombs
MAX_DEPTH = 50  # deeper nesting would exhaust Python's recursion limit further on


# Pelican's own metadata (Python-Markdown's "meta" extension): `Key: value` lines up to the first blank line.
_NATIVE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):(?:[ \t]+(.*?))?[ \t]*$")
NO_FRONT_MATTER = "no front matter: start the file with a '---' line, a title: and a date:, then '---'"


def split_front_matter(text: str, path: str) -> tuple[str, str, str, int]:
    """Return (kind, front matter, body, line of the first front-matter line).

    kind is "yaml", "toml", "json" (Hugo's JSON object) or "native" (Pelican's
    `Key: value` lines); the body starts after the closing fence. Blank lines
    before the opening fence are skipped, as Hugo does.
    """
    stripped = text.lstrip("\n \t")
    skipped = text[: len(text) - len(stripped)].count("\n")
    if stripped.startswith("{"):
        return _split_json(stripped, path, skipped + 1)
    if stripped.startswith("---"):
        kind, fence = "yaml", re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
    elif stripped.startswith("+++"):
        kind, fence = "toml", re.compile(r"^\+\+\+[ \t]*$", re.M)
    elif _native_header(stripped):
        head, _, body = stripped.partition("\n\n")
        return "native", head, body, skipped + 1
    else:
        raise SourceError(NO_FRONT_MATTER, path=path, line=skipped + 1)
    text = stripped
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() not in ("---", "+++"):
        raise SourceError("the opening front-matter fence must be alone on its line", path=path, line=skipped + 1)
    close = fence.search(text, first_nl + 1)
    if close is None:
        raise SourceError(
            f"front matter never closes: add a line '{text[:3]}' after the last key", path=path, line=skipped + 1
        )
    front = text[first_nl + 1 : close.start()]
    end = text.find("\n", close.end())
    body = "" if end < 0 else text[end + 1 :]
    return kind, front, body, skipped + 2


def _native_header(text: str) -> bool:
    """Whether the text opens with Pelican-style metadata that names a title or a date."""
    head = text.partition("\n\n")[0].split("\n")
    keys = [m[1].lower() for m in map(_NATIVE_KEY.match, head) if m]
    return bool(keys) and _NATIVE_KEY.match(head[0]) is not None and bool({"title", "date"} & set(keys))


def _split_json(text: str, path: str, line: int) -> tuple[str, str, str, int]:
    """Hugo's JSON front matter: one object at the top of the file, the body after it."""
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"JSON front matter: {exc.msg}; check the commas and quotes", path=path, line=line + exc.lineno - 1
        ) from None
    except RecursionError:  # the decoder recurses once per level of [ or {
        raise _too_deep(path, line) from None
    except ValueError:  # an integer of more than 4,300 digits
        raise SourceError(f"JSON front matter: {LONG_NUMBER}", path=path, line=line) from None
    rest = text[end:]
    return "json", text[:end], rest[rest.find("\n") + 1 :] if "\n" in rest else "", line


def _native_meta(front: str) -> dict[str, Any]:
    """Pelican's `Key: value` lines as a dict (keys lower-cased, as Pelican reads them);
    an indented line continues the value above it."""
    meta: dict[str, Any] = {}
    last = None
    for raw in front.split("\n"):
        match = _NATIVE_KEY.match(raw)
        if match and not raw[:1].isspace():
            last = match[1].lower()
            meta[last] = match[2] or ""
        elif last is not None and raw.strip():
            meta[last] = f"{meta[last]} {raw.strip()}".strip()
    return meta


def _too_deep(path: str, line: int) -> SourceError:
    return SourceError(f"front matter is nested more than {MAX_DEPTH} levels deep; simplify it", path=path, line=line)


def _count_nodes(value: Any, budget: list[int], path: str, line: int, depth: int = 0) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise SourceError(
            f"front matter has more than {MAX_NODES} values (an alias bomb?); simplify it", path=path, line=line
        )
    if depth > MAX_DEPTH:
        raise _too_deep(path, line)
    if isinstance(value, dict):
        for k, v in value.items():
            _count_nodes(k, budget, path, line, depth + 1)
            _count_nodes(v, budget, path, line, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _count_nodes(v, budget, path, line, depth + 1)


def parse_front_matter(kind: str, front: str, path: str, first_line: int) -> dict[str, Any]:
    if kind == "native":
        return _native_meta(front)
    if kind == "json":
        try:
            data: Any = json.loads(front)
        except json.JSONDecodeError as exc:  # pragma: no cover - split_front_matter decoded it already
            raise SourceError(f"JSON front matter: {exc.msg}", path=path, line=first_line) from None
        except RecursionError:  # pragma: no cover - split_front_matter decoded it already
            raise _too_deep(path, first_line) from None
    elif kind == "toml":
        try:
            data = tomllib.loads(front)
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"line (\d+)", str(exc))
            raise SourceError(
                f"TOML front matter: {exc}",
                path=path,
                line=first_line + int(line.group(1)) - 1 if line else first_line,
            ) from None
        except RecursionError:  # tomllib recurses once per level of [ or {
            raise _too_deep(path, first_line) from None
        except ValueError:  # an integer of more than 4,300 digits
            raise SourceError(f"TOML front matter: {LONG_NUMBER}", path=path, line=first_line) from None
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
    m = re.search(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?\s*[:=]", front, re.M | re.I)
    return first_line + front.count("\n", 0, m.start()) if m else first_line
