"""`syndicate import`: an existing feed or a WordPress export → one Markdown file per post, in sequence.

Fetch the source; a WordPress export (WXR) is read by sources/wxr.py, a feed
with its whole history by sources/feed_history.py. Then plan where each post
goes and whether import may write there (build/import_plan.py), make each
file's text (sources/markdown_file.py, its HTML sanitized by render's sanitizer,
its images pointed at their downloaded copies with --images), and write. A WXR
import also writes the redirect map from the old permalinks
(build/import_redirects.py). Writes are atomic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.build.import_images import DEFAULT_MAX_IMAGE_BYTES, ImageDownloads
from syndicate.build.import_plan import ORIGIN_KEY, Action, PlannedFile, plan_import, same_origin
from syndicate.build.import_redirects import redirect_pairs, refuse_foreign, write_redirects
from syndicate.errors import SourceError, SyndicateError, Warn
from syndicate.model import Author, Post, Site
from syndicate.output import atomic_write
from syndicate.render.sanitize import sanitize_html
from syndicate.sources.feed import modified_time
from syndicate.sources.feed_history import DEFAULT_MAX_PAGES, read_feed_history
from syndicate.sources.fetch import Fetched, Limits, fetch, is_url
from syndicate.sources.markdown_file import post_markdown
from syndicate.sources.wxr import WxrExport, is_wxr, read_wxr
from syndicate.sources.yaml_text import dump_front_matter
from syndicate.urls import DEFAULT_MAX_BYTES, is_http_url

__all__ = ["ImportExtras", "ImportResult", "PlannedFile", "import_feed", "imported_markdown"]

WXR_MAX_BYTES = 1024 * 1024 * 1024

# A base for items with no absolute link of their own, taken back out after sanitizing.
_NO_BASE = "https://syndicate-import.invalid/"


@dataclass(frozen=True, slots=True)
class ImportExtras:
    """What a move needs beyond the posts themselves; every part optional."""

    pages: bool = False  # WordPress pages too
    attachments: bool = False  # every media-library file into `images`
    images: Path | None = None  # download the posts' images here
    images_url: str | None = None  # the link that the folder is served at (default: its path from `root`)
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    redirects: Path | None = None  # the folder for the redirect map (default: `root`; neither: no map)
    max_pages: int = DEFAULT_MAX_PAGES
    site: Site | None = None  # the new site, for the new links in the redirect map
    root: Path | None = None  # the site's folder (the command line: the site's, else the current folder)
    look_in: tuple[Path, ...] = ()  # the site's other posts folders: their ids may not be taken


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str
    files: tuple[PlannedFile, ...]
    errors: tuple[SyndicateError, ...]
    dry_run: bool
    notes: tuple[str, ...] = field(default=())  # what else happened, one line each

    def count(self, action: Action) -> int:
        return sum(1 for f in self.files if f.action == action)


@dataclass(frozen=True, slots=True)
class _Read:
    posts: list[Post]
    errors: list[SyndicateError]
    origin: str
    base: str | None  # for relative links
    notes: list[str]
    export: WxrExport | None = None


def import_feed(
    source: str,
    into: Path,
    *,
    tz: ZoneInfo,
    warn: Warn,
    max_bytes: int = DEFAULT_MAX_BYTES,
    dry_run: bool = False,
    assume_date: bool = False,
    durable: bool = True,
    extras: ImportExtras | None = None,
) -> ImportResult:
    """Read the feed or export at `source` and write (or, with dry_run, only plan) its posts as Markdown in `into`."""
    extras = extras or ImportExtras()
    if into.exists() and not into.is_dir():
        raise SourceError("is a file; --into needs a folder", path=into)
    if extras.attachments and extras.images is None:
        raise SourceError("--attachments downloads into the --images folder; give --images DIR too", path=source)
    fetched = _fetch_source(source, max_bytes)
    read = (
        _read_export(fetched, tz, warn, extras)
        if is_wxr(fetched.data)
        else _read_feed(fetched, source, tz, warn, max_bytes, assume_date, extras)
    )
    redirects = extras.redirects or extras.root
    if read.export is not None and redirects is not None and not dry_run:
        refuse_foreign(redirects)  # before anything is written or downloaded
    images = _image_downloads(extras, warn, dry_run)
    origin = same_origin(read.origin)
    plan, refused = plan_import(
        read.posts,
        into,
        tz,
        warn,
        origin=origin,
        text_of=lambda post: imported_markdown(post, read.base, origin=origin, images=images).encode("utf-8"),
        look_in=extras.look_in,
    )
    notes = list(read.notes)
    if images is not None and extras.attachments and read.export is not None:
        for url in read.export.attachments:
            images.link(url)
    if not dry_run:
        written = 0
        for planned, data in plan:
            if planned.action != "unchanged":
                # each file atomic; durability for the whole import comes from one sync at the end
                atomic_write(planned.path, data, durable=False)
                written += 1
        if durable and (written or (images is not None and images.downloaded)):
            os.sync()
    if read.export is not None and redirects is not None:
        notes.extend(_redirect_map(read.export, tz, extras, redirects, origin, dry_run))
    if images is not None:
        notes.append(images.summary())
    errors = (*read.errors, *refused)
    return ImportResult(source, tuple(p for p, _ in plan), errors, dry_run, tuple(notes))


def _fetch_source(source: str, max_bytes: int) -> Fetched:
    """The source's bytes under max_feed_bytes; a local WordPress export, which a person made and big
    blogs grow past any feed's size, may be up to WXR_MAX_BYTES."""
    cap = max_bytes
    if not is_url(source):
        try:
            path = Path(source)
            if path.is_file() and path.stat().st_size > max_bytes:
                with path.open("rb") as handle:
                    cap = max(max_bytes, WXR_MAX_BYTES) if is_wxr(handle.read(16384)) else max_bytes
        except OSError:
            pass  # fetch says what is wrong with it
    return fetch(source, limits=Limits(max_bytes=cap))


