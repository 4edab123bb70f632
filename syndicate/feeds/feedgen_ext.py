"""feedgen extensions for what feedgen 1.0 cannot write itself (with formats.py, the only
modules building on feedgen): RSS atom:link elements besides self, Atom enclosure links,
and a post's image as Media RSS through feedgen's own media extension."""

from __future__ import annotations

import mimetypes
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from syndicate.model import Entry


class RssAtomLinks(BaseExtension):  # type: ignore[misc]
    """atom:link elements other than rel="self" in an RSS channel (hubs, archives): feedgen
    1.0 writes only the self link there."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        for rel, href in self.links:
            etree.SubElement(channel, "{http://www.w3.org/2005/Atom}link", {"href": href, "rel": rel})
        return rss


FH = "http://purl.org/syndication/history/1.0"


class ArchiveMark(BaseExtension):  # type: ignore[misc]
    """<fh:archive/>: RFC 5005 marks an archive document so a reader does not take it for the feed."""

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH}

    def _mark(self, parent: Any) -> None:
        etree.SubElement(parent, f"{{{FH}}}archive")

    def extend_atom(self, feed: Any) -> Any:
        self._mark(feed)
        return feed

    def extend_rss(self, rss: Any) -> Any:
        self._mark(rss.find("channel"))
        return rss


class AtomEnclosures(BaseEntryExtension):  # type: ignore[misc]
    """Atom enclosure links. feedgen 1.0 drops rel/type/length of entry links
    (its atom_entry rebinds `link` to the new element before reading them), so an
    enclosure would come out as a second alternate link."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str, int]] = []

    def extend_atom(self, entry: Any) -> Any:
        for url, media_type, length in self.links:
            attrs = {"href": url, "rel": "enclosure", "type": media_type}
            if length:
                attrs["length"] = str(length)
            etree.SubElement(entry, "link", attrs)  # feedgen writes Atom elements unqualified under a literal xmlns
        return entry


def _media_type(url: str) -> str:
    return mimetypes.guess_type(url.split("?", 1)[0].split("#", 1)[0], strict=False)[0] or ""


def add_media(fe: FeedEntry, entry: Entry) -> None:
    """The post's image as Media RSS (RSS and Atom): a thumbnail for readers' lists, the content for the item."""
    if not entry.image:
        return
    media_type = _media_type(entry.image)
    content = {
        "url": entry.image,
        "medium": "image",
        **({"type": media_type} if media_type.startswith("image/") else {}),
    }
    fe.media.content(content, group=None)
    fe.media.thumbnail({"url": entry.image}, group=None)
