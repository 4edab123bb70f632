"""Each entry's RSS <item> and Atom <entry>, written straight as bytes: the same bytes feedgen gives.

feedgen (feeds/formats.py) stays the authority: it builds an lxml tree per item in
Python and pretty-prints it, where writing the same bytes from a template costs 4-8x less
(bench/items_bench.py; checking and escaping the post's HTML, done in C, is most of what is
left). tests/test_feeds_items.py holds the two equal on generated
entries of every shape. What is copied from feedgen 1.0.0 and lxml, and must stay so:
- the element order of FeedEntry.rss_entry/atom_entry, then the extensions in the order
  they were loaded (dc, media, then our AtomEnclosures);
- feedgen's Atom entry link keeps only href (it reads rel/type from the new element);
- lxml escapes &, < and > in text and also " and tab/LF/CR in attributes; CR in text
  as &#13;; an empty text is <x></x>, and pretty-printing indents two spaces a level;
- RSS plain-text elements then take hexadecimal references (formats.rss_text_refs);
- pubDate is strftime("%a, %d %b %Y %H:%M:%S %z") in the C locale, Atom dates isoformat().
An entry this module does not write the same way for certain (text XML cannot carry, an empty
title, id, link, summary or author name, a naive date) goes through feedgen, which writes it
or raises as before: rare, so the speed of the rest is what counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from syndicate.feeds.formats import atom_fragments as feedgen_atom_fragments
from syndicate.feeds.formats import rss_fragments as feedgen_rss_fragments
from syndicate.feeds.item_fields import atom_id, authors_or_fallback, categorized, full_html, media_type_of
from syndicate.model import Author, Entry
from syndicate.text import xml_safe

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ZONES: dict[timedelta, str] = {}


def rfc822(moment: datetime) -> str:
    """What feedgen's formatRFC2822 gives, without its setlocale calls (process-wide, and slow)."""
    offset = moment.utcoffset()
    assert offset is not None  # callers send naive times to feedgen
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES[offset] = moment.strftime("%z")  # Python's own %z: no locale in it
    year = str(moment.year) if moment.year >= 1000 else moment.strftime("%Y")  # as the platform pads it
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} {year} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {zone}"
    )


def _escaped(value: str, amp: str, lt: str) -> str:
    for raw, ref in (("&", amp), ("<", lt), (">", "&gt;"), ("\r", "&#13;")):
        if raw in value:  # most values hold none: a search is cheaper than a replace
            value = value.replace(raw, ref)
    return value


def _text(value: str) -> str:
    """Element text as lxml escapes it."""
    return _escaped(value, "&amp;", "&lt;")


def _rss_text(value: str) -> str:
    """Text of an RSS plain-text element: lxml's escaping, then rss_text_refs' hexadecimal references."""
    return _escaped(value, "&#x26;", "&#x3C;")


