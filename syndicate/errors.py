"""One error root for everything syndicate reports to a user.

Messages are one line: where (file and line when known), what is wrong, and
what to do about it. The CLI turns any SyndicateError into exit code 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

# What Python's int() refuses (CPython's guard against quadratic conversions), in the words of a fix
LONG_NUMBER = "a number over 4,300 digits long cannot be read; shorten it, or put it in quotes to make it text"

# Where a reader or a build reports something worth knowing that is no error (the CLI prints it).
Warn = Callable[[str], None]


def printable(text: str) -> str:
    """`text` with what a terminal would act on or hide written as escapes (a newline, a control, a bidi
    override, a byte of a file name that is not UTF-8): a message naming a file stays one honest line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


class SyndicateError(Exception):
    """Base of every error that is the user's to fix (never a bug of ours)."""

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = printable(self.path) if self.line is None else f"{printable(self.path)}:{self.line}"
            where += ": "
        return f"{where}{self.message}"


class ConfigError(SyndicateError):
    """syndicate.toml is missing, unreadable or has a wrong value."""


class SourceError(SyndicateError):
    """A post file or feed cannot be read into a Post."""


class FetchError(SourceError):
    """A feed could not be fetched (network, size cap, scheme)."""


class BuildError(SyndicateError):
    """The site's posts conflict with each other (duplicate ids, slug collisions)."""


class DeliveryError(SyndicateError):
    """Sending or subscriber management failed."""


class BuildFailed(SyndicateError):
    """Some posts could not be read; nothing was written."""

    def __init__(self, errors: Iterable[SyndicateError]) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        super().__init__(f"{count} {'post' if count == 1 else 'posts'} could not be read; nothing was written")
