"""The personal parts of an issue: rendered once as placeholders, filled in per recipient in one pass.

A single-pass substitution with escaped values means a subscriber's name can
never become markup, a template expression or another placeholder.
"""

from __future__ import annotations

import html
import re
import textwrap

from syndicate.language import Language
from syndicate.text import one_line

GREETING = "%%syndicate:greeting:5d1c%%"
UNSUBSCRIBE = "%%syndicate:unsubscribe:5d1c%%"
MANAGE = "%%syndicate:manage:5d1c%%"
MAX_NAME = 80
TEXT_WIDTH = 78

_PLACEHOLDER = re.compile(f"{re.escape(GREETING)}|{re.escape(UNSUBSCRIBE)}|{re.escape(MANAGE)}")


def greeting_for(name: str, words: Language) -> str:
    clean = one_line(name)[:MAX_NAME]
    return words.gettext("Hi %(name)s,", name=clean) if clean else words.gettext("Hello,")


def fill_text(text: str, greeting: str, unsubscribe: str, manage: str) -> str:
    """The plain-text part with its placeholders filled in."""
    # the greeting sits alone on its line in the text part; a long name must not push it past 78 columns
    wrapped = textwrap.fill(greeting, TEXT_WIDTH, break_on_hyphens=False)
    return _fill(text, wrapped, unsubscribe, manage)


def fill_html(markup: str, greeting: str, unsubscribe: str, manage: str) -> str:
    """The HTML part with its placeholders filled in, the values escaped."""
    escape = html.escape
    return _fill(markup, escape(greeting, quote=True), escape(unsubscribe, quote=True), escape(manage, quote=True))


def _fill(text: str, greeting: str, unsubscribe: str, manage: str) -> str:
    values = {GREETING: greeting, UNSUBSCRIBE: unsubscribe, MANAGE: manage}
    return _PLACEHOLDER.sub(lambda m: values[m.group(0)], text)
