"""`syndicate check`: parse every feed in a folder back and check it strictly.

Each feed is read three ways: as XML by lxml (well-formed, no entity
expansion, no network), by feedparser (what a feed reader sees), and by our
own rules, stricter than the formats require, so a feed that passes here
passes the W3C validator and every reader we know of:

- RSS 2.0: channel title, link and description; an atom:link rel="self";
  every item with a title, an absolute link, a guid and an RFC 822 pubDate.
- Atom 1.0: feed id, title, updated, self link and author; every entry with an
  id, a title, an RFC 3339 updated and an absolute alternate link.
- JSON Feed 1.1: version, title, items with id, url, content_html or
  content_text and an RFC 3339 date_published.
- In every format: ids unique within the feed, and only absolute URLs in the
  href and src attributes inside content.

Problems come out one per line: "path: item N: what is wrong".
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from syndicate.feeds.formats import FILE_NAMES
from syndicate.sources.markup import MarkupError, has_internal_subset, html_fragment, local_name, xml_document
from syndicate.urls import HTTP_SCHEMES, SAFE_SCHEMES, is_absolute_http_url, is_full_uri, scheme_of

FEED_SUFFIXES = (".xml", ".json", ".rss", ".atom", ".rdf")
ATOM = "{http://www.w3.org/2005/Atom}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
RSS1 = "{http://purl.org/rss/1.0/}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1.1", "https://jsonfeed.org/version/1")

_RFC822 = re.compile(
    r"^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|GMT|UT|EST|EDT|CST|CDT|MST|MDT|PST|PDT)$"
)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


def check_directory(folder: Path) -> tuple[list[str], int]:
    """Every problem in every feed below `folder`, and how many feeds were checked."""
    problems: list[str] = []
    count = 0
    for path in find_feed_files(folder):
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror}")
            continue
        found = check_feed(data, path.name)
        if found is None:
            continue  # an XML or JSON file that is not a feed
        count += 1
        problems.extend(f"{path}: {problem}" for problem in found)
    return problems, count


def find_feed_files(folder: Path) -> list[Path]:
    """Candidate feed files below folder in a stable order; hidden files and folders skipped."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(
            Path(dirpath) / name
            for name in sorted(filenames)
            if not name.startswith(".") and name.lower().endswith(FEED_SUFFIXES)
        )
    return found


def check_feed(data: bytes, name: str) -> list[str] | None:
    """The problems of one feed file; None when the file is not a feed at all (and not named like one)."""
    known = name in FILE_NAMES.values()
    if name.lower().endswith(".json") or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return _check_json(data, known)
    return _check_xml(data, name, known)


# ---------------------------------------------------------------- helpers


def is_rfc822(value: str) -> bool:
    if not _RFC822.match(value):
        return False
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    weekday = value[:3] if value[3:4] == "," else None
    return weekday is None or moment.strftime("%a") == weekday


def is_rfc3339(value: str) -> bool:
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def html_url_problems(fragment: str) -> list[str]:
    """Relative or unsafe URLs in the href and src attributes of an HTML fragment."""
    if "href" not in fragment and "src" not in fragment:
        return []
    try:
        root = html_fragment(fragment)
    except MarkupError:
        return ["content is not parseable HTML"]
    problems = []
    for element in root.iter():
        for attribute in ("href", "src"):
            value = element.get(attribute)
            if value is None:
                continue
            scheme = scheme_of(value.strip())
            if not scheme:
                problems.append(f"relative URL {value!r} in content ({attribute}); feed readers need absolute URLs")
            elif scheme not in SAFE_SCHEMES:
                problems.append(f"unsafe URL {value[:60]!r} in content ({attribute})")
            elif scheme in HTTP_SCHEMES and not is_absolute_http_url(value):
                problems.append(f"URL {value!r} in content has no host ({attribute})")
    return problems


def _duplicates(ids: Iterable[tuple[int, str]]) -> Iterator[str]:
    first: dict[str, int] = {}
    for n, ident in ids:
        if ident in first:
            yield f"item {n}: id {ident!r} repeats item {first[ident]}'s; ids must be unique"
        else:
            first.setdefault(ident, n)


# ---------------------------------------------------------------- XML (RSS, Atom, RSS 1.0)


