"""The Jekyll (Liquid) and Hugo (shortcode) template habits posts carry into their Markdown."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from syndicate.model import Site
from syndicate.text import contains

# Template habits of Jekyll (Liquid) and Hugo (shortcodes) that posts carry into their Markdown.
_RAW_BLOCK = re.compile(r"{%-?\s*raw\s*-?%}(.*?){%-?\s*endraw\s*-?%}", re.S)
_HIGHLIGHT_OPEN = re.compile(r"{%-?\s*highlight\s+([\w+#.-]+)[^%]*-?%}|{{<\s*highlight\s+([\w+#.-]+)[^>]*>}}")
_HIGHLIGHT_CLOSE = re.compile(r"{%-?\s*endhighlight\s*-?%}|{{<\s*/highlight\s*>}}")
_SITE_URL = re.compile(r"{{\s*site\.url\s*}}\s*{{\s*site\.baseurl\s*}}|{{\s*site\.(?:url|baseurl)\s*}}")
_POST_URL = re.compile(r"{%-?\s*post_url\s+(?:[\w./-]*/)?(\d{4})-(\d{2})-(\d{2})-([\w.-]+?)\s*-?%}")
_URL_FILTER = re.compile(r"""{{\s*(["'])([^"']*)\1\s*\|\s*(?:relative_url|absolute_url)\s*}}""")
_FIGURE = re.compile(r"{{<\s*figure\s+([^>]*?)>}}")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def expand_site_habits(text: str, site: Site) -> str:
    """Turn the Jekyll/Hugo template tags a feed reader can't run into what they stand for:
    highlight blocks → fenced code, site.url/baseurl → the site's URL, post_url → the post's
    permalink, Hugo's figure → an image. `{% raw %}` regions are left exactly as written;
    anything else stays as text rather than be lost."""
    if not contains(text, "{%") and not contains(text, "{{"):
        return text
    base = site.url.rstrip("/")

    def post_url(m: re.Match[str]) -> str:
        path = site.permalink.format(year=m[1], month=m[2], day=m[3], slug=m[4])
        return urljoin(site.url, path.lstrip("/"))

    def figure(m: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(m[1]))
        alt = attrs.get("alt") or attrs.get("caption") or attrs.get("title") or ""
        return f"![{alt}]({attrs['src']})" if "src" in attrs else m[0]

    def convert(part: str) -> str:
        part = _HIGHLIGHT_OPEN.sub(lambda m: "```" + (m[1] or m[2]), part)
        part = _HIGHLIGHT_CLOSE.sub("```", part)
        part = _SITE_URL.sub(base, part)
        part = _URL_FILTER.sub(lambda m: urljoin(site.url, m[2].lstrip("/")), part)
        part = _POST_URL.sub(post_url, part)
        return _FIGURE.sub(figure, part)

    pieces, last = [], 0
    for m in _RAW_BLOCK.finditer(text):
        pieces += [convert(text[last : m.start()]), m[1]]
        last = m.end()
    pieces.append(convert(text[last:]))
    return "".join(pieces)
