"""A catalogue of hostile and broken input, each case run through the real command line.

Every build in this file is `python -m syndicate build` in a subprocess with a timeout
(or CliRunner where nothing can hang), and every one is held to the same promises
(`run_build` and `assert_outputs_are_safe`):

- exit code 0 or 1, never a traceback, never a hang past TIMEOUT seconds;
- an error is one line naming the file (and the line, when there is one);
- nothing is written outside the output directory, except the build cache
  (`.syndicate-cache/` beside syndicate.toml): the whole temporary tree is compared
  before and after, file by file;
- no `<script`, event handler or `javascript:` URL in any output, and every feed parses
  and carries valid RFC 822 / RFC 3339 dates; every output path is a safe slug;
- no valid post is lost: with the hostile file present (a documented safe result) or,
  for an error, with --keep-going, every good post of the site is in rss.xml and feed.json.

XML import cases (billion laughs, external entities, huge feeds, …) live in tests/test_import.py;
the feeds here (tests/data/hostile/) are regressions found by bench/fuzz.py.
"""

from __future__ import annotations

import copy
import email
import email.policy
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import DIGEST_HEADERS, EXAMPLE_TODAY, make_site, post_text, record_sent_issue, toml_value, write_site
from lxml import etree

from syndicate.build.compose import compose_issue
from syndicate.cli.main import main
from syndicate.config import Config, load_config
from syndicate.errors import DeliveryError
from syndicate.newsletter.issue import GMAIL_CLIP_BYTES, Rendered
from syndicate.newsletter.message import Recipient, build_message
from syndicate.store.layout import CACHE_DIR

TODAY = "2030-01-01"
TIMEOUT = 15  # seconds; a case that needs more than a few is a hang
GOOD = {
    "2013-04-01-first.md": post_text(
        "First good post", "2013-04-01 10:00:00", tags=["OpenStack"], categories=["General"]
    ),
    "2013-04-02-second.md": post_text("Second good post", "2013-04-02 10:00:00", tags=["SDN", "OpenStack"]),
    "2012/2012-12-24-third.md": post_text("Third good post", "2012-12-24 09:30:00"),
}
GOOD_TITLES = {"First good post", "Second good post", "Third good post"}


# --- the promises every build is held to ---------------------------------------------------------


def snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, str]:
    """Every file, folder and link below root (not following links), with a hash of each file's bytes."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in dirnames:
            found[(here / name).relative_to(root).as_posix()] = "dir"
        for name in filenames:
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[rel] = "special"
    return found


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    out: Path

    def error_lines(self, name: str) -> list[str]:
        return [line for line in self.stderr.splitlines() if name in line]


def run_build(site: Path, *extra: str, root: Path | None = None) -> Outcome:
    """`syndicate build` of `site` into site/out in a subprocess, checked against the promises."""
    root = root or site.parent
    out = site / "out"
    skip = (out, site / CACHE_DIR)
    before = snapshot(root, skip)
    proc = subprocess.run(
        [sys.executable, "-m", "syndicate", "build", "--site", str(site), "--out", str(out), "--today", TODAY, *extra],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=root,
    )
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    assert proc.returncode in (0, 1), both
    assert snapshot(root, skip) == before, "the build wrote or changed files outside its output directory"
    if out.exists():
        assert_outputs_are_safe(out)
    return Outcome(proc.returncode, proc.stdout, proc.stderr, out)


RAW_SCRIPT = re.compile(r"<\s*script", re.I)
HAZARD_ELEMENTS = {
    "script",
    "iframe",
    "frame",
    "form",
    "object",
    "embed",
    "base",
    "svg",
    "math",
    "style",
    "link",
    "meta",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "cite"}
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SAFE_DIR = re.compile(r"^(?:[a-z0-9]+(?:-[a-z0-9]+)*|\d{4}-W\d{2})$")
RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]")
# elements whose text is HTML: RSS description and content:encoded, Atom content and summary
HTML_FIELDS = {"description", "encoded", "content", "summary"}
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def html_hazards(html: str, *, page: bool = False, forms: bool = False) -> list[str]:
    """What in this HTML could run or hide: script-like elements, on* handlers, javascript:/data: URLs,
    and (in a fragment from a post) any style but text-alignment. A page's own <style> and <meta> are ours."""
    if not html.strip():
        return []
    found = [m.group(0) for m in RAW_SCRIPT.finditer(html)]
    tree = lxml.html.document_fromstring(html) if page else lxml.html.fragment_fromstring(html, create_parent="div")
    allowed = {"style", "meta", "link"} if page else set()
    if forms:  # our own subscribe form: one, posting to the app's https URL
        allowed.add("form")
        actions = [str(form.get("action")) for form in tree.iter("form")]
        if len(actions) != 1 or not actions[0].startswith("https://"):
            found.append(f"forms posting to {actions}")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in HAZARD_ELEMENTS - allowed:
            found.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{name}=")
            if name.lower() in URL_ATTRIBUTES:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).split(":", 1)[0].lower() if ":" in value else ""
                if scheme in ("javascript", "vbscript", "data"):
                    found.append(f"{name}={value}")
            if name.lower() == "style" and not page and not re.fullmatch(r"\s*text-align\s*:\s*\w+\s*;?\s*", value):
                found.append(f"style={value}")
    return found


