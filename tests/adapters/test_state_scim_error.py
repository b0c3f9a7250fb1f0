"""The target's SCIM error on a provisioning-log record, and an escrow row's refusal: stored apart,
and added to older state files."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

from syncer.adapters.state import StateStore
from syncer.types import Action, ObjectKind, ProvisioningLogEntry, Refusal, ScimError, Status

T0 = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
REFUSED = ScimError(status=400, scim_type="invalidValue", detail="costCenter is not supported")


def an_entry(scim_error: ScimError | None) -> ProvisioningLogEntry:
    return ProvisioningLogEntry(
        job="j",
        run_id="r1",
        change_id="c1",
        time=T0,
        kind=ObjectKind.USER,
        source_id="u1",
        display="Ada",
        target_id=None,
        action=Action.CREATE,
        status=Status.FAILURE,
        reason="Permanent",
        detail="POST /Users: 400 invalidValue: costCenter is not supported",
        scim_error=scim_error,
    )


def test_a_records_scim_error_round_trips(tmp_path: Path) -> None:
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        store.record_many([an_entry(REFUSED)])
        assert store.log_entries("j") == [an_entry(REFUSED)]


def test_a_state_file_from_before_gets_the_column_and_keeps_its_records(tmp_path: Path) -> None:
    """A state file whose provisioning_log has no scim_error column (made by an older syncer)
    opens, reads its old record back with none, and stores the target's error from then on."""
    path = tmp_path / "state.db"
    with StateStore(f"sqlite:///{path}") as store:
        store.record_many([an_entry(None)])
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE provisioning_log DROP COLUMN scim_error")
    with StateStore(f"sqlite:///{path}") as store:
        assert store.log_entries("j") == [an_entry(None)]
        store.record_many([an_entry(REFUSED)])
        assert [e.scim_error for e in store.log_entries("j")] == [None, REFUSED]


def _escrow(store: StateStore, refused: Refusal | None) -> None:
    store.escrow_failure(
        "j",
        ObjectKind.USER,
        "u1",
        display="Ada",
        code="Permanent",
        error="PATCH /Users/t1: 400 invalidValue: costCenter is not supported",
        now=T0,
        skip_cycles=lambda attempts: 0,
        refused=refused,
    )


def test_an_escrow_rows_refusal_round_trips_and_a_transient_failure_forgets_it(tmp_path: Path) -> None:
    refusal = Refusal("sha256:abc", REFUSED.summary())
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        _escrow(store, refusal)
        assert [e.refused for e in store.escrowed("j")] == [refusal]
        _escrow(store, None)  # then a 500: escrow's backoff again, the refusal is no longer the story
        assert [(e.attempts, e.refused) for e in store.escrowed("j")] == [(2, None)]


def test_a_state_file_from_before_gets_the_escrow_refusal_columns(tmp_path: Path) -> None:
    """An escrow row made by an older syncer (no refusal columns) reads back as a plain failure,
    and the columns take a refusal from then on."""
    path = tmp_path / "state.db"
    with StateStore(f"sqlite:///{path}") as store:
        _escrow(store, None)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE escrow DROP COLUMN refused_fingerprint")
        db.execute("ALTER TABLE escrow DROP COLUMN refused_answer")
    with StateStore(f"sqlite:///{path}") as store:
        assert [(e.attempts, e.refused) for e in store.escrowed("j")] == [(1, None)]
        _escrow(store, Refusal("sha256:abc", "400 invalidValue"))
        assert [e.refused for e in store.escrowed("j")] == [Refusal("sha256:abc", "400 invalidValue")]
