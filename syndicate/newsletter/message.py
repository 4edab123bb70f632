"""A rendered issue + a recipient → a real MIME message (email.message.EmailMessage).

The issue's CSS has already been inlined, once (inline.py); personalising fills in its
placeholders (placeholders.py), and a name in a header is only ever display text.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import lru_cache

from syndicate.addresses import InvalidAddress, header_address
from syndicate.config import Config
from syndicate.errors import DeliveryError
from syndicate.language import Language
from syndicate.newsletter.issue import Rendered, manage_page, unsubscribe_base
from syndicate.newsletter.placeholders import (
    MAX_NAME,
    fill,
    fill_html,
    fill_text,
    greeting_for,
    has_placeholder,
    html_values,
    text_values,
)
from syndicate.text import one_line, short_hash
from syndicate.urls import host_of

# Bodies are encoded with quoted-printable lines within RFC 2045's 76; the message is
# written out with header lines up to RFC 5322's 998, because at 78 the email package turns a long
# List-Unsubscribe URL into RFC 2047 encoded words, which no mail client reads as a URL.
WIRE_POLICY = SMTP.clone(max_line_length=998)
BODY_POLICY = SMTP.clone(max_line_length=76)  # quoted-printable lines at most 76 (RFC 2045 6.7)


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire or into an .eml file."""
    return msg.as_bytes(policy=WIRE_POLICY)


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    name: str = ""
    unsubscribe_url: str = ""  # https URL carrying this recipient's signed token
    manage_url: str = ""  # the manage page with the same token
    unsubscribe_token: str = ""  # the same token, in the mailto's subject (read back by `syndicate inbox`)


def _domain(config: Config) -> str:
    return host_of(config.site.url)


