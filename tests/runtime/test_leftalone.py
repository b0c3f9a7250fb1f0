"""Which escrowed objects a cycle leaves alone (runtime.leftalone): the backoff's and the held ones."""

from __future__ import annotations

from datetime import UTC, datetime

from syncer.core.refusals import Grounds, fingerprint
from syncer.runtime.leftalone import held_skip, sort_escrow
from syncer.types import Desired, EscrowEntry, JobState, ObjectKind, Refusal, SkipReason, Status
from tests.builders import link, user

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GROUNDS = Grounds(mapping="sha256:m", schemas="sha256:s")


def entry(sid: str, skip_cycles: int = 0, refused: Refusal | None = None) -> EscrowEntry:
    return EscrowEntry(ObjectKind.USER, sid, sid, 2, skip_cycles, "Permanent", "400", T0, T0, refused)


def test_waiting_held_and_sent_are_told_apart_and_the_desired_built_only_for_a_refusal() -> None:
    ada, bob = user("ada", title="CTO"), user("bob", title="Lead")
    state = JobState(links={(ObjectKind.USER, "ada"): link(ada), (ObjectKind.USER, "bob"): link(bob)})
    refused_now = fingerprint(ada, link(ada), GROUNDS)
    assert refused_now is not None
    desired = {(ObjectKind.USER, "ada"): ada, (ObjectKind.USER, "bob"): user("bob", title="Head")}
    escrow = [
        entry("ada", skip_cycles=0, refused=Refusal(refused_now, "400 invalidValue: no")),  # unchanged
        entry("bob", skip_cycles=5, refused=Refusal(refused_now, "400 invalidValue: no")),  # moved
        entry("cy", skip_cycles=2),  # transient, in its backoff
        entry("dee", skip_cycles=0),  # transient, due
    ]
    left = sort_escrow(escrow, lambda: desired, state, GROUNDS)
    assert [e.source_id for e in left.held] == ["ada"]
    assert [e.source_id for e in left.waiting] == ["cy"]
    assert left.keys == {(ObjectKind.USER, "ada"), (ObjectKind.USER, "cy")}

    def never() -> dict[tuple[ObjectKind, str], Desired]:
        raise AssertionError("the desired objects were built without a refusal to compare")

    assert sort_escrow(escrow[2:], never, state, GROUNDS).waiting == (escrow[2],)


def test_a_held_objects_skip_says_why_and_is_no_failure() -> None:
    skip = held_skip(entry("ada", refused=Refusal("sha256:x", "400 mutability: id is readOnly")))
    assert skip.reason == SkipReason.HELD_REFUSED and skip.status is Status.SKIPPED
    assert "(400 mutability: id is readOnly)" in skip.detail
