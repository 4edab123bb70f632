"""The emails of signing up: the confirmation link, the welcome, and a link to the manage page.

They look like the digest (its stylesheet, inlined by the same premailer adapter; a
plain-text part first) and go out through the same [smtp] settings as `send`. A
confirmation email is sent to an address nobody has confirmed yet, so it carries no
text a stranger typed except the address itself: never the name from the form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from syndicate.addresses import InvalidAddress, header_address
from syndicate.config import Config
from syndicate.delivery.smtp import SmtpTarget, SmtpTransport
from syndicate.errors import DeliveryError
from syndicate.newsletter.inline import inline_css
from syndicate.newsletter.issue import archive_url, unsubscribe_base
from syndicate.newsletter.message import BODY_POLICY, message_bytes
from syndicate.newsletter.placeholders import greeting_for
from syndicate.subscribers.signing import manage_link
from syndicate.subscribers.store import Subscriber
from syndicate.subscribers.tokens import make_token, unsubscribe_url
from syndicate.templating import load_text, render
from syndicate.text import one_line, short_hash
from syndicate.urls import host_of


@dataclass(frozen=True, slots=True)
class Notice:
    """One email to one address: which templates, and what they are told."""

    kind: str  # confirm, welcome, manage: templates <kind>_email.html and <kind>_email.txt
    subject: str
    preheader: str  # the inbox preview line
    email: str
    name: str  # only for the To: header of mail to a confirmed subscriber
    values: dict[str, object]
    list_unsubscribe: str = ""  # the recipient's own unsubscribe URL (welcome and manage mail)


def _address(name: str, email: str) -> Address:
    local, domain = header_address(email)
    return Address(display_name=one_line(name)[:200].replace("=?", "= ?"), username=local, domain=domain)


def build(config: Config, notice: Notice, now: datetime) -> EmailMessage:
    """The notice as a multipart/alternative message (text, then HTML with the CSS inlined)."""
    values = {
        "site": config.site,
        "subject": notice.subject,
        "preheader": notice.preheader,
        "email": notice.email,
        "postal_address": config.digest.postal_address,
        **notice.values,
    }
    html = render(config.templates_dir, f"{notice.kind}_email.html", config.words, **values)
    html = inline_css(html, load_text(config.templates_dir, "digest.css"))
    text = render(config.templates_dir, f"{notice.kind}_email.txt", config.words, **values)
    sender = config.sender
    domain = host_of(config.site.url)
    msg = EmailMessage(policy=BODY_POLICY)
    msg["From"] = _address(sender.name, config.sender_address())
    msg["To"] = _address(notice.name, notice.email)
    msg["Subject"] = notice.subject
    msg["Date"] = format_datetime(now)
    # from what the mail says (its link is unique), so the same notice is the same message
    msg["Message-ID"] = f"<{notice.kind}.{short_hash(notice.email + text, 24)}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    if notice.list_unsubscribe:
        mailto = config.digest.unsubscribe_mailto or config.sender_address()
        msg["List-Id"] = config.digest.list_id or f"{one_line(config.site.title)} <digest.{domain}>"
        msg["List-Unsubscribe"] = f"<{notice.list_unsubscribe}>, <mailto:{mailto}?subject=unsubscribe>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def confirm_notice(config: Config, email: str, tags: frozenset[str] | None, url: str, expires: str) -> Notice:
    chosen = sorted(tags, key=str.casefold) if tags else []
    values: dict[str, object] = {"confirm_url": url, "expires": expires, "tags": chosen}
    words = config.words
    subject = words.gettext("Confirm your subscription to %(site)s", site=one_line(config.site.title))
    preheader = words.gettext("One click to confirm, and the weekly digest starts.")
    return Notice("confirm", subject, preheader, email, "", values)


def _own_links(config: Config, secret: bytes, sub: Subscriber) -> tuple[str, str]:
    token = make_token(secret, sub.id, sub.nonce)
    return unsubscribe_url(unsubscribe_base(config), token), manage_link(config, token)


def welcome_notice(config: Config, secret: bytes, sub: Subscriber) -> Notice:
    unsubscribe, manage = _own_links(config, secret, sub)
    values: dict[str, object] = {
        "greeting": greeting_for(sub.name, config.words),
        "tags": sorted(sub.tags, key=str.casefold) if sub.tags else [],
        "manage_url": manage,
        "unsubscribe_url": unsubscribe,
        "archive_url": archive_url(config),
    }
    words = config.words
    subject = words.gettext("Welcome to the weekly digest of %(site)s", site=one_line(config.site.title))
    preheader = words.gettext("What you will get, and how to change it.")
    return Notice("welcome", subject, preheader, sub.email, sub.name, values, unsubscribe)


def manage_notice(config: Config, secret: bytes, sub: Subscriber, reason: str) -> Notice:
    """A link to the manage page; `reason` "already" when it answers a subscribe form."""
    unsubscribe, manage = _own_links(config, secret, sub)
    values: dict[str, object] = {"reason": reason, "manage_url": manage, "unsubscribe_url": unsubscribe}
    words = config.words
    subject = words.gettext("Your subscription to %(site)s", site=one_line(config.site.title))
    # the name on file is only used once its owner confirmed it; this mail answers a form anyone can fill in
    preheader = words.gettext("Your link to choose topics, pause or unsubscribe.")
    return Notice("manage", subject, preheader, sub.email, "", values, unsubscribe)


def send_notice(config: Config, target: SmtpTarget, notice: Notice, now: datetime, log: Callable[[str], None]) -> bool:
    """Build and send one notice; False (and a line in the server's log) when it did not go out."""
    try:
        data = message_bytes(build(config, notice, now))
        with SmtpTransport(target, local_hostname=host_of(config.site.url)) as transport:
            transport.connect()
            reply = transport.deliver(config.sender_address(), notice.email, data, lambda: True)
    except (DeliveryError, InvalidAddress, OSError) as exc:
        log(f"syndicate: the {notice.kind} email to {notice.email} was not sent: {exc}")
        return False
    if reply.kind != "accepted":
        log(f"syndicate: the {notice.kind} email to {notice.email} was not sent: {reply.describe()}")
        return False
    return True
