"""The digest as a real MIME message: parse the .eml back and check what a recipient's mail client sees.

Golden files (tests/data/golden/) are rewritten only with SYNDICATE_REGEN_GOLDEN=1, and
every one is paired with checks that read the output back and assert its meaning.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import html
import os
import re
import textwrap
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import lxml.html
import pytest
from conftest import DIGEST_HEADERS, EXAMPLE_TODAY, REPO_ROOT, TEST_DATA, build_site, make_site, post_text
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.build.compose import compose_issue
from syndicate.config import Config, load_config
from syndicate.delivery.smtp import dot_stuffed
from syndicate.errors import DeliveryError
from syndicate.newsletter.issue import GMAIL_CLIP_BYTES, Rendered
from syndicate.newsletter.message import (
    DotStuffed,
    Recipient,
    build_message,
    message_bytes,
    personal_bytes,
    personalize,
)
from syndicate.newsletter.placeholders import GREETING, MANAGE, UNSUBSCRIBE

GOLDEN = TEST_DATA / "golden"
REGENERATE = os.environ.get("SYNDICATE_REGEN_GOLDEN") == "1"
WEB_URL = "https://blog.example.org/feeds/newsletter/2013-W16/"
UNSUBSCRIBE_URL = "https://blog.example.org/unsubscribe"
PDT = timezone(timedelta(hours=-7))
BEGAN = datetime(2013, 4, 22, 9, 0, tzinfo=PDT)  # when the W16 send began: samples/newsletter/2013-W16.toml
SENT = datetime(2013, 4, 22, 9, 3, 12, tzinfo=PDT)  # when one personal copy went out

SESSIONS = [
    ("Getting From Grizzly to Havana: a DevOps Upgrade Pattern", "Rob Hirschfeld"),
    ("Nicira NVP Deep Dive", "Dan Wendlandt"),
    ("Considerations for Building a Private Cloud, Folsom Update", "Ryan Richard"),
    ("Building HA OpenStack with Puppet in 20 Minutes", "Boris Renski"),
    ("OpenStack Capacity Planning", None),
    ("Networking in the Cloud: An SDN Primer", "Ben Cherian"),
    ("OpenStack Back to the Enterprise: Keep Calm and Boldly Go", "Florian Otel"),
    (
        "More Reliable, More Resilient, More Redundant: OpenStack High Availability in Grizzly and Beyond",
        "Florian Haas",
    ),
]
RULES = [
    "To enter, leave a comment on this post saying why the book would help you.",
    "Use a valid e-mail address with your comment; winners are contacted by e-mail.",
    "A winner who does not reply with a shipping address within 48 hours is replaced by another entrant.",
    "Open to residents of the continental United States only.",
]
HEADERS = DIGEST_HEADERS
# RFC 5322 msg-id without the obsolete forms: dot-atom-text "@" dot-atom-text
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = re.compile(rf"<{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*>")
FOOTNOTE = re.compile(r"^\[(\d+)\] (\S+)$")


def words(text: str) -> str:
    return " ".join(text.split())


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None
    # the parser keeps the wire's CRLF line ends inside the decoded text
    return plain.get_content().replace("\r\n", "\n"), rich.get_content().replace("\r\n", "\n")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(REPO_ROOT / "syndicate.toml", output_dir=tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def built(config: Config) -> Path:
    """The example site built once; the issue's folder."""
    build_site(config)
    return config.output_dir / "newsletter" / "2013-W16"


@pytest.fixture(scope="module")
def rendered(config: Config) -> Rendered:
    result = compose_issue(config, EXAMPLE_TODAY, print, week="2013-W16")
    assert result is not None
    return result


@pytest.fixture(scope="module")
def eml(built: Path) -> bytes:
    return (built / "issue.eml").read_bytes()


@pytest.fixture(scope="module")
def message(eml: bytes) -> EmailMessage:
    return parse(eml)


# --- structure and headers --------------------------------------------------------------------


