"""`import --images DIR`: the posts' images downloaded beside the site, and their links pointed there.

Each image is fetched like a feed (sources/fetch.py: http(s) only, timeouts, a
size cap held while it streams in, at most 5 redirects), then kept only when its
first bytes are those of a raster image (JPEG, PNG, GIF, WebP, AVIF, BMP, ICO);
SVG is not downloaded, as it can carry scripts. The file is named after the
URL's last part plus a short hash of the whole URL, so one URL is one file:
a rerun finds it there and downloads nothing, and two images called
`image.jpg` never collide. A file of that name is never overwritten. An image
that cannot be had keeps its original link, with one warning.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from syndicate.errors import FetchError, Warn
from syndicate.output import atomic_write
from syndicate.sources.fetch import Limits, fetch
from syndicate.sources.markup import with_image_sources
from syndicate.text import short_hash, slugify
from syndicate.urls import is_absolute_http_url

DEFAULT_MAX_IMAGE_BYTES = 10 * 1024 * 1024
_KINDS = (
    (re.compile(rb"^\xff\xd8\xff"), ".jpg"),
    (re.compile(rb"^\x89PNG\r\n\x1a\n"), ".png"),
    (re.compile(rb"^GIF8[79]a"), ".gif"),
    (re.compile(rb"^RIFF....WEBP", re.S), ".webp"),
    (re.compile(rb"^....ftypavi[fs]", re.S), ".avif"),
    (re.compile(rb"^BM"), ".bmp"),
    (re.compile(rb"^\x00\x00\x01\x00"), ".ico"),
)
_EXTENSIONS = {ext for _, ext in _KINDS} | {".jpeg"}


class ImageDownloads:
    """Downloads each image once into `folder` and answers the link that replaces its URL."""

    def __init__(
        self,
        folder: Path,
        url_prefix: str,
        warn: Warn,
        *,
        max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        dry_run: bool = False,
    ) -> None:
        self.folder = folder
        self._prefix = url_prefix if url_prefix.endswith("/") else url_prefix + "/"
        self._warn = warn
        self._limits = Limits(max_bytes=max_bytes)
        self._dry_run = dry_run
        self._links: dict[str, str | None] = {}
        self.downloaded = 0
        self.present = 0
        self.failed = 0

    def rewrite(self, fragment: str) -> str:
        """The HTML with every http(s) <img src> pointing at its downloaded copy."""
        return with_image_sources(fragment, self.link)

    def link(self, url: str) -> str | None:
        """The new link for the image at `url` (downloading it the first time); None to keep the original."""
        url = url.strip()
        if not is_absolute_http_url(url):
            return None
        if url not in self._links:
            self._links[url] = self._fetch(url)
        return self._links[url]

    def _fetch(self, url: str) -> str | None:
        stem = _stem(url)
        there = (
            sorted(p for p in self.folder.glob(f"{stem}.*") if p.suffix in _EXTENSIONS) if self.folder.is_dir() else []
        )
        if there:
            self.present += 1
            return self._prefix + there[0].name
        if self._dry_run:
            self.downloaded += 1
            suffix = Path(urlsplit(url).path).suffix.lower()
            return self._prefix + stem + (suffix if suffix in _EXTENSIONS else ".jpg")
        try:
            data = fetch(url, limits=self._limits).data
        except FetchError as exc:
            self.failed += 1
            self._warn(f"image not downloaded, its link kept: {exc}")
            return None
        kind = next((ext for pattern, ext in _KINDS if pattern.match(data[:16])), None)
        if kind is None:
            self.failed += 1
            self._warn(f"{url}: not a JPEG, PNG, GIF, WebP, AVIF, BMP or ICO image; not downloaded, its link kept")
            return None
        atomic_write(self.folder / f"{stem}{kind}", data, durable=False)
        self.downloaded += 1
        return self._prefix + f"{stem}{kind}"

    def summary(self) -> str:
        verb = "would download" if self._dry_run else "downloaded"
        return (
            f"images: {self.downloaded} {verb}, {self.present} already there, {self.failed} kept at their "
            f"old address → {self.folder}"
        )


def _stem(url: str) -> str:
    """The file name (without extension) for the image at `url`: its own name, made safe, and a hash of the URL."""
    name = Path(unquote(urlsplit(url).path)).stem
    return f"{(slugify(name) or 'image')[:60]}-{short_hash(url, 8)}"
