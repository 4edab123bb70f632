"""The imaplib adapter: reports in an IMAP folder, `imaps://user@host[:port]/FOLDER`.

Messages are fetched with BODY.PEEK (reading marks nothing); a handled one gets
\\Seen and \\Flagged, or is moved with MOVE (RFC 6851) when a folder is named.
Nothing is ever deleted or expunged. Plain `imap://` is only for a server on
this machine (tests, a local Dovecot): a password never crosses a network in
clear text.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from syndicate.delivery.inbox import Item
from syndicate.errors import DeliveryError

IMAP_PASSWORD_ENV = "SYNDICATE_IMAP_PASSWORD"  # noqa: S105 (the variable's name, not a password)
TIMEOUT = 30.0
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True, slots=True)
class ImapTarget:
    secure: bool
    host: str
    port: int
    user: str
    folder: str


def parse_imap_url(url: str) -> ImapTarget:
    """`imaps://user@host[:port]/FOLDER` (the folder defaults to INBOX); one-line errors otherwise."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise DeliveryError(f"{url}: the port is not a number") from None
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise DeliveryError(f"{url}: write an IMAP mailbox as imaps://USER@HOST/FOLDER")
    if parts.password is not None:
        raise DeliveryError(f"{url}: put no password in the URL; set {IMAP_PASSWORD_ENV} instead")
    if parts.scheme == "imap" and parts.hostname not in _LOOPBACK:
        raise DeliveryError(f"{url}: plain imap:// is only for a server on this machine; use imaps://")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    secure = parts.scheme == "imaps"
    return ImapTarget(secure, parts.hostname, port or (993 if secure else 143), unquote(parts.username), folder)


def _quoted(name: str) -> str:
    if not name.isascii() or re.search(r'[\x00-\x1f"\\]', name):
        raise DeliveryError(f"IMAP folder {name!r}: use a plain ASCII folder name")
    return '"' + name + '"'


class ImapSource:
    def __init__(self, target: ImapTarget, password: str, *, move_to: str = "", read_only: bool = False) -> None:
        if not password:
            raise DeliveryError(f"{IMAP_PASSWORD_ENV} is not set; set it to the password of {target.user}")
        self.target = target
        self.move_to = move_to
        where = f"{target.host}:{target.port}"
        try:
            if target.secure:
                context = ssl.create_default_context()
                self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    target.host, target.port, ssl_context=context, timeout=TIMEOUT
                )
            else:
                self.imap = imaplib.IMAP4(target.host, target.port, timeout=TIMEOUT)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise DeliveryError(f"cannot connect to the IMAP server {where}: {exc}") from None
        try:
            self.imap.login(target.user, password)
            status, data = self.imap.select(_quoted(target.folder), readonly=read_only)
        except imaplib.IMAP4.error as exc:
            self._logout()
            raise DeliveryError(f"the IMAP server {where} refused {target.user}: {_said(exc)}") from None
        except OSError as exc:
            raise DeliveryError(f"the IMAP server {where} failed: {exc}") from None
        if status != "OK":
            self._logout()
            raise DeliveryError(f"the IMAP server {where} has no folder {target.folder!r}: {_text(data)}")
        self.can_move = "MOVE" in self._capabilities()
        self._created: set[str] = set()

    def _capabilities(self) -> set[str]:
        """What the server offers once logged in (imaplib keeps the list from before the login)."""
        try:
            status, data = self.imap.capability()
        except (imaplib.IMAP4.error, OSError):
            return set()
        return set(_text(data).upper().split()) if status == "OK" else set()

    def _command(self, *args: str) -> list[object]:
        try:
            status, data = self.imap.uid(*args)
        except (imaplib.IMAP4.error, OSError) as exc:  # OSError: timeouts too
            raise DeliveryError(f"the IMAP server failed during UID {args[0]}: {_said(exc)}") from None
        if status != "OK":
            raise DeliveryError(f"the IMAP server refused UID {args[0]}: {_text(data)}")
        return list(data)

    def items(self) -> Iterator[Item]:
        found = self._command("SEARCH", "ALL")
        uids = _text(found).split()
        for uid in uids:
            data = self._command("FETCH", uid, "(BODY.PEEK[])")
            for entry in data:
                if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], bytes):
                    yield Item(uid, entry[1])
                    break

    def mark_handled(self, ref: str) -> None:
        if self.move_to and self.can_move:
            self._ensure_folder(self.move_to)
            self._command("MOVE", ref, _quoted(self.move_to))
            return
        if self.move_to:
            raise DeliveryError("the IMAP server cannot MOVE (RFC 6851); leave [inbox] handled_folder unset")
        self._command("STORE", ref, "+FLAGS.SILENT", r"(\Seen \Flagged)")

    def _ensure_folder(self, name: str) -> None:
        if name not in self._created:
            self.imap.create(_quoted(name))  # NO when it exists already: fine either way
            self._created.add(name)

    def _logout(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):  # closing a connection that already failed
            self.imap.logout()

    def close(self) -> None:
        self._logout()


def _said(exc: BaseException) -> str:
    text = str(exc)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


def _text(data: object) -> str:
    items = data if isinstance(data, list) else [data]
    return " ".join(i.decode("utf-8", "replace") if isinstance(i, bytes) else str(i) for i in items if i)
