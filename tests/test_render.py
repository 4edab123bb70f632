"""Rendering made faster must render the same. The sanitizer: one nh3 Cleaner per process that
resolves plain relative links itself gives exactly what nh3.clean gives when ammonia resolves
every link against the post's URL (WHATWG rules), for any fragment, link and base. The text
scans that replaced regex scans find the same, and cmark-gfm renders the same without its UTF-8 check."""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlsplit

import nh3
import pytest
from cmarkgfm.cmark import Options
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicate.render.local_refs import relative_images
from syndicate.render.markdown_html import _MD_OPTIONS, _gfm_to_html, render_markdown
from syndicate.render.plain_urls import join_plain, plain_base
from syndicate.render.sanitize import sanitize_html, sanitize_html_by_ammonia, usable_base
from syndicate.text import contains, drop_forbidden_refs, finditer_from, sub_from, xml_safe

SETTINGS = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- bases: plain ones built from parts, and odd ones --------------------------------------------

_SEGMENT_CHARS = "az09._~!$&()*+,;=@:-AZ%' é\\"
segment = st.text(alphabet=st.sampled_from(list(_SEGMENT_CHARS)), max_size=6) | st.sampled_from(
    ["", ".", "..", "%2e", "%2E.", "post-1", "2014", "a b", "ü"]
)
label = st.sampled_from(["example", "blog", "a", "x1", "my-blog", "0", "123", "xn--nxasmq6b", "a--b", "-a", "B", ""])
host = st.lists(label, min_size=1, max_size=3).map(".".join) | st.sampled_from(
    ["127.0.0.1", "[::1]", "0x7f.1", "exa mple.org", "bücher.de", "EXAMPLE.org", "example.org.", "a_b.org"]
)
port = st.sampled_from(["", ":80", ":443", ":8080", ":0", ":65535", ":65536", ":080", ":x"])
path = st.lists(segment, max_size=4).map(lambda parts: "".join("/" + p for p in parts))
built_base = st.builds(
    lambda scheme, h, p, pa, tail: f"{scheme}://{h}{p}{pa}{tail}",
    st.sampled_from(["https", "http", "HTTPS", "ftp", "mailto"]),
    host,
    port,
    path,
    st.sampled_from(["", "", "/", "?q=1", "#f", "/?", "\\x"]),
)
ODD_BASES = [
    "",
    "not a url",
    "https://",
    "https:example.org/x",
    "//example.org/x/",
    "https://user:pw@example.org/x/",
    "https://example.org:99999/x/",
    "https://bad host/x/",
    "file:///tmp/x/",
    "data:text/plain,x",
    "https://example.org/a/./b/",
    "https://example.org/a/../b/",
    " https://example.org/x/",
    "https://example.org/x/\t",
]
plain_segment = st.text(alphabet=st.sampled_from(list("az09._~!$&()*+,;=@:-")), max_size=5)
plain_path = st.lists(plain_segment, max_size=4).map(lambda parts: "".join("/" + p for p in parts))
base = (
    built_base
    | plain_path.map("https://blog.example.org".__add__)
    | st.sampled_from(ODD_BASES)
    | st.just("https://bench.example.org/2014/01/01/post-0/")
)

# --- links: relative and absolute, plain and odd --------------------------------------------------

PIECES = ["a", "b.png", "x-y", "_", "~", "2e", "%", "%2e", "%2E", "%41", "%zz", ".", "..", "/", "//", "?", "#"]
PIECES += [":", "@", "=", "&", ";", "+", "!", "$", "(", "*", ",", "'", '"', " ", "\t", "\n", "\\", "|", "^", "`"]
PIECES += ["{", "}", "[", "]", "<", ">", "é", "\u00a0", "\x01", "\x7f", "\u2028", "&amp;", "&#x2e;", "&#47;", "&quot;"]
PIECES += ["http:", "https://", "javascript:", "mailto:", "data:", "HTTP://", "ftp://", "x:", "1:", "C:", "C|"]
PLAIN_PIECES = ["a", "b.png", "..", ".", "/", "?", "#", ":", "%41", "-", "~", "=", "&", "@", "!", "$", "(", ","]
plain_link = st.lists(st.sampled_from(PLAIN_PIECES), max_size=8).map("".join)
link = (
    plain_link
    | st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
    | st.sampled_from(
        [
            "",
            "images/diagram-3.png",
            "./a/../b/./c",
            "../../../../x",
            "/abs/path?q=a:b#frag:/?",
            "?only=query",
            "#only-fragment",
            "//other.example/x",
            "///x",
            "https://example.org/x",
            "http:relative",
            "mailto:someone@example.org",
            "javascript:alert(1)",
            " images/x.png ",
            "a\\b",
            "a/%2e%2e/b",
            "a/.%2E/b",
            "%2e",
            "a#b#c",
            "a?b'c",
        ]
    )
)