def _attr(value: str) -> str:
    """An attribute value as lxml escapes it (double-quoted)."""
    value = _text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\t" in value:
        value = value.replace("\t", "&#9;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    return value


def _html_bytes(html: str) -> bytes:
    """A post's HTML as element text: escaped on the UTF-8 bytes (the escaped characters are ASCII,
    never part of a multibyte sequence), where bytes.replace is fastest."""
    data = html.encode("utf-8")
    data = data.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
    return data.replace(b"\r", b"&#13;") if b"\r" in data else data


def _writable(entry: Entry, content: str, authors: Sequence[Author], strings: list[str]) -> bool:
    """True when this module writes the entry exactly as feedgen would (see the module's docstring)."""
    if not (entry.title and entry.id and entry.link and entry.summary_html):
        return False
    if entry.published.utcoffset() is None or entry.updated.utcoffset() is None:
        return False
    if not all(a.name for a in authors):
        return False
    # xml_safe gives back the very string when it is clean. One check over every short string;
    # the post's HTML on its own, not copied into the join
    return xml_safe(joined := "\n".join(strings)) is joined and (not content or xml_safe(content) is content)


def _short_strings(entry: Entry, authors: Sequence[Author], base: str) -> list[str]:
    strings = [entry.title, entry.id, entry.link, entry.summary_html, base, entry.image or ""]
    strings += entry.post.categories
    strings += entry.post.tags
    for a in authors:
        strings += (a.name, a.email or "", a.url or "")
    for e in entry.post.enclosures:
        strings += (e.url, e.type)
    return strings


def _media(entry: Entry, indent: str) -> str:
    if not entry.image:
        return ""
    url = _attr(entry.image)
    media_type = media_type_of(entry.image)
    typed = f' type="{_attr(media_type)}"' if media_type.startswith("image/") else ""
    return f'{indent}<media:content url="{url}"{typed} medium="image"/>\n{indent}<media:thumbnail url="{url}"/>\n'


def rss_item(entry: Entry, full_content: bool, fallback: Author, category_base: str) -> bytes | None:
    """The entry's <item> as feedgen and rss_text_refs write it; None when feedgen must write it."""
    content = full_html(entry, full_content)
    authors = authors_or_fallback(entry, fallback)
    if not _writable(entry, content, authors, _short_strings(entry, authors, category_base)):
        return None
    permalink = "true" if entry.id == entry.link else "false"
    head = (
        f"    <item>\n      <title>{_rss_text(entry.title)}</title>\n      <link>{_text(entry.link)}</link>\n"
        f"      <description>{_rss_text(entry.summary_html)}</description>\n"
    )
    tail = [f'      <guid isPermaLink="{permalink}">{_text(entry.id)}</guid>\n']
    for category in categorized(entry, category_base):
        domain = f' domain="{_attr(category["scheme"])}"' if "scheme" in category else ""
        tail.append(f"      <category{domain}>{_rss_text(category['term'])}</category>\n")
    if entry.post.enclosures:
        enc = entry.post.enclosures[0]
        tail.append(
            f'      <enclosure url="{_attr(enc.url)}" length="{_attr(str(enc.length))}" type="{_attr(enc.type)}"/>\n'
        )
    tail.append(f"      <pubDate>{rfc822(entry.published)}</pubDate>\n")
    tail += [f"      <dc:creator>{_rss_text(a.name)}</dc:creator>\n" for a in authors]
    tail += (_media(entry, "      "), "    </item>\n")
    if not content:
        return (head + "".join(tail)).encode("utf-8")
    html = b"      <content:encoded>" + _html_bytes(content) + b"</content:encoded>\n"
    return b"".join((head.encode("utf-8"), html, "".join(tail).encode("utf-8")))


def _atom_author(author: Author) -> str:
    email = f"      <email>{_text(author.email)}</email>\n" if author.email else ""
    uri = f"      <uri>{_text(author.url)}</uri>\n" if author.url else ""
    return f"    <author>\n      <name>{_text(author.name)}</name>\n{email}{uri}    </author>\n"


def atom_entry(entry: Entry, full_content: bool, fallback: Author, category_base: str) -> bytes | None:
    """The entry's <entry> as feedgen writes it; None when feedgen must write it."""
    content = full_html(entry, full_content)
    authors = authors_or_fallback(entry, fallback)
    if not _writable(entry, content, authors, _short_strings(entry, authors, category_base)):
        return None
    head = [
        f"  <entry>\n    <id>{_text(atom_id(entry))}</id>\n    <title>{_text(entry.title)}</title>\n",
        f"    <updated>{entry.updated.isoformat()}</updated>\n",
    ]
    head += [_atom_author(a) for a in authors]
    tail = [
        f'    <link href="{_attr(entry.link)}"/>\n',
        f'    <summary type="html">{_text(entry.summary_html)}</summary>\n',
    ]
    for category in categorized(entry, category_base):
        scheme = f' scheme="{_attr(category["scheme"])}"' if "scheme" in category else ""
        tail.append(f'    <category term="{_attr(category["term"])}"{scheme}/>\n')
    tail += (f"    <published>{entry.published.isoformat()}</published>\n", _media(entry, "    "))
    for enc in entry.post.enclosures:
        length = f' length="{enc.length}"' if enc.length else ""
        tail.append(f'    <link href="{_attr(enc.url)}" rel="enclosure" type="{_attr(enc.type)}"{length}/>\n')
    tail.append("  </entry>\n")
    if not content:
        return ("".join(head) + "".join(tail)).encode("utf-8")
    html = b'    <content type="html">' + _html_bytes(content) + b"</content>\n"
    return b"".join(("".join(head).encode("utf-8"), html, "".join(tail).encode("utf-8")))


def rss_fragments(
    entries: Sequence[Entry], *, full_content: bool, fallback: Author, category_base: str = ""
) -> list[bytes]:
    """One serialized <item> per entry, in the given order."""
    made = [rss_item(e, full_content, fallback, category_base) for e in entries]
    return _with_feedgen(made, entries, feedgen_rss_fragments, full_content, fallback, category_base)


def atom_fragments(
    entries: Sequence[Entry], *, full_content: bool, fallback: Author, category_base: str = ""
) -> list[bytes]:
    """One serialized <entry> per entry, in the given order."""
    made = [atom_entry(e, full_content, fallback, category_base) for e in entries]
    return _with_feedgen(made, entries, feedgen_atom_fragments, full_content, fallback, category_base)


def _with_feedgen(
    made: list[bytes | None],
    entries: Sequence[Entry],
    reference: Callable[..., list[bytes]],
    full_content: bool,
    fallback: Author,
    category_base: str,
) -> list[bytes]:
    """The items written here, with feedgen's for the entries left to it (None)."""
    left = [i for i, item in enumerate(made) if item is None]
    if left:
        by_feedgen = reference(
            [entries[i] for i in left], full_content=full_content, fallback=fallback, category_base=category_base
        )
        for i, item in zip(left, by_feedgen, strict=True):
            made[i] = item
    return [item for item in made if item is not None]
