"""Matching by one listing of the target gives the answers one query per object would give."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.core.matching import ListingMatcher, nothing_to_match, should_list
from syncer.core.scimpath import parse_path
from syncer.types import Desired
from tests.builders import U, desired

PATHS = tuple(parse_path(p) for p in ("userName", "externalId", 'emails[type eq "work"].value', "title"))


def answers(objects: list[Desired], listed: list[dict[str, Any]]) -> dict[str, tuple[str | None, list[str]]]:
    matcher = ListingMatcher(U, objects, PATHS)
    for resource in listed:
        matcher.add(resource)
    return {k[1]: (m.path, [h.id for h in m.hits]) for k, m in matcher.matches().items()}


@pytest.mark.parametrize(
    ("objects", "listed", "expected"),
    [
        pytest.param(
            [desired("u1", ("userName", "Alice@X"))],
            [{"id": "t1", "userName": "alice@x"}, {"id": "t2", "userName": "bob@x"}],
            {"u1": ("userName", ["t1"])},
            id="case-insensitive-like-eq",
        ),
        pytest.param(
            [desired("u1", ("userName", "carol@x"))],
            [{"id": "t1", "userName": "alice@x"}],
            {"u1": (None, [])},
            id="no-hit-means-create",
        ),
        pytest.param(
            [desired("u1", ("userName", "a@x"), ("externalId", "E1"))],
            [{"id": "t1", "userName": "z@x", "externalId": "E1"}],
            {"u1": ("externalId", ["t1"])},
            id="second-matching-attribute",
        ),
        pytest.param(
            [desired("u1", ("userName", "a@x"), ("externalId", "E1"))],
            [{"id": "t1", "userName": "a@x"}, {"id": "t2", "externalId": "E1"}],
            {"u1": ("userName", ["t1"])},
            id="precedence-first-attribute-wins",
        ),
        pytest.param(
            [desired("u1", ("userName", "a@x"))],
            [{"id": "t1", "userName": "a@x"}, {"id": "t2", "userName": "A@X"}],
            {"u1": ("userName", ["t1", "t2"])},
            id="duplicates-on-target",
        ),
        pytest.param(
            [desired("u1", ('emails[type eq "work"].value', "a@x"))],
            [{"id": "t1", "emails": [{"type": "home", "value": "a@x"}]},
             {"id": "t2", "emails": [{"type": "work", "value": "a@x"}]}],
            {"u1": ('emails[type eq "work"].value', ["t2"])},
            id="value-filtered-path",
        ),
    ],
)  # fmt: skip
def test_listing_answers_like_queries(
    objects: list[Desired], listed: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    """Each unlinked object gets the hits its matching attributes find, in precedence order."""
    assert answers(objects, listed) == expected


def test_listing_keeps_only_resources_that_match() -> None:
    """A listed resource no unlinked object matches is not kept, so memory follows the matches."""
    matcher = ListingMatcher(U, [desired("u1", ("userName", "a@x"))], PATHS)
    for n in range(1000):
        matcher.add({"id": f"t{n}", "userName": f"other{n}@x"})
    matcher.add({"id": "hit", "userName": "a@x", "title": "Boss"})
    assert matcher.seen == 1001
    assert sum(len(h) for h in matcher.hits.values()) == 1
    (match,) = matcher.matches().values()
    assert match.hits[0].values["title"] == "Boss"


def test_empty_target_needs_no_lookup() -> None:
    """An empty target answers every object with no hit: all are created."""
    found = nothing_to_match([desired("u1", ("userName", "a@x"))])
    assert [(m.path, m.hits) for m in found.values()] == [(None, ())]


@pytest.mark.parametrize(
    ("unlinked", "total", "ratio", "lists"),
    [(1000, 1000, 4.0, True), (1000, 4000, 4.0, True), (1000, 4001, 4.0, False), (10, 100000, 4.0, False)],
)
def test_auto_lists_when_the_target_is_small_next_to_the_unlinked(
    unlinked: int, total: int, ratio: float, lists: bool
) -> None:
    """``auto`` lists when the target holds at most ``ratio`` objects per unlinked object."""
    assert should_list(unlinked, total, ratio) is lists
