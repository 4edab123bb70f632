"""One home for the URL questions every layer asks: is it http(s), has it a scheme, whose host, which tag: id.

Like `urlsplit` they raise ValueError for a malformed URL (such as "http://[::1"), so each
caller keeps deciding what a malformed URL means where it stands; only is_usable_link,
a yes-or-no check of what an author wrote, answers False instead.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

HTTP_SCHEMES = ("http", "https")
# What a link in a feed or an e-mail may point at: the sanitizer keeps only these, `syndicate check` flags the rest.
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# The default cap on one feed's bytes, from a URL or a file ([max_feed_bytes] in syndicate.toml). It lives here,
# not in config or sources/fetch, because both need it and config may not import sources.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# What the W3C validator accepts as an Atom id (RFC 2396, scheme required, ASCII only).
_FULL_URI = re.compile(r"^[A-Za-z][0-9A-Za-z+.-]*:(//)?[0-9A-Za-z;/?:@&=+$._!~*'()%,#-]+$")
_HOST = re.compile(r"^(?:[\w-]+(?:\.[\w-]+)*\.?|[0-9A-Fa-f:.]+)$")  # a name, or an IP address


def scheme_of(url: str) -> str:
    """The URL's scheme in lower case; "" for a path or a relative URL."""
    return urlsplit(url).scheme  # urlsplit lowers the scheme itself


def written_scheme(location: str) -> str:
    """scheme_of, but a malformed URL ("http://[::1") still answers with the scheme it is written with."""
    try:
        return scheme_of(location)
    except ValueError:
        head, colon, _ = location.strip().partition(":")
        return head.lower() if colon else ""


def names_http_url(location: str) -> bool:
    """URL or path? True when `location` is written as an http(s) URL, even a malformed one (reading it says so)."""
    return written_scheme(location) in HTTP_SCHEMES


def has_scheme(url: str) -> bool:
    return bool(urlsplit(url).scheme)


def is_http_url(url: str) -> bool:
    """An http(s) URL, by its scheme alone (its host is not looked at)."""
    return urlsplit(url).scheme in HTTP_SCHEMES


def written_as_absolute_http(url: str) -> bool:
    """Starts with "http://" or "https://" exactly (lower case): a link to keep as written, never joined
    again (urljoin would lower an "HTTP:" scheme and drop an empty "#"; urlsplit rejects "http://[::1")."""
    return url.startswith(("https://", "http://"))


def is_absolute_http_url(url: str) -> bool:
    """An http(s) URL with a host: what feed readers can follow from anywhere."""
    parts = urlsplit(url.strip())
    return parts.scheme in HTTP_SCHEMES and bool(parts.netloc)


def split_checked(url: str) -> SplitResult | None:
    """urlsplit, or None for a malformed URL; a port out of range counts (urlsplit checks it only when asked)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    return parts


def is_usable_link(text: str) -> bool:
    """A path, or an http(s) URL with a host a browser would accept: no spaces, controls or other schemes."""
    if not text or re.search(r"[\s\x00-\x1f\x7f]", text):
        return False
    parts = split_checked(text)
    if parts is None:
        return False
    if parts.scheme not in ("", *HTTP_SCHEMES):
        return False
    return not parts.netloc or bool(parts.hostname and _HOST.match(parts.hostname))


def is_full_uri(text: str) -> bool:
    """An absolute URI the W3C feed validator accepts as an Atom id."""
    return bool(_FULL_URI.match(text))


def host_of(url: str) -> str:
    """The URL's host name in lower case; "localhost" when it has none."""
    return urlsplit(url).hostname or "localhost"


def host_as_written(url: str) -> str:
    """The host of an absolute URL exactly as written (case kept), without port.

    Only the newsletter issues' ids use it: they have been built this way since
    the first issue, and a changed id makes every reader show the issue again.
    """
    return url.split("//", 1)[1].split("/", 1)[0].split(":")[0]


def last_path_segment(url: str) -> str:
    """The last part of the URL's path, trailing slashes ignored: the slug of most permalinks."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def tag_uri(authority: str, day: str, specific: str) -> str:
    """An RFC 4151 tag URI: `authority` (a host name), `day` (YYYY-MM-DD) and the specific part."""
    return f"tag:{authority},{day}:{specific}"