def test_structure_is_alternative_text_first_then_html_in_utf8(message: EmailMessage, eml: bytes) -> None:
    assert message.get_content_type() == "multipart/alternative"
    children = list(message.iter_parts())
    assert [p.get_content_type() for p in children] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in children)
    assert all(not p.is_multipart() for p in children)
    # a message as SMTP carries it: CRLF line ends, no line over RFC 5322's 998 characters
    lines = eml.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 998
    assert eml.isascii()  # 7-bit clean: every part is encoded


def test_every_header_is_there_once_and_right(message: EmailMessage) -> None:
    names = [name for name, _ in message.items()]
    assert sorted(set(names)) == sorted(HEADERS)
    assert len(names) == len(set(names))
    assert message["From"].addresses[0].addr_spec == "author@example.org"
    assert message["From"].addresses[0].display_name == "Example Author"
    assert [a.addr_spec for a in message["To"].addresses] == ["author@example.org"]
    assert message["Subject"] == "Example Blog: 8 new posts, week of 15 April 2013"
    # the archived copy is dated when its sending began, as the issue's record says
    assert parsedate_to_datetime(message["Date"]) == BEGAN
    assert MSG_ID.fullmatch(message["Message-ID"]), message["Message-ID"]
    assert message["Message-ID"].endswith("@blog.example.org>")
    assert message["List-Id"] == "Example Blog <digest.blog.example.org>"
    targets = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert targets[0] == UNSUBSCRIBE_URL
    assert targets[1].startswith("mailto:author@example.org")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Archive"] == f"<{WEB_URL}>"


def test_the_message_is_deterministic(config: Config, rendered: Rendered, eml: bytes) -> None:
    again = message_bytes(build_message(config, rendered, None))
    assert again == message_bytes(build_message(config, rendered, None))
    assert again == eml  # the command and the build compose the same bytes
    recipient = Recipient("ann@example.net", "Ann")
    one, two = personalize(config, rendered, recipient, SENT), personalize(config, rendered, recipient, SENT)
    assert message_bytes(one) == message_bytes(two)
    assert parsedate_to_datetime(one["Date"]) == SENT  # a personal copy: when it is sent
    other = personalize(config, rendered, Recipient("bob@example.net", "Bob"), SENT)
    assert one["Message-ID"] != other["Message-ID"] != message_id(eml)
    assert MSG_ID.fullmatch(one["Message-ID"]) and MSG_ID.fullmatch(other["Message-ID"])


def message_id(eml: bytes) -> str:
    return str(parse(eml)["Message-ID"])


def test_message_id_is_valid_for_a_window_of_days(config: Config) -> None:
    result = compose_issue(config, EXAMPLE_TODAY, print, since="2013-04-15", until="2013-04-16")
    assert result is not None
    sent = parse(build_message(config, result, None).as_bytes())
    assert MSG_ID.fullmatch(sent["Message-ID"]), sent["Message-ID"]


# --- what both parts say -------------------------------------------------------------------------


def test_both_parts_carry_every_session_presenter_and_rule(message: EmailMessage) -> None:
    text, page = parts(message)
    readable = {"text": words(text), "html": words(lxml.html.fromstring(page).text_content())}
    for form, flat in readable.items():
        for title, presenter in SESSIONS:
            assert title in flat, (form, title)
            if presenter:
                assert presenter in flat, (form, presenter)
        for rule in RULES:
            assert rule in flat, (form, rule)
        assert "ends Monday 15 April" in flat, form
        assert "Liveblogs from the 2013 OpenStack Summit" not in flat, form
        assert "123 Example Street, Portland, OR 97201" in flat, form


# --- the HTML part ---------------------------------------------------------------------------------


def strip_media_blocks(css: str) -> tuple[str, list[str]]:
    """Split a stylesheet into what is outside @media blocks and the blocks themselves."""
    outside, blocks, i = [], [], 0
    while i < len(css):
        at = css.find("@media", i)
        if at < 0:
            outside.append(css[i:])
            break
        outside.append(css[i:at])
        depth, j = 0, css.index("{", at)
        while True:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
            if depth == 0:
                break
        blocks.append(css[at:j])
        i = j
    return "".join(outside), blocks