def assert_html_inert(html: str, where: str, *, page: bool = False, forms: bool = False) -> None:
    hazards = html_hazards(html, page=page, forms=forms)
    assert not hazards, f"{where}: {hazards}"


def assert_outputs_are_safe(out: Path) -> None:
    """No script anywhere; feeds parse with valid dates; paths are safe slugs inside `out`."""
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        assert path.resolve().is_relative_to(out.resolve()), rel
        if path.is_dir():
            assert SAFE_DIR.match(path.name) and len(path.name) <= 90 and path.name not in RESERVED, rel
            continue
        data = path.read_bytes()
        if path.suffix in (".xml", ".opml"):
            assert_xml_safe(data, str(rel))
        elif path.suffix == ".json":
            assert_json_safe(data, str(rel))
        elif path.suffix == ".html":
            forms = rel.as_posix() in ("subscribe.html", "subscribe-form.html")
            assert_html_inert(data.decode("utf-8"), str(rel), page=True, forms=forms)
        elif path.suffix == ".eml":
            assert_message_safe(data, str(rel))
        # .txt and the manifest are plain text: a title such as "<script>" is only text there


def assert_xml_safe(data: bytes, where: str) -> None:
    assert not RAW_SCRIPT.search(data.decode("utf-8")), where
    root = etree.fromstring(data, parser=XML_PARSER)  # well-formed: `]]>` and controls cannot break it
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        text = element.text or ""
        assert not FORBIDDEN_CHARS.search(text), (where, local, text)
        if local in HTML_FIELDS:  # HTML carried as text: what a reader renders after decoding
            assert_html_inert(text, f"{where} <{local}>")
        if local in ("pubDate", "lastBuildDate"):
            assert RFC822.match(text.strip()), (where, local, text)
            parsedate_to_datetime(text)
        if local in ("updated", "published"):
            assert RFC3339.match(text.strip()), (where, local, text)
        for name, value in element.attrib.items():
            if name in ("href", "src", "url", "xmlUrl", "htmlUrl"):
                assert value.startswith(("https://", "http://")), (where, name, value)


def assert_json_safe(data: bytes, where: str) -> None:
    doc = json.loads(data)
    for item in doc.get("items", []):
        assert_html_inert(item.get("content_html", ""), f"{where} content_html")
        for key in ("date_published", "date_modified"):
            if key in item:
                assert RFC3339.match(item[key]), (where, key, item[key])
        for key in ("url", "external_url", "image"):
            if key in item:
                assert item[key].startswith(("https://", "http://")), (where, key, item[key])
        for value in (item.get("title", ""), item.get("summary", "")):
            assert not FORBIDDEN_CHARS.search(value), (where, value)


def assert_message_safe(data: bytes, where: str) -> None:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    for name, value in message.items():
        assert not re.search(r"[\r\n\x00]", str(value)), (where, name)
    assert "Bcc" not in message and "Cc" not in message, where
    html_part = message.get_body(("html",))
    assert html_part is not None, where
    html = html_part.get_content()
    assert_html_inert(html, where, page=True)
    assert len(html.encode("utf-8")) < GMAIL_CLIP_BYTES, where


def feed_titles(out: Path) -> set[str]:
    """The titles in rss.xml, checked to be the very titles of feed.json."""
    rss = etree.fromstring((out / "rss.xml").read_bytes(), parser=XML_PARSER)
    in_rss = {title.text or "" for title in rss.iterfind("channel/item/title")}
    in_json = {item["title"] for item in json.loads((out / "feed.json").read_bytes())["items"]}
    assert in_rss == in_json
    return in_rss


def assert_no_post_lost(outcome: Outcome) -> set[str]:
    titles = feed_titles(outcome.out)
    assert titles >= GOOD_TITLES, f"lost: {GOOD_TITLES - titles}"
    return titles


# --- hostile posts: each an error naming its file, or a documented safe result ----------------------


ALIAS_BOMB = (
    "---\ntitle: bomb\ndate: 2013-04-15\n"
    + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n" for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "---\nboom\n"
)
PYTHON_TAG = (
    "---\ntitle: !!python/object/apply:os.system ['touch PWNED']\n"
    "date: !!python/object/apply:subprocess.check_output [['touch', 'PWNED2']]\n---\nbody\n"
)


@dataclass(frozen=True)
class Case:
    id: str
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    prepare: Callable[[Path], None] | None = None  # makes what a mapping cannot (links, FIFOs) in posts/
    config: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorCase(Case):
    name: str = ""  # the file the error must name, as shown (posts/…)
    line: int | None = None  # the line it must name, when the problem has one


