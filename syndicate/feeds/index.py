"""The pages that help a reader subscribe: index.html (with autodiscovery) and an OPML list."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from syndicate.language import Language
from syndicate.model import Site
from syndicate.templating import render


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One written feed, as a reader would subscribe to it."""

    title: str
    url: str
    media_type: str
    format: str  # rss, atom, json
    group: str  # "site", "tags", "categories", "authors", "newsletter"
    name: str  # the tag or category name; the site title for the site feeds
    count: int  # items in the feed


def index_page(site: Site, feeds: Sequence[FeedLink], templates: Path | None, words: Language) -> bytes:
    return render(templates, "index.html", words, site=site, feeds=feeds).encode("utf-8")


def opml_document(site: Site, feeds: Sequence[FeedLink], words: Language) -> bytes:
    """OPML 2.0 listing every feed once (Atom preferred, then RSS), grouped by kind."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = words.gettext("%(site)s: all feeds", site=site.title)
    body = ET.SubElement(root, "body")
    labels = {
        "site": site.title,
        "categories": words.gettext("Categories"),
        "tags": words.gettext("Tags"),
        "authors": words.gettext("Authors"),
        "newsletter": words.gettext("Newsletter"),
    }
    preferred: dict[tuple[str, str], FeedLink] = {}
    rank = {"atom": 0, "rss": 1, "json": 2}
    for feed in feeds:
        key = (feed.group, feed.name)
        if key not in preferred or rank[feed.format] < rank[preferred[key].format]:
            preferred[key] = feed
    for group in labels:
        chosen = [f for (g, _), f in preferred.items() if g == group]
        if not chosen:
            continue
        outline = ET.SubElement(body, "outline", text=labels[group], title=labels[group])
        for feed in chosen:
            ET.SubElement(
                outline,
                "outline",
                type="rss",
                text=feed.title,
                title=feed.title,
                xmlUrl=feed.url,
                htmlUrl=site.url,
            )
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + document + b"\n"