def test_html_part_is_built_for_email_clients(message: EmailMessage) -> None:
    _, page = parts(message)
    assert len(page.encode("utf-8")) < GMAIL_CLIP_BYTES
    tree = lxml.html.fromstring(page)
    assert tree.get("lang") == "en"
    metas = {m.get("name"): m.get("content") for m in tree.iter("meta") if m.get("name")}
    assert metas["color-scheme"] == "light dark"
    tables = list(tree.iter("table"))
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert any(t.get("width") == "600" for t in tables)
    for img in tree.iter("img"):
        assert img.get("alt") is not None, lxml.html.tostring(img)
    # the preheader is hidden by display:none (not by matching colours), and says what is new
    (pre,) = tree.find_class("preheader")
    style = pre.get("style", "").replace(" ", "")
    assert "display:none" in style and "max-height:0" in style
    assert words(pre.text_content()).startswith("8 new: Getting From Grizzly to Havana")
    # every link is absolute
    hrefs = [a.get("href") for a in tree.iter("a")]
    assert hrefs
    for href in hrefs:
        assert re.match(r"(https?://[^/\s]+/|mailto:)\S*$", href or ""), href
    # CSS is inlined: the only <style> left holds media queries, with !important to beat inline styles
    styles = [s.text or "" for s in tree.iter("style")]
    assert len(styles) == 1
    rest, blocks = strip_media_blocks(styles[0])
    assert rest.strip() == ""
    assert {b.split("{")[0].strip() for b in blocks} == {
        "@media only screen and (max-width: 620px)",
        "@media (prefers-color-scheme: dark)",
    }
    for block in blocks:
        declarations = [d for d in re.split(r"[;{}]", block.split("{", 1)[1]) if ":" in d]
        assert declarations and all("!important" in d for d in declarations)
    post_titles = [a for a in tree.iter("a") if words(a.text_content()) == SESSIONS[0][0]]
    assert post_titles and "color:" in (post_titles[0].get("style") or "")  # inlined from the stylesheet


def test_html_footer_says_why_and_links_out(message: EmailMessage) -> None:
    _, page = parts(message)
    tree = lxml.html.fromstring(page)
    (footer,) = tree.find_class("footer")
    text = words(footer.text_content())
    assert "because you subscribed" in text
    assert "Example Blog, 123 Example Street, Portland, OR 97201, USA" in text
    links = {words(a.text_content()): a.get("href") for a in footer.iter("a")}
    assert links["Web version"] == WEB_URL
    assert links["Unsubscribe"] == UNSUBSCRIBE_URL
    view = [a for a in tree.iter("a") if "browser" in a.text_content()]
    assert view and view[0].get("href") == WEB_URL


# --- the text part ------------------------------------------------------------------------------------


def check_text(text: str) -> dict[int, str]:
    """Lines fit 78 columns (footnote URLs excepted); every [n] resolves. Returns the footnotes."""
    lines = text.split("\n")
    notes: dict[int, str] = {}
    for line in lines:
        found = FOOTNOTE.match(line)
        if found and re.match(r"https?://|mailto:", found[2]):
            notes[int(found[1])] = found[2]
            continue
        assert len(line) <= 78, f"{len(line)} columns: {line!r}"
    body = "\n".join(line for line in lines if not FOOTNOTE.match(line))
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    assert cited == set(notes), (cited, set(notes))
    assert sorted(notes) == list(range(1, len(notes) + 1))
    return notes


def test_text_part_is_wrapped_with_footnoted_links(message: EmailMessage) -> None:
    text, _ = parts(message)
    notes = check_text(text)
    urls = set(notes.values())
    for slug in (
        "grizzly-to-havana",
        "nicira-nvp-deep-dive",
        "openstack-ha-grizzly-and-beyond",
        "vsphere-design-book-giveaway",
    ):
        assert any(slug in url for url in urls), slug
    assert WEB_URL in urls
    assert UNSUBSCRIBE_URL in text
    assert "<" not in text and "&amp;" not in text  # written from data, not stripped HTML
    # each session title is followed by its own link's footnote
    flat = words(text)
    for title, _ in SESSIONS:
        number = re.search(re.escape(title) + r" \[(\d+)\]", flat)
        assert number, title
        assert notes[int(number[1])].startswith("https://blog.example.org/2013/04/1")