def _link(name: str, target: str) -> Callable[[Path], None]:
    def prepare(posts: Path) -> None:
        (posts / name).symlink_to(target)

    return prepare


ERROR_CASES = [
    ErrorCase("yaml-alias-bomb", {"bomb.md": ALIAS_BOMB}, name="posts/bomb.md", line=2),
    ErrorCase("yaml-python-object-tag", {"pyobj.md": PYTHON_TAG}, name="posts/pyobj.md", line=2),
    ErrorCase(
        "yaml-nested-ten-thousand-deep",
        {"deep.md": "---\ntitle: deep\ndate: 2013-04-15\nx: " + "[" * 10_000 + "]" * 10_000 + "\n---\n"},
        name="posts/deep.md",
        line=4,
    ),
    ErrorCase(
        "ten-megabyte-post",
        {"huge.md": "---\ntitle: huge\ndate: 2013-04-15\n---\n" + "All work and no play. " * 480_000},
        name="posts/huge.md",
    ),
    ErrorCase(
        "binary-file-named-md",
        {"photo.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64},
        name="posts/photo.md",
    ),
    ErrorCase(
        "invalid-utf8",
        {"latin1.md": "---\ntitle: Café\ndate: 2013-04-15\n---\nbody\n".encode("latin-1")},
        name="posts/latin1.md",
        line=2,
    ),
    ErrorCase(
        "front-matter-never-closes",
        {"open.md": "---\ntitle: Never closed\ndate: 2013-04-15\n\nThe body follows.\n"},
        name="posts/open.md",
        line=1,
    ),
    ErrorCase(
        "year-one-with-offset",
        {"ancient.md": post_text("Ancient", "0001-01-01T00:00:00+05:00")},
        name="posts/ancient.md",
        line=3,
    ),
    ErrorCase(  # found by atheris: dateutil raised decimal.InvalidOperation on the 60-digit minutes
        "date-with-huge-minutes",
        {"minutes.md": post_text("Minutes", "2013-04-16 11:50" + "1" * 60 + ":00")},
        name="posts/minutes.md",
        line=3,
    ),
    ErrorCase(  # found by atheris: dateutil only warns (on stderr) and the site's zone was used instead
        "date-with-an-unknown-zone-name",
        {"zone.md": post_text("Zoned", "2013-04-15 10:00 XYZ")},
        name="posts/zone.md",
        line=3,
    ),
    ErrorCase(
        "year-9999",
        {"doom.md": post_text("Doom", "9999-12-31T23:00:00-08:00")},
        name="posts/doom.md",
        line=3,
    ),
    ErrorCase(
        "announcement-ending-in-year-9999",
        {
            "promo.md": post_text(
                "Promo", "2013-04-03 10:00:00", announcement={"starts": "2013-04-01", "ends": "9999-12-31"}
            )
        },
        name="posts/promo.md",
        line=4,
    ),
    ErrorCase(  # found by the front-matter property test: libyaml's reader error spans lines
        "control-character-in-front-matter",
        {"ctrl.md": "---\ntitle: Bell\ndate: 2013-04-15\nnote: ding\x07dong\n---\nbody\n"},
        name="posts/ctrl.md",
        line=4,
    ),
    ErrorCase(  # found by fuzzing: the sanitizer's URL parser refused the post's link as a base
        "url-with-a-space-in-its-host",
        {"link.md": post_text("Link post", url="https://bad host.example.org/x")},
        name="posts/link.md",
        line=4,
    ),
    ErrorCase(
        "url-with-a-port-out-of-range",
        {"port.md": post_text("Port post", url="https://blog.example.org:99999/x")},
        name="posts/port.md",
        line=4,
    ),
    ErrorCase("url-javascript", {"js.md": post_text("JS post", url="javascript:alert(1)")}, name="posts/js.md", line=4),
    ErrorCase(  # each tag is three feeds: 5,000 tags were 15,000 files and twenty seconds
        "five-thousand-tags-on-one-post",
        {"tags.md": post_text("Tag flood", tags=[f"tag {i}" for i in range(5000)])},
        name="posts/tags.md",
        line=4,
    ),
    # a link to a system file is skipped with a warning, never read (issue 18): see test_safety_waits
    ErrorCase("dangling-link", prepare=_link("gone.md", "/nonexistent/gone.md"), name="posts/gone.md"),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.id)
def test_a_bad_post_is_one_line_naming_it_and_nothing_else_is_lost(tmp_path: Path, case: ErrorCase) -> None:
    site = tmp_path / "site"
    write_site(site, {**GOOD, **case.files}, **case.config)
    if case.prepare:
        case.prepare(site / "posts")

    refused = run_build(site)
    assert refused.code == 1
    naming = refused.error_lines(case.name)
    assert len(naming) == 1, refused.stderr
    where = f"{case.name}:{case.line}: " if case.line else f"{case.name}: "
    assert where in naming[0], (where, naming[0])
    assert len(refused.stderr.splitlines()) <= 2, refused.stderr  # the cause, then one summary line
    assert not refused.out.exists() or not any(refused.out.iterdir()), "an error must leave nothing written"

    kept_going = run_build(site, "--keep-going")
    assert kept_going.code == 1
    assert len(kept_going.error_lines(case.name)) == 1, kept_going.stderr
    assert assert_no_post_lost(kept_going) == GOOD_TITLES

    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "PWNED2").exists()


