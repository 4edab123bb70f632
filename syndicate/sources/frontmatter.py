"""Front matter (YAML between ``---`` or TOML between ``+++``) → a plain dict.

YAML is read with libyaml's safe loader, with the YAML 1.1 surprises a blog
author never means switched off: ``no``/``on`` stay strings (only true/false
are booleans) and ``10:00`` stays a string instead of becoming 600.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from typing import Any

import yaml

from syndicate.errors import SourceError

try:  # libyaml's C parser is ~10x faster; fall back only where it was not built
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader


class FrontMatterLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe YAML with YAML 1.2-style booleans and numbers."""


FrontMatterLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FrontMatterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
FrontMatterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
FrontMatterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?)$"),
    list("-+0123456789."),
)


class SourceFloat(float):
    """A YAML float that remembers how it was written: `title: 1.10` is the text "1.10", not "1.1"."""

    source: str

    def __new__(cls, value: float, source: str) -> SourceFloat:
        number = super().__new__(cls, value)
        number.source = source
        return number

    def __str__(self) -> str:
        return self.source


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    return SourceFloat(yaml.SafeLoader.construct_yaml_float(loader, node), str(node.value))


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> date | datetime:
    """A timestamp such as 2013-02-30 matches YAML's pattern but is no real date: report it with its line."""
    try:
        value: date | datetime = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark
        ) from None
    return value


FrontMatterLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

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
        try:
            data = yaml.load(front, Loader=FrontMatterLoader)  # noqa: S506 - a safe loader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            # An unclosed quote or bracket is noticed lines later (often at the closing fence);
            # the line where it was opened is the one to fix.
            if exc.context_mark and (exc.context or "").startswith(("while scanning a quoted", "while parsing a flow")):
                mark = exc.context_mark
            problem = exc.problem or exc.context or "invalid YAML"
            if "could not determine a constructor" in str(exc):
                problem = "YAML tags such as '!!python/object' are not allowed in front matter"
            elif not isinstance(exc, yaml.constructor.ConstructorError):  # a syntax error
                problem += "; check quoting and indentation"
            raise SourceError(
                f"YAML front matter: {problem}",
                path=path,
                line=first_line + mark.line if mark else first_line,
            ) from None
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as a control character
            at = first_line + front.count("\n", 0, exc.position)
            what = f"character U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
            raise SourceError(f"YAML front matter: {what} is not allowed; remove it", path=path, line=at) from None
        except yaml.YAMLError as exc:
            problem = " ".join(str(exc).split())  # one line, whatever the library wrote
            raise SourceError(f"YAML front matter: {problem}", path=path, line=first_line) from None
        except RecursionError:
            raise SourceError("YAML front matter is nested too deeply", path=path, line=first_line) from None
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


def is_temporal(value: object) -> bool:
    return isinstance(value, date | datetime)
