"""A Post → the text of its Markdown file, as `syndicate import` writes it.

Full front matter (title, id, url, date, updated, slug, author, tags,
categories, summary, image, enclosures), written so it reads back through
sources/markdown.py unchanged, and the item's content as sanitized HTML with
absolute URLs. The HTML is kept as HTML (Markdown conversion would lose tables,
figures and attributes) and laid out so that CommonMark passes it through as
one raw HTML block: no blank lines (newlines inside <pre> become &#10;), and a
block-level tag first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from syndicate.model import Author, Post
from syndicate.sources.yaml_text import dump_front_matter

# Tags that open a CommonMark HTML block which only a blank line ends (type 6).
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|dt"
    "|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|legend|li|link|main"
    "|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead"
    "|title|tr|track|ul"
)
_BLOCK_START = re.compile(rf"^</?(?:{_BLOCK_TAGS})(?:[\s/>]|$)", re.I)
_PRE = re.compile(r"<pre\b.*?</pre>", re.I | re.S)
_BLANK_LINES = re.compile(r"\n[ \t]*(?=\n)")


def post_markdown(post: Post, clean_html: Callable[[str], str]) -> str:
    """The whole Markdown file for one imported post; `clean_html` sanitizes its body and summary.

    Dates keep the offset the feed wrote them with.
    """
    meta: dict[str, Any] = {"title": post.title}
    if post.id:
        meta["id"] = post.id
    if post.url:
        meta["url"] = post.url
    meta["date"] = _plain_datetime(post.published)
    if post.updated:
        meta["updated"] = _plain_datetime(post.updated)
    meta["slug"] = post.slug
    if post.authors:
        meta["author"] = _authors(post.authors)
    if post.tags:
        meta["tags"] = list(post.tags)
    if post.categories:
        meta["categories"] = list(post.categories)
    if post.summary:
        meta["summary"] = markdown_safe_html(clean_html(post.summary))
    if post.image:
        meta["image"] = post.image
    if post.enclosures:
        meta["enclosures"] = [{"url": e.url, "length": e.length, "type": e.type} for e in post.enclosures]
    meta["format"] = "html"
    body = markdown_safe_html(clean_html(post.body))
    return f"---\n{dump_front_matter(meta)}---\n{body}\n"


def _plain_datetime(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def _authors(authors: Iterable[Author]) -> str | list[dict[str, str]]:
    listed = list(authors)
    if len(listed) == 1 and not listed[0].email and not listed[0].url:
        return listed[0].name
    result = []
    for author in listed:
        entry = {"name": author.name}
        if author.email:
            entry["email"] = author.email
        if author.url:
            entry["url"] = author.url
        result.append(entry)
    return result


def markdown_safe_html(fragment: str) -> str:
    """HTML that CommonMark passes through untouched: one HTML block from start to end."""
    text = _PRE.sub(lambda m: m.group(0).replace("\r\n", "\n").replace("\n", "&#10;"), fragment.strip())
    text = _BLANK_LINES.sub("", text.replace("\r\n", "\n"))
    if text and not _BLOCK_START.match(text):
        text = f"<div>\n{text}\n</div>"
    return text