def _address(name: str, email: str, what: str) -> Address:
    """A header address from untrusted parts: the address must be one plain addr-spec,
    and the name can only ever be display text."""
    try:
        local, domain = header_address(email)
    except InvalidAddress as exc:
        raise DeliveryError(f"{what} address {email!r} is not a valid e-mail address: {exc}") from None
    # "=?" would start an RFC 2047 encoded word that mail readers decode into other text
    display = one_line(name)[:MAX_NAME].replace("=?", "= ?")
    try:
        return Address(display_name=display, username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise DeliveryError(f"{what} address {email!r} is not valid: {exc}") from None


def _id_part(key: str) -> str:
    """An issue key as msg-id text: a custom window's '2013-04-15..2013-04-21' has '..', which RFC 5322 forbids."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", key).strip("-") or "issue"


def _message_id(key: str, email: str, domain: str) -> str:
    """One recipient's copy of one issue: the same id however often it is sent (mail clients drop repeats)."""
    return f"<{_id_part(key)}.{short_hash(email.strip().lower(), 16)}.digest@{domain}>"


@lru_cache(maxsize=256)
def _header(name: str, value: str) -> object:
    """A parsed header, made once for a value every issue repeats (sender, list headers, MIME types):
    the email package parses each header it is given, and a message has a dozen."""
    return BODY_POLICY.header_factory(name, value)


@lru_cache(maxsize=64)
def _address_header(header: str, name: str, email: str, what: str) -> object:
    """The sender's address (validated once, not once per issue) as a parsed header."""
    return BODY_POLICY.header_factory(header, _address(name, email, what))


def _part_bytes(text: str) -> bytes:
    """The text as a message part carries it: UTF-8, every line (the last too) ending in one LF."""
    return b"\n".join(text.encode("utf-8").splitlines()) + b"\n"


def _set_text(part: EmailMessage, text: str, subtype: str) -> None:
    """What `set_content(text, subtype=..., charset="utf-8", cte="quoted-printable")` does, with the
    encoding done by binascii's C quoted-printable encoder (the email package's own is pure Python
    and costs a few milliseconds per issue): same headers, same bytes."""
    part["Content-Type"] = _header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = _header("Content-Transfer-Encoding", "quoted-printable")
    part.set_payload(binascii.b2a_qp(_part_bytes(text), quotetabs=False, istext=True, header=False).decode("ascii"))


def build_message(
    config: Config, issue: Rendered, recipient: Recipient | None, date: datetime | None = None
) -> EmailMessage:
    """The issue as one multipart/alternative message: text first, then HTML.

    Without a recipient it is the generic copy written next to the web version.
    `date` is the Date: header, when the message is sent (default: when the issue's sending began).
    Every header value is deterministic: the same issue, recipient and date give the same bytes.
    """
    sender, sender_address = config.sender, config.sender_address()
    domain = _domain(config)
    list_unsubscribe = (recipient.unsubscribe_url if recipient else "") or unsubscribe_base(config)
    mailto = config.digest.unsubscribe_mailto or sender_address
    token = recipient.unsubscribe_token if recipient else ""
    mailto_subject = f"unsubscribe%20{token}" if token else "unsubscribe"  # token characters need no escaping
    greeting = greeting_for(recipient.name if recipient else "", config.words)
    manage = (recipient.manage_url if recipient else "") or manage_page(config)

    msg = EmailMessage(policy=BODY_POLICY)
    msg["From"] = _address_header("From", sender.name, sender_address, "sender")
    if recipient is not None:
        msg["To"] = _address(recipient.name, recipient.email, "recipient")
        msg["Message-ID"] = _message_id(issue.issue.key, recipient.email, domain)
    else:
        msg["To"] = _address_header("To", f"{config.site.title} readers", sender_address, "sender")
        msg["Message-ID"] = f"<{_id_part(issue.issue.key)}.digest@{domain}>"
    msg["Subject"] = issue.subject
    msg["Date"] = format_datetime(date or issue.issue.date)
    msg["List-Id"] = _header("List-Id", config.digest.list_id or f"{one_line(config.site.title)} <digest.{domain}>")
    msg["List-Unsubscribe"] = _header(
        "List-Unsubscribe", f"<{list_unsubscribe}>, <mailto:{mailto}?subject={mailto_subject}>"
    )
    msg["List-Unsubscribe-Post"] = _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    msg["List-Archive"] = f"<{issue.web_url}>"
    text = fill_text(issue.email_text, greeting, list_unsubscribe, manage)
    body = fill_html(issue.email_html, greeting, list_unsubscribe, manage)
    _set_text(msg, text, "plain")
    msg["MIME-Version"] = _header("MIME-Version", "1.0")
    msg.make_alternative()
    html_part = EmailMessage(policy=BODY_POLICY)
    _set_text(html_part, body, "html")
    msg.attach(html_part)
    # a fixed boundary (random by default) keeps the written .eml byte-identical between builds
    msg.set_boundary(f"=_syndicate_{short_hash(msg['Message-ID'] + text + body, 24)}")
    return msg


def personalize(config: Config, issue: Rendered, recipient: Recipient, date: datetime) -> EmailMessage:
    """One recipient's message, dated when it is sent."""
    return build_message(config, issue, recipient, date)


def _line(name: str, value: object) -> bytes:
    """One header as the wire policy writes it (folded, CRLF), from a value as a message stores it."""
    return WIRE_POLICY.fold_binary(name, BODY_POLICY.header_factory(name, value))


_PLAIN_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, single spaces: nothing to encode
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")  # a display name that needs no quoting


def _plain_line(name: str, value: str) -> bytes:
    """A header whose value the email package would write unchanged (plain ASCII, on one line of at most
    998 characters) written directly; anything else goes through the email package."""
    if len(name) + 2 + len(value) <= 998 and _PLAIN_VALUE.fullmatch(value):
        return f"{name}: {value}\r\n".encode("ascii")
    return _line(name, value)


def _to_line(recipient: Recipient) -> bytes:
    address = _address(recipient.name, recipient.email, "recipient")  # validated, whatever the path
    shown = address.display_name
    if address.addr_spec.isascii() and (not shown or _PLAIN_NAME.fullmatch(shown)):
        return _plain_line("To", f"{shown} <{address.addr_spec}>" if shown else address.addr_spec)
    return _line("To", address)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # a line with its end, as bytes.splitlines splits


def _qp(text: str) -> bytes:
    return binascii.b2a_qp(_part_bytes(text), quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")


class DotStuffed(bytes):
    """A message as SMTP DATA carries it (RFC 5321 4.5.2): CRLF line ends only, a dot that starts a line
    doubled, ending in CRLF. personal_bytes writes it so for a send, stuffing the shared lines once
    per issue; the SMTP adapter sends it as it is."""


def _stuffed(data: bytes) -> bytes:
    """Dots doubled at the start of each line of `data`, which starts a line and has CRLF line ends."""
    return (b"." if data.startswith(b".") else b"") + data.replace(b"\r\n.", b"\r\n..")


Piece = tuple[bytes, bytes, bytes] | str  # (UTF-8, quoted-printable, the same dot-stuffed) or a line to fill


def _pieces(template: str) -> tuple[Piece, ...]:
    """A part's template in pieces: runs of lines without a placeholder, encoded once per issue (their
    UTF-8 for the boundary's hash, their quoted-printable wire bytes, those dot-stuffed for SMTP), and
    each line with one, to be filled per recipient.

    Encoding line by line gives the bytes of encoding the whole: quoted-printable works within a line
    (soft breaks, trailing spaces, a lone dot) and every piece ends where a line ends."""
    pieces: list[Piece] = []
    plain: list[str] = []
    for line in _LINE.findall(template) or [""]:
        if has_placeholder(line):
            if plain:
                pieces.append(_encoded("".join(plain)))
                plain = []
            pieces.append(line)
        else:
            plain.append(line)
    if plain:
        pieces.append(_encoded("".join(plain)))
    return tuple(pieces)


def _encoded(lines: str) -> tuple[bytes, bytes, bytes]:
    wire = _qp(lines)
    return lines.encode("utf-8"), wire, _stuffed(wire)


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every recipient's copy of one issue shares, already as wire bytes."""

    issue: Rendered  # kept so its id cannot be reused while the frame is cached
    before_to: bytes  # From
    subject: bytes
    list_id: bytes
    after_unsubscribe: bytes  # List-Unsubscribe-Post, List-Archive, MIME-Version
    mailto: str
    domain: str
    text: tuple[Piece, ...]
    html: tuple[Piece, ...]
    unsubscribe_base: str  # for a recipient without a token of their own (a test copy)
    manage_page: str
    words: Language  # looked up once per issue: the lookup checks the catalogs' files


_FRAMES: dict[int, _Frame] = {}


def _frame(config: Config, issue: Rendered) -> _Frame:
    found = _FRAMES.get(id(issue))
    if found is not None and found.issue is issue:
        return found
    sender, sender_address = config.sender, config.sender_address()
    domain = _domain(config)
    frame = _Frame(
        issue,
        _line("From", _address(sender.name, sender_address, "sender")),
        _line("Subject", issue.subject),
        _line("List-Id", config.digest.list_id or f"{one_line(config.site.title)} <digest.{domain}>"),
        _line("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
        + _line("List-Archive", f"<{issue.web_url}>")
        + _line("MIME-Version", "1.0"),
        config.digest.unsubscribe_mailto or sender_address,
        domain,
        _pieces(issue.email_text),
        _pieces(issue.email_html),
        unsubscribe_base(config),
        manage_page(config),
        config.words,
    )
    if len(_FRAMES) >= 64:  # one frame per issue and tag filter of a run; older runs' frames can go
        _FRAMES.clear()
    _FRAMES[id(issue)] = frame
    return frame


_QP_PART = b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'


def _filled(pieces: tuple[Piece, ...], values: dict[str, str], digest: hashlib._Hash, stuff: bool) -> bytes:
    """A part's wire bytes for one recipient (dot-stuffed with `stuff`); `digest` takes the filled
    text, as `short_hash` would."""
    out = []
    for piece in pieces:
        if isinstance(piece, str):
            line = fill(piece, values)
            digest.update(line.encode("utf-8", "surrogatepass"))
            out.append(_stuffed(_qp(line)) if stuff else _qp(line))
        else:
            digest.update(piece[0])
            out.append(piece[2] if stuff else piece[1])
    return b"".join(out)


def personal_bytes(
    config: Config, issue: Rendered, recipient: Recipient, date: datetime, *, smtp_data: bool = False
) -> bytes:
    """`message_bytes(personalize(...))`, byte for byte, in a fraction of the time: what every copy
    shares is written once per issue (headers and the bodies' lines without a placeholder, already
    quoted-printable), and only the personal headers and lines are written for each recipient (a test
    holds the two equal). This is what a send of 10,000 copies runs, with `smtp_data`: then the
    copy is DotStuffed, ready for SMTP DATA."""
    frame = _frame(config, issue)
    list_unsubscribe = recipient.unsubscribe_url or frame.unsubscribe_base
    greeting = greeting_for(recipient.name, frame.words)
    manage = recipient.manage_url or frame.manage_page
    token = recipient.unsubscribe_token
    mailto_subject = f"unsubscribe%20{token}" if token else "unsubscribe"
    message_id = _message_id(issue.issue.key, recipient.email, frame.domain)
    # the boundary is short_hash(message_id + text + html) of the filled parts, as build_message makes it
    digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass"))
    text = _filled(frame.text, text_values(greeting, list_unsubscribe, manage), digest, smtp_data)
    html = _filled(frame.html, html_values(greeting, list_unsubscribe, manage), digest, smtp_data)
    boundary = b"=_syndicate_" + digest.hexdigest()[:24].encode("ascii")
    head = b"".join(
        (
            frame.before_to,
            _to_line(recipient),
            _plain_line("Message-ID", message_id),
            frame.subject,
            _plain_line("Date", format_datetime(date)),
            frame.list_id,
            _plain_line("List-Unsubscribe", f"<{list_unsubscribe}>, <mailto:{frame.mailto}?subject={mailto_subject}>"),
            frame.after_unsubscribe,
            b'Content-Type: multipart/alternative; boundary="' + boundary + b'"\r\n\r\n',
        )
    )
    parts = (
        _stuffed(head) if smtp_data else head,  # (no header line starts with a dot; stuffed all the same)
        b"--" + boundary + b"\r\n",
        _QP_PART % b"plain",
        text,
        b"\r\n--" + boundary + b"\r\n",
        _QP_PART % b"html",
        html,
        b"\r\n--" + boundary + b"--\r\n",
    )
    return DotStuffed(b"".join(parts)) if smtp_data else b"".join(parts)


def archive_text(config: Config, issue: Rendered) -> bytes:
    """The archive's issue.txt: the text part of the copy without a recipient, byte for byte as
    that .eml carries it (decoded), whoever writes the file (the build or `syndicate digest`)."""
    return _part_bytes(
        fill_text(issue.email_text, greeting_for("", config.words), unsubscribe_base(config), manage_page(config))
    )
