"""Post → Entry: Markdown to HTML, sanitizing, absolute URLs, summaries, ids (pure).

Every HTML fragment that leaves this module went through one allowlist
sanitizer (nh3), which also resolves relative links and image sources against
the post's own URL, so feeds and emails only ever carry absolute URLs.
"""

from __future__ import annotations

import html
from dataclasses import replace
import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

from .model import Entry, Post, Site
from .text import one_line, xml_safe

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


def render_markdown(text: str) -> str:
    html_text: str = cmarkgfm.github_flavored_markdown_to_html(drop_forbidden_refs(xml_safe(text)), options=_MD_OPTIONS)
    return html_text


def sanitize_html(fragment: str, base_url: str) -> str:
    """Allowlist-sanitize an HTML fragment and make every URL in it absolute."""
    cleaned = nh3.clean(
        drop_forbidden_refs(xml_safe(fragment)),
        tags=_TAGS,
        clean_content_tags=_CLEAN_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        url_relative=("rewrite_with_base", base_url),
        filter_style_properties={"text-align"},
        link_rel=None,
    )
    return xml_safe(cleaned).strip()  # nh3 decodes entities, so check again what it wrote


def html_to_text(fragment: str) -> str:
    """The visible text of an HTML fragment, on one line."""
    text = html.unescape(nh3.clean(fragment, tags=set(), clean_content_tags=_CLEAN_CONTENT))
    return _SPACES.sub(" ", xml_safe(text)).strip()


def absolute_url(url: str, base: str) -> str:
    joined = urljoin(base, url.strip())
    return joined if urlsplit(joined).scheme in ("http", "https", "mailto") else base


def post_link(post: Post, site: Site) -> str:
    """Front-matter url (made absolute), else the site's permalink pattern."""
    if post.url:
        return absolute_url(post.url, site.url)
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


def render_entry(post: Post, site: Site) -> Entry:
    link = post_link(post, site)
    body = post.body
    if post.body_format == "markdown":
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
