"""Post → Entry (pure): Markdown to HTML, sanitized, with its link, id and summary.

The pieces are render/markdown_html.py (cmark-gfm), render/sanitize.py (nh3),
render/site_habits.py (Jekyll and Hugo template tags) and render/links.py.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime

from syndicate.model import Entry, Post, Site
from syndicate.render.links import absolute_url, post_id, post_link
from syndicate.render.local_refs import relative_images
from syndicate.render.markdown_html import render_markdown
from syndicate.render.sanitize import html_to_text, sanitize_html
from syndicate.render.site_habits import expand_site_habits
from syndicate.text import finditer_from, one_line, sub_from

_MORE = re.compile(r"<!--\s*more\s*-->", re.I)
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_HEADING = re.compile(r"<h[1-6]\b.*?</h[1-6]>", re.S | re.I)


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
        marker = next(finditer_from(_MORE, "<!--", body), None)
        content = sanitize_html(render_markdown(sub_from(_MORE, "<!--", _removed, body) if marker else body), link)
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
        local_images=relative_images(post.image, post.body) if post.body_format == "markdown" else (),
    )


def _removed(match: re.Match[str]) -> str:
    return ""


def _first_paragraph(content: str) -> str:
    """The first paragraph that holds text (one holding only an image is skipped), else the
    text of the post without its headings, shortened."""
    for match in _FIRST_PARAGRAPH.finditer(content):
        if html_to_text(match.group(1)).strip():
            return f"<p>{match.group(1)}</p>"
    text = html_to_text(_HEADING.sub(" ", content))
    if len(text) > 300:
        text = text[:300].rsplit(" ", 1)[0] + "…"
    return html.escape(text, quote=False)