def test_text_part_stays_wrapped_with_long_names_and_urls(config: Config, rendered: Rendered) -> None:
    long_url = "https://blog.example.org/unsubscribe?token=" + "a1b2c3d4" * 12
    recipient = Recipient("ann@example.net", "Annabelle-Marguerite " * 4, long_url)
    text, page = parts(personalize(config, rendered, recipient, SENT))
    notes = check_text(text)
    assert long_url in notes.values()
    assert long_url in [a.get("href") for a in lxml.html.fromstring(page).iter("a")]


def test_text_lines_fit_for_long_titles_tags_and_site_names(tmp_path: Path) -> None:
    long = "Supercalifragilistic " * 6
    config = make_site(
        tmp_path,
        {
            "a.md": post_text(
                long.strip(),
                "2013-04-16 10:00:00",
                tags=[f"tag number {n} with a long name" for n in range(6)],
                presenter="Someone With A Very Long Name " * 3,
                announcement={
                    "starts": "2013-04-10",
                    "ends": "2013-04-20",
                    "rules": [long * 2],
                    "prize": long,
                    "cta": {"text": long, "url": "/enter/"},
                },
            ),
        },
        site={"title": "A Site Whose Title Goes On And On Well Past The Width Of A Line Of Text"},
    )
    result = compose_issue(config, EXAMPLE_TODAY, print, week="2013-W16")
    assert result is not None
    text, _ = parts(build_message(config, result, None))
    check_text(text)
    assert words(long) in words(text)


# --- golden files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["2013-W16.txt", "2013-W16.eml"])
def test_golden_files(built: Path, name: str) -> None:
    produced = (built / ("issue.txt" if name.endswith(".txt") else "issue.eml")).read_bytes()
    golden = GOLDEN / name
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
    assert golden.is_file(), f"{golden} is missing; run the tests once with SYNDICATE_REGEN_GOLDEN=1 and review it"
    assert produced == golden.read_bytes(), (
        f"{name} changed; review the diff, then regenerate with SYNDICATE_REGEN_GOLDEN=1"
    )


def test_golden_files_mean_what_they_should() -> None:
    """The stored files themselves pass the meaning checks (so a regeneration cannot freeze a mistake)."""
    message = parse((GOLDEN / "2013-W16.eml").read_bytes())
    text, _ = parts(message)
    assert message["Subject"] == "Example Blog: 8 new posts, week of 15 April 2013"
    assert parsedate_to_datetime(message["Date"]) == BEGAN
    check_text(text)
    stored = (GOLDEN / "2013-W16.txt").read_text(encoding="utf-8")
    check_text(stored)
    assert stored == text
    for title, presenter in SESSIONS:
        assert title in words(stored) and (presenter is None or presenter in stored)


# --- personalisation is inert --------------------------------------------------------------------------

