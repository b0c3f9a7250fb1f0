"""The state database: one SQLAlchemy engine, its error translation, and the write gate.

Every SQLAlchemy error leaves the state package as a :class:`~syncer.errors.StateError` naming
the operation and the URL with its password masked.

Every write goes through :meth:`Database.write`, which checks two things before the first
statement of its transaction:

* the SQLite file is still the one that was opened (not deleted, replaced or made read-only
  under a running cycle: an unlinked file takes writes silently and loses them at exit);
* when a lease fence is in force (:mod:`syncer.adapters.state.leases`), the lease's fencing token
  is still this worker's. The check is a conditional UPDATE of the lease row in the same
  transaction, so it takes the write lock first: no other process can take the lease between
  the check and the writes it guards.

SQLite files and their ``-wal``/``-shm`` companions are private (0600): they hold names and
emails. Memory-mapped I/O is off (``mmap_size=0``): a file truncated or on a volume that fails
under a mapping raises SIGBUS and kills the process without a word; with plain reads and writes
SQLite returns an error this module can name.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from syncer.adapters.state import schema
from syncer.errors import StateError

_BUSY_TIMEOUT_MS = 30_000
_CREATE_ATTEMPTS = 4
_PRIVATE_FILE = 0o600

Fence = Callable[[sa.Connection], None]
"""A check run first in every write transaction; raises to refuse the write (see ``leases``)."""

ACTIVE_FENCE: contextvars.ContextVar[tuple[str, Fence] | None] = contextvars.ContextVar(
    "syncer_state_fence", default=None
)
"""The fence of the lease held around a cycle, for every store on that URL (see ``leases``)."""


def safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        # Not parseable as a URL, but it may still hold "user:password@": mask it by hand.
        return re.sub(r"(//[^:/@]*):[^@]*@", r"\1:***@", url)


def reason(exc: BaseException) -> str:
    # The DBAPI's own message, without the SQL SQLAlchemy appends (parameters are hidden anyway).
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc) or type(exc).__name__
    return text.splitlines()[0]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Per connection, because SQLite forgets all but journal_mode when one closes. Busy timeout first,
    # so switching to WAL waits for another process instead of failing; foreign keys are off by
    # default in SQLite and tables added later (escrow, quarantine) will want them enforced.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL survives a killed process (the commit is in the WAL); only an OS
        # crash can lose the last commits, and the next cycle re-matches those. FULL costs an fsync per
        # completed change, which dominated a large initial sync.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA mmap_size=0")
    finally:
        cursor.close()


def _sqlite_path(engine: sa.Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _prepare_file(path: Path) -> tuple[int, int]:
    """Create the file (0600) before SQLite does: its -wal and -shm copy the file's mode.

    An existing file is never opened here, only stat'ed and chmod'ed by path: closing any
    descriptor of a SQLite file drops every POSIX lock this process holds on it (the daemon's
    store and a cycle's store share one process), which corrupts the database.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(file.stat().st_mode) & 0o077:
                file.chmod(_PRIVATE_FILE)  # an older state, created with the umask's 0644
    info = path.stat()
    return info.st_dev, info.st_ino


class Database:
    """The engine of one state URL, with the error translation and the write gate every table uses."""

    def __init__(self, url: str) -> None:
        self.url = safe_url(url)
        self.closed = False
        self.fence: Fence | None = None
        try:
            self.engine = sa.create_engine(url, hide_parameters=True)
        except (SQLAlchemyError, ImportError) as exc:  # a bad URL, or a driver that is not installed
            raise StateError(f"state store: open failed on {self.url}: {reason(exc)}") from exc
        self.path = _sqlite_path(self.engine)
        self._identity: tuple[int, int] | None = None
        self._shm: tuple[int, int] | None = None  # (inode, size) of the -shm file, last seen
        if self.path is not None:
            if not self.path.parent.is_dir():  # a typo in the path: say so rather than create folders
                raise StateError(f"state store: open failed on {self.url}: no folder {self.path.parent}")
            try:
                self._identity = _prepare_file(self.path)
            except OSError as exc:
                raise StateError(
                    f"state store: cannot open the state file {self.path}: {exc.strerror}"
                ) from exc
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._create_tables()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _create_tables(self) -> None:
        # Two processes opening a new state at once (a daemon and a standby, or `syncer sync`) race:
        # one creates a table the other has just found missing, or holds the lock. Once more sees
        # the tables in place.
        for attempt in range(1, _CREATE_ATTEMPTS + 1):
            try:
                schema.metadata.create_all(self.engine)
                self._add_columns()
                return
            except SQLAlchemyError as exc:
                if attempt == _CREATE_ATTEMPTS:
                    self.engine.dispose()
                    raise StateError(f"state store: open failed on {self.url}: {reason(exc)}") from exc
                time.sleep(0.1 * attempt)

    def _add_columns(self) -> None:
        """Add the columns a state file made by an older syncer lacks (nullable, so no backfill)."""
        inspector = sa.inspect(self.engine)
        for table, name in schema.ADDED_COLUMNS:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            if name in present:
                continue
            kind = table.c[name].type.compile(dialect=self.engine.dialect)
            with self.engine.begin() as conn:
                conn.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {kind}'))

    def close(self) -> None:
        self.closed = True
        self.engine.dispose()

    @contextlib.contextmanager
    def guard(self, operation: str) -> Iterator[None]:
        if self.closed:
            raise StateError(f"state store: {operation} on {self.url} after close()")
        try:
            yield
        except SQLAlchemyError as exc:
            raise StateError(f"state store: {operation} failed on {self.url}: {reason(exc)}") from exc

    @contextlib.contextmanager
    def encoding(self, operation: str) -> Iterator[None]:
        try:
            yield
        except (TypeError, ValueError) as exc:
            raise StateError(f"state store: {operation} on {self.url}: cannot store value: {exc}") from exc

    @contextlib.contextmanager
    def read(self, operation: str) -> Iterator[sa.Connection]:
        self._check_shm(operation)
        with self.guard(operation), self.engine.connect() as conn:
            yield conn
        self._saw_shm()

    @contextlib.contextmanager
    def write(self, operation: str, *, fenced: bool = True) -> Iterator[sa.Connection]:
        """One write transaction, refused when the file is gone or the lease fence says so."""
        self.check_file(operation)
        with self.guard(operation), self.engine.begin() as conn:
            fence = self._fence() if fenced else None
            if fence is not None:
                fence(conn)
            yield conn
        self._saw_shm()

    def _fence(self) -> Fence | None:
        if self.fence is not None:
            return self.fence
        active = ACTIVE_FENCE.get()
        return active[1] if active is not None and active[0] == self.url else None

    def _saw_shm(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                info = self.path.with_name(self.path.name + "-shm").stat()
                self._shm = (info.st_ino, info.st_size)

    def _check_shm(self, operation: str) -> None:
        """The -shm file is memory-mapped by SQLite whatever ``mmap_size`` says: cut under the mapping,
        the next access is a SIGBUS that kills the process without a word. While this process holds
        a connection the file never shrinks, so a smaller one was cut by someone else: stop first.
        """
        if self.path is None or self._shm is None:
            return
        shm = self.path.with_name(self.path.name + "-shm")
        try:
            info = shm.stat()
        except OSError:
            return  # deleted with the last connection elsewhere, or by hand: SQLite makes a new one
        if info.st_ino == self._shm[0] and info.st_size < self._shm[1]:
            # Give the mapping its pages back (zeros: SQLite rebuilds its WAL index from the WAL),
            # so closing the connection does not die of the SIGBUS this check is here to avoid.
            with contextlib.suppress(OSError):
                os.truncate(shm, self._shm[1])
            raise StateError(
                f"state store: {operation}: the state's shared-memory file {shm} was truncated by another "
                "program while syncer was running; nothing more is written"
            )

    def check_file(self, operation: str) -> None:
        """Fail, naming the file, when the SQLite file was deleted, replaced or made unwritable."""
        self._check_shm(operation)
        if self.path is None or self._identity is None:
            return
        try:
            info = self.path.stat()
        except FileNotFoundError:
            raise StateError(
                f"state store: {operation}: the state file {self.path} was deleted while syncer was "
                "running; nothing more is written (restore it from a backup, or start afresh)"
            ) from None
        except OSError as exc:
            raise StateError(f"state store: {operation}: the state file {self.path}: {exc.strerror}") from exc
        if (info.st_dev, info.st_ino) != self._identity:
            raise StateError(
                f"state store: {operation}: the state file {self.path} was replaced by another file while "
                "syncer was running; nothing more is written"
            )
        if not os.access(self.path, os.W_OK) or not os.access(self.path.parent, os.W_OK):
            raise StateError(
                f"state store: {operation}: the state file {self.path} (or its folder) is no longer writable"
            )
