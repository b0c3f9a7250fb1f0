"""The store's day-2 queries: provisioning-log filters and pruning, and opening a new state at once."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.adapters.state import StateStore
from syncer.types import Action, Status
from tests.adapters.test_state_store import T0, an_entry

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


@pytest.fixture
def logged(store: StateStore) -> StateStore:
    store.record_many(
        [
            an_entry(minute=0, action=Action.CREATE),
            an_entry(minute=1, status=Status.FAILURE, reason="Conflict"),
            an_entry(minute=2, run_id="r2", source_id="u2", action=Action.OTHER, status=Status.SKIPPED),
            an_entry(minute=3, job="other"),
        ]
    )
    return store


@pytest.mark.parametrize(
    ("filters", "changes"),
    [
        ({}, ["c0", "c1", "c2", "c3"]),
        ({"job": "j"}, ["c0", "c1", "c2"]),
        ({"run_id": "r2"}, ["c2"]),
        ({"statuses": ["Failure", "Skipped"]}, ["c1", "c2"]),
        ({"actions": ["Create"]}, ["c0"]),
        ({"since": T0 + 2 * MINUTE}, ["c2", "c3"]),
        ({"source_id": "u2"}, ["c2"]),
        ({"job": "j", "statuses": ["Success"], "actions": ["Update"]}, []),
        ({"limit": 2}, ["c2", "c3"]),
    ],
)
def test_search_log_filters(logged: StateStore, filters: dict[str, object], changes: list[str]) -> None:
    """Every given filter must hold; a limit keeps the newest records, oldest first."""
    assert [e.change_id for e in logged.search_log(**filters)] == changes  # type: ignore[arg-type]


def test_prune_log_removes_only_older_records_in_batches(logged: StateStore) -> None:
    """Pruning deletes records older than the cutoff, a batch at a time, and keeps the rest."""
    assert logged.prune_log(T0 + 2 * MINUTE, batch=1) == 2
    assert [e.change_id for e in logged.search_log()] == ["c2", "c3"]
    assert logged.prune_log(T0 + 2 * MINUTE) == 0


def test_two_processes_can_open_a_new_state_at_once(tmp_path: Path) -> None:
    """Two stores creating one new SQLite state at the same moment both open it (no 'already exists')."""
    for attempt in range(4):
        url = f"sqlite:///{tmp_path / f'new{attempt}.db'}"
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []

        def open_it(
            url: str = url, barrier: threading.Barrier = barrier, errors: list[BaseException] = errors
        ) -> None:
            barrier.wait()
            try:
                StateStore(url).close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
