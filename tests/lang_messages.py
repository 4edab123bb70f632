"""Every translatable message of syndicate, extracted from its code with Babel's Python extractor
and from its templates with Jinja's own (jinja2.ext.babel_extract): what a translator would run."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from syndicate.language import DATE_PATTERNS

ROOT = Path(__file__).resolve().parent.parent
# our Python code calls Language.gettext / ngettext / pgettext, and marks constants with N_
PYTHON_KEYWORDS = {"gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}
TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
JINJA = "jinja2.ext:babel_extract"
Key = tuple[str | None, str]  # (msgctxt, msgid)


def _found(folder: Path, methods: list[tuple[str, str]], keywords: dict[str, object]) -> dict[Key, tuple[str, ...]]:
    options = {pattern: {"extensions": "jinja2.ext.i18n"} for pattern, method in methods if method == JINJA}
    found: dict[Key, tuple[str, ...]] = {}
    for _file, _line, message, _comments, context in extract_from_dir(
        str(folder),
        methods,
        keywords=keywords,
        options_map=options,  # type: ignore[arg-type]
    ):
        forms = tuple(message) if isinstance(message, tuple | list) else (message,)
        found[(context, forms[0])] = forms
    return found


def messages() -> dict[Key, tuple[str, ...]]:
    """(context, msgid) → its forms (singular and plural for ngettext)."""
    found = _found(ROOT / "syndicate", [("**.py", "python")], PYTHON_KEYWORDS)
    found |= _found(ROOT / "templates", [("**.html", JINJA), ("**.txt", JINJA)], TEMPLATE_KEYWORDS)
    for pattern in DATE_PATTERNS:
        found[("date pattern", pattern)] = (pattern,)
    return found


if __name__ == "__main__":
    for (context, _msgid), forms in sorted(messages().items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        print(repr(context), forms)
