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


def text_values(greeting: str, unsubscribe: str, manage: str) -> dict[str, str]:
    """What each placeholder of the plain-text part becomes."""
    # the greeting sits alone on its line in the text part; a long name must not push it past 78 columns
    # (a greeting is one clean line, which textwrap keeps as it is when it fits)
    wrapped = greeting if len(greeting) <= TEXT_WIDTH else textwrap.fill(greeting, TEXT_WIDTH, break_on_hyphens=False)
    return {GREETING: wrapped, UNSUBSCRIBE: unsubscribe, MANAGE: manage}


def html_values(greeting: str, unsubscribe: str, manage: str) -> dict[str, str]:
    """What each placeholder of the HTML part becomes: the values escaped."""
    escape = html.escape
    return {
        GREETING: escape(greeting, quote=True),
        UNSUBSCRIBE: escape(unsubscribe, quote=True),
        MANAGE: escape(manage, quote=True),
    }


def fill_text(text: str, greeting: str, unsubscribe: str, manage: str) -> str:
    """The plain-text part with its placeholders filled in."""
    return fill(text, text_values(greeting, unsubscribe, manage))


def fill_html(markup: str, greeting: str, unsubscribe: str, manage: str) -> str:
    """The HTML part with its placeholders filled in, the values escaped."""
    return fill(markup, html_values(greeting, unsubscribe, manage))


def has_placeholder(text: str) -> bool:
    return _PLACEHOLDER.search(text) is not None


def fill(text: str, values: dict[str, str]) -> str:
    """Every placeholder replaced by its value in one pass (a value is never read for placeholders)."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(0)], text)
