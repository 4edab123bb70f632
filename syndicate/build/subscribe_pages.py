"""The build's part in signing up: a standalone subscribe.html, an embeddable form
(subscribe-form.html) for the blog's own templates, both posting to the app's
subscribe URL, and the site's tags (subscribe-tags.json), which the app offers on its
forms without reading the posts itself.

The built forms carry no signed timestamp (a page written once cannot say when it was
served), so the app answers their post with one more button of its own (web/subscribe.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from syndicate.config import Config
from syndicate.model import Entry
from syndicate.newsletter.issue import archive_url
from syndicate.output import OutputPlan
from syndicate.subscribers.signing import subscribe_base
from syndicate.templating import render

PAGE = "subscribe.html"
SNIPPET = "subscribe-form.html"
TAGS = "subscribe-tags.json"
MAX_TAG_BYTES = 1024 * 1024  # the app reads the list on requests: a bounded read


def site_tags(entries: Iterable[Entry]) -> list[str]:
    """Every tag of the site's posts, once however it is capitalised (the first spelling met), sorted."""
    seen: dict[str, str] = {}
    for entry in entries:
        for tag in entry.post.tags:
            seen.setdefault(tag.casefold(), tag)
    return sorted(seen.values(), key=str.casefold)


def plan_subscribe_pages(config: Config, entries: Iterable[Entry], plan: OutputPlan) -> None:
    tags = site_tags(entries)
    form = {"action": subscribe_base(config), "stamp": "", "tags": tags, "chosen": [], "email": "", "reader_name": ""}
    page = render(
        config.templates_dir,
        PAGE,
        config.words,
        site=config.site,
        form_name="subscribe-page",
        message="",
        archive_url=archive_url(config) if config.digest.enabled else "",
        **form,
    )
    plan.add(PAGE, page.encode("utf-8"), "the subscribe page")
    snippet = render(config.templates_dir, SNIPPET, config.words, site=config.site, form_name="embedded", **form)
    plan.add(SNIPPET, snippet.encode("utf-8"), "the embeddable subscribe form")
    data = json.dumps({"tags": tags}, ensure_ascii=False, indent=1) + "\n"
    plan.add(TAGS, data.encode("utf-8"), "the tags the subscribe forms offer")


def published_tags(output_dir: Path) -> list[str]:
    """The tags the last build found (empty before the first build, or when the file is unreadable)."""
    try:
        with (output_dir / TAGS).open("rb") as handle:
            data = json.loads(handle.read(MAX_TAG_BYTES))
    except (OSError, ValueError):
        return []
    tags = data.get("tags") if isinstance(data, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
