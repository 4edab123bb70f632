"""YAML in and out of front matter (the only module importing yaml).

Read with libyaml's safe loader, with the YAML 1.1 surprises a blog author never
means switched off: ``no``/``on`` stay strings (only true/false are booleans) and
``10:00`` stays a string instead of becoming 600 (PyYAML 6.0 still implements
YAML 1.1 only). Written so that it reads back the same: every string the loader
would take for something else is quoted.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import yaml

from syndicate.errors import LONG_NUMBER, SourceError

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

    def __reduce__(self) -> tuple[type[SourceFloat], tuple[float, str]]:
        # Posts cross into worker processes by pickle, which would call __new__ without `source`
        return (SourceFloat, (float(self), self.source))


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    return SourceFloat(yaml.SafeLoader.construct_yaml_float(loader, node), str(node.value))


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> date | datetime:
    """A timestamp such as 2013-02-30 matches YAML's pattern but is no real date: report it with its line.

    PyYAML (6.0.x) lets the ValueError from datetime escape without a position.
    """
    try:
        value: date | datetime = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark
        ) from None
    return value


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """An integer of more than 4,300 digits is refused by int() (CPython's guard against slow
    conversions); PyYAML (6.0.x) lets that ValueError escape without a position."""
    try:
        return int(yaml.SafeLoader.construct_yaml_int(loader, node))
    except ValueError:
        raise yaml.constructor.ConstructorError(None, None, LONG_NUMBER, node.start_mark) from None


FrontMatterLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
FrontMatterLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_yaml_front_matter(front: str, path: str, first_line: int) -> Any:
    """The YAML front matter as Python values; a SourceError naming the line to fix when it is not valid."""
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
            lines = front.split("\n")
            text = lines[mark.line] if mark and mark.line < len(lines) else ""
            problem = in_plain_words(problem, exc.context or "", text)
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
    return data


_KEY_VALUE = re.compile(r"^(\s*)([^\s:#][^:]*?):[ \t]+(.*?)\s*$")


def _quoted(key: str, value: str) -> str:
    """`key: "value"`, the way to write a value YAML would otherwise misread."""
    return f'{key}: "{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'


def in_plain_words(problem: str, context: str, line: str) -> str:
    """A YAML syntax error as a blogger can act on it: what is wrong with the line, and the fix,
    written out from the line itself where that is possible."""
    pair = _KEY_VALUE.match(line)
    key, value = (pair[2], pair[3]) if pair else ("", "")
    if line[:1] == "\t" or "tab character" in problem:
        return "a tab indents this line; YAML wants spaces"
    if context.startswith("while scanning a quoted"):
        return "a quote opened on this line never closes; add the closing quote (or quote with the other kind)"
    if context.startswith("while parsing a flow"):
        return "a list or table opened with [ or { on this line never closes; close it, or quote the value"
    if "mapping values are not allowed" in problem and line[:1] in (" ", "\t") and pair:
        return "this line is indented, but the line above holds a value, not a table; remove the spaces before it"
    if "mapping values are not allowed" in problem and pair:
        fix = _quoted(key, value)
        return f"the value holds a colon and a space, which YAML reads as a new key; put it in quotes: {fix}"
    if ("cannot start any token" in problem or "undefined alias" in problem) and pair:
        return f"a value cannot start with {value[:1]!r} in YAML; put it in quotes: {_quoted(key, value)}"
    if "expected key" in problem and pair:
        return f"text follows the closing quote; quote the whole value: {key}: '{value.replace(chr(39), chr(39) * 2)}'"
    return f"{problem}; check the quotes and the indentation of this line"


# ---------------------------------------------------------------- writing


# Numbers as FrontMatterLoader reads them (YAML 1.2 style): wider than what SafeDumper quotes.
_FLOAT = re.compile(
    r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)$"
)
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: ~10× faster


class _FrontMatterDumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """safe_dump that quotes every string FrontMatterLoader would read as something else."""


# Characters YAML treats as line breaks or will not write raw: only double quotes carry them safely.
_NEEDS_ESCAPES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if _NEEDS_ESCAPES.search(value) else "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    flow = all(isinstance(item, str | int | float) for item in value)  # tags: [a, b]; enclosures as a block
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_FrontMatterDumper.add_representer(str, _represent_str)
_FrontMatterDumper.add_representer(list, _represent_list)
_FrontMatterDumper.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def dump_front_matter(meta: dict[str, Any]) -> str:
    text = yaml.dump(
        meta,
        Dumper=_FrontMatterDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )
    return str(text)
