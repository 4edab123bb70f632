"""CSS inlining for email (the only module importing premailer).

premailer re-serializes the whole stylesheet through cssutils on every call,
which costs ~20 ms per issue even though our stylesheet is the same for every
issue. `_StylesheetCachingPremailer` keeps the parsed rules and the leftover
media-query block per stylesheet text, so each issue pays only for applying
styles to its own elements. Options we always set, and why (seen with premailer 3.10.0):
- allow_network=False: never fetch linked stylesheets (premailer does by default; the
  option came with peterbe/premailer#214, for #207, and kept the default True);
- disable_basic_attributes width/height: keep the sizes the template set (premailer copies
  CSS width/height into img attributes; the option is peterbe/premailer#61);
- strip_important=False: media queries need !important to beat inlined styles.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree
from premailer import Premailer

_Cache = dict[tuple[str, int, bool, bool, bool], tuple[list[Any], str]]
_CACHE: _Cache = {}


class _StylesheetCachingPremailer(Premailer):  # type: ignore[misc]
    def _process_css_text(self, css_text: str, index: int, rules: list[Any], head: Any) -> None:
        # Same effect as premailer 3.10's own method with keep_style_tags=False.
        key = (css_text, index, self.strip_important, self.exclude_pseudoclasses, self.include_star_selectors)
        hit = _CACHE.get(key)
        if hit is None:
            these_rules, leftover = self._parse_style_rules(css_text, index)
            hit = (these_rules, self._css_rules_to_string(leftover) if leftover else "")
            _CACHE[key] = hit
        rules.extend(hit[0])
        if head is not None and hit[1]:
            style = etree.Element("style")
            style.attrib["type"] = "text/css"
            style.text = hit[1]
            head.append(style)


def inline_css(html: str, stylesheet: str) -> str:
    """The HTML with `stylesheet` inlined; rules that cannot be inlined stay in one <style>."""
    return str(
        _StylesheetCachingPremailer(
            html,
            allow_network=False,
            css_text=[stylesheet],
            disable_basic_attributes=["width", "height"],
            strip_important=False,
            keep_style_tags=False,
            disable_validation=True,
            cssutils_logging_level=logging.CRITICAL,  # it warns about email-only CSS it does not know
            remove_classes=False,
        ).transform()
    )