def _fifo(posts: Path) -> None:
    os.mkfifo(posts / "pipe.md")


def check_old_and_future(out: Path) -> None:
    titles = feed_titles(out)
    assert "Old but gold" in titles
    assert "From the future" not in titles  # 2200 is after --today: it stays out, like any future post
    rss = (out / "rss.xml").read_text(encoding="utf-8")
    assert "<pubDate>Mon, 01 Jan 1900 00:00:00 -0800</pubDate>" in rss
    atom = (out / "atom.xml").read_text(encoding="utf-8")
    assert "<published>1900-01-01T00:00:00-08:00</published>" in atom


def check_titles_are_one_clean_line(out: Path) -> None:
    titles = feed_titles(out)
    assert "Line one Bcc: x@example.com gnp.exe zero width" in titles
    for title in titles:
        assert not FORBIDDEN_CHARS.search(title) and "\n" not in title and "\r" not in title, repr(title)


def check_script_titles_stay_text(out: Path) -> None:
    titles = feed_titles(out)
    assert "]]> <script>alert(1)</script>" in titles  # shown as typed, escaped on the wire
    atom = etree.fromstring((out / "atom.xml").read_bytes(), parser=XML_PARSER)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    (entry,) = [e for e in atom.iterfind("a:entry", ns) if "script" in (e.findtext("a:title", "", ns))]
    assert entry.find("a:title", ns).get("type", "text") == "text"
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page


HOSTILE_BODY = """\
]]> and <script>alert(1)</script> inline.

<script>alert(2)</script>

<img src=x onerror=alert(3)>

<a href="javascript:alert(4)">a link</a> and <a href="JaVaScRiPt&colon;alert(5)">another</a>

<iframe src="https://evil.example/"></iframe>

<form action="https://evil.example/"><input name=q><button>Go</button></form>

<p style="display:none">hidden text</p> <div style="position:fixed;top:0">overlay</div>

<svg onload=alert(6)><circle r=1 /></svg> <math><mi xlink:href="javascript:alert(7)">x</mi></math>

[markdown link](javascript:alert(8)) and ![image](javascript:alert(9)) and <a href="data:text/html,x">data</a>
"""


def check_body_is_sanitized(out: Path) -> None:
    item = next(i for i in json.loads((out / "feed.json").read_bytes())["items"] if i["title"] == "Hostile body")
    content = item["content_html"]
    assert "hidden text" in content and "a link" in content  # the text stays, the hazards go
    assert "data:" not in content
    assert not re.search(r"<(iframe|form|input|button|svg|math|script|style)\b", content), content
    assert "style=" not in content
    assert not re.search(r"javascript|onerror|onload", content, re.I), content


def check_tags_have_safe_paths(out: Path) -> None:
    tags = sorted(p.name for p in (out / "tags").iterdir())
    assert "c-sharp" in tags and "c-plus-plus" in tags
    assert "openstack" in tags and "OpenStack" not in tags
    assert all(len(t) <= 90 for t in tags)
    assert not any(t in ("..", ".", "con", "%2e%2e", "") for t in tags)
    assert any(t.startswith("con-") for t in tags)  # CON is a device name on Windows: it gets a suffix
    # case-only duplicates are one tag: both spellings' posts are in openstack's feed
    merged = {i["title"] for i in json.loads((out / "tags" / "openstack" / "feed.json").read_bytes())["items"]}
    assert merged >= {"First good post", "Second good post", "Tag soup"}
    for folder in (out / "tags").iterdir():
        assert (folder / "rss.xml").is_file()


