"""lxml for reading markup from outside: the one module that parses with it.

(feedgen and premailer hand out lxml trees of their own; their adapters, feeds/formats.py
and newsletter/inline.py, touch those trees and parse nothing.) XML is parsed without
entity expansion, DTD loading or network access: feeds come from strangers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree
from lxml import html as lxml_html


class MarkupError(ValueError):
    """Not well-formed; `line` is where the parser gave up (0 when unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


def html_fragment(fragment: str) -> Any:
    """An HTML fragment as an element tree under one <div>; MarkupError when it cannot be parsed."""
    try:
        return lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError) as exc:
        raise MarkupError(str(exc)) from None


def with_absolute_links(fragment: str, base: str) -> str:
    """The fragment with every link resolved against `base` (links that cannot be resolved dropped);
    the fragment unchanged when it cannot be parsed."""
    try:
        root = html_fragment(fragment)
    except MarkupError:
        return fragment
    root.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    text: str = lxml_html.tostring(root, encoding="unicode")
    return text[len("<div>") : -len("</div>")]


def with_image_sources(fragment: str, change: Callable[[str], str | None]) -> str:
    """The fragment with each <img src> that `change` answers for replaced; unchanged when nothing
    changed or it cannot be parsed. (Run after the sanitizer, which has dropped srcset already.)"""
    try:
        root = html_fragment(fragment)
    except MarkupError:
        return fragment
    changed = False
    for image in root.iter("img"):
        new = change(image.get("src") or "")
        if new is not None:
            image.set("src", new)
            changed = True
    if not changed:
        return fragment
    text: str = lxml_html.tostring(root, encoding="unicode")
    return text[len("<div>") : -len("</div>")]


def xml_document(data: bytes, *, recover: bool = False) -> Any:
    """The root element of an XML document, parsed safely; MarkupError with the line when not well-formed.

    With `recover`, what can be read of a broken document is read (libxml2 skips what it cannot).
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=recover)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MarkupError(str(exc.msg), exc.lineno or 0) from None
    if root is None:  # recover found nothing at all
        raise MarkupError("no element could be read")
    return root


def has_internal_subset(root: Any) -> bool:
    """Whether the document declares a DOCTYPE with an internal subset (where entities are declared)."""
    return root.getroottree().docinfo.internalDTD is not None


def local_name(element: Any) -> str:
    return str(etree.QName(element).localname)
