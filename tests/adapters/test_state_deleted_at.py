"""A link kept after a delete on a deactivating target: ``deleted_at`` round-trips, and old files get it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from syncer.adapters.state import StateStore
from syncer.types import Link, ObjectKind

KEPT = Link(
    ObjectKind.USER,
    "u1",
    "t1",
    "ann",
    MappingProxyType({"active": False}),
    disabled=True,
    deleted_at="2026-01-02T03:04:05+00:00",
)


def test_a_kept_links_deleted_at_round_trips_and_moves_the_fingerprint(tmp_path: Path) -> None:
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        store.save_link("j", replace(KEPT, deleted_at=None))
        before = store.load("j").fingerprint
        store.write_batch("j", save=[KEPT])
        state = store.load("j")
        link = state.link(ObjectKind.USER, "u1")
        assert link is not None and link.deleted_at == KEPT.deleted_at
        assert state.fingerprint != before  # a saved plan made before the delete is refused


def test_a_state_file_from_before_gets_the_column_and_keeps_its_links(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with StateStore(f"sqlite:///{path}") as store:
        store.save_link("j", replace(KEPT, deleted_at=None))
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE links DROP COLUMN deleted_at")
    with StateStore(f"sqlite:///{path}") as store:
        link = store.load("j").link(ObjectKind.USER, "u1")
        assert link is not None and link.deleted_at is None and link.target_id == "t1"
        store.save_link("j", KEPT)
        kept = store.load("j").link(ObjectKind.USER, "u1")
        assert kept is not None and kept.deleted_at == KEPT.deleted_at
