"""The one HTML sanitizer (the only module importing nh3): an allowlist, and every URL made absolute.

Every HTML fragment that leaves render/ (and every body `syndicate import` writes)
went through `sanitize_html`, which also resolves relative links and image
sources against the post's own URL, so feeds and emails only carry absolute URLs.
"""

from __future__ import annotations

import html
import re
import threading
from functools import lru_cache
from typing import Any, Literal

import nh3

from syndicate.render.plain_urls import PlainBase, join_plain, plain_base
from syndicate.text import drop_forbidden_refs, sub_from, xml_safe
from syndicate.urls import SAFE_SCHEMES

# The sanitizer's allowlist: nh3's defaults (no script, style, iframe, form,
# event handlers; only safe URL schemes) plus a few harmless attributes.
_TAGS = set(nh3.ALLOWED_TAGS) - {"map", "area"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES.setdefault("a", set()).update({"title"})
_ATTRIBUTES.setdefault("img", set()).update({"title"})
_ATTRIBUTES.setdefault("abbr", set()).add("title")
_ATTRIBUTES.setdefault("td", set()).add("style")
_ATTRIBUTES.setdefault("th", set()).add("style")
_ATTRIBUTES.setdefault("pre", set()).add("lang")  # cmark-gfm's code language, rewritten below
_CLEAN_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "form",
    "noscript",
    "template",
    "svg",
    "math",
    "select",
    "textarea",
    "button",
}


# Blink's limit on element nesting; nh3's time grows with depth squared (seen with nh3 0.3.8)
MAX_DEPTH = 512
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)\b[^>]*?(/?)>")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}


def flatten_deep(fragment: str) -> str:
    """Drop the tags (never the text) of elements nested deeper than MAX_DEPTH.

    100,000 nested <div>s take the sanitizer half a minute; no real post nests a tenth of the limit.
    The depth is counted from the tags as written, which is all a pathological input needs.
    """
    if fragment.count("<") <= MAX_DEPTH:
        return fragment
    depth = 0

    def keep(match: re.Match[str]) -> str:
        nonlocal depth
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID or self_closing:
            return match.group(0)
        if closing:
            depth = max(depth - 1, 0)
            return match.group(0) if depth < MAX_DEPTH else ""
        depth += 1
        return match.group(0) if depth <= MAX_DEPTH else ""

    return _TAG.sub(keep, fragment)


# An http(s) URL whose path holds only characters that need no escaping: WHATWG parsing of such a
# path cannot fail, so the URL is a usable base exactly when its scheme and authority are.
_PLAIN_PATH_URL = re.compile(r"(https?://[^/\\?#]*)/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*")


def usable_base(url: str) -> bool:
    """True when the sanitizer's URL parser (ammonia's, WHATWG rules) accepts `url` as a base for relative links.

    Python's urljoin accepts hosts such as "bad host" or ports such as 99999 that it refuses.
    Asked once per site rather than once per post where the paths are plain.
    """
    plain = _PLAIN_PATH_URL.fullmatch(url)
    return _parses_as_base(plain[1] + "/" if plain else url)


@lru_cache(maxsize=1 << 14)
def _parses_as_base(url: str) -> bool:
    try:
        nh3.clean("", url_relative=("rewrite_with_base", url))
    except ValueError:
        return False
    return True


# The allowlist as nh3's keyword arguments; nh3.clean with these is the sanitizer's definition,
# which the Cleaners below answer faster.
_ALLOWLIST: dict[str, Any] = {
    "tags": _TAGS,
    "clean_content_tags": _CLEAN_CONTENT,
    "attributes": _ATTRIBUTES,
    "url_schemes": set(SAFE_SCHEMES),
    "filter_style_properties": {"text-align"},
    "link_rel": None,
}


class _Resolving(threading.local):
    """The base the shared Cleaner's callback resolves against, and whether it met a link it could not."""

    base: PlainBase | None = None
    unsure: bool = False


_RESOLVING = _Resolving()


def _resolve(ref: str) -> str:
    """The shared Cleaner's callback: ammonia hands it each relative href and src."""
    joined = join_plain(_RESOLVING.base, ref) if _RESOLVING.base is not None else None
    if joined is None:
        _RESOLVING.unsure = True  # the fragment is cleaned again by ammonia's own resolution
        return ref
    return joined


# Built once per process: nh3.clean builds its allowlists again on every call (~60 µs).
_CLEANER = nh3.Cleaner(url_relative=_resolve, **_ALLOWLIST)


def sanitize_html(fragment: str, base_url: str) -> str:
    """Allowlist-sanitize an HTML fragment and make every URL in it absolute.

    When `base_url` is not a usable URL, relative links are dropped rather than resolved wrongly.
    """
    prepared = flatten_deep(drop_forbidden_refs(xml_safe(fragment)))
    base = plain_base(base_url)
    cleaned = None
    if base is not None:
        _RESOLVING.base, _RESOLVING.unsure = base, False
        try:
            cleaned = _CLEANER.clean(prepared)
        finally:
            _RESOLVING.base = None
        if _RESOLVING.unsure:
            cleaned = None
    if cleaned is None:
        cleaned = _clean_by_ammonia(prepared, base_url)
    return _finish(cleaned)


def sanitize_html_by_ammonia(fragment: str, base_url: str) -> str:
    """sanitize_html as nh3.clean alone does it, ammonia resolving every link: what sanitize_html
    must give (tests/test_sanitize.py compares the two)."""
    return _finish(_clean_by_ammonia(flatten_deep(drop_forbidden_refs(xml_safe(fragment))), base_url))


def _clean_by_ammonia(prepared: str, base_url: str) -> str:
    relative: tuple[Literal["rewrite_with_base"], str] | Literal["deny"] = (
        ("rewrite_with_base", base_url) if usable_base(base_url) else "deny"
    )
    return nh3.clean(prepared, url_relative=relative, **_ALLOWLIST)


def _finish(cleaned: str) -> str:
    # nh3 (0.3.8) decodes entities such as &#11; into raw characters, so check again what it wrote
    return _code_classes(xml_safe(cleaned)).strip()


# cmark-gfm writes a fenced block's language as <pre lang="x"><code>; highlighters (Prism,
# highlight.js) and the HTML spec's own advice want <code class="language-x">. Rewritten after
# the sanitizer, whose output is regular, so no class a post wrote itself gets through.
_PRE_LANG = re.compile(r'<pre lang="([^"]*)">(<code>)?')
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")


def _code_class(match: re.Match[str]) -> str:
    language, code = match.group(1), match.group(2)
    if code and _LANGUAGE.fullmatch(language):
        return f'<pre><code class="language-{language}">'
    return "<pre>" + (code or "")  # a language no class may carry is dropped


def _code_classes(fragment: str) -> str:
    return sub_from(_PRE_LANG, '<pre lang="', _code_class, fragment)


# One sanitizer set up once: nh3.clean builds its allowlists again on every call (~40 µs).
_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags=_CLEAN_CONTENT)


def html_to_text(fragment: str) -> str:
    """The visible text of an HTML fragment, on one line."""
    text = html.unescape(_TEXT_ONLY.clean(fragment))
    return " ".join(xml_safe(text).split())  # every run of whitespace (str.isspace, as regex \s) as one space
