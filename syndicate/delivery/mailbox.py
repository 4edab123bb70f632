"""The adapter for the standard library's `mailbox`: reports in a maildir or an mbox file.

A handled message is marked read and flagged (maildir: the S and F flags of
its file name; mbox: the Status and X-Status headers), or moved to a maildir
subfolder; it is never deleted. The library rewrites a changed message from
its parsed form, which keeps what any mail program reads of it.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from syndicate.delivery.inbox import Item
from syndicate.errors import DeliveryError


def _error(path: Path, exc: Exception) -> DeliveryError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return DeliveryError(f"cannot read the mailbox: {reason}", path=path)


class MaildirSource:
    """A maildir (the folder with cur/, new/ and tmp/)."""

    def __init__(self, path: Path, move_to: str = "") -> None:
        self.path = path
        self.move_to = move_to
        try:
            self.box = mailbox.Maildir(path, factory=None, create=False)
        except (OSError, mailbox.Error) as exc:
            raise _error(path, exc) from None

    def items(self) -> Iterator[Item]:
        try:
            keys = sorted(self.box.keys())  # the unique names start with the delivery time
            for key in keys:
                yield Item(key, self.box.get_bytes(key))
        except (OSError, mailbox.Error) as exc:
            raise _error(self.path, exc) from None

    def mark_handled(self, ref: str) -> None:
        try:
            message = self.box.get_message(ref)
            message.set_subdir("cur")
            message.add_flag("SF")
            if self.move_to:
                folder = (
                    self.box.get_folder(self.move_to)
                    if self.move_to in self.box.list_folders()
                    else self.box.add_folder(self.move_to)
                )
                folder.add(message)
                self.box.discard(ref)  # after the copy is safely in the folder: a move, not a deletion
            else:
                self.box[ref] = message
        except (OSError, mailbox.Error, KeyError) as exc:
            raise _error(self.path, exc) from None

    def close(self) -> None:
        self.box.close()


class MboxSource:
    """An mbox file, locked (dot-lock and flock, as mail programs do) while it is changed."""

    def __init__(self, path: Path, move_to: str = "") -> None:
        if move_to:
            raise DeliveryError(
                "moving handled reports needs a maildir or an IMAP mailbox; an mbox file can only have them "
                "flagged: leave [inbox] handled_folder and --move-to unset",
                path=path,
            )
        self.path = path
        self.marked: list[str] = []
        self.keys: dict[str, str] = {}
        try:
            self.box = mailbox.mbox(path, factory=None, create=False)
        except (OSError, mailbox.Error) as exc:
            raise _error(path, exc) from None

    def items(self) -> Iterator[Item]:
        try:
            for key in self.box.keys():  # noqa: SIM118 (a mailbox is no dict)
                self.keys[str(key)] = key  # the library's keys are numbers for an mbox
                yield Item(str(key), self.box.get_bytes(key))
        except (OSError, mailbox.Error) as exc:
            raise _error(self.path, exc) from None

    def mark_handled(self, ref: str) -> None:
        self.marked.append(ref)  # written in one go by close(): each change rewrites the whole file

    def close(self) -> None:
        try:
            if self.marked:
                self.box.lock()
                try:
                    for ref in self.marked:
                        message = self.box.get_message(self.keys[ref])
                        message.add_flag("ROF")
                        self.box[self.keys[ref]] = message
                    self.box.flush()
                finally:
                    self.box.unlock()
            self.box.close()
        except (OSError, mailbox.Error, KeyError) as exc:
            raise _error(self.path, exc) from None
