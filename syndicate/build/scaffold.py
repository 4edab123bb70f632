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

# What init writes when it is not told: `send` refuses to send while any of them is left (see placeholders_left).
PLACEHOLDER_NAME = "Your Name"
PLACEHOLDER_EMAIL = "you@example.org"
PLACEHOLDER_POSTAL = "Your postal address (the law wants one in every newsletter)"

CONFIG_TEMPLATE = """\
[site]
title = {title}
url = {url}
description = "Notes and articles"
language = {language}
timezone = {timezone}
author = {{ name = {name}, email = {email} }}
permalink = "/{{year}}/{{month}}/{{day}}/{{slug}}/"
# the sender's postal address, shown at the foot of every newsletter (CAN-SPAM and the like ask for it)
postal_address = {postal}

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


# What git should not offer to commit: the build cache and the subscriber database (with SQLite's side files).
GITIGNORE = """\
# written by syndicate init: the build cache and the subscribers' addresses stay out of git
.syndicate-cache/
subscribers.sqlite3
subscribers.sqlite3-*
"""


def init_site(
    directory: Path,
    title: str,
    url: str,
    *,
    author: str | None = None,
    email: str | None = None,
    timezone: str = "UTC",
    postal_address: str | None = None,
    language: str = "en",
) -> list[Path]:
    """syndicate.toml, .gitignore (unless there is one) and a first post; what is not given is a
    placeholder that `send` refuses to send with."""
    config = directory / CONFIG_NAME
    if config.exists():
        raise SyndicateError("already a site here; edit it instead", path=config)
    text = CONFIG_TEMPLATE.format(
        title=_yaml_string(title),
        url=_yaml_string(url),
        timezone=_yaml_string(timezone),
        language=_yaml_string(language),
        name=_yaml_string(author or PLACEHOLDER_NAME),
        email=_yaml_string(email or PLACEHOLDER_EMAIL),
        postal=_yaml_string(postal_address or PLACEHOLDER_POSTAL),
    )
    atomic_write(config, text.encode("utf-8"))
    created = [config]
    ignore = directory / ".gitignore"
    if not ignore.exists():  # never touch a file syndicate did not write
        atomic_write(ignore, GITIGNORE.encode("utf-8"))
        created.append(ignore)
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
    return [*created, first]


def placeholders_left(config: Config) -> list[str]:
    """What still holds one of init's placeholders, each with the key to set; empty when ready to send."""
    left = []
    sender = config.sender
    if sender.email == PLACEHOLDER_EMAIL:
        left.append("[site] author email (the address the newsletter comes from)")
    if sender.name == PLACEHOLDER_NAME:
        left.append("[site] author name")
    if PLACEHOLDER_POSTAL in (config.digest.postal_address or ""):
        left.append("[site] postal_address")
    return left


def split_names(values: Sequence[str]) -> list[str]:
    """`--tag "Python, Rust"` as front matter reads it: commas separate names."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def new_post(
    config: Config, title: str, when: datetime, tags: Sequence[str], categories: Sequence[str], draft: bool
) -> Path:
    markdown_dirs = [Path(s.location) for s in config.sources if s.kind == "markdown"]
    if not markdown_dirs:
        raise SyndicateError("this site has no Markdown posts folder", path=config.path)
    slug = slugify(title, config.site.language)
    tags, categories = split_names(tags), split_names(categories)
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
