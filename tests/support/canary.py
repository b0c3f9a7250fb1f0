"""Canary secrets: the end-to-end suite runs with distinctive secrets and fails if any shows up in an output.

The e2e fixtures hand syncer these values as its target token, SCIM source token, LDAP bind
password, OAuth client secret and webhook URL (a secret path segment, as Slack and Teams URLs
have). Nothing syncer writes may hold one: at the end of the session this plugin scans

* every CLI stdout and stderr the harness captured (:func:`record`, called by ``Workspace.run``),
  kept as files under ``<basetemp>/canary-captures/`` so that xdist workers' captures are seen;
* every file under the session's temp dir: logs, saved plans, exports, config dumps, and each
  SQLite database both as raw bytes (with its ``-wal`` and ``-journal``) and as an SQL dump;

and any hit fails the session with the file (or captured command and test) and the channel.
Files a test writes *as input* on purpose (a ``token_file``) are declared with
:func:`declare_input` and skipped. Leaks that are known and being fixed are listed in
:data:`KNOWN_LEAKS`: they are reported as ``xfail`` (not strict: when one stops leaking the
report says so, and the entry should go) without failing the session; any other hit fails it.

Registered as a plugin by ``tests/conftest.py``.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.canary_secrets import (
    CANARIES,
    CLIENT_SECRET,
    LDAP_PASSWORD,
    SOURCE_TOKEN,
    TARGET_TOKEN,
    WEBHOOK_PATH,
)

__all__ = [
    "CANARIES",
    "CLIENT_SECRET",
    "KNOWN_LEAKS",
    "LDAP_PASSWORD",
    "SOURCE_TOKEN",
    "TARGET_TOKEN",
    "WEBHOOK_PATH",
    "declare_input",
    "leaks_in",
    "record",
    "scan",
]

CAPTURES = "canary-captures"
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class KnownLeak:
    """A leak being fixed elsewhere: ``secret`` (a key of :data:`CANARIES`) found in a channel
    matching ``channel`` (a regular expression, searched)."""

    secret: str
    channel: str
    reason: str


# Each entry names the channel and who is fixing it; delete it once the fix lands (the report
# says "no longer leaks" then).
KNOWN_LEAKS: tuple[KnownLeak, ...] = ()


@dataclass(frozen=True)
class Hit:
    secret: str  # which canary (a key of CANARIES)
    where: str  # a file relative to the temp dir, or the captured command and its test
    channel: str  # stdout, stderr, file, sqlite table ..., ...

    def describe(self) -> str:
        return f"{self.secret} in {self.where} [{self.channel}]"

    def known(self) -> KnownLeak | None:
        return next(
            (k for k in KNOWN_LEAKS if k.secret == self.secret and re.search(k.channel, self.describe())),
            None,
        )


# --- what the harness tells the plugin ----------------------------------------------------------

_state: dict[str, Path | None] = {"base": None}
INPUTS = "canary-inputs.txt"  # per process (xdist worker): the declared inputs, one path a line
_serial = itertools.count()
_lock = threading.Lock()


def record(command: str, channel: str, text: str) -> None:
    """Keep one captured output (``channel`` is ``stdout`` or ``stderr``) for the end-of-session scan."""
    base = _state["base"]
    if base is None or not text:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
    folder = base / CAPTURES
    folder.mkdir(exist_ok=True)
    with _lock:
        n = next(_serial)
    (folder / f"{n:05d}.{channel}").write_text(f"{test} :: {command}\n{text}", encoding="utf-8")


def declare_input(path: Path) -> Path:
    """Mark a file the test wrote with a secret on purpose (a token file): the scan skips it."""
    base = _state["base"]
    if base is not None:
        with _lock, (base / INPUTS).open("a", encoding="utf-8") as listing:
            listing.write(f"{path.resolve()}\n")
    return path


# --- the scan ------------------------------------------------------------------------------------


def _search(data: bytes) -> Iterator[str]:
    """The canaries in ``data`` (each is URL-safe, so a URL-encoded copy is found as well)."""
    for name, value in CANARIES.items():
        if value.encode() in data:
            yield name


def _sqlite_tables(path: Path) -> Iterator[tuple[str, bytes]]:
    """Each table's rows as text (a dump sees values in pages the raw bytes split or compress)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return
    try:
        table = "(schema)"
        for line in db.iterdump():
            found = re.match(r'INSERT INTO "?([^" (]+)', line)
            if found:
                table = found.group(1)
            yield table, line.encode("utf-8", "replace")
    except sqlite3.Error as exc:
        yield "(unreadable)", str(exc).encode()
    finally:
        db.close()


