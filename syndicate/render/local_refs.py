"""The images a Markdown post names by a path relative to its own file (page-bundle style).

Found while the source text is at hand (the entry keeps no copy of it), so the build
can warn about files that are not there; a site-absolute path ("/img/a.png") or a
URL is not a file beside the post and is left alone.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from syndicate.text import contains, finditer_from

_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_HTML_IMAGE = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def relative_images(image: str | None, body: str) -> tuple[str, ...]:
    """The post's image and its body's images that are relative paths, each once, in order."""
    candidates = [image] if image else []
    if contains(body, "![") or "<img" in body.lower():
        # the regexes tried only where a match can start: "!" and "<" are rare in Markdown
        candidates += [m[1] for m in finditer_from(_MARKDOWN_IMAGE, "!", body)]
        candidates += [m[1] for m in finditer_from(_HTML_IMAGE, "<", body)]
    found: dict[str, None] = {}
    for ref in candidates:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
            continue
        found.setdefault(unquote(parts.path), None)
    return tuple(found)
