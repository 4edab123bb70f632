"""reStructuredText posts, Pelican's default format (the only module importing docutils).

As Pelican reads them: the document's title is the post's title, the field list
right under it (`:date:`, `:tags:`, `:category:`, `:slug:`, `:authors:`,
`:summary:`, `:status:` …) is its metadata, and the rest is the body, written
as HTML here. docutils runs with file insertion, raw HTML and its config files
off, and says nothing on stderr: a post comes from the blog, not from us.
"""

from __future__ import annotations

import html
from typing import Any

from docutils import nodes
from docutils.core import publish_doctree, publish_parts
from docutils.utils import SystemMessage
from docutils.writers.html5_polyglot import Writer as HTMLWriter

from syndicate.errors import SourceError

_SETTINGS: dict[str, Any] = {
    "file_insertion_enabled": False,  # `.. include::` would read any file on the machine
    "raw_enabled": False,
    "_disable_config": True,
    "report_level": 5,  # no messages on stderr
    "halt_level": 5,
    "warning_stream": False,
    "doctitle_xform": True,  # the first section title is the document's
    "docinfo_xform": True,  # the field list under it is its metadata
    "input_encoding": "unicode",
    "syntax_highlight": "none",  # no pygments classes in feeds
    "math_output": "HTML",
    "initial_header_level": 2,
}
# docinfo fields docutils turns into elements of their own; every other field stays a `field`
_LIST_FIELDS = ("authors",)


def read_rst(text: str, path: str) -> tuple[dict[str, Any], str]:
    """(metadata, body as HTML) of a reStructuredText post; keys are lower case, as Pelican's."""
    try:
        tree = publish_doctree(text, settings_overrides=_SETTINGS)
        body = publish_parts(text, writer=HTMLWriter(), settings_overrides=_SETTINGS)["fragment"]
    except (SystemMessage, ValueError, AttributeError, IndexError) as exc:  # what docutils raises on bad markup
        raise SourceError(f"reStructuredText: {' '.join(str(exc).split())}", path=path) from None
    meta: dict[str, Any] = {}
    title = tree.get("title")
    if title:
        meta["title"] = title
    for info in tree.findall(nodes.docinfo):
        for item in info.children:
            name, value = _docinfo_item(item)
            if name:
                meta[name] = value
    if "summary" in meta:  # the body is HTML, so its summary is too
        meta["summary"] = html.escape(str(meta["summary"]), quote=False)
    meta["format"] = "html"
    return meta, body


def _docinfo_item(item: nodes.Node) -> tuple[str, Any]:
    if isinstance(item, nodes.field):
        name_node, body_node = item.children[0], item.children[1]
        return name_node.astext().strip().lower(), body_node.astext().strip()
    if isinstance(item, nodes.Element):
        name = item.tagname.lower()
        if name in _LIST_FIELDS:
            return name, [child.astext().strip() for child in item.children]
        return name, item.astext().strip()
    return "", None
