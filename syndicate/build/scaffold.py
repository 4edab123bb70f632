"""`syndicate init` and `syndicate new`: files a user starts from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from syndicate.config import CONFIG_NAME, Config
from syndicate.errors import SyndicateError
from syndicate.output import atomic_write
from syndicate.text import slugify

CONFIG_TEMPLATE = """\
[site]
title = {title}
url = {url}
description = "Notes and articles"
language = "en"
timezone = "UTC"
author = {{ name = "Your Name", email = "you@example.org" }}
permalink = "/{{year}}/{{month}}/{{day}}/{{slug}}/"

[content]
posts = "posts"

[output]
dir = "public"

[feeds]
formats = ["rss", "atom", "json"]
max_items = 20
full_content = true
"""


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def init_site(directory: Path, title: str, url: str) -> list[Path]:
    config = directory / CONFIG_NAME
    if config.exists():
        raise SyndicateError("already a site here; edit it instead", path=config)
    atomic_write(config, CONFIG_TEMPLATE.format(title=_yaml_string(title), url=_yaml_string(url)).encode("utf-8"))
    first = directory / "posts" / "hello-world.md"
    body = (
        "---\n"
        "title: Hello, world\n"
        "date: 2024-01-01 09:00:00\n"
        "tags: [meta]\n"
        "---\n"
        "The first post. Everything above the line below is the summary.\n\n"
        "<!-- more -->\n\n"
        "Write in Markdown; run `syndicate build` to make the feeds.\n"
    )
    atomic_write(first, body.encode("utf-8"))
    return [config, first]


def new_post(
    config: Config, title: str, when: datetime, tags: Sequence[str], categories: Sequence[str], draft: bool
) -> Path:
    markdown_dirs = [Path(s.location) for s in config.sources if s.kind == "markdown"]
    if not markdown_dirs:
        raise SyndicateError("this site has no Markdown posts folder", path=config.path)
    slug = slugify(title)
    path = markdown_dirs[0] / f"{when:%Y-%m-%d}-{slug}.md"
    if path.exists():
        raise SyndicateError("a post with this name already exists; choose another title", path=path)
    lines = ["---", f"title: {_yaml_string(title)}", f"date: {when:%Y-%m-%d %H:%M:%S}", f"slug: {slug}"]
    if tags:
        lines.append("tags: [" + ", ".join(_yaml_string(t) for t in tags) + "]")
    if categories:
        lines.append("categories: [" + ", ".join(_yaml_string(c) for c in categories) + "]")
    if draft:
        lines.append("draft: true")
    lines += ["---", "", "A one-paragraph summary of the post.", "", "<!-- more -->", "", "The rest of the post.", ""]
    atomic_write(path, "\n".join(lines).encode("utf-8"))
    return path
