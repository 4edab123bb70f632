"""An issue (contents.py) → the rendered newsletter issue.

Pure apart from template loading: the HTML (CSS inlined once per issue, by inline.py), the plain
text (its own template, wrapped, links as footnotes) and the web page.
Personal details are left as placeholders (placeholders.py), filled in per recipient.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from syndicate.config import Config
from syndicate.newsletter.contents import Issue, IssueDay
from syndicate.newsletter.placeholders import GREETING, MANAGE, UNSUBSCRIBE
from syndicate.newsletter.wording import digest_name, intro_text, list_name, preheader_for, span_text, subject_for
from syndicate.render.links import absolute_url
from syndicate.templating import environment, load_text
from syndicate.text import one_line

GMAIL_CLIP_BYTES = 102 * 1024
WARN_BYTES = 90 * 1024
DETAIL_LEVELS = ("full", "compact", "titles")  # the email's forms, fullest first: the first that fits is sent


@dataclass(frozen=True, slots=True)
class Rendered:
    """An issue rendered once: the email HTML (CSS inlined), the text, the web page."""

    issue: Issue
    subject: str
    preheader: str
    email_html: str  # with GREETING / UNSUBSCRIBE placeholders
    email_text: str  # likewise
    web_html: str
    web_url: str
    detail: str  # one of DETAIL_LEVELS: how much fit under Gmail's clipping limit
    warnings: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.issue.key

    @property
    def post_count(self) -> int:
        return self.issue.post_count


def archive_url(config: Config) -> str:
    """The newsletter archive's page, which lists every issue."""
    return urljoin(config.output_url, "newsletter/")


def issue_url(config: Config, key: str) -> str:
    """Where the build publishes an issue's web version. A custom window of days (a preview with
    --since/--until) is never published on its own: its link goes to the archive."""
    if ".." in key:
        return archive_url(config)
    return urljoin(config.output_url, f"newsletter/{key}/")


def subscribe_page(config: Config) -> str:
    """The build's standalone sign-up page (build/subscribe_pages.py), which issue pages link to."""
    return urljoin(config.output_url, "subscribe.html")


def subscribe_endpoint(config: Config) -> str:
    """The app's subscribe form ([digest] subscribe_url, default <site url>subscribe)."""
    return config.digest.subscribe_url.rstrip("/") or urljoin(config.site.url, "subscribe")


def manage_page(config: Config) -> str:
    """The app's manage page, beside the subscribe form; a reader's link adds their token."""
    return urljoin(subscribe_endpoint(config), "manage")


def unsubscribe_base(config: Config) -> str:
    """The unsubscribe endpoint's URL, before a recipient's token is added (subscribers/tokens.py)."""
    return config.digest.unsubscribe_url or urljoin(config.site.url, "unsubscribe")


class Footnotes:
    """Collects links for the plain-text version: `[3]` in the text, the URL at the end."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> str:
        if url not in self.urls:
            self.urls.append(url)
        return f"[{self.urls.index(url) + 1}]"


# Above this many bytes before inlining, the inlined HTML cannot fit under Gmail's limit either
# (inlining adds a style attribute to nearly every element); the margin covers entities lxml shortens.
_NOT_WORTH_INLINING = GMAIL_CLIP_BYTES * 5 // 4


def _first_posts(days: tuple[IssueDay, ...], limit: int | None) -> tuple[IssueDay, ...]:
    """The issue's days cut after `limit` posts (all of them when limit is None)."""
    if limit is None:
        return days
    kept: list[IssueDay] = []
    for day in days:
        if limit <= 0:
            break
        kept.append(IssueDay(day.day, day.entries[:limit]))
        limit -= len(kept[-1].entries)
    return tuple(kept)


def _clean(value: object) -> str:
    """A front-matter value (presenter, affiliation) as one clean line of text."""
    if isinstance(value, tuple | list):
        return ", ".join(_clean(v) for v in value)
    return one_line(str(value)) if value is not None else ""