SAFE_CASES: list[tuple[Case, Callable[[Path], None] | None]] = [
    (
        Case(
            "dates-1900-and-2200",
            {
                "old.md": post_text("Old but gold", "1900-01-01 00:00:00"),
                "future.md": post_text("From the future", "2200-01-01 00:00:00"),
            },
        ),
        check_old_and_future,
    ),
    (
        Case(
            "titles-with-cr-lf-nul-bidi-and-zero-width",
            {"evil.md": post_text("Line one\r\nBcc: x@example.com\x00 \u202egnp.exe\u202c zero\u200b width\ufeff")},
        ),
        check_titles_are_one_clean_line,
    ),
    (
        Case("cdata-end-and-script-in-title", {"x.md": post_text("]]> <script>alert(1)</script>")}),
        check_script_titles_stay_text,
    ),
    (
        Case("script-handlers-iframes-forms-styles-in-body", {"b.md": post_text("Hostile body", body=HOSTILE_BODY)}),
        check_body_is_sanitized,
    ),
    (
        Case(
            "tag-names",
            {
                "tags.md": post_text(
                    "Tag soup",
                    "2013-04-05 10:00:00",
                    tags=[
                        "..",
                        "/",
                        "CON",
                        "%2e%2e",
                        "x" * 300,
                        "openstack",
                        "C#",
                        "C++",
                        "../../etc/passwd",
                        "nul.txt",
                    ],
                    categories=["..", "Con"],
                )
            },
        ),
        check_tags_have_safe_paths,
    ),
    (
        Case(
            "bom-and-crlf-line-endings",
            {"win.md": "\ufeff---\r\ntitle: Windows\r\ndate: 2013-04-03 10:00:00\r\n---\r\nBody.\r\n".encode()},
        ),
        lambda out: None if "Windows" in feed_titles(out) else pytest.fail("the BOM post is missing"),
    ),
    (  # the sanitizer's time grew with the square of the depth: this took half a minute
        Case(
            "html-nested-100000-deep",
            {"deep.md": post_text("Deep HTML", body="<div>" * 100_000 + "the bottom" + "</div>" * 100_000)},
        ),
        lambda out: None if "Deep HTML" in feed_titles(out) else pytest.fail("the deep post is missing"),
    ),
    (Case("fifo-named-md", prepare=_fifo), None),  # never opened: reading it would block forever
    (Case("link-to-dev-zero", prepare=_link("zero.md", "/dev/zero")), None),  # never read: it never ends
    (Case("link-to-a-folder-loop", prepare=_link("loop", ".")), None),
]


@pytest.mark.parametrize(("case", "check"), SAFE_CASES, ids=[c.id for c, _ in SAFE_CASES])
def test_a_hostile_post_has_a_documented_safe_result(
    tmp_path: Path, case: Case, check: Callable[[Path], None] | None
) -> None:
    site = tmp_path / "site"
    write_site(site, {**GOOD, **case.files}, **case.config)
    if case.prepare:
        case.prepare(site / "posts")
    outcome = run_build(site)
    assert outcome.code == 0, outcome.stderr
    assert_no_post_lost(outcome)
    if check:
        check(outcome.out)


def test_1900_in_a_zone_on_local_mean_time_gives_valid_dates(tmp_path: Path) -> None:
    """Amsterdam kept its local mean time (+00:19:32) until 1937: no RFC 822 or RFC 3339 offset can carry it."""
    site = tmp_path / "site"
    write_site(site, {**GOOD, "old.md": post_text("Old", "1900-01-01 00:00:00")}, site={"timezone": "Europe/Amsterdam"})
    outcome = run_build(site)
    assert outcome.code == 0


HOSTILE_DATA = Path(__file__).resolve().parent / "data" / "hostile"


def feed_site(tmp_path: Path, name: str) -> Path:
    """The good posts plus a [[sources]] feed: a copy of tests/data/hostile/<name>."""
    site = tmp_path / "site"
    config = write_site(site, GOOD)
    (site / "old.xml").write_bytes((HOSTILE_DATA / name).read_bytes())
    config.write_text(config.read_text(encoding="utf-8") + '\n[[sources]]\nfeed = "old.xml"\n', encoding="utf-8")
    return site


def test_feed_items_with_links_no_url_parser_accepts_get_permalinks(tmp_path: Path) -> None:
    """Found by fuzzing the feed reader: an item link such as https://bad host/x crashed the sanitizer."""
    outcome = run_build(feed_site(tmp_path, "bad-link-host.xml"))
    assert outcome.code == 0, outcome.stderr
    assert assert_no_post_lost(outcome) == GOOD_TITLES | {"Space in the host", "Port out of range"}
    items = {i["title"]: i for i in json.loads((outcome.out / "feed.json").read_bytes())["items"]}
    assert items["Space in the host"]["url"] == "https://blog.example.org/2013/04/01/space-in-the-host/"
    assert (
        "https://blog.example.org/2013/04/01/space-in-the-host/relative/page"
        in items["Space in the host"]["content_html"]
    )


@pytest.mark.parametrize("name", ["nbsp-namespace.xml", "link-closed-by-item.xml"])
def test_feeds_that_crash_feedparser_are_one_error(tmp_path: Path, name: str) -> None:
    """Found by fuzzing the feed reader (bench/fuzz.py): each crashed feedparser itself."""
    outcome = run_build(feed_site(tmp_path, name), "--keep-going")
    assert len(outcome.error_lines("old.xml")) == 1, outcome.stderr
    assert assert_no_post_lost(outcome) >= GOOD_TITLES


def test_a_feed_date_with_huge_numbers_is_an_error_for_its_item(tmp_path: Path) -> None:
    """Found by atheris (bench/fuzz.py --engine atheris --target feed): email.utils overflows on 12:0999…:00."""
    outcome = run_build(feed_site(tmp_path, "huge-minutes-date.xml"), "--keep-going")
    assert len(outcome.error_lines("old.xml")) == 1, outcome.stderr
    assert assert_no_post_lost(outcome) >= GOOD_TITLES | {"Fine"}


