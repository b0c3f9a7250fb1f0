"""The pure fold from change results to one record per object and the run's counts."""

from __future__ import annotations

from datetime import UTC, datetime

from syncer.core.changes import Skip
from syncer.core.outcomes import ChangeResult, Reason, Stamp, count, fold_object, outcome_entry
from syncer.types import Action, ModifiedProperty, ObjectKind, Status, Step

U = ObjectKind.USER


def result(**kw: object) -> ChangeResult:
    base: dict[str, object] = {"kind": U, "source_id": "ann", "display": "Ann", "action": Action.OTHER}
    return ChangeResult(**{**base, **kw})  # type: ignore[arg-type]


def test_the_first_real_action_names_the_record_and_the_worst_status_wins() -> None:
    folded = fold_object(
        [
            result(action=Action.CREATE, target_id="x1", modified=(ModifiedProperty("userName", None, "a"),)),
            result(status=Status.WARNING, reason=Reason.REFERENCE_NOT_RESOLVED, detail="manager later"),
            result(action=Action.UPDATE, status=Status.FAILURE, reason="Conflict", detail="409"),
        ]
    )
    assert (folded.action, folded.status, folded.reason, folded.detail) == (
        Action.CREATE,
        Status.FAILURE,
        "Conflict",
        "409",
    )
    assert folded.target_id == "x1" and len(folded.modified) == 1 and folded.escrow


def test_the_cycles_own_failures_are_not_escrowed() -> None:
    for reason in (Reason.CYCLE_STOPPED, Reason.TARGET_UNREACHABLE):
        assert not fold_object([result(status=Status.FAILURE, reason=reason, sent=False)]).escrow


def test_a_record_ends_with_its_export_step() -> None:
    folded = fold_object([result(action=Action.DISABLE, steps=(Step("processing", Status.SUCCESS),))])
    entry = outcome_entry(folded, Stamp("j", "r", "c1", datetime(2026, 1, 1, tzinfo=UTC)))
    assert [s.name for s in entry.steps] == ["processing", "export"]
    assert (entry.action, entry.status, entry.change_id) == (Action.DISABLE, Status.SUCCESS, "c1")


def test_counts_are_typed_and_keep_the_run_records_keys() -> None:
    skips = [Skip(U, "bob", "Bob", "RedundantExport"), Skip(U, "cy", "Cy", "Bad", Status.FAILURE)]
    counts = count(
        [(Action.CREATE, Status.SUCCESS, True), (Action.CREATE, Status.FAILURE, True)],
        skips,
        held=2,
        members_added=3,
        applied={"create": 1},
    )
    assert counts.of(Action.CREATE, Status.SUCCESS) == 1 and counts.failures == 2
    assert counts.done("create") == 1 and counts.done("delete") == 0
    assert counts.as_record() == {
        "Create.Success": 1,
        "Create.Failure": 1,
        "Other.Skipped": 1,
        "Other.Failure": 1,
        "StagedDelete.Skipped": 2,
        "members.added": 3,
        "members.removed": 0,
    }


def test_what_a_stopped_cycle_never_sent_is_counted_apart() -> None:
    """Not sent is neither a failure nor a skip: the run record counts it as ``notSent``."""
    counts = count(
        [(Action.CREATE, Status.SUCCESS, True), (Action.OTHER, Status.SKIPPED, False)],
        [],
        applied={"create": 1},
    )
    assert counts.failures == 0 and counts.not_sent == 1
    assert counts.as_record() == {"Create.Success": 1, "members.added": 0, "members.removed": 0, "notSent": 1}


def test_an_object_partly_sent_before_a_stop_is_recorded_by_what_was_sent() -> None:
    """Its create landed, its member change was never sent: the record is the create's, no "not sent"."""
    folded = fold_object(
        [
            result(action=Action.CREATE, target_id="x1"),
            result(
                status=Status.SKIPPED,
                reason=Reason.CYCLE_STOPPED,
                detail="not sent, the cycle stopped: x",
                sent=False,
            ),
        ]
    )
    assert (folded.action, folded.status, folded.reason, folded.detail) == (
        Action.CREATE,
        Status.SUCCESS,
        None,
        None,
    )
    assert folded.sent and folded.target_id == "x1"
