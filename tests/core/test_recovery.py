"""What a doubtful answer means: pure decisions, no target."""

from __future__ import annotations

import pytest

from syncer.core.recovery import (
    Claim,
    CreateDoubt,
    Gone,
    Miss,
    Streak,
    after_create_error,
    after_miss,
    claim,
    gone_verdict,
)
from syncer.errors import (
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    PermanentTargetError,
    TargetError,
    TlsError,
    TransientTargetError,
)
from syncer.types import ObjectKind

U = ObjectKind.USER


@pytest.mark.parametrize(
    ("error", "doubt"),
    [
        (ConflictError("409", status=409), CreateDoubt.LOOK_UP),
        (TransientTargetError("reset", maybe_processed=True), CreateDoubt.LOOK_UP),
        (TransientTargetError("refused", maybe_processed=False), CreateDoubt.FAIL),
        (MalformedResponseError("html", status=200), CreateDoubt.LOOK_UP),
        (PermanentTargetError("400", status=400), CreateDoubt.FAIL),
    ],
)
def test_after_create_error(error: TargetError, doubt: CreateDoubt) -> None:
    assert after_create_error(error) is doubt


def test_a_409_whose_lookup_found_nothing_is_never_resent_but_listed() -> None:
    """The 409 says the value is held; a filter missing it would miss it again after a second POST."""
    assert after_miss(ConflictError("409", status=409, scim_type="uniqueness")) is Miss.LIST
    assert after_miss(TransientTargetError("lost", maybe_processed=True)) is Miss.RESEND
    assert after_miss(MalformedResponseError("html", status=200)) is Miss.RESEND


def test_a_target_object_has_one_owner() -> None:
    owners = {(U, "x1"): (U, "cfo")}
    assert claim(owners, (U, "cfo"), "x1") is Claim.MINE
    assert claim(owners, (U, "contractor"), "x1") is Claim.TAKEN
    assert claim(owners, (U, "contractor"), "x2") is Claim.FREE
    assert claim(owners, (ObjectKind.GROUP, "g"), "x1") is Claim.FREE


@pytest.mark.parametrize(
    ("probe", "verdict"),
    [
        (None, Gone.PRESENT),
        (NotFoundError("404", status=404, scim_error=True), Gone.GONE),
        (NotFoundError("html 404", status=404, scim_error=False), Gone.UNKNOWN),
        (TransientTargetError("502", status=502, scim_error=True), Gone.UNKNOWN),
    ],
)
def test_only_a_scim_404_on_a_get_proves_an_object_gone(probe: TargetError | None, verdict: Gone) -> None:
    assert gone_verdict(probe) is verdict


def test_a_streak_of_unanswered_changes_means_the_target_is_down() -> None:
    streak = Streak()
    refused = TransientTargetError("ConnectError")
    for _ in range(4):
        streak = streak.after(refused)
    assert not streak.down()
    assert streak.after(TlsError("bad certificate")).down()
    assert not streak.after(ConflictError("409", status=409)).after(refused).down()
    assert streak.after(None).unanswered == 0
    assert "unreachable" in streak.after(refused).message()