def test_an_output_folder_inside_the_posts_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(site, GOOD)
    before = snapshot(tmp_path, ())
    for out in (site / "posts" / "public", site / "posts", site):
        result = CliRunner().invoke(main, ["build", "--site", str(site), "--out", str(out), "--today", TODAY])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert "[output] dir" in result.stderr and "posts" in result.stderr, result.stderr
    assert snapshot(tmp_path, ()) == before


def test_a_missing_config_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for site in (tmp_path / "empty", tmp_path / "empty" / "syndicate.toml", tmp_path / "nowhere"):
        result = CliRunner().invoke(main, ["build", "--site", str(site), "--today", TODAY])
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert len(result.stderr.splitlines()) == 1 and "syndicate.toml" in result.stderr, result.stderr
    assert list(tmp_path.rglob("*")) == [tmp_path / "empty"]


# --- config: every key with a value of the wrong type (or a wrong value) ------------------------------

FULL_CONFIG: dict[str, dict[str, Any]] = {
    "site": {
        "title": "T",
        "url": "https://blog.example.org/",
        "description": "D",
        "language": "en",
        "timezone": "UTC",
        "author": {"name": "A", "email": "a@example.org", "url": "https://a.example.org/"},
        "permalink": "/{slug}/",
        "postal_address": "1 Main St",
        "locale_dir": "locale",
    },
    "content": {"posts": "posts", "templates": "templates"},
    "output": {"dir": "public", "url": "https://blog.example.org/feeds/"},
    "feeds": {"formats": ["rss", "atom"], "max_items": 5, "full_content": True, "tags": True, "categories": False},
    "digest": {
        "enabled": True,
        "sender": {"name": "S", "email": "s@example.org"},
        "postal_address": "2 Main St",
        "subject": "{site} {week}",
        "unsubscribe_url": "https://blog.example.org/unsubscribe",
        "unsubscribe_mailto": "u@example.org",
        "list_id": "L <l.example.org>",
        "max_items": 3,
        "since": date(2013, 1, 1),
        "cadence": "daily",
        "records": "sent",
        "max_posts": 20,
        "reminders": False,
        "subscribe_url": "https://blog.example.org/subscribe",
        "confirm_hours": 48,
    },
    "smtp": {
        "host": "localhost",
        "port": 2525,
        "security": "none",
        "username": "u",
        "timeout": 5.0,
        "rate": 2,
        "connections": 3,
        "max_per_hour": 100,
        "max_per_day": 1000,
        "bounce_address": "bounces@example.org",
    },
    "inbox": {"soft_bounce_threshold": 3, "half_life_days": 7.0, "handled_folder": "Handled"},
}
FULL_TOP: dict[str, Any] = {"database": "subscribers.sqlite3", "max_feed_bytes": 1000}
FULL_SOURCE: dict[str, Any] = {"markdown": "more", "assume_date": False}


def toml_of(value: object) -> str:
    """TOML for a test value; strings through JSON's escapes (valid TOML too), so control characters survive."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_of(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_of(v)}" for k, v in value.items()) + " }"
    return toml_value(value)


def config_text(tables: Mapping[str, Mapping[str, Any]], top: Mapping[str, Any], sources: list[dict[str, Any]]) -> str:
    lines = [f"{key} = {toml_of(value)}" for key, value in top.items()]
    for name, table in tables.items():
        lines += ["", f"[{name}]", *(f"{key} = {toml_of(value)}" for key, value in table.items())]
    for source in sources:
        lines += ["", "[[sources]]", *(f"{key} = {toml_of(value)}" for key, value in source.items())]
    return "\n".join(lines) + "\n"


def wrong_type(value: object) -> object:
    """A value of another TOML type than `value`."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return "many"
    if isinstance(value, str):
        return 42
    if isinstance(value, list):
        return "rss"
    if isinstance(value, date):
        return "2013-01-01"  # quoted: a string, not a TOML date
    return ["not", "a", "table"]


def every_key() -> Iterator[tuple[str, str, object]]:
    """(where, key, wrong value): every key of the config, with a value of the wrong type."""
    for table, keys in FULL_CONFIG.items():
        for key, value in keys.items():
            yield table, key, wrong_type(value)
            if isinstance(value, dict):
                for sub, subvalue in value.items():
                    yield f"{table}.{key}", sub, wrong_type(subvalue)
    for key, value in FULL_TOP.items():
        yield "", key, wrong_type(value)
    for key, value in FULL_SOURCE.items():
        yield "sources", key, wrong_type(value)
    yield "sources", "feed", 42  # the other kind of source (one source has one kind)
    for table in FULL_CONFIG:
        yield "", table, "not a table"


