"""A WordPress export (WXR 1.0–1.2, Tools → Export) → Posts, with what the move needs besides.

The export holds what the feed leaves out: every post, not the last ten; drafts;
categories and tags told apart (`domain="category"` / `"post_tag"`); the authors'
display names; each post's slug and its old permalink. The mapping:

- id: the item's guid (`https://blog.example.org/?p=123`), as WordPress's own
  feed gave it, so readers of the new feeds see no duplicates; else
  `<base_blog_url>/?p=<post_id>`.
- url: none, so the new site's permalink pattern applies; the old permalink
  (`<link>`) is kept apart for the redirect map.
- published: `wp:post_date` with the offset it had (from `wp:post_date_gmt`),
  else in the site's time zone; updated: `wp:post_modified` likewise.
- status: publish and future are posts; draft, pending and private are drafts
  (a private post was never public); a password-protected post becomes a draft
  with a warning; auto-draft and trash are skipped.
- authors: `dc:creator` is a login; its `wp:author_display_name` is shown. The
  account emails in the export are private and are not copied.
- body: `content:encoded` as WordPress shows it (sources/wxr_content.py);
  summary: `excerpt:encoded`, else the teaser before `<!--more-->`; image: the
  featured image (`_thumbnail_id`). Titles and term names are plain text
  (WordPress stores `&amp;` in them).
- kinds: posts always; pages only when asked; attachments (the media library)
  are listed for downloading, never turned into posts; menus, revisions and
  other types are counted and skipped.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from syndicate.errors import SourceError, Warn
from syndicate.model import Author, Post
from syndicate.sources.feed_encoding import is_wxr, prepare_xml
from syndicate.sources.feed_item import absolute, as_blocks, names, parse_date, title_from_body
from syndicate.sources.markup import MarkupError, xml_document
from syndicate.sources.wxr_content import wordpress_html
from syndicate.text import one_line, slugify, xml_safe

__all__ = ["WxrEntry", "WxrExport", "is_wxr", "read_wxr"]

_WP = "http://wordpress.org/export/"
_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
}
_PUBLISHED = {"publish", "future"}
_DRAFTS = {"draft", "pending", "private"}
_NO_DATE = "0000-00-00 00:00:00"


@dataclass(frozen=True, slots=True)
class WxrEntry:
    post: Post
    kind: str  # "post" or "page"
    old_link: str | None  # the permalink on the old site
    wp_id: str  # wp:post_id


@dataclass(frozen=True, slots=True)
class WxrExport:
    site: str  # wp:base_blog_url (else the channel link), no trailing slash
    entries: tuple[WxrEntry, ...]
    attachments: tuple[str, ...]  # every media library file's URL
    skipped: tuple[tuple[str, int], ...]  # (what, how many) that was not imported
    shortcodes: tuple[str, ...]  # built-in shortcodes left as text


def read_wxr(
    data: bytes,
    url: str,
    tz: ZoneInfo,
    warn: Warn,
    *,
    pages: bool = False,
    modified: tuple[datetime, str] | None = None,
) -> WxrExport:
    """The posts (and with `pages`, the pages) of the export; raises SourceError when it is no export."""
    root = _document(data, url, warn)
    channel = _child(root, "", "channel")
    if channel is None or _child(channel, "wp", "wxr_version") is None:
        raise SourceError("not a WordPress export (no <wp:wxr_version>); use Tools → Export in WordPress", path=url)
    site = (_text(channel, "wp", "base_blog_url") or _text(channel, "", "link")).rstrip("/")
    authors = {
        _text(a, "wp", "author_login"): Author(
            _plain_text(_text(a, "wp", "author_display_name") or _text(a, "wp", "author_login"))
        )
        for a in _children(channel, "wp", "author")
    }
    items = list(_children(channel, "", "item"))
    media = _Library(items)
    fallback = _channel_date(channel, tz) or modified
    wanted = {"post", "page"} if pages else {"post"}
    entries: list[WxrEntry] = []
    ids: set[str] = set()
    skipped: Counter[str] = Counter()
    shortcodes: set[str] = set()
    for n, item in enumerate(items, 1):
        kind, status = _kind(item), _text(item, "wp", "status")
        if kind not in wanted or status not in _PUBLISHED | _DRAFTS:
            skipped[_skip_reason(kind, status, pages)] += 1
            continue
        entry, left = _entry(item, n, url, site, tz, authors, media, fallback, warn)
        if entry is None:
            skipped[f"{kind} without a date"] += 1
            continue
        entries.append(_distinct(entry, ids, site, warn))
        shortcodes.update(left)
    attachments = tuple(u for u in media.urls.values() if u)
    return WxrExport(site, tuple(entries), attachments, tuple(sorted(skipped.items())), tuple(sorted(shortcodes)))


class _Library:
    """The media library: each attachment's URL by its post id, and the attachments of each post in order."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.urls: dict[str, str] = {}
        attached: dict[str, list[tuple[int, int, str]]] = {}
        for item in items:
            if _kind(item) != "attachment":
                continue
            ident, url = _text(item, "wp", "post_id"), _text(item, "wp", "attachment_url").strip()
            self.urls[ident] = url
            order = (_number(_text(item, "wp", "menu_order")), _number(ident), url)
            attached.setdefault(_text(item, "wp", "post_parent").strip(), []).append(order)
        self._attached = {parent: [url for *_, url in sorted(found)] for parent, found in attached.items()}

    def gallery(self, post_id: str, ids: Sequence[str] | None) -> list[str]:
        """A [gallery]'s images: those its `ids` name, else the post's own attachments (as WordPress does)."""
        urls = [self.urls.get(i, "") for i in ids] if ids is not None else self._attached.get(post_id, [])
        return [u for u in urls if u]


