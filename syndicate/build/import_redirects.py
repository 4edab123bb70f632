"""The redirect map of a move off WordPress: each old permalink (and `?p=N` address) → the post's new link.

Written in two forms, both read by their servers as they are:

- `redirects.nginx`: a `map` of `$request_uri` for the http block, with the one
  line for the server block in its header;
- `_redirects`: Netlify's (and Cloudflare Pages') format, `/old  /new  301`;
  the `?p=N` forms as `/  p=N  /new  301`, Netlify's query-parameter match.

Only published posts are mapped (a draft has no public address), and only those
whose address changes. New links come from the site's permalink pattern
(render/links.post_link): a path when the new site is on the old host, the full
URL when not. A file of either name that syndicate did not write (it opens with
our header) is never overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from syndicate.errors import SourceError
from syndicate.model import Site
from syndicate.output import atomic_write
from syndicate.render.links import post_link
from syndicate.sources.wxr import WxrEntry

NGINX_NAME = "redirects.nginx"
NETLIFY_NAME = "_redirects"
_HEADER = "# Written by syndicate import"
_SAFE = re.compile(r"^/[\x21-\x7e]*$")  # no spaces, quotes or control characters in what a server reads


def redirect_pairs(entries: Sequence[WxrEntry], site: Site) -> list[tuple[str, str]]:
    """(old path with its query, new path or URL) for each published post whose address changes."""
    new_host = urlsplit(site.url).netloc.lower()
    pairs: dict[str, str] = {}
    for entry in entries:
        if entry.post.draft:
            continue
        new = post_link(entry.post, site)
        target = urlsplit(new)
        shown = target.path + (f"?{target.query}" if target.query else "") if target.netloc.lower() == new_host else new
        if not _SAFE.match(shown.replace("https://", "/").replace("http://", "/")):
            continue
        for old in (entry.old_link, entry.post.id):
            old_path = _path_of(old)
            if old_path is not None and old_path not in pairs and old_path != shown and _SAFE.match(old_path):
                pairs[old_path] = shown
    return sorted(pairs.items())


def _path_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def nginx_text(pairs: Sequence[tuple[str, str]], origin: str) -> str:
    lines = [
        f"{_HEADER} from {origin}.",
        "# Include this file in nginx's http block, and add to the old site's server block:",
        "#     if ($syndicate_redirect) { return 301 $syndicate_redirect; }",
        "map $request_uri $syndicate_redirect {",
        '    default "";',
    ]
    for old, new in pairs:
        if "$" in old + new:  # nginx would read it as a variable
            continue
        lines.append(f'    "{old}" "{new}";')
        if old.endswith("/") and len(old) > 1 and "?" not in old:
            lines.append(f'    "{old.rstrip("/")}" "{new}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def netlify_text(pairs: Sequence[tuple[str, str]], origin: str) -> str:
    lines = [f"{_HEADER} from {origin}: old WordPress addresses → new ones (Netlify, Cloudflare Pages)."]
    for old, new in pairs:
        path, _, query = old.partition("?")
        if query and ("&" in query or "=" not in query):
            continue  # one parameter is all a rule can match exactly
        lines.append(f"{path}  {query}  {new}  301" if query else f"{old}  {new}  301")
    return "\n".join(lines) + "\n"


def write_redirects(folder: Path, pairs: Sequence[tuple[str, str]], origin: str) -> list[Path]:
    """Both files in `folder`; raises SourceError when one is there and was not written by syndicate."""
    refuse_foreign(folder)
    texts = {folder / NGINX_NAME: nginx_text(pairs, origin), folder / NETLIFY_NAME: netlify_text(pairs, origin)}
    written = []
    for path, text in texts.items():
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            atomic_write(path, data)
            written.append(path)
    return written


def refuse_foreign(folder: Path) -> None:
    """Raise SourceError when either file is in `folder` and syndicate did not write it (checked before any write)."""
    for path in (folder / NGINX_NAME, folder / NETLIFY_NAME):
        if path.exists() and not _ours(path):
            raise SourceError(
                "is not a file syndicate wrote, so it was left as it is; pass --redirects with another folder",
                path=path,
            )


def _ours(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(_HEADER)) == _HEADER.encode()
    except OSError:
        return False