def _scan_file(path: Path, base: Path) -> Iterator[Hit]:
    where = str(path.relative_to(base))
    try:
        data = path.read_bytes()
    except OSError:
        return
    if path.parent.name == CAPTURES:
        header, _, body = data.partition(b"\n")
        for secret in _search(body):
            yield Hit(secret, header.decode("utf-8", "replace"), path.suffix.lstrip("."))
        return
    for secret in _search(data):
        yield Hit(secret, where, "file bytes")
    if data.startswith(SQLITE_MAGIC):
        seen: set[tuple[str, str]] = set()
        for table, line in _sqlite_tables(path):
            for secret in _search(line):
                if (secret, table) not in seen:
                    seen.add((secret, table))
                    yield Hit(secret, where, f"sqlite table {table}")


def scan(base: Path) -> list[Hit]:
    """Every canary found under ``base``, once per (secret, place, channel)."""
    inputs = {Path(line) for listing in base.rglob(INPUTS) for line in listing.read_text().splitlines()}
    hits: list[Hit] = []
    for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.resolve() in inputs or path.name == INPUTS:
            continue
        hits.extend(h for h in _scan_file(path, base) if h not in hits)
    return hits


def _files(base: Path) -> int:
    return sum(1 for p in base.rglob("*") if p.is_file())


def _captures(base: Path) -> int:
    """How many outputs were captured, by this process or by xdist workers (in subfolders)."""
    return sum(1 for folder in base.rglob(CAPTURES) for _ in folder.iterdir())


# --- pytest hooks --------------------------------------------------------------------------------


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _state["base"] = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]


_REPORT = pytest.StashKey[tuple[Path, list[Hit]]]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Scan once, in the process that owns the whole temp dir (not in an xdist worker)."""
    base = _state["base"]
    if _is_xdist_worker(session.config) or base is None or not _captures(base):
        return  # no end-to-end test ran: nothing to scan
    hits = scan(base)
    session.config.stash[_REPORT] = (base, hits)
    if any(h.known() is None for h in hits):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if _REPORT not in config.stash:
        return
    base, hits = config.stash[_REPORT]
    write = terminalreporter.write_line
    unknown = [h for h in hits if h.known() is None]
    known = [h for h in hits if h.known() is not None]
    terminalreporter.write_sep("=", "canary secrets", red=bool(unknown), green=not hits, yellow=bool(known))
    captures = _captures(base)
    write(f"scanned {captures} captured outputs and {_files(base) - captures} files under {base}")
    for hit in unknown:
        write(f"LEAK {hit.describe()}", red=True)
    for hit in known:
        leak = hit.known()
        assert leak is not None
        write(f"XFAIL {hit.describe()}: {leak.reason}", yellow=True)
    for leak in KNOWN_LEAKS:
        if not any(h.known() == leak for h in hits):
            write(f"XPASS {leak.secret} ~ /{leak.channel}/ no longer leaks: remove it from KNOWN_LEAKS")
    if not hits:
        write(f"no canary secret found ({', '.join(CANARIES)})", green=True)


def leaks_in(texts: Iterable[str]) -> list[str]:
    """The canaries found in ``texts`` (for a test that checks one output on the spot)."""
    return sorted({s for t in texts for s in _search(t.encode())})
