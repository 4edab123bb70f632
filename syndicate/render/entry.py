"""Post → Entry: Markdown to HTML, sanitizing, absolute URLs, summaries, ids (pure).

Every HTML fragment that leaves this module went through one allowlist
sanitizer (nh3), which also resolves relative links and image sources against
the post's own URL, so feeds and emails only ever carry absolute URLs.
"""

from __future__ import annotations

import ctypes
import html
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal
from urllib.parse import urljoin, urlsplit

import cmarkgfm
import nh3
from cmarkgfm import _cmark
from cmarkgfm.cmark import Options

from syndicate.model import Entry, Post, Site
from syndicate.text import one_line, xml_safe

RENDERER_VERSION = f"cmarkgfm-{getattr(cmarkgfm, '__version__', '?')};nh3-{getattr(nh3, '__version__', '?')}"

_MD_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES | Options.CMARK_OPT_VALIDATE_UTF8
_MORE = re.compile(r"<!--\s*more\s*-->", re.I)
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_SPACES = re.compile(r"\s+")

# The sanitizer's allowlist: nh3's defaults (no script, style, iframe, form,
# event handlers; only safe URL schemes) plus a few harmless attributes.
_TAGS = set(nh3.ALLOWED_TAGS) - {"map", "area"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES.setdefault("a", set()).update({"title"})
_ATTRIBUTES.setdefault("img", set()).update({"title"})
_ATTRIBUTES.setdefault("abbr", set()).add("title")
_ATTRIBUTES.setdefault("td", set()).add("style")
_ATTRIBUTES.setdefault("th", set()).add("style")
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
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


# A numeric character reference, such as &#11; or &#xFFFE;
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _drop_forbidden_ref(match: re.Match[str]) -> str:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    if code == 0 or code > 0x10FFFF or xml_safe(chr(code)) == "":
        return ""
    return match.group(0)


def drop_forbidden_refs(text: str) -> str:
    """Remove references to characters XML forbids: cmark crashes on &#xFFFE;, and
    every HTML parser turns &#11; back into the raw character a feed cannot carry."""
    return _CHAR_REF.sub(_drop_forbidden_ref, text) if "&#" in text else text


# Template habits of Jekyll (Liquid) and Hugo (shortcodes) that posts carry into their Markdown.
_RAW_BLOCK = re.compile(r"{%-?\s*raw\s*-?%}(.*?){%-?\s*endraw\s*-?%}", re.S)
_HIGHLIGHT_OPEN = re.compile(r"{%-?\s*highlight\s+([\w+#.-]+)[^%]*-?%}|{{<\s*highlight\s+([\w+#.-]+)[^>]*>}}")
_HIGHLIGHT_CLOSE = re.compile(r"{%-?\s*endhighlight\s*-?%}|{{<\s*/highlight\s*>}}")
_SITE_URL = re.compile(r"{{\s*site\.url\s*}}\s*{{\s*site\.baseurl\s*}}|{{\s*site\.(?:url|baseurl)\s*}}")
_POST_URL = re.compile(r"{%-?\s*post_url\s+(?:[\w./-]*/)?(\d{4})-(\d{2})-(\d{2})-([\w.-]+?)\s*-?%}")
_URL_FILTER = re.compile(r"""{{\s*(["'])([^"']*)\1\s*\|\s*(?:relative_url|absolute_url)\s*}}""")
_FIGURE = re.compile(r"{{<\s*figure\s+([^>]*?)>}}")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def expand_site_habits(text: str, site: Site) -> str:
    """Turn the Jekyll/Hugo template tags a feed reader can't run into what they stand for:
    highlight blocks → fenced code, site.url/baseurl → the site's URL, post_url → the post's
    permalink, Hugo's figure → an image. `{% raw %}` regions are left exactly as written;
    anything else stays as text rather than be lost."""
    if "{%" not in text and "{{" not in text:
        return text
    base = site.url.rstrip("/")

    def post_url(m: re.Match[str]) -> str:
        path = site.permalink.format(year=m[1], month=m[2], day=m[3], slug=m[4])
        return urljoin(site.url, path.lstrip("/"))

    def figure(m: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(m[1]))
        alt = attrs.get("alt") or attrs.get("caption") or attrs.get("title") or ""
        return f"![{alt}]({attrs['src']})" if "src" in attrs else m[0]

    def convert(part: str) -> str:
        part = _HIGHLIGHT_OPEN.sub(lambda m: "```" + (m[1] or m[2]), part)
        part = _HIGHLIGHT_CLOSE.sub("```", part)
        part = _SITE_URL.sub(base, part)
        part = _URL_FILTER.sub(lambda m: urljoin(site.url, m[2].lstrip("/")), part)
        part = _POST_URL.sub(post_url, part)
        return _FIGURE.sub(figure, part)

    pieces, last = [], 0
    for m in _RAW_BLOCK.finditer(text):
        pieces += [convert(text[last : m.start()]), m[1]]
        last = m.end()
    pieces.append(convert(text[last:]))
    return "".join(pieces)


class _CmarkMem(ctypes.Structure):
    _fields_ = [
        ("calloc", ctypes.c_void_p),
        ("realloc", ctypes.c_void_p),
        ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
    ]


# cmarkgfm's own github_flavored_markdown_to_html never frees the document tree nor the HTML
# string that cmark hands back (about 70 KB a post: 700 MB over 10,000 posts, and without end
# in `build --watch`). The same steps through its low-level API, then the two frees its cffi
# module does not declare, called in the very same library. Where that library does not
# export them (another build of cmarkgfm), its own function is used, leak and all.
_GFM_EXTENSIONS = ("table", "autolink", "tagfilter", "strikethrough", "tasklist")  # as cmarkgfm's GFM function
_Free = Callable[[int], None]


def _cmark_frees() -> tuple[_Free, _Free] | None:
    try:
        so = ctypes.CDLL(_cmark.__file__)
        so.cmark_node_free.argtypes = [ctypes.c_void_p]
        so.cmark_node_free.restype = None
        so.cmark_get_default_mem_allocator.restype = ctypes.POINTER(_CmarkMem)
        free_memory = so.cmark_get_default_mem_allocator().contents.free
    except (OSError, AttributeError, ValueError):
        return None
    return so.cmark_node_free, free_memory


_CMARK_FREES = _cmark_frees()


def _address(pointer: object) -> int:
    return int(_cmark.ffi.cast("uintptr_t", pointer))


def _gfm_to_html(text: str, options: int) -> str:
    if _CMARK_FREES is None:
        return str(cmarkgfm.github_flavored_markdown_to_html(text, options=options))
    free_node, free_memory = _CMARK_FREES
    lib, ffi = _cmark.lib, _cmark.ffi
    options |= Options.CMARK_OPT_GITHUB_PRE_LANG
    lib.cmark_gfm_core_extensions_ensure_registered()
    parser = lib.cmark_parser_new(options)
    try:
        for name in _GFM_EXTENSIONS:
            lib.cmark_parser_attach_syntax_extension(parser, lib.cmark_find_syntax_extension(name.encode("ascii")))
        data = text.encode("utf-8")
        lib.cmark_parser_feed(parser, data, len(data))
        root = lib.cmark_parser_finish(parser)
        try:
            raw = lib.cmark_render_html(root, options, lib.cmark_parser_get_syntax_extensions(parser))
            try:
                return str(ffi.string(raw).decode("utf-8"))
            finally:
                free_memory(_address(raw))
        finally:
            free_node(_address(root))
    finally:
        lib.cmark_parser_free(parser)


def render_markdown(text: str) -> str:
    return _gfm_to_html(drop_forbidden_refs(xml_safe(text)), _MD_OPTIONS)


MAX_DEPTH = 512  # Blink's limit on element nesting; the sanitizer's time grows with depth squared
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


@lru_cache(maxsize=1 << 14)
def usable_base(url: str) -> bool:
    """True when the sanitizer's URL parser (ammonia's, WHATWG rules) accepts `url` as a base for relative links.

    Python's urljoin accepts hosts such as "bad host" or ports such as 99999 that it refuses.
    """
    try:
        nh3.clean("", url_relative=("rewrite_with_base", url))
    except ValueError:
        return False
    return True


def sanitize_html(fragment: str, base_url: str) -> str:
    """Allowlist-sanitize an HTML fragment and make every URL in it absolute.

    When `base_url` is not a usable URL, relative links are dropped rather than resolved wrongly.
    """
    relative: tuple[Literal["rewrite_with_base"], str] | Literal["deny"] = (
        ("rewrite_with_base", base_url) if usable_base(base_url) else "deny"
    )
    cleaned = nh3.clean(
        flatten_deep(drop_forbidden_refs(xml_safe(fragment))),
        tags=_TAGS,
        clean_content_tags=_CLEAN_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        url_relative=relative,
        filter_style_properties={"text-align"},
        link_rel=None,
    )
    return xml_safe(cleaned).strip()  # nh3 decodes entities, so check again what it wrote


def html_to_text(fragment: str) -> str:
    """The visible text of an HTML fragment, on one line."""
    text = html.unescape(nh3.clean(fragment, tags=set(), clean_content_tags=_CLEAN_CONTENT))
    return _SPACES.sub(" ", xml_safe(text)).strip()


def _followable(url: str, base: str) -> str | None:
    """`url` made absolute against `base`, or None when that is no http(s)/mailto URL a reader can use."""
    try:
        joined = urljoin(base, url.strip())
        scheme = urlsplit(joined).scheme
    except ValueError:  # such as an unclosed IPv6 bracket
        return None
    if scheme == "mailto" or (scheme in ("http", "https") and usable_base(joined)):
        return joined
    return None


def absolute_url(url: str, base: str) -> str:
    """`url` made absolute against `base`; `base` itself when the result is no URL a reader can use."""
    return _followable(url, base) or base


def post_link(post: Post, site: Site) -> str:
    """Front-matter (or feed) url made absolute, else the site's permalink pattern (also when the url
    is unusable, such as a feed item's link with a space in its host)."""
    link = _followable(post.url, site.url) if post.url else None
    if link is not None:
        return link
    local = post.published.astimezone(site.timezone)
    path = site.permalink.format(
        year=f"{local.year:04d}", month=f"{local.month:02d}", day=f"{local.day:02d}", slug=post.slug
    )
    return urljoin(site.url, path.lstrip("/"))


@lru_cache(maxsize=64)
def _site_authority(site_url: str) -> tuple[str, str]:
    parts = urlsplit(site_url)
    prefix = parts.path.strip("/")
    return (parts.hostname or "localhost"), (prefix + "/" if prefix else "")


def post_id(post: Post, site: Site) -> str:
    """The explicit id, else an RFC 4151 tag URI from domain, first publication date and slug.

    Never from the title or the output location, so editing a title or moving
    the output keeps the id; renaming a slug changes it unless `id:` is set.
    """
    if post.id:
        return xml_safe(post.id)
    domain, prefix = _site_authority(site.url)
    day = post.published.astimezone(site.timezone).date().isoformat()
    return f"tag:{domain},{day}:{prefix}{post.slug}"


def whole_minute_offset(moment: datetime) -> datetime:
    """The same instant with an offset RFC 822 and RFC 3339 can write: before standard time,
    zones ran on local mean time (Amsterdam was +00:19:32 in 1900); such instants are given in UTC."""
    offset = moment.utcoffset()
    if offset is not None and offset.seconds % 60:
        return moment.astimezone(UTC)
    return moment


def render_entry(post: Post, site: Site) -> Entry:
    if post.published.utcoffset() != whole_minute_offset(post.published).utcoffset() or (
        post.updated is not None and whole_minute_offset(post.updated) is not post.updated
    ):
        post = replace(
            post,
            published=whole_minute_offset(post.published),
            updated=whole_minute_offset(post.updated) if post.updated else None,
        )
    link = post_link(post, site)
    body = post.body
    if post.body_format == "markdown":
        body = expand_site_habits(body, site)
        marker = _MORE.search(body)
        content = sanitize_html(render_markdown(_MORE.sub("", body)), link)
        if post.summary:
            summary = sanitize_html(render_markdown(post.summary), link)
        elif marker:
            summary = sanitize_html(render_markdown(body[: marker.start()]), link)
        else:
            summary = _first_paragraph(content)
    else:
        content = sanitize_html(body, link)
        summary = sanitize_html(post.summary, link) if post.summary else _first_paragraph(content)
    summary_text = html_to_text(summary)
    if not summary_text:
        summary_text = one_line(post.title)
        summary = html.escape(summary_text, quote=False)
    return Entry(
        post=replace(post, body="", summary=None),  # rendered below; the source text is not needed again
        id=post_id(post, site),
        link=link,
        title=one_line(post.title),
        content_html=content,
        summary_html=summary,
        summary_text=summary_text,
        updated=post.updated or post.published,
        image=absolute_url(post.image, link) if post.image else None,
    )


def _first_paragraph(content: str) -> str:
    match = _FIRST_PARAGRAPH.search(content)
    if match:
        return f"<p>{match.group(1)}</p>"
    text = html_to_text(content)
    if len(text) > 300:
        text = text[:300].rsplit(" ", 1)[0] + "…"
    return html.escape(text, quote=False)
