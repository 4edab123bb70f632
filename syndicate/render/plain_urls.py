"""Relative links made absolute without the sanitizer's URL parser, where that is sure to agree with it.

The sanitizer (ammonia, through nh3) resolves a post's relative links against the post's URL
with WHATWG URL parsing. Asking it to do so costs a new sanitizer per post (~60 µs): its
allowlists are built again for every base. So one sanitizer is built per process, and it hands
each relative link to `join_plain`, which resolves the common, plain cases itself: a base with a
lowercase ASCII host name and a path of plain characters, and a reference of plain ASCII
characters (no "//" start, no backslash, no space or control, no "%2e"). In that class WHATWG
parsing reduces to the few steps below (the "relative", "relative slash" and "path" states,
with nothing to percent-encode); anything else answers None, and the caller asks ammonia
itself. tests/test_sanitize.py checks the agreement on generated links and bases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Characters WHATWG leaves as they are in a path, query and fragment of an http(s) URL
# (none is in the path, query, special-query or fragment percent-encode sets) and that
# mean nothing to the parser: no ':', so no scheme; no "'", which a query would encode.
_PLAIN = r"\-A-Za-z0-9._~!$&()*+,;=@%"
_PLAIN_REF = re.compile(rf"[{_PLAIN}/]*(?:\?[{_PLAIN}/?:]*)?(?:#[{_PLAIN}/?:]*)?")

# A host WHATWG keeps as written: lowercase ASCII labels (IDNA changes nothing, no "xn--"
# since no "--"), the last one starting with a letter (so it is no IPv4 number).
_LABEL = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_HOST = rf"(?:{_LABEL}\.)*[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_BASE = re.compile(rf"(https?)://({_HOST})(?::([1-9][0-9]{{0,4}}))?((?:/[A-Za-z0-9._~!$&()*+,;=@:-]*)*)")
_DEFAULT_PORT = {"http": "80", "https": "443"}


@dataclass(frozen=True, slots=True)
class PlainBase:
    """A base URL as WHATWG parses it: its serialized scheme, host and port, and its path's segments."""

    origin: str  # "https://example.org" or "http://example.org:8080"
    segments: tuple[str, ...]  # "/a/b/" is ("a", "b", ""); an empty path is ("",)


@lru_cache(maxsize=1 << 10)
def plain_base(url: str) -> PlainBase | None:
    """The base, when WHATWG would parse `url` to exactly what it says; else None."""
    match = _BASE.fullmatch(url)
    if match is None or len(match[2]) > 253:
        return None
    scheme, host, port, path = match.groups()
    if port is not None and (int(port) > 65535 or port == _DEFAULT_PORT[scheme]):
        return None  # WHATWG refuses the one and drops the other
    segments = tuple(path[1:].split("/")) if path else ("",)
    if any(segment in (".", "..") for segment in segments):
        return None  # the parser would remove them
    origin = f"{scheme}://{host}" + (f":{port}" if port else "")
    return PlainBase(origin, segments)


def join_plain(base: PlainBase, ref: str) -> str | None:
    """`ref` resolved against `base` as WHATWG resolves it; None when `ref` is not plain."""
    if not _PLAIN_REF.fullmatch(ref) or ref.startswith("//") or ("%" in ref and "%2e" in ref.lower()):
        return None
    rest, hash_mark, fragment = ref.partition("#")
    path, question_mark, query = rest.partition("?")
    if not path:  # only a query or a fragment (or nothing): the base's path stays
        segments = list(base.segments)
    else:
        if path[0] == "/":
            segments, pieces = [], path[1:].split("/")
        else:
            segments, pieces = list(base.segments[:-1]), path.split("/")
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            if piece == "..":
                if segments:
                    segments.pop()
                if index == last:
                    segments.append("")
            elif piece == ".":
                if index == last:
                    segments.append("")
            else:
                segments.append(piece)
    joined = base.origin + "/" + "/".join(segments)
    if question_mark:
        joined += "?" + query
    if hash_mark:
        joined += "#" + fragment
    return joined