def _number(text: str) -> int:
    return int(text) if text.strip().isdigit() else 0


def _distinct(entry: WxrEntry, ids: set[str], site: str, warn: Warn) -> WxrEntry:
    """The entry with an id no earlier entry has: a guid copied by a migration or a duplicating plugin
    gives way to the post's own `?p=N` address (post ids are unique), so no post is lost."""
    ident = entry.post.id
    if ident in ids and entry.wp_id:
        own = f"{site}/?p={entry.wp_id}"
        ident = own if own not in ids else f"{own}#{entry.post.slug}"
        warn(f"{entry.post.source}: its guid {entry.post.id!r} is another post's too; imported with the id {ident!r}")
        entry = replace(entry, post=replace(entry.post, id=ident))
    if ident is not None:
        ids.add(ident)
    return entry


def _document(data: bytes, url: str, warn: Warn) -> Any:
    """The export's root element. Exports often hold control characters that XML forbids (pasted from
    word processors): they are dropped. Anything else broken is read as far as it goes, with a warning."""
    prepared = prepare_xml(data, url, warn)
    text = prepared.decode("utf-8")
    clean = xml_safe(text)
    if clean != text:
        warn(f"{url}: characters that XML does not allow (control characters) were dropped")
    prepared = clean.encode("utf-8")
    try:
        return xml_document(prepared)
    except MarkupError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        try:
            root = xml_document(prepared, recover=True)
        except MarkupError:
            raise SourceError(
                f"not well-formed XML ({exc}); export it again from WordPress", path=url, line=exc.line or None
            ) from None
        warn(f"{url}: not well-formed XML{where} ({exc}); imported what could be read, check the count")
        return root


def _skip_reason(kind: str, status: str, pages: bool) -> str:
    if kind == "page" and not pages:
        return "page (pass --pages)"
    if kind == "attachment":
        return "attachment (pass --attachments with --images DIR to download the media library)"
    if kind in ("post", "page"):
        return f"{kind} with status {status or 'none'}"
    return kind or "item of no type"