HOSTILE_NAMES = [
    "{{x}}",
    "{{ config.smtp }}{% for x in range(3) %}loop{% endfor %}",
    "<b>bold</b>",
    "Eve\r\nBcc: victim@example.com",
    "Eve\nSubject: changed",
    f"Mallory {GREETING}",
    f"Mallory {UNSUBSCRIBE}",
    "{site}: {count} %s %(x)s",
    'O\'Brien & "Sons" <x@y>',
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_recipient_names_are_inert(config: Config, rendered: Rendered, name: str) -> None:
    token_url = "https://blog.example.org/unsubscribe?t=ann-token"
    message = personalize(config, rendered, Recipient("ann@example.net", name, token_url), SENT)
    data = message.as_bytes()
    parsed = parse(data)
    assert sorted({n for n, _ in parsed.items()}) == sorted(HEADERS)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["ann@example.net"]
    assert [a.addr_spec for a in parsed["From"].addresses] == ["author@example.org"]
    assert parsed["Subject"] == "Example Blog: 8 new posts, week of 15 April 2013"
    assert b"victim@example.com" not in data.split(b"\r\n\r\n", 1)[0].replace(parsed["To"].encode(), b"")
    text, page = parts(parsed)
    shown = " ".join(name.split())
    # HTML: the name appears escaped, exactly as typed; no element came from it
    tree = lxml.html.fromstring(page)
    (greeting,) = tree.find_class("greeting")
    assert words(greeting.text_content()) == f"Hi {shown},"
    assert len(greeting) == 0  # no child elements: <b> stayed text
    assert html.escape(shown, quote=False) in page or html.escape(shown) in page
    assert "<b>bold</b>" not in page
    # text: the name as typed on the greeting line; templates never evaluated it
    assert f"Hi {shown}," in words(text)
    assert "loop" not in text.replace(shown, "")
    # the unsubscribe link is still this recipient's, wherever the name sits
    links = {words(a.text_content()): a.get("href") for a in tree.iter("a")}
    assert links["Unsubscribe"] == token_url
    assert re.findall(r"<([^>]+)>", parsed["List-Unsubscribe"])[0] == token_url
    assert page.count(GREETING) == shown.count(GREETING) and page.count(UNSUBSCRIBE) == shown.count(UNSUBSCRIBE)
    assert text.count(GREETING) == shown.count(GREETING) and text.count(UNSUBSCRIBE) == shown.count(UNSUBSCRIBE)


@pytest.mark.parametrize("address", ["ann@example.net\r\nBcc: victim@example.com", "no-at-sign", "ann@exa\x00mple.net"])
def test_bad_recipient_addresses_are_refused(config: Config, rendered: Rendered, address: str) -> None:
    with pytest.raises(DeliveryError):
        personalize(config, rendered, Recipient(address, "Ann"), SENT)


def test_titles_and_site_names_cannot_add_headers(tmp_path: Path) -> None:
    evil = "Evil\r\nBcc: victim@example.com\r\n\r\n<script>x</script>\x00\x1b[31m\u202e"
    config = make_site(
        tmp_path,
        {
            "evil.md": post_text(evil, "2013-04-16 10:00:00", presenter=evil, affiliation=evil),
            "promo.md": post_text(
                evil,
                "2013-04-02 10:00:00",
                slug="promo",
                announcement={"starts": "2013-04-10", "ends": "2013-04-20", "rules": [evil], "prize": evil},
            ),
        },
    )
    config = dataclasses.replace(
        config,
        site=dataclasses.replace(config.site, title=evil, author=dataclasses.replace(config.site.author, name=evil)),
    )
    result = compose_issue(config, EXAMPLE_TODAY, print, week="2013-W16")
    assert result is not None
    for recipient in (None, Recipient("ann@example.net", evil)):
        data = build_message(config, result, recipient).as_bytes()
        parsed = parse(data)
        assert sorted({n for n, _ in parsed.items()}) == sorted(HEADERS)
        assert "Bcc" not in parsed
        head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        assert not re.search(r"(?m)^Bcc:", head)
        for name, value in parsed.items():
            assert "\r" not in value and "\n" not in value and "\x00" not in value and "\x1b" not in value, name
        text, page = parts(parsed)
        assert "<script>" not in page
        assert "\x1b" not in text and "\x00" not in text
        assert len(page.encode()) < GMAIL_CLIP_BYTES


@settings(max_examples=120, deadline=None)
@given(
    name=st.text(max_size=90),
    address=st.sampled_from(["ann@example.net", "o'brien+news@example.org", "Bob@Example.ORG", "x@b.co"]),
    token=st.text(alphabet="abcdefABCDEF0123456789-_.", max_size=1200),
    minute=st.integers(0, 60 * 24 * 365),
)
def test_the_fast_copy_is_byte_for_byte_the_email_packages(
    config: Config, rendered: Rendered, name: str, address: str, token: str, minute: int
) -> None:
    """A send writes each copy with `personal_bytes`; the email package's message is the reference."""
    recipient = Recipient(address, name, f"https://blog.example.org/unsubscribe?token={token}" if token else "")
    when = SENT + timedelta(minutes=minute)
    try:
        reference = message_bytes(personalize(config, rendered, recipient, when))
    except DeliveryError:
        with pytest.raises(DeliveryError):
            personal_bytes(config, rendered, recipient, when)
        return
    assert personal_bytes(config, rendered, recipient, when) == reference


# what a template line can hold that quoted-printable treats specially: long lines (soft breaks near 76),
# spaces and tabs before a line end, a lone dot, "=", non-ASCII, each kind of line end, and placeholders
_TEMPLATE_BITS = st.sampled_from(
    ["a", "word ", " ", "\t", ".", "=", "é", "—", "\n", "\r\n", "\r", "x" * 70, "y" * 75, GREETING, UNSUBSCRIBE, MANAGE]
)


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(_TEMPLATE_BITS, max_size=24).map("".join),
    markup=st.lists(_TEMPLATE_BITS, max_size=24).map("".join),
    name=st.text(max_size=90),
    token=st.text(alphabet="abcdef0123456789-_", max_size=200),
)
def test_the_fast_copy_of_any_template_is_the_email_packages(
    config: Config, rendered: Rendered, text: str, markup: str, name: str, token: str
) -> None:
    """personal_bytes encodes the lines without a placeholder once per issue and splices in each
    recipient's lines: for any body, the bytes are those of encoding the filled body whole."""
    issue = dataclasses.replace(rendered, email_text=text, email_html=markup)
    url = f"https://blog.example.org/unsubscribe?token={token}"
    manage = f"https://blog.example.org/manage?token={token}" if token else ""
    recipient = Recipient("ann@example.net", name, url, manage_url=manage, unsubscribe_token=token)
    plain = personal_bytes(config, issue, recipient, SENT)
    assert plain == message_bytes(personalize(config, issue, recipient, SENT))
    # and the copy a send writes, dot-stuffed piece by piece, is what the SMTP adapter would make of it
    for_smtp = personal_bytes(config, issue, recipient, SENT, smtp_data=True)
    assert isinstance(for_smtp, DotStuffed) and bytes(for_smtp) == dot_stuffed(plain)


