"""Small pure text helpers every layer may use: safe slugs and clean one-line text."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from slugify import slugify as _slugify

# XML 1.0 forbids C0 controls except tab/LF/CR, surrogates and U+FFFE/U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Invisible characters that can disguise a title: bidi overrides/isolates, zero-width, BOM.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

# Characters with meaning in tag names that would otherwise vanish from a slug.
_SLUG_REPLACEMENTS = [["+", "-plus"], ["#", "-sharp"], ["&", "-and-"], ["@", "-at-"]]
_RESERVED = {"con", "prn", "aux", "nul", "index", "tags", "categories", "newsletter"}
_RESERVED |= {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
MAX_SLUG = 80


_C0_FORBIDDEN = tuple(chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))


def _surely_clean(text: str) -> bool:
    """True when `text` has nothing _XML_FORBIDDEN matches, found without the regex (which costs
    ~35 µs on a 10 KB post and ran several times a post): one C-level search per control
    character, and surrogates and U+FFFE/U+FFFF can only be in a string that is not ASCII."""
    if any(c in text for c in _C0_FORBIDDEN):
        return False
    if text.isascii():
        return True
    if "\ufffe" in text or "\uffff" in text:
        return False
    try:
        text.encode("utf-8")  # fails on a lone surrogate
    except UnicodeEncodeError:
        return False
    return True


def xml_safe(text: str) -> str:
    """Remove the characters XML 1.0 cannot carry at all."""
    return text if _surely_clean(text) else _XML_FORBIDDEN.sub("", text)


_ONE_PLAIN_LINE = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII, single spaces: one_line keeps it as it is


def one_line(text: str) -> str:
    """A title or name as one clean line: no controls, no invisible tricks, single spaces."""
    if _ONE_PLAIN_LINE.fullmatch(text):  # most names and titles; a send cleans two per message
        return text
    return _one_line(text)


def _one_line(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return " ".join(xml_safe(text).split())  # runs of whitespace (str.isspace, as regex \s) as one space


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


# Letters a language spells out in ASCII its own way (German Über is Ueber, not Uber).
_LANGUAGE_LETTERS: dict[str, list[list[str]]] = {
    "de": [["Ä", "Ae"], ["Ö", "Oe"], ["Ü", "Ue"], ["ä", "ae"], ["ö", "oe"], ["ü", "ue"], ["ß", "ss"]],
    "da": [["Æ", "Ae"], ["Ø", "Oe"], ["Å", "Aa"], ["æ", "ae"], ["ø", "oe"], ["å", "aa"]],
    "nb": [["Æ", "Ae"], ["Ø", "Oe"], ["Å", "Aa"], ["æ", "ae"], ["ø", "oe"], ["å", "aa"]],
    "sv": [["Ä", "Ae"], ["Ö", "Oe"], ["Å", "Aa"], ["ä", "ae"], ["ö", "oe"], ["å", "aa"]],
}
_KANA = re.compile("[\u3040-\u30ff]")  # hiragana and katakana: Japanese and nothing else
_HAN = re.compile("[\u3400-\u9fff]")


def _romaji(text: str) -> str:
    """Japanese in Hepburn romaji, word by word (pykakasi, loaded only when needed: it takes ~0.7 s)."""
    return " ".join(part["hepburn"] or part["orig"] for part in _kakasi().convert(text))


@lru_cache(maxsize=1)
def _kakasi() -> Any:
    import pykakasi

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]


def _language_of(text: str, language: str) -> str:
    """The language a name is written in, as far as it matters for its slug: kana say Japanese
    whatever the site's language; otherwise the language given (a post's or the site's)."""
    base = language.strip().lower().replace("_", "-").split("-")[0]
    if _KANA.search(text):
        return "ja"
    if base == "nn" or base == "no":
        return "nb"
    return base


@lru_cache(maxsize=1 << 16)  # tag names repeat across thousands of posts
def slugify(name: str, language: str = "") -> str:
    """A readable, path-safe slug: lowercase ASCII letters, digits and single hyphens.

    Transliterated by the name's language where that is known: Japanese as romaji
    (日本語 → nihongo, where the default would read the characters as Chinese),
    German umlauts as ae/oe/ue. Never empty, never a reserved or special path name;
    a name with nothing readable in it (such as ``..``) gets a short hash so it stays unique.
    """
    text = one_line(name)
    spoken = _language_of(text, language)
    replacements = _SLUG_REPLACEMENTS + _LANGUAGE_LETTERS.get(spoken, [])
    if spoken == "ja" and (_KANA.search(text) or _HAN.search(text)):
        text = _romaji(text)
    full = _slugify(text, replacements=replacements)
    slug = full
    if len(full) > MAX_SLUG:  # shortened: a hash of the whole name keeps long names that share a start apart
        head = _slugify(full, max_length=MAX_SLUG - 9, word_boundary=True) or full[: MAX_SLUG - 9].strip("-")
        slug = f"{head}-{short_hash(name)}"
    if not slug:
        return "x-" + short_hash(name)
    if slug in _RESERVED:
        return f"{slug}-{short_hash(name, 4)}"
    return slug


# A numeric character reference, such as &#11; or &#xFFFE;
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _drop_forbidden_ref(match: re.Match[str]) -> str:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    if code == 0 or code > 0x10FFFF or xml_safe(chr(code)) == "":
        return ""
    return match.group(0)


def contains(text: str, needle: str, tries: int = 8) -> bool:
    """`needle in text` for a short needle whose first character is rare: `in` scans a 10 KB post
    for two characters in ~10 µs, str.find for one (memchr) in a fraction of that."""
    first = needle[0]
    at = text.find(first)
    while at >= 0 and tries:
        if text.startswith(needle, at):
            return True
        tries -= 1
        at = text.find(first, at + 1)
    return at >= 0 and text.find(needle, at) >= 0


def drop_forbidden_refs(text: str) -> str:
    """Remove references to characters XML forbids: cmark crashes on &#xFFFE;, and
    every HTML parser turns &#11; back into the raw character a feed cannot carry."""
    return _CHAR_REF.sub(_drop_forbidden_ref, text) if contains(text, "&#") else text


def finditer_from(pattern: re.Pattern[str], literal: str, text: str, tries: int = 32) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)` for a pattern whose every match starts with `literal` (not empty):
    str.find (memchr, for one character) jumps to each place a match can start, where the regex
    engine tries every position in turn. After `tries` places the regex engine goes on alone, so a
    text full of `literal` costs no more than before. Each match is tried on the whole text, so
    anchors and look-behinds keep their meaning."""
    at = text.find(literal)
    while at >= 0:
        if tries == 0:
            yield from pattern.finditer(text, at)
            return
        tries -= 1
        match = pattern.match(text, at)
        if match is None:
            at = text.find(literal, at + 1)
        else:
            yield match
            at = text.find(literal, match.end())


def sub_from(pattern: re.Pattern[str], literal: str, replace: Callable[[re.Match[str]], str], text: str) -> str:
    """`pattern.sub(replace, text)` through finditer_from (every match starts with `literal`)."""
    pieces: list[str] = []
    last = 0
    for match in finditer_from(pattern, literal, text):
        pieces += (text[last : match.start()], replace(match))
        last = match.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)