WRONG_VALUES = [
    ("site", "title", ""),
    ("site", "title", "Blog\r\nBcc: x@example.org"),
    ("site", "url", "javascript:alert(1)"),
    ("site", "url", "blog.example.org"),
    ("site", "timezone", "Mars/Olympus_Mons"),
    ("site", "language", "deutsch!"),
    ("site", "permalink", "/{year}/"),
    ("site", "author", ""),
    ("site.author", "name", ""),
    ("output", "url", "ftp://blog.example.org/"),
    ("feeds", "formats", []),
    ("feeds", "formats", ["rss", "html"]),
    ("feeds", "max_items", 0),
    ("digest", "list_id", "L\n<x>"),
    ("digest", "max_items", -1),
    ("digest", "unsubscribe_url", "/unsubscribe"),
    ("digest", "cadence", "fortnightly"),
    ("digest", "max_posts", -1),
    ("smtp", "port", 70000),
    ("smtp", "port", -25),
    ("smtp", "security", "tls1.0"),
    ("smtp", "timeout", 0),
    ("smtp", "rate", -1),
    ("smtp", "connections", 0),
    ("smtp", "max_per_day", -5),
    ("smtp", "bounce_address", "bounces"),
    ("smtp", "bounce_address", "b@example.org\r\nBcc: x@example.org"),
    ("inbox", "soft_bounce_threshold", 0.5),
    ("inbox", "half_life_days", 0),
    ("", "max_feed_bytes", 0),
]


def changed(
    where: str, key: str, value: object
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    tables = copy.deepcopy(FULL_CONFIG)
    top, source = dict(FULL_TOP), dict(FULL_SOURCE)
    if where == "":
        if key in tables:
            del tables[key]
            top[key] = value
        else:
            top[key] = value
    elif where == "sources":
        source[key] = value
    elif "." in where:
        table, sub = where.split(".")
        tables[table][sub][key] = value
    else:
        tables[where][key] = value
    return tables, top, [source]


def build_with_config(tmp_path: Path, text: str) -> Any:
    (tmp_path / "posts").mkdir(exist_ok=True)
    (tmp_path / "more").mkdir(exist_ok=True)
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "posts" / "2013-04-01-first.md").write_text(GOOD["2013-04-01-first.md"], encoding="utf-8")
    (tmp_path / "syndicate.toml").write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["build", "--site", str(tmp_path), "--today", TODAY])


def test_the_full_config_of_this_catalogue_is_valid(tmp_path: Path) -> None:
    result = build_with_config(tmp_path, config_text(FULL_CONFIG, FULL_TOP, [FULL_SOURCE]))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "public" / "rss.xml").is_file()


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [*every_key(), *WRONG_VALUES],
    ids=[f"{w or 'top'}.{k}={v!r}"[:60] for w, k, v in [*every_key(), *WRONG_VALUES]],
)
def test_a_wrong_config_value_is_one_line_naming_the_key(tmp_path: Path, where: str, key: str, value: object) -> None:
    result = build_with_config(tmp_path, config_text(*changed(where, key, value)))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "syndicate.toml" in lines[0] and key in lines[0], lines[0]
    assert not (tmp_path / "public").exists()


# --- email: subscribers, a huge week, announcements holding HTML ------------------------------------