def _text(element: Any, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _check_xml(data: bytes, name: str, known: bool) -> list[str] | None:
    try:
        root = xml_document(data)
    except MarkupError as exc:
        if not known and not re.search(rb"<(?:rss|feed|rdf:RDF)\b", data[:4096]):
            return None
        return [f"not well-formed XML: {exc} (line {exc.line})"]
    problems: list[str] = []
    if has_internal_subset(root):
        problems.append("has a DOCTYPE with an internal subset (entity declarations); feed readers may refuse it")
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == "rss":
        problems.extend(_check_rss(root))
    elif tag == f"{ATOM}feed":
        problems.extend(_check_atom(root))
    elif tag == f"{RDF}RDF":
        problems.extend(_check_rdf(root))
    elif known:
        return [f"root element <{local_name(root)}> is not rss, feed or rdf:RDF: not a feed"]
    else:
        return None
    from syndicate.sources.rss_atom import feedparser_problems  # imported lazily: feedparser is slow to import

    problems.extend(feedparser_problems(data))
    return problems


def _check_rss(root: Any) -> list[str]:
    problems: list[str] = []
    if root.get("version") != "2.0":
        problems.append(f"rss version is {root.get('version')!r}, expected '2.0'")
    channel = root.find("channel")
    if channel is None:
        return [*problems, "no <channel>"]
    for field in ("title", "link", "description"):
        if not _text(channel, field):
            problems.append(f"channel has no {field}")
    link = _text(channel, "link")
    if link and not is_absolute_http_url(link):
        problems.append(f"channel link {link!r} is not an absolute URL")
    problems += _self_link_problems(channel, 'channel has no <atom:link rel="self">')
    for field in ("pubDate", "lastBuildDate"):
        value = _text(channel, field)
        if value and not is_rfc822(value):
            problems.append(f"channel {field} {value!r} is not an RFC 822 date")
    ids: list[tuple[int, str]] = []
    for n, item in enumerate(channel.findall("item"), 1):
        where = f"item {n}"
        if not _text(item, "title"):
            problems.append(f"{where}: no title")
        link = _text(item, "link")
        if not link:
            problems.append(f"{where}: no link")
        elif not is_absolute_http_url(link):
            problems.append(f"{where}: link {link!r} is not an absolute URL")
        guid = item.find("guid")
        guid_text = (guid.text or "").strip() if guid is not None else ""
        if not guid_text:
            problems.append(f"{where}: no guid")
        else:
            ids.append((n, guid_text))
            if guid.get("isPermaLink", "true") == "false" and guid_text.isdigit() and len(guid_text) < 9:
                problems.append(f"{where}: guid {guid_text!r} is a short number, not unique enough for feed readers")
            if guid.get("isPermaLink", "true") != "false" and not is_absolute_http_url(guid_text):
                problems.append(
                    f'{where}: guid {guid_text!r} is a permalink but not an absolute URL; add isPermaLink="false"'
                )
        date = _text(item, "pubDate")
        if not date:
            problems.append(f"{where}: no pubDate")
        elif not is_rfc822(date):
            problems.append(f"{where}: pubDate {date!r} is not an RFC 822 date")
        for enclosure in item.findall("enclosure"):
            if not is_absolute_http_url(enclosure.get("url", "")):
                problems.append(f"{where}: enclosure url {enclosure.get('url')!r} is not an absolute URL")
            if not (enclosure.get("length") or "").isdigit():
                problems.append(f"{where}: enclosure length {enclosure.get('length')!r} is not a number of bytes")
            if not enclosure.get("type"):
                problems.append(f"{where}: enclosure has no type")
        for field in ("description", CONTENT_ENCODED):
            problems.extend(f"{where}: {p}" for p in html_url_problems(_text(item, field)))
    problems.extend(_duplicates(ids))
    return problems


def _atom_alternate(entry: Any) -> str | None:
    for link in entry.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate":
            return str(link.get("href", ""))
    return None


def _check_atom(root: Any) -> list[str]:
    problems: list[str] = []
    for field in ("id", "title", "updated"):
        if not _text(root, f"{ATOM}{field}"):
            problems.append(f"feed has no {field}")
    updated = _text(root, f"{ATOM}updated")
    if updated and not is_rfc3339(updated):
        problems.append(f"feed updated {updated!r} is not an RFC 3339 date")
    problems += _self_link_problems(root, 'feed has no <link rel="self">')
    entries = root.findall(f"{ATOM}entry")
    feed_author = bool(_text(root, f"{ATOM}author/{ATOM}name"))
    if not feed_author and not all(_text(e, f"{ATOM}author/{ATOM}name") for e in entries):
        problems.append("feed has no author (and not every entry has one)")
    ids: list[tuple[int, str]] = []
    for n, entry in enumerate(entries, 1):
        where = f"item {n}"
        ident = _text(entry, f"{ATOM}id")
        if not ident:
            problems.append(f"{where}: no id")
        else:
            ids.append((n, ident))
            if not is_full_uri(ident):
                problems.append(f"{where}: id {ident!r} is not a full URI (such as a tag: URI or an absolute URL)")
        if not _text(entry, f"{ATOM}title"):
            problems.append(f"{where}: no title")
        for field, required in (("updated", True), ("published", False)):
            value = _text(entry, f"{ATOM}{field}")
            if not value:
                if required:
                    problems.append(f"{where}: no {field}")
            elif not is_rfc3339(value):
                problems.append(f"{where}: {field} {value!r} is not an RFC 3339 date")
        link = _atom_alternate(entry)
        if link is None:
            problems.append(f"{where}: no alternate link")
        elif not is_absolute_http_url(link):
            problems.append(f"{where}: alternate link {link!r} is not an absolute URL")
        for field in ("content", "summary"):
            element = entry.find(f"{ATOM}{field}")
            if element is not None and element.get("type") == "html":
                problems.extend(f"{where}: {p}" for p in html_url_problems(element.text or ""))
    problems.extend(_duplicates(ids))
    return problems


def _check_rdf(root: Any) -> list[str]:
    problems: list[str] = []
    channel = root.find(f"{RSS1}channel")
    if channel is None:
        return ["no RSS 1.0 <channel>"]
    for field in ("title", "link", "description"):
        if not _text(channel, f"{RSS1}{field}"):
            problems.append(f"channel has no {field}")
    ids: list[tuple[int, str]] = []
    for n, item in enumerate(root.findall(f"{RSS1}item"), 1):
        if not _text(item, f"{RSS1}title"):
            problems.append(f"item {n}: no title")
        link = _text(item, f"{RSS1}link")
        if not is_absolute_http_url(link):
            problems.append(f"item {n}: link {link!r} is not an absolute URL")
        ids.append((n, item.get(f"{RDF}about", "")))
        problems.extend(f"item {n}: {p}" for p in html_url_problems(_text(item, CONTENT_ENCODED)))
    problems.extend(_duplicates((n, i) for n, i in ids if i))
    return problems


# ---------------------------------------------------------------- JSON Feed


def _check_json(data: bytes, known: bool) -> list[str] | None:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return [f"not valid JSON: {exc}"] if known else None
    if not isinstance(document, dict) or "jsonfeed.org/version/" not in str(document.get("version", "")):
        return ["not a JSON Feed (no jsonfeed.org version)"] if known else None
    problems: list[str] = []
    version = document.get("version")
    if version not in JSON_FEED_VERSIONS:
        problems.append(f"version {version!r} is not {JSON_FEED_VERSIONS[0]!r}")
    if not isinstance(document.get("title"), str) or not document["title"].strip():
        problems.append("feed has no title")
    for field in ("home_page_url", "feed_url"):
        value = document.get(field)
        if value is not None and not (isinstance(value, str) and is_absolute_http_url(value)):
            problems.append(f"{field} {value!r} is not an absolute URL")
    items = document.get("items")
    if not isinstance(items, list):
        return [*problems, "no items list"]
    ids: list[tuple[int, str]] = []
    for n, item in enumerate(items, 1):
        where = f"item {n}"
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object")
            continue
        problems.extend(f"{where}: {p}" for p in _json_item_problems(item))
        if isinstance(item.get("id"), str) and item["id"]:
            ids.append((n, item["id"]))
    problems.extend(_duplicates(ids))
    return problems


def _json_item_problems(item: Mapping[str, Any]) -> Iterator[str]:
    ident = item.get("id")
    if not isinstance(ident, str) or not ident:
        yield f"id must be a non-empty string, got {ident!r}"
    url = item.get("url")
    if not isinstance(url, str) or not is_absolute_http_url(url):
        yield f"url {url!r} is not an absolute URL"
    html_content, text_content = item.get("content_html"), item.get("content_text")
    if not isinstance(html_content, str) and not isinstance(text_content, str):
        yield "no content_html or content_text"
    if isinstance(html_content, str):
        yield from html_url_problems(html_content)
    for field, required in (("date_published", True), ("date_modified", False)):
        value = item.get(field)
        if value is None:
            if required:
                yield f"no {field}"
        elif not isinstance(value, str) or not is_rfc3339(value):
            yield f"{field} {value!r} is not an RFC 3339 date"
    tags = item.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        yield "tags must be a list of strings"
    authors = item.get("authors")
    if authors is not None and not (
        isinstance(authors, list) and all(isinstance(a, dict) and a.get("name") for a in authors)
    ):
        yield "authors must be a list of objects with a name"
    for attachment in item.get("attachments") or []:
        if not isinstance(attachment, dict) or not is_absolute_http_url(str(attachment.get("url", ""))):
            yield f"attachment {attachment!r} has no absolute url"
        elif not attachment.get("mime_type"):
            yield f"attachment {attachment.get('url')!r} has no mime_type"


def _self_link_problems(parent: Any, missing: str) -> list[str]:
    """The feed's atom:link rel="self" (RSS and Atom alike): present, and an absolute URL."""
    selfs = [a for a in parent.findall(f"{ATOM}link") if a.get("rel") == "self"]
    if not selfs:
        return [missing]
    href = selfs[0].get("href", "")
    return [] if is_absolute_http_url(href) else [f"self link {href!r} is not an absolute URL"]
