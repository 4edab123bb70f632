"""Each feed format's per-entry fragments, made once per post (whole documents: documents.py)."""

from __future__ import annotations

from syndicate.feeds.item_bytes import atom_fragments, rss_fragments
from syndicate.feeds.json_feed import json_fragments

FRAGMENTERS = {"rss": rss_fragments, "atom": atom_fragments, "json": json_fragments}
