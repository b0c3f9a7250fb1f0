"""Table-driven tests for the guard against acting on an empty source read."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from syncer.core.safety import empty_source_refusal
from syncer.types import JobState, Link, ObjectKind, SkippedRecord, SourceObject, SourceSnapshot

U = ObjectKind.USER
G = ObjectKind.GROUP


def state(count: int, kind: ObjectKind = U) -> JobState:
    return JobState(
        links={
            (kind, f"s{i}"): Link(kind, f"s{i}", f"t{i}", f"s{i}", MappingProxyType({})) for i in range(count)
        }
    )


def snapshot(users: int = 0, groups: int = 0, skipped: int = 0) -> SourceSnapshot:
    return SourceSnapshot(
        users=tuple(SourceObject(U, f"u{i}", MappingProxyType({})) for i in range(users)),
        groups=tuple(SourceObject(G, f"g{i}", MappingProxyType({})) for i in range(groups)),
        skipped=tuple(SkippedRecord(U, f"f:{i}", "bad") for i in range(skipped)),
    )


@pytest.mark.parametrize(
    ("source", "links", "number"),
    [
        (snapshot(), state(1), 1),
        (snapshot(), state(612), 612),
        (snapshot(), state(3, G), 3),
        (snapshot(skipped=4), state(7), 7),
    ],
)
def test_empty_source_with_links_is_refused_with_the_number(
    source: SourceSnapshot, links: JobState, number: int
) -> None:
    """A source that returns nobody while objects are provisioned is refused, naming how many."""
    refusal = empty_source_refusal(source, links)
    assert refusal is not None
    assert f"while {number} objects are provisioned" in refusal
    assert "nothing was changed" in refusal


@pytest.mark.parametrize(
    ("source", "links"),
    [
        (snapshot(), state(0)),
        (snapshot(users=1), state(0)),
        (snapshot(users=1), state(5)),
        (snapshot(groups=1), state(5)),
    ],
)
def test_a_source_with_objects_or_no_links_is_allowed(source: SourceSnapshot, links: JobState) -> None:
    """An empty source with no links (a first run) or any non-empty source may run."""
    assert empty_source_refusal(source, links) is None
