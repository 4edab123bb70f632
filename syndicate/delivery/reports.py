"""What a message in the author's inbox reports: a bounce, a complaint, an unsubscribe, or nothing.

Pure: bytes in, a frozen `Report` out; which subscriber it is about is decided
later (inbox.py), with the secret and the database. What is read:

- delivery status notifications (RFC 3464: multipart/report; report-type=
  delivery-status), each recipient with its status code (RFC 3463): 5.1.x
  (no such address or domain), 5.2.1 (mailbox disabled) and an unspecific
  5.0.0 are hard; the rest (4.x.x, a full mailbox, a policy block) is soft;
  "delayed" is only a warning;
- the formats from before RFC 3464 that big providers and old servers still
  send, through flufl.bounce (bounces.py);
- complaint reports (ARF, RFC 5965: report-type=feedback-report) of type
  abuse, fraud or other; the complainer's address is often redacted, so the
  tokens in the original message's headers matter most;
- mailto unsubscribes: a token in the subject or in the address;
- auto-replies (RFC 3834 Auto-Submitted, and the habits of Exchange and
  older vacation programs), recognised so that they are never mistaken for
  anything else.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.parser
import email.utils
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Literal

from syndicate.delivery.bounces import nonstandard_failures
from syndicate.subscribers.tokens import find_unsubscribe_token, token_in_address

What = Literal["bounce", "complaint", "unsubscribe", "delay", "auto_reply", "other"]
FindingKind = Literal["hard_bounce", "soft_bounce", "complaint", "unsubscribe"]

# where the address a message was delivered to shows (the envelope recipient, so a VERP address)
_ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "Original-To", "To")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_COMPLAINT_TYPES = ("abuse", "fraud", "other")
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheitsnotiz|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|vacation)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One recipient's fate, as the report tells it."""

    kind: FindingKind
    address: str  # the recipient the report names ('' when it names none, as a redacted complaint)
    detail: str  # the status code and the server's words, or the complaint's type


@dataclass(frozen=True, slots=True)
class Report:
    ident: str  # the report's Message-ID, or a hash of its bytes when it has none
    what: What
    findings: tuple[Finding, ...]
    bounce_tokens: tuple[str, ...]  # candidate VERP tokens: where the report was delivered to
    unsubscribe_tokens: tuple[str, ...]  # candidate unsubscribe tokens: subject, address, original headers
    date: datetime | None  # when the report says it was written
    summary: str  # "Subject" from sender, for listing


