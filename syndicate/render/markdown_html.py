"""Markdown → HTML through cmark-gfm (the only module importing cmarkgfm).

GitHub-flavoured: tables, autolinks, strikethrough, task lists, footnotes; raw HTML
passes through (the sanitizer runs after). Characters XML forbids are removed first.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import lru_cache

import cmarkgfm
from cmarkgfm import _cmark
from cmarkgfm.cmark import Options

from syndicate.text import drop_forbidden_refs, xml_safe

# No CMARK_OPT_VALIDATE_UTF8: what cmark is given is Python's UTF-8 encoding of text xml_safe
# cleaned (no NUL, no lone surrogate), always valid, so the check (~8% of cmark's time) never
# changes a byte (tests/test_render.py compares).
_MD_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES


class _CmarkMem(ctypes.Structure):
    _fields_ = [
        ("calloc", ctypes.c_void_p),
        ("realloc", ctypes.c_void_p),
        ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
    ]


# cmarkgfm's own github_flavored_markdown_to_html never frees the document tree nor the HTML
# string that cmark hands back (cmarkgfm issue #53, still so in 2025.10.22): about 70 KB a
# post, 700 MB over 10,000 posts, and without end in `build --watch`. So: the same steps
# through its low-level API, then the two frees its cffi module does not declare, called in
# the very same library. Where that library does not export them (another build of
# cmarkgfm), its own function is used, leak and all.
_GFM_EXTENSIONS = ("table", "autolink", "tagfilter", "strikethrough", "tasklist")  # as cmarkgfm's GFM function
_Free = Callable[[int], None]


def _cmark_frees() -> tuple[_Free, _Free] | None:
    try:
        so = ctypes.CDLL(_cmark.__file__)
        so.cmark_node_free.argtypes = [ctypes.c_void_p]
        so.cmark_node_free.restype = None
        so.cmark_get_default_mem_allocator.restype = ctypes.POINTER(_CmarkMem)
        free_memory = so.cmark_get_default_mem_allocator().contents.free
    except (OSError, AttributeError, ValueError):
        return None
    return so.cmark_node_free, free_memory


_CMARK_FREES = _cmark_frees()


def _address(pointer: object) -> int:
    return int(_cmark.ffi.cast("uintptr_t", pointer))


@lru_cache(maxsize=1)
def _gfm_extensions() -> list[object]:
    """The extensions, registered once in the process and found once (a lookup by name per post cost ~5 µs)."""
    _cmark.lib.cmark_gfm_core_extensions_ensure_registered()
    return [_cmark.lib.cmark_find_syntax_extension(name.encode("ascii")) for name in _GFM_EXTENSIONS]


def _gfm_to_html(text: str, options: int) -> str:
    if _CMARK_FREES is None:
        return str(cmarkgfm.github_flavored_markdown_to_html(text, options=options))
    free_node, free_memory = _CMARK_FREES
    lib, ffi = _cmark.lib, _cmark.ffi
    options |= Options.CMARK_OPT_GITHUB_PRE_LANG
    extensions = _gfm_extensions()
    parser = lib.cmark_parser_new(options)
    try:
        for extension in extensions:
            lib.cmark_parser_attach_syntax_extension(parser, extension)
        data = text.encode("utf-8")
        lib.cmark_parser_feed(parser, data, len(data))
        root = lib.cmark_parser_finish(parser)
        try:
            raw = lib.cmark_render_html(root, options, lib.cmark_parser_get_syntax_extensions(parser))
            try:
                return str(ffi.string(raw).decode("utf-8"))
            finally:
                free_memory(_address(raw))
        finally:
            free_node(_address(root))
    finally:
        lib.cmark_parser_free(parser)


def render_markdown(text: str) -> str:
    return _gfm_to_html(drop_forbidden_refs(xml_safe(text)), _MD_OPTIONS)
