"""Each feed format's writers: per-entry fragments (made once per post) and whole documents."""

from __future__ import annotations

from syndicate.feeds.formats import atom_document, rss_document
from syndicate.feeds.item_bytes import atom_fragments, rss_fragments
from syndicate.feeds.json_feed import json_document, json_fragments

FRAGMENTERS = {"rss": rss_fragments, "atom": atom_fragments, "json": json_fragments}
DOCUMENTS = {"rss": rss_document, "atom": atom_document, "json": json_document}
