"""A post's link and id: absolute URLs readers can follow, and ids that survive edits."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from syndicate.model import Post, Site
from syndicate.render.sanitize import usable_base
from syndicate.text import xml_safe
from syndicate.urls import HTTP_SCHEMES, host_of, scheme_of, tag_uri


def _followable(url: str, base: str) -> str | None:
    """`url` made absolute against `base`, or None when that is no http(s)/mailto URL a reader can use."""
    try:
        joined = urljoin(base, url.strip())
        scheme = scheme_of(joined)
    except ValueError:  # such as an unclosed IPv6 bracket
        return None
    if scheme == "mailto" or (scheme in HTTP_SCHEMES and usable_base(joined)):
        return joined
    return None


def absolute_url(url: str, base: str) -> str:
    """`url` made absolute against `base`; `base` itself when the result is no URL a reader can use."""
    return _followable(url, base) or base


def post_link(post: Post, site: Site) -> str:
    """Front-matter (or feed) url made absolute, else the site's permalink pattern (also when the url
    is unusable, such as a feed item's link with a space in its host)."""
    link = _followable(post.url, site.url) if post.url else None
    if link is not None:
        return link
    local = post.published.astimezone(site.timezone)
    path = site.permalink.format(
        year=f"{local.year:04d}", month=f"{local.month:02d}", day=f"{local.day:02d}", slug=post.slug
    )
    path = path.lstrip("/")
    if _PLAIN_PATH.fullmatch(path) and _joins_plainly(site.url):
        return site.url + path  # what urljoin gives, without its parsing (a few µs a post)
    return urljoin(site.url, path)


# Relative paths urljoin only appends: no scheme (":"), no query or fragment, no empty or dot segments.
_SEGMENT = r"[A-Za-z0-9_~%!$&'()*+,;=@-][A-Za-z0-9._~%!$&'()*+,;=@-]*"
_PLAIN_PATH = re.compile(rf"(?:{_SEGMENT}/)*(?:{_SEGMENT})?")


@lru_cache(maxsize=64)
def _joins_plainly(base: str) -> bool:
    """True when urljoin(base, path) is base + path for every path _PLAIN_PATH matches: a base
    ending in "/", with no query, fragment, dot or empty segments, and a lowercase scheme."""
    return urljoin(base, "x/y") == base + "x/y"


@lru_cache(maxsize=64)
def _site_authority(site_url: str) -> tuple[str, str]:
    prefix = urlsplit(site_url).path.strip("/")
    return host_of(site_url), (prefix + "/" if prefix else "")


def post_id(post: Post, site: Site) -> str:
    """The explicit id, else an RFC 4151 tag URI from domain, first publication date and slug.

    Never from the title or the output location, so editing a title or moving
    the output keeps the id; renaming a slug changes it unless `id:` is set.
    """
    if post.id:
        return xml_safe(post.id)
    domain, prefix = _site_authority(site.url)
    day = post.published.astimezone(site.timezone).date().isoformat()
    return tag_uri(domain, day, f"{prefix}{post.slug}")
