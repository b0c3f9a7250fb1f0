"""Which refusals hold an object, what their fingerprint sees, and SEND / WAIT / HOLD (core.refusals)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from syncer.core.refusals import Grounds, Retry, fingerprint, held_detail, permanent_refusal, retry
from syncer.types import EscrowEntry, ObjectKind, Refusal, ScimError
from tests.builders import group, link, user

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GROUNDS = Grounds(mapping="sha256:mapping", schemas="sha256:schemas")
ALICE = user("alice", title="Engineer")


def entry(refused: Refusal | None = None, skip_cycles: int = 0, attempts: int = 1) -> EscrowEntry:
    return EscrowEntry(
        kind=ObjectKind.USER,
        source_id="alice",
        display="alice@contoso.com",
        attempts=attempts,
        skip_cycles=skip_cycles,
        error_code="Permanent",
        error="PATCH /Users/t-alice: 400 invalidValue: title too long",
        first_failed_at=T0,
        last_failed_at=T0,
        refused=refused,
    )


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (ScimError(400, "invalidValue", "title too long"), True),
        (ScimError(400, "invalidSyntax"), True),
        (ScimError(400, "noTarget"), True),
        (ScimError(400, "mutability"), True),
        (ScimError(400, "invalidPath"), True),
        (ScimError(400, None, "Bad Request"), True),
        (ScimError(400, "InvalidValue"), True),  # scimType compared as a word, not a spelling
        (ScimError(400, "uniqueness"), False),  # another object holds the value: it may let go
        (ScimError(400, "invalidVers"), False),  # a stale ETag: the next read has a new one
        (ScimError(400, "tooMany"), False),
        (ScimError(409, "uniqueness"), False),
        (ScimError(500, None, "maintenance"), False),
        (ScimError(404, None), False),
        (None, False),
    ],
)
def test_which_answers_refuse_the_request_itself(error: ScimError | None, permanent: bool) -> None:
    assert permanent_refusal(error) is permanent


def test_the_fingerprint_is_stable_and_sees_every_part() -> None:
    linked = link(ALICE)
    base = fingerprint(ALICE, linked, GROUNDS)
    assert base is not None and base.startswith("sha256:")
    assert fingerprint(user("alice", title="Engineer"), link(ALICE), GROUNDS) == base  # equal, not same
    moved = {
        "a source value": fingerprint(user("alice", title="Lead"), linked, GROUNDS),
        "a new attribute": fingerprint(user("alice", title="Engineer", department="R&D"), linked, GROUNDS),
        "a create default": fingerprint(replace(ALICE, defaults={"title": "Staff"}), linked, GROUNDS),
        "on-create paths": fingerprint(replace(ALICE, on_create_only=frozenset({"title"})), linked, GROUNDS),
        "soft-deletion": fingerprint(replace(ALICE, soft_deleted=True), linked, GROUNDS),
        "the exported values": fingerprint(ALICE, link(ALICE, title="Intern"), GROUNDS),
        "the link's target id": fingerprint(ALICE, replace(linked, target_id="other"), GROUNDS),
        "the link's disabled": fingerprint(ALICE, replace(linked, disabled=True), GROUNDS),
        "no link (a create)": fingerprint(ALICE, None, GROUNDS),
        "left the source": fingerprint(None, linked, GROUNDS),
        "the mapping": fingerprint(ALICE, linked, replace(GROUNDS, mapping="sha256:edited")),
        "the target's schemas": fingerprint(ALICE, linked, replace(GROUNDS, schemas="sha256:more")),
    }
    assert all(digest != base for digest in moved.values()), moved
    assert len(set(moved.values())) == len(moved)


def test_a_groups_members_are_part_of_it() -> None:
    assert fingerprint(group("Sales", "alice"), None, GROUNDS) != fingerprint(
        group("Sales", "alice", "bob"), None, GROUNDS
    )


def test_a_value_without_a_canonical_form_has_no_fingerprint() -> None:
    odd = user("alice", title=object())
    assert fingerprint(odd, None, GROUNDS) is None


def test_a_refusal_is_held_while_its_fingerprint_stands_and_sent_once_it_moves() -> None:
    refused = entry(Refusal("sha256:a", "400 invalidValue: title too long"), skip_cycles=3, attempts=4)
    assert retry(refused, "sha256:a") is Retry.HOLD
    assert retry(replace(refused, skip_cycles=0), "sha256:a") is Retry.HOLD  # the backoff ran out: still held
    assert retry(refused, "sha256:b") is Retry.SEND  # moved: at once, whatever the backoff says
    assert retry(refused, None) is Retry.SEND  # nothing to compare: sent


def test_a_transient_failure_keeps_the_backoff() -> None:
    assert retry(entry(skip_cycles=2), "sha256:a") is Retry.WAIT
    assert retry(entry(skip_cycles=0), "sha256:a") is Retry.SEND
    assert retry(entry(skip_cycles=0), None) is Retry.SEND


def test_the_held_words_carry_the_targets_answer() -> None:
    held = held_detail(entry(Refusal("sha256:a", "400 invalidValue: title too long")))
    assert held == (
        "held: the target refused this exact change (400 invalidValue: title too long); it is sent "
        "again when the change, the mapping or the target's schemas change"
    )
