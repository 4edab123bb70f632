"""The SQLite adapter: the one module that imports sqlite3.

One database file (WAL) holds the subscriber list and the send log. A
connection is in autocommit mode; `transaction` groups statements explicitly.
SQLite's own errors are turned into ours (`DatabaseError`, `DatabaseBusy`) by
`translated`, so callers never need to know SQLite is underneath.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from syndicate.errors import DeliveryError

Connection = sqlite3.Connection
BUSY_TIMEOUT = 10.0  # seconds a writer waits for another process's lock before giving up

P = ParamSpec("P")
R = TypeVar("R")


class DatabaseError(DeliveryError):
    """The subscriber database cannot be opened, read or written."""


class DatabaseBusy(DatabaseError):
    """Another process held the database's lock for longer than BUSY_TIMEOUT."""


def open_database(path: Path, schema: str) -> Connection:
    """Open (creating if needed) the database and its tables; autocommit mode, transactions are explicit."""
    _refuse_special(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed send-log row survives power loss too, not only a killed process
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(schema)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot open the subscriber database: {exc}", path=path) from None
    except OSError as exc:
        raise DatabaseError(f"cannot create the subscriber database: {exc.strerror}", path=path) from None
    return conn


def _refuse_special(path: Path) -> None:
    """Only a regular file (or none yet) is opened: SQLite would read a FIFO or a device (and hang, or
    fail with a disk I/O error) and create its journal beside it, in /dev say."""
    try:
        mode = os.stat(path).st_mode  # through a link: what the database really is
    except OSError:  # not there yet (it is created), or SQLite says what is wrong
        return
    if stat.S_ISDIR(mode):
        raise DatabaseError("is a folder; give database in syndicate.toml the path of a file", path=path)
    if not stat.S_ISREG(mode):
        raise DatabaseError(
            "is a device, FIFO or socket, not a database file; give database in syndicate.toml the path of a file",
            path=path,
        )


def _ours(exc: sqlite3.DatabaseError) -> DatabaseError | None:
    """Our error for what the database failed at (a lock, the disk, a damaged file); None for a bug in our SQL."""
    name = exc.sqlite_errorname  # extended codes too, such as SQLITE_BUSY_SNAPSHOT (Python 3.11+)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return DatabaseBusy("the subscriber database is in use by another process; try again in a moment")
    if type(exc) in (sqlite3.OperationalError, sqlite3.DatabaseError) and name != "SQLITE_ERROR":
        return DatabaseError(f"the subscriber database failed: {exc}")
    return None


def translated(function: Callable[P, R]) -> Callable[P, R]:
    """`function` with the database's failures raised as DatabaseError instead of sqlite3's errors."""

    @wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            ours = _ours(exc)
            if ours is None:
                raise
            raise ours from None

    return call


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error) on an autocommit connection."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