def render_issue(config: Config, issue: Issue) -> Rendered:
    """Render all three forms; fall back to shorter forms rather than be clipped by Gmail."""
    templates = config.templates_dir
    env = environment(templates, config.words)
    css = load_text(templates, "digest.css")
    base = _template_values(config, issue)
    email = _fit_email(env.get_template("email.html").render, base, css, issue)
    notes = Footnotes()
    # the text part lists what the HTML part lists (a 5,000-post week must not become a 6 MB text part)
    text_days = _first_posts(issue.days, email.limit)
    omitted = issue.post_count - sum(len(d.entries) for d in text_days)
    email_text = env.get_template("email.txt").render(
        **base, days=text_days, omitted=omitted, detail=email.detail, link=notes, footnotes=notes
    )
    everything = {"days": issue.days, "omitted": 0}
    web_html = env.get_template("web.html").render(**base, **everything, detail="full", stylesheet=css)
    return Rendered(
        issue,
        base["subject"],
        base["preheader"],
        email.html,
        email_text,
        web_html,
        base["web_url"],
        email.detail,
        email.warnings,
    )


def _template_values(config: Config, issue: Issue) -> dict[str, Any]:
    """What every template of the issue is given (the personal parts as placeholders)."""
    words = config.words
    return {
        "site": dataclasses.replace(config.site, title=one_line(config.site.title)),
        "clean": _clean,
        "config": config,
        "issue": issue,
        "subject": subject_for(config, issue),
        "preheader": preheader_for(issue, words),
        "web_url": issue_url(config, issue.key),
        "archive_url": archive_url(config),
        "subscribe_page": subscribe_page(config),
        "span": span_text(issue, words),
        "digest_name": digest_name(issue.cadence, words),
        "list_name": list_name(issue.cadence, words),
        "intro": intro_text(issue, words),
        "greeting": GREETING,
        "unsubscribe_url": UNSUBSCRIBE,
        "manage_url": MANAGE,
        "postal_address": config.digest.postal_address,
        "sender": config.sender,
        "absolute": lambda url: absolute_url(str(url), config.site.url),
    }


@dataclass(frozen=True, slots=True)
class _FittedEmail:
    html: str  # inlined
    detail: str
    limit: int | None  # how many posts it lists (None: all)
    warnings: tuple[str, ...]


EmailTemplate = Callable[..., str]  # email.html's render method


def _email_form(
    template: EmailTemplate,
    base: dict[str, Any],
    css: str,
    issue: Issue,
    detail: str,
    limit: int | None,
    force: bool = False,
) -> tuple[str, int]:
    """The inlined email HTML and its size; ("", size) when clearly too big to be worth inlining."""
    from syndicate.newsletter.inline import inline_css  # imported here: premailer pulls in cssutils, slow at start-up

    days = _first_posts(issue.days, limit)
    shown = sum(len(d.entries) for d in days)
    html = template(**base, detail=detail, days=days, omitted=issue.post_count - shown)
    raw = len(html.encode("utf-8"))
    if not force and raw > _NOT_WORTH_INLINING:  # inlining only adds bytes: skip the slow step
        return "", raw
    inlined = inline_css(html, css)
    return inlined, len(inlined.encode("utf-8"))


def _fit_email(template: EmailTemplate, base: dict[str, Any], css: str, issue: Issue) -> _FittedEmail:
    """The fullest form of the email that fits under Gmail's clipping limit, with warnings to show."""
    size = 0
    for detail in DETAIL_LEVELS:
        email_html, size = _email_form(template, base, css, issue, detail, None)
        if size < GMAIL_CLIP_BYTES:
            warnings: tuple[str, ...] = ()
            if detail != "full":
                warnings = (
                    f"issue {issue.key}: too long for one email with summaries; sent as {detail} "
                    f"({size // 1024} KB) with links to the web version",
                )
            elif size >= WARN_BYTES:
                warnings = (f"issue {issue.key}: the email HTML is {size // 1024} KB, close to Gmail's 102 KB limit",)
            return _FittedEmail(email_html, detail, None, warnings)
    # even one line per post is too long: list as many titles as fit (aiming below the
    # warning size) and count the rest, which the web version has in full
    limit = issue.post_count
    while size >= GMAIL_CLIP_BYTES and limit > 1:
        limit = max(1, min(limit - 1, int(limit * WARN_BYTES * 0.95 / size)))
        email_html, size = _email_form(template, base, css, issue, "titles", limit)
    if not email_html:  # one absurdly long title: send it anyway
        email_html, size = _email_form(template, base, css, issue, "titles", limit, force=True)
    warning = (
        f"issue {issue.key}: {issue.post_count} posts are too many for one email ({size // 1024} KB for the "
        f"first {limit} titles); the rest are counted and linked to the web version"
    )
    return _FittedEmail(email_html, "titles", limit, (warning,))