def fragment_with(links: list[str]) -> str:
    """An HTML fragment carrying the links in the attributes ammonia resolves (and a few it does not)."""
    parts = []
    for index, url in enumerate(links):
        quoted = html.escape(url, quote=True)
        parts.append(
            [
                f'<p><a href="{quoted}" title="t">link {index}</a></p>',
                f'<img src="{quoted}" alt="i">',
                f"<a href='{quoted}'>single</a>",
                f'<blockquote cite="{quoted}">q</blockquote>',
                f'<a href="{quoted}"><img src="{quoted}"></a>',
            ][index % 5]
        )
    return "\n".join(parts)


@SETTINGS
@given(base, st.lists(link, max_size=5))
@example("https://bench.example.org/2014/01/01/post-0/", ["images/diagram-3.png", "../up", "/root", "?q", "#f", ""])
@example("https://example.org", ["a", ".", "..", "./", "../", "/", ""])
@example("https://example.org/a/b/c", ["d", "./d", "../d", "../../../d", "..", ".", "?x", "#y"])
@example("http://example.org:8080/a/", ["b?c:d#e:f"])
@example("https://example.org/a/", ["a/%2e%2e/b", "a/%2E/b", "b\\c", "//x.org/y", " x", "x y"])
@example("https://EXAMPLE.org/a/", ["x"])
@example("https://example.org:443/a/", ["x"])
@example("https://bad host/x/", ["x", "/y", "https://ok.example/z"])
def test_the_shared_cleaner_gives_what_ammonia_gives(base_url: str, links: list[str]) -> None:
    fragment = fragment_with(links)
    assert sanitize_html(fragment, base_url) == sanitize_html_by_ammonia(fragment, base_url)


@SETTINGS
@given(base, link)
def test_a_plain_link_joins_as_ammonia_joins_it(base_url: str, ref: str) -> None:
    """Where join_plain answers, its answer is ammonia's, link by link (not only in a whole fragment)."""
    plain = plain_base(base_url)
    joined = join_plain(plain, ref) if plain is not None else None
    if joined is None:
        return
    assert usable_base(base_url)
    cleaned = nh3.clean(f'<a href="{html.escape(ref)}">x</a>', url_relative=("rewrite_with_base", base_url))
    assert cleaned == f'<a href="{html.escape(joined, quote=False)}" rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    ("base_url", "ref", "joined"),
    [
        ("https://h.org/2014/01/01/p/", "images/a.png", "https://h.org/2014/01/01/p/images/a.png"),
        ("https://h.org/2014/01/01/p", "a.png", "https://h.org/2014/01/01/a.png"),
        ("https://h.org/a/b/", "../c", "https://h.org/a/c"),
        ("https://h.org/a/b/", "../../../c", "https://h.org/c"),
        ("https://h.org/a/b/", "..", "https://h.org/a/"),
        ("https://h.org/a/b/", ".", "https://h.org/a/b/"),
        ("https://h.org/a/b/", "./c/./d/../e", "https://h.org/a/b/c/e"),
        ("https://h.org/a/b/", "/c", "https://h.org/c"),
        ("https://h.org/a/b/", "/", "https://h.org/"),
        ("https://h.org/a/b/", "", "https://h.org/a/b/"),
        ("https://h.org/a/b/", "?q=1:2", "https://h.org/a/b/?q=1:2"),
        ("https://h.org/a/b/", "#top", "https://h.org/a/b/#top"),
        ("https://h.org", "x", "https://h.org/x"),
        ("http://h.org:8080/a", "b", "http://h.org:8080/b"),
    ],
)
def test_plain_links_join_as_whatwg_says(base_url: str, ref: str, joined: str) -> None:
    plain = plain_base(base_url)
    assert plain is not None
    assert join_plain(plain, ref) == joined
    assert sanitize_html(f'<a href="{ref}">x</a>', base_url) == f'<a href="{joined}">x</a>'


@pytest.mark.parametrize(
    "base_url",
    [
        "https://H.org/",
        "https://h.org:443/",
        "https://127.0.0.1/",
        "https://h.org/a/../",
        "https://h.org/?q",
        "ftp://h.org/",
    ],
)
def test_bases_the_parser_would_rewrite_are_left_to_it(base_url: str) -> None:
    assert plain_base(base_url) is None