def _decoded(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (email.errors.HeaderParseError, UnicodeDecodeError, LookupError):
        return value


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


def _date(msg: Message) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _report_type(msg: Message) -> str:
    if msg.get_content_type() != "multipart/report":
        return ""
    return str(msg.get_param("report-type", "") or "").lower()


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
    chunks = re.split(r"\r?\n[ \t]*\r?\n", text.strip())  # sent as one body: split at the blank lines
    return [email.parser.HeaderParser().parsestr(chunk) for chunk in chunks if chunk.strip()]


def _original_headers(msg: Message) -> Message | None:
    """The headers of the message a report is about (message/rfc822 or text/rfc822-headers)."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global") and part.is_multipart():
            inner = part.get_payload(0)
            if isinstance(inner, Message):
                return inner
        if kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(part.get_payload())
            return email.parser.HeaderParser().parsestr(text.lstrip())
    return None


def _address(value: str) -> str:
    """'rfc822; Ann@Example.org' → 'ann@example.org' (a DSN's address field)."""
    text = value.split(";", 1)[1] if ";" in value else value
    return email.utils.parseaddr(text.strip())[1].strip().lower()


def _bounce_kind(status: str, action: str) -> FindingKind | None:
    if action.startswith("delayed") or action.startswith(("delivered", "relayed", "expanded")):
        return None
    if status.startswith("4"):
        return "soft_bounce"
    cls, subject, detail = status.split(".") if status else ("5", "0", "0")
    if cls == "5" and (subject == "1" or (subject, detail) in (("2", "1"), ("0", "0"))):
        return "hard_bounce"
    return "soft_bounce"


def _dsn_findings(msg: Message) -> tuple[list[Finding], bool]:
    """The recipients an RFC 3464 report names, and whether it was only a delay warning."""
    findings: list[Finding] = []
    delayed = False
    for part in msg.walk():
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        for block in _field_blocks(part):
            action = str(block.get("Action", "")).strip().lower()
            if not action:
                continue  # the per-message fields
            address = _address(str(block.get("Original-Recipient") or block.get("Final-Recipient") or ""))
            diagnostic = _one_line(str(block.get("Diagnostic-Code", "")).partition(";")[2] or "")
            found = _STATUS.search(str(block.get("Status", ""))) or _STATUS.search(diagnostic)
            status = ".".join(found.groups()) if found else ""
            kind = _bounce_kind(status, action)
            if action.startswith("delayed"):
                delayed = True
            if kind is not None and address:
                findings.append(Finding(kind, address, _one_line(f"{status or action} {diagnostic}")))
    return findings, delayed


def _complaint_findings(msg: Message, original: Message | None) -> list[Finding]:
    for part in msg.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = _field_blocks(part)
        if not fields:
            return []
        block = fields[0]
        kind = str(block.get("Feedback-Type", "")).strip().lower()
        if kind not in _COMPLAINT_TYPES:
            return []
        address = _address(str(block.get("Original-Rcpt-To", "")))
        if not address and original is not None:
            address = email.utils.parseaddr(_decoded(original.get("To")))[1].lower()
        if "redacted" in address or "@" not in address:
            address = ""  # providers redact it; the tokens in the original still tell who it was
        return [Finding("complaint", address, f"complaint ({kind}) from {block.get('User-Agent', 'a provider')}")]
    return []


def auto_reply(msg: Message) -> bool:
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and not auto.startswith("no"):
        return True
    if msg.get("X-Autoreply") or msg.get("X-Autorespond") or msg.get("X-Autoresponder"):
        return True
    if str(msg.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    return bool(_AUTO_SUBJECT.match(_decoded(msg.get("Subject"))))


def _tokens(msg: Message, original: Message | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(candidate bounce tokens, candidate unsubscribe tokens)."""
    addresses = [_decoded(v) for h in _ENVELOPE_HEADERS for v in msg.get_all(h, [])]
    if original is not None:
        addresses += [str(v) for v in original.get_all("Return-Path", [])]
    bounce = [t for t in (token_in_address(email.utils.parseaddr(a)[1]) for a in addresses) if t]
    texts = [_decoded(msg.get("Subject")), *addresses]
    if original is not None:
        texts += [str(v) for v in original.get_all("List-Unsubscribe", [])]
    unsubscribe = [t for t in (find_unsubscribe_token(text) for text in texts) if t]
    return tuple(dict.fromkeys(bounce)), tuple(dict.fromkeys(unsubscribe))


def _mailto_token(msg: Message) -> bool:
    """Does the subject, or the address it was sent to, carry an unsubscribe token?"""
    texts = [_decoded(msg.get("Subject")), *(_decoded(v) for h in _ENVELOPE_HEADERS for v in msg.get_all(h, []))]
    return any(find_unsubscribe_token(text) for text in texts)


def _ident(msg: Message, data: bytes) -> str:
    message_id = _one_line(str(msg.get("Message-ID", "")), 300)
    return message_id or "sha256:" + hashlib.sha256(data).hexdigest()


def _classify(msg: Message, original: Message | None) -> tuple[What, list[Finding]]:
    report_type = _report_type(msg)
    if report_type == "feedback-report":
        complaints = _complaint_findings(msg, original)
        return ("complaint", complaints) if complaints else ("other", [])
    if report_type == "delivery-status":
        findings, delayed = _dsn_findings(msg)
        if findings:
            return "bounce", findings
        if delayed:
            return "delay", []
    if not report_type and original is None and _mailto_token(msg):
        sender = email.utils.parseaddr(_decoded(msg.get("From")))[1] or "an unknown sender"
        return "unsubscribe", [Finding("unsubscribe", "", f"sent by {sender}")]  # before auto: some clients mark it so
    if auto_reply(msg) and report_type != "delivery-status" and not _from_mailer_daemon(msg):
        return "auto_reply", []
    temporary, permanent = nonstandard_failures(msg)
    findings = [Finding("hard_bounce", a, "permanent failure") for a in sorted(permanent)]
    findings += [Finding("soft_bounce", a, "temporary failure") for a in sorted(temporary - permanent)]
    return ("bounce", findings) if findings else ("other", [])


def _from_mailer_daemon(msg: Message) -> bool:
    sender = email.utils.parseaddr(str(msg.get("From", "")))[1].lower()
    return sender.startswith(("mailer-daemon@", "postmaster@")) or not str(msg.get("Return-Path", "<x>")).strip("<> ")


def read_report(data: bytes) -> Report:
    """What one message says (never raises on odd input: anything unreadable is 'other')."""
    try:
        return _read(data)
    except (ValueError, LookupError, TypeError, email.errors.MessageError):
        # the email package gives up on some malformed structures (headers it cannot decode,
        # parameters it cannot parse): such a message is left alone and listed, never fatal
        ident = "sha256:" + hashlib.sha256(data).hexdigest()
        return Report(ident, "other", (), (), (), None, "an unreadable message")


def _read(data: bytes) -> Report:
    msg = email.message_from_bytes(data)
    original = _original_headers(msg)
    what, findings = _classify(msg, original)
    bounce_tokens, unsubscribe_tokens = _tokens(msg, original)
    sender = email.utils.parseaddr(_decoded(msg.get("From")))[1] or "unknown sender"
    summary = f"{_one_line(_decoded(msg.get('Subject')), 80)!r} from {sender}"
    return Report(_ident(msg, data), what, tuple(findings), bounce_tokens, unsubscribe_tokens, _date(msg), summary)