@settings(max_examples=300, deadline=None)
@given(
    local=st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,10}(\.[A-Za-z0-9_-]{1,8}){0,2}", fullmatch=True),
    domain=st.from_regex(r"([a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?\.){1,3}[a-z]{2,6}", fullmatch=True),
)
def test_the_plain_address_shortcut_agrees_with_email_validator(local: str, domain: str) -> None:
    """header_address answers plain addresses without email-validator; where the library takes the
    address, both must give the same parts."""
    from email_validator import EmailNotValidError, validate_email

    from syndicate.addresses import header_address

    address = f"{local}@{domain}"
    try:
        valid = validate_email(address, check_deliverability=False, allow_display_name=False)
    except EmailNotValidError:
        return  # e.g. a special-use domain; stored addresses never are (they are validated when stored)
    assert header_address(address) == tuple(valid.normalized.rsplit("@", 1))


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(max_size=120)
    | st.text(alphabet=" \t.aé", max_size=8)
    | st.text(alphabet=" ab", min_size=70, max_size=90)
)
def test_the_shortcuts_for_a_name_change_nothing(name: str) -> None:
    """A send cleans each name (one_line) and wraps each greeting (textwrap) by a shortcut when the
    text is plain or short; the full path must give the same."""
    from syndicate import text
    from syndicate.language import language_for
    from syndicate.newsletter.placeholders import TEXT_WIDTH, greeting_for, text_values

    assert text.one_line(name) == text._one_line(name)
    greeting = greeting_for(name, language_for("en"))
    wrapped = textwrap.fill(greeting, TEXT_WIDTH, break_on_hyphens=False)
    assert text_values(greeting, "u", "m")[GREETING] == wrapped


@settings(max_examples=300, deadline=None)
@given(name=st.from_regex(r"[!-~]{1,12}( [!-~]{1,12}){0,6}", fullmatch=True))
def test_a_plain_name_is_one_clean_line_already(name: str) -> None:
    from syndicate import text

    assert text._one_line(name) == name