@pytest.mark.slow
def test_a_week_of_5000_posts_gives_a_digest_under_gmails_limit(tmp_path: Path) -> None:
    site = tmp_path / "site"
    posts = {
        f"p{i:04d}.md": f"---\ntitle: Post {i} of the busiest week\ndate: 2013-04-{15 + i % 7} "
        f"{i % 24:02d}:{i % 60:02d}:00\nslug: p{i}\n---\nA short body {i}.\n"
        for i in range(5000)
    }
    config = load_config(write_site(site, posts))
    record_sent_issue(config, datetime(2013, 4, 22, 9, tzinfo=config.site.timezone), "2013-W16")
    outcome = run_build(site)
    assert outcome.code == 0, outcome.stderr
    issue = outcome.out / "newsletter" / "2013-W16"
    message = email.message_from_bytes((issue / "issue.eml").read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert len(html.encode("utf-8")) < GMAIL_CLIP_BYTES
    assert "https://blog.example.org/newsletter/2013-W16/" in html  # the rest is one click away
    page = (issue / "index.html").read_text(encoding="utf-8")
    assert all(f"Post {i} of the busiest week" in page for i in (0, 2500, 4999))
    assert len(feed_titles(outcome.out)) == 20


RULES_WITH_HTML = ["<b>Bold</b> entries only", "<script>alert(1)</script>", "Read <a href='javascript:x()'>this</a>"]


def test_announcement_rules_holding_html_stay_text(tmp_path: Path) -> None:
    site = tmp_path / "site"
    promo = post_text(
        "Giveaway",
        "2013-04-01 09:00:00",
        announcement={
            "starts": "2013-04-01",
            "ends": "2013-04-20",
            "prize": "<i>Five</i> books<script>x()</script>",
            "rules": RULES_WITH_HTML,
            "cta": {"text": "<b>Enter</b>", "url": "https://example.org/enter"},  # javascript: is refused
        },
    )
    config = load_config(write_site(site, {**GOOD, "promo.md": promo}))
    record_sent_issue(config, datetime(2013, 4, 8, 9, tzinfo=config.site.timezone), "2013-W14")
    outcome = run_build(site)
    assert outcome.code == 0, outcome.stderr
    issue = outcome.out / "newsletter" / "2013-W14"
    message = email.message_from_bytes((issue / "issue.eml").read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    for page in (html_part.get_content(), (issue / "index.html").read_text(encoding="utf-8")):
        tree = lxml.html.fromstring(page)
        assert not tree.xpath("//script") and not tree.xpath("//i[contains(., 'Five')]")
        shown = " ".join(tree.text_content().split())
        for rule in RULES_WITH_HTML:
            assert rule in shown, rule  # the rule as typed, as text
        assert not [b for b in tree.xpath("//b|//strong") if "Bold" in b.text_content()]
        assert not [a for a in tree.iter("a") if (a.get("href") or "").lower().startswith("javascript")]
    assert RULES_WITH_HTML[0] in " ".join(text_part.get_content().split())


@pytest.fixture(scope="module")
def small_issue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Rendered]:
    config = make_site(tmp_path_factory.mktemp("issue"), GOOD)
    rendered = compose_issue(config, EXAMPLE_TODAY, print, week="2013-W14")
    assert rendered is not None
    return config, rendered


INJECTING_NAMES = [
    "Eve\r\nBcc: x@y",
    "Eve\nBcc: x@example.org",
    "Eve\rBcc: x@example.org",
    "Eve\x00Bcc: x@example.org",
    "Eve\u2028Bcc: x@example.org",
    "Eve\x85Bcc: x@example.org",
    'Eve" <x@example.org>, "Mallory',
    "x@example.org",
    "<script>alert(1)</script>",
    "Eve\r\n\r\n<html>body</html>",
]
INJECTING_ADDRESSES = [
    "a@b.c\r\nBcc: d@e.f",
    "a@b.c\nBcc: d@e.f",
    "a@b.c\rBcc: d@e.f",
    "a@b.c\x00",
    "no-at-sign",
]
HEADERS = DIGEST_HEADERS


def parsed_message(config: Config, rendered: Rendered, recipient: Recipient) -> EmailMessage:
    data = build_message(config, rendered, recipient).as_bytes()
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert set(message.keys()) == HEADERS and len(message.keys()) == len(HEADERS), message.keys()
    return message


@pytest.mark.parametrize("name", INJECTING_NAMES)
def test_a_subscriber_name_cannot_add_a_header_or_markup(small_issue: tuple[Config, Rendered], name: str) -> None:
    config, rendered = small_issue
    message = parsed_message(config, rendered, Recipient("ann@example.net", name))
    assert [a.addr_spec for a in message["To"].addresses] == ["ann@example.net"]
    html_part = message.get_body(("html",))
    assert html_part is not None
    tree = lxml.html.fromstring(html_part.get_content())
    assert not tree.xpath("//script")
    assert "Hi " in tree.text_content()


@pytest.mark.parametrize("address", INJECTING_ADDRESSES)
def test_a_subscriber_address_built_to_inject_is_refused(small_issue: tuple[Config, Rendered], address: str) -> None:
    config, rendered = small_issue
    with pytest.raises(DeliveryError):
        build_message(config, rendered, Recipient(address, "Ann"))


@pytest.mark.parametrize(
    ("address", "name"),
    [
        ("ann@example.net", "=?utf-8?q?Bcc=3A_x=40example=2Eorg?="),  # an encoded-word the email package decodes
        ("a@b.c\u2028Bcc: d@e.f", "Ann"),  # a Unicode line separator: To: then shows d@e.f
        ("Eve <a@b.c>", "Ann"),  # not an address: sent to the quoted local part "Eve <a"@b.c
    ],
    ids=["encoded-word-name", "unicode-line-separator-address", "name-and-address"],
)
def test_a_recipient_cannot_change_who_the_message_shows_it_is_to(
    small_issue: tuple[Config, Rendered], address: str, name: str
) -> None:
    config, rendered = small_issue
    try:
        message = parsed_message(config, rendered, Recipient(address, name))
    except DeliveryError:
        return
    assert [a.addr_spec for a in message["To"].addresses] == [address]


def test_the_wrong_type_table_covers_every_documented_config_key(repo_root: Path) -> None:
    """Every key of the README's syndicate.toml is in `every_key` (a new key must join the table)."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## syndicate.toml.*?```toml\n(.*?)```", readme, re.S)
    assert block, "the README's syndicate.toml example moved"
    documented = tomllib.loads(block.group(1))
    keys = set()
    for name, value in documented.items():
        if isinstance(value, dict):
            keys |= {f"{name}.{key}" for key in value}
        elif isinstance(value, list):
            keys |= {f"sources.{key}" for item in value for key in item}
        else:
            keys.add(name)
    catalogued = {f"{where}.{key}" if where else key for where, key, _ in every_key()}
    assert keys - catalogued == set()
