"""SMTP: the one module that imports smtplib.

`smtp_target` turns [smtp] settings (and command-line overrides) into where to
connect; `SmtpTransport` keeps one connection for many messages and drives
DATA by hand, so the send log can be committed just before the final dot;
every answer of the server becomes a `Reply` saying what became of the message.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal, Protocol

from syndicate.config import SMTP_PASSWORD_ENV, SMTP_PORTS, SMTP_TIMEOUT, SmtpConfig, SmtpSecurity
from syndicate.errors import DeliveryError
from syndicate.newsletter.message import DotStuffed
from syndicate.text import one_line

BOUNCE_CODES = frozenset({550, 551, 553})  # the mailbox does not exist or is not acceptable
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?!\S)")  # RFC 3463: class.subject.detail


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    security: SmtpSecurity
    username: str = ""
    password: str = ""
    timeout: float = SMTP_TIMEOUT

    def __str__(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


def smtp_target(
    smtp: SmtpConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    security: SmtpSecurity | None = None,
    password: str = "",
) -> SmtpTarget:
    """[smtp] settings with command-line overrides; the password only ever comes from the
    environment's SYNDICATE_SMTP_PASSWORD, which the command line reads and passes in."""
    if smtp.username and not password:
        raise DeliveryError(f"[smtp] username is set but {SMTP_PASSWORD_ENV} is not; set it to the SMTP password")
    chosen = security or smtp.security
    return SmtpTarget(
        host=host or smtp.host,
        port=port or (smtp.port if security is None else SMTP_PORTS[chosen]),
        security=chosen,
        username=smtp.username,
        password=password,
        timeout=smtp.timeout,
    )


ReplyKind = Literal["accepted", "transient", "permanent", "unknown", "not_sent"]


@dataclass(frozen=True, slots=True)
class Reply:
    """What became of one message: the server's answer and at which step it came."""

    kind: ReplyKind
    code: int
    text: str
    stage: str  # MAIL, RCPT, DATA, end of data, connection

    def describe(self) -> str:
        code = f"{self.code} " if self.code else ""
        return f"{code}{self.text} (at {self.stage})".strip()

    @property
    def enhanced(self) -> tuple[int, int, int] | None:
        """The RFC 3463 enhanced status code the answer starts with (5.1.1 → (5, 1, 1)), if any."""
        found = _ENHANCED.match(self.text)
        return (int(found[1]), int(found[2]), int(found[3])) if found else None

    @property
    def refuses_the_sender(self) -> bool:
        """A permanent refusal of our sending itself, not of this recipient: relaying denied,
        authentication required, the sender not allowed (RFC 3463 class X.7, a MAIL refusal, or
        an answer without an enhanced code that says so). Every recipient would get it."""
        if self.kind != "permanent":
            return False
        enhanced = self.enhanced
        if enhanced is not None:
            return enhanced[1] == 7
        return self.stage == "MAIL" or self.code in (530, 535) or "relay" in self.text.lower()

    @property
    def bounced(self) -> bool:
        """The server refused the recipient's mailbox for good: the address bounces.
        With an enhanced code only class X.1 (addressing: no such mailbox) says so."""
        if self.kind != "permanent" or self.stage != "RCPT" or self.refuses_the_sender:
            return False
        enhanced = self.enhanced
        return enhanced[1] == 1 if enhanced is not None else self.code in BOUNCE_CODES


class ConnectError(DeliveryError):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Transport(Protocol):
    @property
    def connected(self) -> bool: ...

    def connect(self) -> None: ...

    def deliver(
        self,
        sender: str,
        recipient: str,
        data: bytes,
        before_end: Callable[[], bool],
        follow: Callable[[], tuple[str, str] | None] | None = None,
    ) -> Reply: ...

    def close(self) -> None: ...


def _text(raw: bytes | str) -> str:
    value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return one_line(value)[:300]


def _classify(code: int, text: bytes | str, stage: str) -> Reply:
    if 200 <= code < 300:
        return Reply("accepted", code, _text(text), stage)
    return Reply("permanent" if code >= 500 else "transient", code, _text(text), stage)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


