"""Feed bytes → UTF-8 XML that feedparser can trust: the real encoding, and no entity declarations.

Encodings: a BOM decides; otherwise bytes that are valid UTF-8 (and not plain
ASCII) are UTF-8 whatever the XML declaration says, bytes declared UTF-8 that
are not are windows-1252, and anything else is what it declares. The HTTP
charset is not consulted: servers get it wrong more often than feeds do.

Safety: a DOCTYPE with an internal subset (where entities are declared) is
removed before anything parses the XML, so entity bombs and external entities
(XXE) are never expanded.
"""

from __future__ import annotations

import codecs
import re

from syndicate.errors import Warn

_XML_DECLARATION = re.compile(r"""^(\s*<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
_DECLARED = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_PROLOG_TOKEN = re.compile(r"""\s+|<\?.*?\?>|<!--.*?-->""", re.S)
_DOCTYPE_TOKEN = re.compile(r"""[^"'\[\]<>]+|"[^"]*"|'[^']*'|<!--.*?-->|.""", re.S)
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)


def is_wxr(data: bytes) -> bool:
    """Whether the bytes are a WordPress export (WXR): its namespace is declared on the root element."""
    head = data[:16384]
    return b"wordpress.org/export/" in head and b"<rss" in head


def prepare_xml(data: bytes, url: str, warn: Warn) -> bytes:
    """UTF-8 bytes with a truthful XML declaration and no DOCTYPE internal subset."""
    text = _decode(data, url, warn)
    text, had_entities = _strip_internal_subset(text)
    if had_entities:
        warn(
            f"{url}: the feed declares its own XML entities (<!DOCTYPE … [<!ENTITY …>]>); "
            "they were ignored, not expanded"
        )
    text = _XML_DECLARATION.sub(r"\1\2utf-8\2", text, count=1)
    return text.encode("utf-8", "replace")


def _decode(data: bytes, url: str, warn: Warn) -> str:
    """Bytes → text: the BOM, then what the bytes really are, then the declared encoding.

    Bytes that are valid UTF-8 and not plain ASCII are UTF-8 whatever the
    declaration says (a legacy encoding almost never produces valid UTF-8 by
    chance); bytes declared as UTF-8 that are not are read as windows-1252.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    if data[:4] in (b"<\x00?\x00", b"<\x00\x00\x00"):
        return data.decode("utf-16-le" if data[:4] == b"<\x00?\x00" else "utf-32-le", "replace")
    if data[:4] in (b"\x00<\x00?", b"\x00\x00\x00<"):
        return data.decode("utf-16-be" if data[:4] == b"\x00<\x00?" else "utf-32-be", "replace")
    declared_name = None
    match = _DECLARED.match(data[:1024])
    declared = None
    if match:
        declared_name = match.group(1).decode("ascii")
        try:
            declared = codecs.lookup(declared_name).name
        except LookupError:
            warn(f"{url}: declares the unknown encoding {declared_name!r}; reading it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared not in (None, "utf-8") and not declared.startswith(("utf-16", "utf-32")) and not data.isascii():
            warn(f"{url}: declares {declared_name} but is UTF-8; read as UTF-8")
        return text
    if declared is not None and declared != "utf-8":
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    said = declared_name or "UTF-8 (no encoding declared)"
    try:
        text = data.decode("cp1252")
        warn(f"{url}: declares {said} but is not; read as windows-1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        warn(f"{url}: declares {said} but is not; read as ISO-8859-1")
    return text


def _strip_internal_subset(text: str) -> tuple[str, bool]:
    """Remove a DOCTYPE that has an internal subset; say whether it declared entities.

    Only the prolog is scanned (up to the root element). The removed text is
    replaced by as many newlines, so line numbers in messages stay right.
    """
    pos = 0
    if text.startswith("\ufeff"):
        pos = 1
    while True:
        match = _PROLOG_TOKEN.match(text, pos)
        if match is None:
            break
        pos = match.end()
    if text[pos : pos + 9].upper() != "<!DOCTYPE":
        return text, False
    start, pos = pos, pos + 9
    subset = False
    in_subset = False
    while pos < len(text):
        token = _DOCTYPE_TOKEN.match(text, pos)
        assert token is not None  # the pattern's last branch matches any character
        piece = token.group(0)
        pos = token.end()
        if piece == "[" and not in_subset:
            in_subset = subset = True
        elif piece == "]" and in_subset:
            in_subset = False
        elif piece == ">" and not in_subset:
            break
    if not subset:
        return text, False
    removed = text[start:pos]
    return text[:start] + "\n" * removed.count("\n") + text[pos:], "<!ENTITY" in removed.upper()
