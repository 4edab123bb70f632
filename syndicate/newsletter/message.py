"""A rendered issue + a recipient → a real MIME message (email.message.EmailMessage).

The issue's CSS has already been inlined, once (inline.py); personalising fills in its
placeholders (placeholders.py), and a name in a header is only ever display text.
"""

from __future__ import annotations

import binascii
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
from syndicate.newsletter.issue import Rendered, unsubscribe_base
from syndicate.newsletter.placeholders import MAX_NAME, fill_html, fill_text, greeting_for
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
    greeting = greeting_for(recipient.name if recipient else "")

    msg = EmailMessage(policy=BODY_POLICY)
    msg["From"] = _address_header("From", sender.name, sender_address, "sender")
    if recipient is not None:
        msg["To"] = _address(recipient.name, recipient.email, "recipient")
        salt = short_hash(recipient.email.strip().lower(), 16)
        msg["Message-ID"] = f"<{_id_part(issue.issue.key)}.{salt}.digest@{domain}>"
    else:
        msg["To"] = _address_header("To", f"{config.site.title} readers", sender_address, "sender")
        msg["Message-ID"] = f"<{_id_part(issue.issue.key)}.digest@{domain}>"
    msg["Subject"] = issue.subject
    msg["Date"] = format_datetime(date or issue.issue.date)
    msg["List-Id"] = _header("List-Id", config.digest.list_id or f"{one_line(config.site.title)} <digest.{domain}>")
    msg["List-Unsubscribe"] = _header(
        "List-Unsubscribe", f"<{list_unsubscribe}>, <mailto:{mailto}?subject=unsubscribe>"
    )
    msg["List-Unsubscribe-Post"] = _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    msg["List-Archive"] = f"<{issue.web_url}>"
    text = fill_text(issue.email_text, greeting, list_unsubscribe)
    body = fill_html(issue.email_html, greeting, list_unsubscribe)
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


def archive_text(config: Config, issue: Rendered) -> bytes:
    """The archive's issue.txt: the text part of the copy without a recipient, byte for byte as
    that .eml carries it (decoded), whoever writes the file (the build or `syndicate digest`)."""
    return _part_bytes(fill_text(issue.email_text, greeting_for(""), unsubscribe_base(config)))
