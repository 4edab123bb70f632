"""The Jinja2 environment: autoescaping on, undefined variables are errors.

A site overrides any template by putting a file of the same name in its own
templates directory ([content] templates in syndicate.toml); everything else
comes from the templates shipped with syndicate. Each environment speaks one
language: `_()`, `ngettext()` and `{% trans %}` take its catalog's words, and
`long_date`, `full_date` and `time_of_day` write its dates.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2.filters import do_wordwrap

from syndicate.errors import SyndicateError
from syndicate.folders import builtin_templates as builtin_templates
from syndicate.language import Language, language_for


def environment(site_templates: Path | None, words: Language | None = None) -> jinja2.Environment:
    return _environment(site_templates, words or language_for("en"))


@lru_cache(maxsize=8)
def _environment(site_templates: Path | None, words: Language) -> jinja2.Environment:
    search = [str(site_templates)] if site_templates is not None else []
    search.append(str(builtin_templates()))
    env = jinja2.Environment(
        extensions=["jinja2.ext.i18n"],
        loader=jinja2.FileSystemLoader(search),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xml", "htm"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wordwrap"] = _wordwrap
    # newstyle: %(name)s values are filled in (and escaped) by gettext itself, as in our Python code
    env.install_gettext_translations(words.translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(long_date=words.long_date, full_date=words.full_date, time_of_day=words.time_of_day)
    return env


@jinja2.pass_environment
def _wordwrap(environment: jinja2.Environment, s: object, width: int = 79, *args: object, **kwargs: object) -> object:
    """Jinja's wordwrap, which builds a textwrap.TextWrapper for every call, with the common
    case answered at once: one line that already fits comes back exactly as textwrap gives it."""
    if isinstance(s, str) and len(s) <= width and s == s.strip() and len(s.splitlines()) == 1:
        return s
    return do_wordwrap(environment, s, width, *args, **kwargs)  # type: ignore[arg-type]


def render(site_templates: Path | None, name: str, words: Language | None = None, **context: object) -> str:
    try:
        return environment(site_templates, words).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise SyndicateError(f"template error: {exc.message}", path=exc.filename or name, line=exc.lineno) from None
    except jinja2.UndefinedError as exc:
        raise SyndicateError(f"template uses an undefined value: {exc.message}", path=name) from None
    except jinja2.TemplateNotFound as exc:
        raise SyndicateError(f"template not found: {exc.name}", path=name) from None


def load_text(site_templates: Path | None, name: str) -> str:
    """A template's raw text (for the stylesheet), honouring site overrides."""
    for folder in ([site_templates] if site_templates else []) + [builtin_templates()]:
        candidate = folder / name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise SyndicateError(f"template not found: {name}")