def _envelope_line(sender: str, recipient: str) -> bytes:
    """MAIL, RCPT and DATA in one write (PIPELINING); ASCII addresses only, as smtplib writes them."""
    return f"MAIL FROM:{_quoted(sender)}\r\nRCPT TO:{_quoted(recipient)}\r\nDATA\r\n".encode("ascii")


def _quoted(address: str) -> str:
    """The address in angle brackets, as smtplib.quoteaddr writes it; a plain one (every address
    syndicate stores) without quoteaddr's parse, which cost ~0.2 ms per message."""
    return f"<{address}>" if _PLAIN_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


_EOL = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"^\.", re.M)


def dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, leading dots doubled, ending in CRLF (RFC 5321 4.5.2)."""
    if isinstance(data, DotStuffed):  # written so by personal_bytes for a send
        return data
    crlf = data.count(b"\r\n")
    if data.count(b"\n") == crlf == data.count(b"\r") and data.endswith(b"\r\n"):
        # Already CRLF throughout (as a composed message is): three C-level counts instead of two regex
        # passes, which took ~0.4 ms for each 25 KB copy, as long as composing it
        if b"\n." not in data and not data.startswith(b"."):
            return data
        return (b"." if data.startswith(b".") else b"") + data.replace(b"\n.", b"\n..")
    body = _LEADING_DOT.sub(b"..", _EOL.sub(b"\r\n", data))
    return body if body.endswith(b"\r\n") else body + b"\r\n"


class SmtpTransport:
    """One SMTP connection reused for many messages; `connect` again after it drops.

    DATA is driven by hand (not smtplib.sendmail) so the caller can commit the
    send log between the message body and the final dot: before the dot the
    server cannot have accepted anything.
    """

    def __init__(self, target: SmtpTarget, *, local_hostname: str | None = None) -> None:
        self.target = target
        self.local_hostname = local_hostname or socket.getfqdn()  # once, not per reconnect (it may ask DNS)
        self._smtp: smtplib.SMTP | None = None
        # the next message's envelope (sender, recipient), sent right behind the last final dot; its
        # answers are read when that message is delivered
        self._announced: tuple[str, str] | None = None

    @property
    def connected(self) -> bool:
        return self._smtp is not None

    def connect(self) -> None:
        self.close()
        t = self.target
        # made only for TLS: loading the system's CA certificates costs ~50 ms of CPU per connection
        context = ssl.create_default_context() if t.security != "none" else None
        smtp: smtplib.SMTP | None = None
        try:
            if t.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    t.host, t.port, local_hostname=self.local_hostname, timeout=t.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(t.host, t.port, local_hostname=self.local_hostname, timeout=t.timeout)
            # the final dot goes out in its own small write after the log commit; smtplib (seen with
            # Python 3.11) leaves Nagle's algorithm on, which holds that write until the server's
            # delayed ACK (about 40 ms per message)
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if t.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ConnectError(
                        f'the SMTP server {t} does not offer STARTTLS; set [smtp] security to "ssl" or, '
                        'for a local relay only, "none"',
                        transient=False,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if t.username:
                smtp.login(t.username, t.password)
        except ConnectError:
            _quietly_close(smtp)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _quietly_close(smtp)
            raise ConnectError(
                f"the SMTP server {t} refused the login for {t.username!r} ({exc.smtp_code}); "
                f"check [smtp] username and {SMTP_PASSWORD_ENV}",
                transient=False,
            ) from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            _quietly_close(smtp)
            raise ConnectError(f"TLS with the SMTP server {t} failed: {exc}", transient=False) from None
        except smtplib.SMTPResponseException as exc:
            _quietly_close(smtp)
            raise ConnectError(
                f"the SMTP server {t} answered {exc.smtp_code} {_text(exc.smtp_error)}", transient=exc.smtp_code < 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            _quietly_close(smtp)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            raise ConnectError(f"cannot talk to the SMTP server {t}: {reason}", transient=True) from None
        self._smtp = smtp

    @property
    def pipelining(self) -> bool:
        """The server takes MAIL, RCPT and DATA in one write (RFC 2920)."""
        return self._smtp is not None and self._smtp.has_extn("pipelining")

    def _envelope(self, smtp: smtplib.SMTP, sender: str, recipient: str) -> tuple[int, bytes, str]:
        """MAIL, RCPT and DATA: the first answer that refuses, or (354, text, "DATA").

        With PIPELINING the three commands go out in one write and their answers are read in
        order (one round trip instead of three); ASCII addresses only, as smtplib writes them."""
        if self.pipelining and (sender + recipient).isascii():
            if self._announced is None:
                smtp.send(_envelope_line(sender, recipient))
            self._announced = None
            answers = [smtp.getreply(), smtp.getreply(), smtp.getreply()]
            (mail_code, mail_text), (rcpt_code, rcpt_text), (data_code, data_text) = answers
            if data_code == 354 and (mail_code != 250 or rcpt_code not in (250, 251)):
                smtp.send(b".\r\n")  # a server that opened DATA anyway: end it empty, for no one
                smtp.getreply()
            if mail_code != 250:
                return mail_code, mail_text, "MAIL"
            if rcpt_code not in (250, 251):
                return rcpt_code, rcpt_text, "RCPT"
            return data_code, data_text, "DATA"
        code, text = smtp.mail(sender)
        if code != 250:
            return code, text, "MAIL"
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            return code, text, "RCPT"
        code, text = smtp.docmd("DATA")
        return code, text, "DATA"

    def deliver(
        self,
        sender: str,
        recipient: str,
        data: bytes,
        before_end: Callable[[], bool],
        follow: Callable[[], tuple[str, str] | None] | None = None,
    ) -> Reply:
        """Send one message. `before_end` runs (and must commit) just before the final dot; when it
        returns False (the run is being interrupted) the dot is never sent: the server has nothing.
        `follow` names the envelope (sender, recipient) of the message the caller delivers next, if
        it has one ready: with PIPELINING that envelope goes out with this final dot."""
        smtp = self._smtp
        if smtp is None:
            return Reply("not_sent", 0, "not connected", "connection")
        if self._announced not in (None, (sender, recipient)):  # not the message announced: start afresh
            self.abort()
            return Reply("not_sent", 0, "not connected", "connection")
        stage = "MAIL"
        try:
            code, text, stage = self._envelope(smtp, sender, recipient)
            if code != 354:
                return self._refused(code, text, stage)
            smtp.send(dot_stuffed(data))
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Reply("not_sent", 0, f"connection lost: {exc}", stage)
        if not before_end():
            self.abort()
            return Reply("not_sent", 0, "interrupted before the end of the message", "end of data")
        # With PIPELINING the next message's MAIL, RCPT and DATA go out in the same write as this dot
        # (RFC 2920 lets message content start a group): one round trip per message instead of two.
        # Nothing of the next message can be delivered before its own final dot.
        upcoming = follow() if follow is not None and self.pipelining else None
        if upcoming is not None and not "".join(upcoming).isascii():
            upcoming = None
        try:
            smtp.send(b".\r\n" + _envelope_line(*upcoming) if upcoming else b".\r\n")
            self._announced = upcoming
            code, text = smtp.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Reply("unknown", 0, f"connection lost waiting for the server's answer: {exc}", "end of data")
        if code == 421:
            self.close()
        if not 200 <= code < 300 and not 400 <= code < 600:
            # After the dot only a well-formed 2xx, 4xx or 5xx says what became of the message.
            # smtplib (3.11) gives -1 for a line it cannot parse ("OK: queued as 12345",
            # "2.0.0 Ok: queued"), and such servers have usually queued it: retrying would
            # send it again, so the outcome is unknown and left for review.
            return Reply("unknown", code, f"unreadable answer after the message: {_text(text)!r}", "end of data")
        return _classify(code, text, "end of data")

    def abort(self) -> None:
        """Drop the connection without a word: a message whose dot was not sent is discarded."""
        smtp, self._smtp, self._announced = self._smtp, None, None
        _quietly_close(smtp)

    def _refused(self, code: int, text: bytes, stage: str) -> Reply:
        if code == 421:  # the server is closing the connection
            self.close()
        elif self._smtp is not None:
            try:
                self._smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()
        return _classify(code, text, stage)

    def close(self) -> None:
        if self._announced is not None:  # the server may be waiting for a message's text: QUIT would be text
            self.abort()
            return
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(smtp)

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _quietly_close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        with suppress(OSError):
            smtp.close()