@pytest.mark.parametrize("ref", ["//other.org/x", "a b", "a\\b", "%2e%2e/x", "x'y", "é", "a#b#c", "x:y", "\tx"])
def test_links_the_parser_would_rewrite_are_left_to_it(ref: str) -> None:
    plain = plain_base("https://h.org/a/")
    assert plain is not None
    assert join_plain(plain, ref) is None
    fragment = f'<a href="{html.escape(ref)}">x</a>'
    assert sanitize_html(fragment, "https://h.org/a/") == sanitize_html_by_ammonia(fragment, "https://h.org/a/")


def test_an_unusable_base_drops_relative_links_and_keeps_absolute_ones() -> None:
    fragment = '<a href="x/y">rel</a> <a href="https://ok.example/z">abs</a>'
    assert sanitize_html(fragment, "https://bad host/p/") == '<a>rel</a> <a href="https://ok.example/z">abs</a>'


def test_threads_each_resolve_against_their_own_base() -> None:
    """The shared Cleaner's base is per thread (the web preview may sanitize in several at once)."""
    cases = [(f'<a href="p{i}/x.png">a</a><img src="../y{i}">' * 50, f"https://h{i % 7}.org/b{i}/") for i in range(200)]
    with ThreadPoolExecutor(8) as pool:
        cleaned = list(pool.map(lambda case: sanitize_html(*case), cases))
    assert cleaned == [sanitize_html_by_ammonia(*case) for case in cases]


# --- the text scans that replaced regex scans ---------------------------------------------------

TEXT = st.text(alphabet=st.sampled_from(list("<!-[]()&#{}%img IMGsrc=\"'ı>/.more\n\tx")), max_size=80)


@settings(max_examples=1000, deadline=None)
@given(TEXT, st.sampled_from(["&#", "![", "{%", "{{", "<!--", "<", "!"]), st.integers(0, 3))
def test_contains_is_in(text: str, needle: str, tries: int) -> None:
    assert contains(text, needle, tries) == (needle in text)


PATTERNS = [
    (re.compile(r"<!--\s*more\s*-->", re.I), "<!--"),
    (re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)"), "!"),
    (re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.I), "<"),
    (re.compile(r"(?<=x)<(i)"), "<"),
    (re.compile(r"^<", re.M), "<"),
]


@settings(max_examples=1000, deadline=None)
@given(TEXT, st.sampled_from(range(len(PATTERNS))), st.integers(0, 3))
def test_finditer_from_finds_what_finditer_finds(text: str, which: int, tries: int) -> None:
    pattern, literal = PATTERNS[which]
    spans = [(m.span(), m.groups()) for m in finditer_from(pattern, literal, text, tries)]
    assert spans == [(m.span(), m.groups()) for m in pattern.finditer(text)]
    assert sub_from(pattern, literal, lambda m: f"[{m[0]}]", text) == pattern.sub(lambda m: f"[{m[0]}]", text)


def relative_images_by_regexes(image: str | None, body: str) -> tuple[str, ...]:
    """relative_images as it was written before the scans by memchr: the oracle."""
    markdown = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
    tag = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
    candidates = [image] if image else []
    if "![" in body or "<img" in body.lower():
        candidates += markdown.findall(body) + tag.findall(body)
    found: dict[str, None] = {}
    for ref in candidates:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
            continue
        found.setdefault(unquote(parts.path), None)
    return tuple(found)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.none(), TEXT), TEXT)
@example(None, "<ımg src=a.png>")  # IGNORECASE matches ı with i, but lower() leaves no "<img"
@example(None, "![a](b.png) <ımg src=c.png> <IMG SRC='d.png'> ![](/e.png) ![](f%20g.png)")
def test_relative_images_as_the_regexes_find_them(image: str | None, body: str) -> None:
    assert relative_images(image, body) == relative_images_by_regexes(image, body)


# --- cmark-gfm without its UTF-8 check ----------------------------------------------------------

MARKDOWN_BITS = ["# h", "*a*", "`c`", "```py\nx\n```", "| a |\n|---|\n| b |", "[^1]\n\n[^1]: n", "- [ ] t"]
MARKDOWN_BITS += ["&#0;", "&#xD800;", "<p>raw</p>"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(MARKDOWN_BITS), st.text(max_size=20)), max_size=6).map("\n\n".join))
@example("\x00 nul, \ud800 lone surrogate, \ufffe, é, 日本語, \U0001f600")
def test_cmark_renders_the_same_without_its_utf8_check(text: str) -> None:
    cleaned = drop_forbidden_refs(xml_safe(text))
    checked = _gfm_to_html(cleaned, _MD_OPTIONS | Options.CMARK_OPT_VALIDATE_UTF8)
    assert render_markdown(text) == _gfm_to_html(cleaned, _MD_OPTIONS) == checked