def _entry(
    item: Any,
    n: int,
    url: str,
    site: str,
    tz: ZoneInfo,
    authors: dict[str, Author],
    media: _Library,
    fallback: tuple[datetime, str] | None,
    warn: Warn,
) -> tuple[WxrEntry | None, tuple[str, ...]]:
    wp_id = _text(item, "wp", "post_id")
    where = f"{url}#post-{wp_id or n}"
    body, left = wordpress_html(_text(item, "content", "encoded"), lambda ids: media.gallery(wp_id, ids))
    title = _plain_text(_text(item, "", "title")) or title_from_body(body)
    excerpt = _text(item, "excerpt", "encoded").strip() or _before_more(_text(item, "content", "encoded"))
    published = _wp_date(_text(item, "wp", "post_date"), _text(item, "wp", "post_date_gmt"), tz)
    if published is None:
        if fallback is None:
            warn(f"{where}: {title[:60]!r} has no date, and neither has the export; skipped")
            return None, ()
        published = fallback[0] - timedelta(seconds=n)
        warn(f"{where}: {title[:60]!r} has no date; dated from {fallback[1]} ({published.isoformat()})")
    updated = _wp_date(_text(item, "wp", "post_modified"), _text(item, "wp", "post_modified_gmt"), tz)
    draft = _text(item, "wp", "status") in _DRAFTS
    if _text(item, "wp", "post_password") and not draft:
        warn(f"{where}: {title[:60]!r} is password-protected in WordPress; imported as a draft, to keep it private")
        draft = True
    guid = _text(item, "", "guid").strip()
    name = unquote(_text(item, "wp", "post_name")).strip()  # WordPress stores non-ASCII slugs percent-encoded
    slug = slugify(name or title or f"post-{wp_id or n}")
    post = Post(
        source=where,
        title=title or "Untitled",
        published=published,
        slug=slug,
        body=body,
        body_format="html",
        id=guid or (f"{site}/?p={wp_id}" if wp_id else None),
        updated=updated if updated is not None and updated > published else None,
        tags=names(_terms(item, "post_tag")),
        categories=names(_terms(item, "category")),
        authors=tuple(authors.get(c, Author(one_line(c))) for c in [_text(item, "dc", "creator")] if one_line(c)),
        summary=as_blocks(wordpress_html(excerpt)[0]) if excerpt else None,
        draft=draft,
        image=absolute(media.urls.get(_meta(item, "_thumbnail_id"), ""), site) or None,
    )
    link = absolute(_text(item, "", "link"), site) or None
    return WxrEntry(post, _kind(item), link, wp_id), left


def _wp_date(local: str, gmt: str, tz: ZoneInfo) -> datetime | None:
    """A WordPress date ("2013-04-15 14:00:00", site time) with the offset its GMT twin shows; None when unset."""
    here, there = _plain(local), _plain(gmt)
    if here is not None and there is not None:
        offset = here - there
        if abs(offset) <= timedelta(hours=18) and offset % timedelta(minutes=1) == timedelta(0):
            return here.replace(tzinfo=timezone(offset) if offset else UTC)
    if there is not None:
        return there.replace(tzinfo=UTC)
    if here is not None:
        return here.replace(tzinfo=tz)
    return None


def _plain(text: str) -> datetime | None:
    text = text.strip()
    if not text or text == _NO_DATE:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None, microsecond=0)
    except ValueError:
        return None


def _channel_date(channel: Any, tz: ZoneInfo) -> tuple[datetime, str] | None:
    """When the export was made (its channel pubDate): the date for an item that has none."""
    raw = _text(channel, "", "pubDate")
    value = parse_date(raw, None, tz) if raw else None
    return (value, "the export's pubDate") if value is not None else None


def _terms(item: Any, domain: str) -> Iterable[str]:
    for element in _children(item, "", "category"):
        if element.get("domain") == domain:
            yield _plain_text(element.text or "")


def _plain_text(text: str) -> str:
    """A title or a name as one line; WordPress stores term names (and some titles) with entities (`A &amp; B`)."""
    return one_line(html.unescape(text))


def _before_more(content: str) -> str:
    """The text before `<!--more-->`, WordPress's teaser, when the post has one."""
    head, more, _ = content.partition("<!--more")
    return head.replace("<!-- wp:more -->", "").strip() if more else ""


def _meta(item: Any, key: str) -> str:
    for meta in _children(item, "wp", "postmeta"):
        if _text(meta, "wp", "meta_key") == key:
            return _text(meta, "wp", "meta_value").strip()
    return ""


def _kind(item: Any) -> str:
    return _text(item, "wp", "post_type").strip()


def _prefix(tag: object) -> tuple[str, str]:
    """("wp", "post_id") for any WXR version's namespace; ("", name) without one."""
    if not isinstance(tag, str):
        return "?", ""  # a comment or a processing instruction
    if not tag.startswith("{"):
        return "", tag
    namespace, _, local = tag[1:].partition("}")
    if namespace.startswith(_WP):
        rest = namespace[len(_WP) :]
        return ("excerpt" if rest.rstrip("/").endswith("excerpt") else "wp"), local
    return _NAMESPACES.get(namespace, "?"), local


def _children(element: Any, prefix: str, name: str) -> Iterable[Any]:
    for child in element:
        if _prefix(child.tag) == (prefix, name):
            yield child


def _child(element: Any, prefix: str, name: str) -> Any:
    return next(iter(_children(element, prefix, name)), None)


def _text(element: Any, prefix: str, name: str) -> str:
    child = _child(element, prefix, name)
    return str(child.text or "") if child is not None else ""