def _read_feed(
    fetched: Fetched, source: str, tz: ZoneInfo, warn: Warn, max_bytes: int, assume_date: bool, extras: ImportExtras
) -> _Read:
    history = read_feed_history(
        fetched,
        source,
        tz,
        warn,
        limits=Limits(max_bytes=max_bytes),
        assume_date=assume_date,
        max_pages=extras.max_pages,
    )
    notes = []
    if len(history.pages) > 1:
        items = sum(len(p.items) for p in history.pages)
        notes.append(f"read {len(history.pages)} pages of the feed, {items} items in all")
    base = fetched.url if is_http_url(fetched.url) else None
    return _Read(history.posts, history.errors, history.origin, base, notes)


def _read_export(fetched: Fetched, tz: ZoneInfo, warn: Warn, extras: ImportExtras) -> _Read:
    export = read_wxr(fetched.data, fetched.url, tz, warn, pages=extras.pages, modified=modified_time(fetched))
    notes = [f"not imported: {count} × {what}" for what, count in export.skipped]
    if export.shortcodes:
        listed = ", ".join(f"[{name}]" for name in export.shortcodes)
        notes.append(f"left as text, as they need WordPress to show: {listed}")
    origin = export.site or fetched.url
    base = export.site + "/" if is_http_url(export.site) else None
    return _Read([e.post for e in export.entries], [], origin, base, notes, export)


def _image_downloads(extras: ImportExtras, warn: Warn, dry_run: bool) -> ImageDownloads | None:
    if extras.images is None:
        return None
    prefix = extras.images_url
    if prefix is None:
        try:
            root = (extras.root or Path(".")).resolve()
            prefix = "/" + extras.images.resolve().relative_to(root).as_posix() + "/"
        except ValueError:
            prefix = f"/{extras.images.name}/"
    return ImageDownloads(extras.images, prefix, warn, max_bytes=extras.max_image_bytes, dry_run=dry_run)


def _redirect_map(
    export: WxrExport, tz: ZoneInfo, extras: ImportExtras, folder: Path, origin: str, dry_run: bool
) -> list[str]:
    if extras.site is None and not is_http_url(export.site):
        return ["no redirect map: the export names no site address (wp:base_blog_url) and no site was given"]
    site = extras.site or Site(
        title="", url=export.site + "/", description="", language="en", timezone=tz, author=Author("")
    )
    pairs = redirect_pairs(export.entries, site)
    if dry_run:
        return [f"would write {len(pairs)} redirects to {folder}"]
    written = write_redirects(folder, pairs, origin)
    shown = " and ".join(str(p) for p in written) if written else f"{folder} (unchanged)"
    return [f"redirects: {len(pairs)} old addresses → {shown}"]


def imported_markdown(
    post: Post, feed_base: str | None = None, *, origin: str | None = None, images: ImageDownloads | None = None
) -> str:
    """The Markdown file for one imported post, its HTML sanitized with every URL made absolute.

    The post's own link is the base for relative URLs, else the feed's address.
    With `images`, images point at their downloaded copies.
    """
    base = post.url if post.url and is_http_url(post.url) else feed_base
    if images is not None and post.image:
        post = replace(post, image=images.link(post.image) or post.image)

    def clean(fragment: str) -> str:
        cleaned = _sanitize(fragment, base)
        return images.rewrite(cleaned) if images is not None else cleaned

    text = post_markdown(post, clean)
    more: dict[str, object] = {}
    if post.draft and "\ndraft:" not in text.split("\n---\n", 1)[0]:
        more["draft"] = True
    if origin is not None:
        more[ORIGIN_KEY] = origin
    if not more:
        return text
    end = text.index("\n---\n") + 1  # the closing fence of the front matter
    return text[:end] + dump_front_matter(more) + text[end:]


def _sanitize(fragment: str, base: str | None) -> str:
    if base:
        return sanitize_html(fragment, base)
    # no absolute address to resolve against: keep relative URLs relative to the site's root
    return sanitize_html(fragment, _NO_BASE).replace(_NO_BASE, "/")
