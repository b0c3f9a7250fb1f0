"""Table-driven tests for duplicate source detection and deciding which objects need a target lookup."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from syncer.core.matching import case_exact, duplicate_sources, matching_key, needs_lookup, verified_hits
from syncer.errors import MalformedResponseError
from syncer.types import Desired, JobState, Link, ObjectKind
from tests.builders import G, U, desired


def state(*links: tuple[ObjectKind, str]) -> JobState:
    return JobState(
        links={(k, s): Link(k, s, f"t-{s}", s, MappingProxyType({})) for k, s in links},
    )


@pytest.mark.parametrize(
    ("value", "key"),
    [("Alice@Contoso.com", "alice@contoso.com"), ("STRASSE", "strasse"), ("Straße", "strasse"), (7, "7")],
)
def test_matching_key_case_folds_strings(value: Any, key: str) -> None:
    """Matching values compare case-folded, as SCIM userName is case-insensitive (RFC 7643 §4.1.1)."""
    assert matching_key(value) == key


@pytest.mark.parametrize(
    ("objects", "failed"),
    [
        pytest.param(
            [desired("u1", ("userName", "alice@x")), desired("u2", ("userName", "ALICE@X"))],
            {"u1", "u2"},
            id="case-insensitive",
        ),
        pytest.param(
            [desired("u1", ("userName", "a@x")), desired("u2", ("userName", "b@x"))],
            set(),
            id="distinct",
        ),
        pytest.param(
            [
                desired("u3", ("userName", "a@x")),
                desired("u1", ("userName", "a@x")),
                desired("u2", ("userName", "b@x")),
            ],
            {"u1", "u3"},
            id="only-the-sharing-pair",
        ),
        pytest.param(
            [desired("u1", ("userName", "zo\u00eb@x")), desired("u2", ("userName", "zoe\u0308@x"))],
            {"u1", "u2"},
            id="nfc-and-nfd-spellings",
        ),
        pytest.param(
            [desired("u1", ("externalId", "E1")), desired("u2", ("externalId", "e1"))],
            set(),
            id="externalId-is-case-exact",
        ),
        pytest.param(
            [
                desired("u1", ("userName", "a@x"), ("externalId", "E1")),
                desired("u2", ("userName", "b@x"), ("externalId", "E1")),
            ],
            {"u1", "u2"},
            id="second-matching-attribute",
        ),
        pytest.param(
            [desired("u1", ("userName", "E1")), desired("u2", ("externalId", "E1"))],
            set(),
            id="same-value-different-paths",
        ),
        pytest.param([desired("u1"), desired("u2")], set(), id="no-matching-values"),
        pytest.param(
            [
                desired("u1", ("userName", "a")),
                desired("u2", ("userName", "a")),
                desired("u3", ("userName", "a")),
            ],
            {"u1", "u2", "u3"},
            id="three-way",
        ),
    ],
)
def test_duplicate_sources_fail_every_sharer(objects: list[Desired], failed: set[str]) -> None:
    """Every source object sharing a matching value with another fails, and only those."""
    assert set(duplicate_sources(objects)) == failed


def test_duplicate_source_detail_names_both_ids() -> None:
    """The failure detail names the matching attribute, the value and both source ids, for both objects."""
    result = duplicate_sources(
        [desired("u2", ("userName", "Alice@x")), desired("u1", ("userName", "alice@x"))]
    )
    assert result == {
        "u1": "userName 'alice@x' is shared by source objects u1, u2",
        "u2": "userName 'Alice@x' is shared by source objects u1, u2",
    }


@pytest.mark.parametrize(
    ("obj", "links", "excluded", "looked_up"),
    [
        pytest.param(desired("u1", ("userName", "a")), [], [], True, id="unlinked"),
        pytest.param(desired("u1", ("userName", "a")), [(U, "u1")], [], False, id="linked"),
        pytest.param(desired("u1", ("userName", "a")), [(G, "u1")], [], True, id="linked-as-other-kind"),
        pytest.param(desired("u1", ("userName", "a"), soft_deleted=True), [], [], False, id="soft-deleted"),
        pytest.param(desired("u1", ("userName", "a")), [], ["u1"], False, id="failed"),
        pytest.param(desired("u1"), [], [], False, id="no-matching-value"),
        pytest.param(desired("g1", ("displayName", "S"), kind=G), [], [], True, id="unlinked-group"),
        pytest.param(desired("g1", ("displayName", "S"), kind=G), [(G, "g1")], [], False, id="linked-group"),
    ],
)
def test_needs_lookup(
    obj: Desired, links: list[tuple[ObjectKind, str]], excluded: list[str], looked_up: bool
) -> None:
    """Only unlinked, entitled, not-failed objects with a matching value are looked up on the target."""
    assert needs_lookup([obj], state(*links), excluded) == ([obj] if looked_up else [])


def test_needs_lookup_keeps_input_order() -> None:
    """The objects to look up come back in the order they were given."""
    objects = [desired(s, ("userName", s)) for s in ("u3", "u1", "u2")]
    assert needs_lookup(objects, state((U, "u1")), iter(())) == [objects[0], objects[2]]


@pytest.mark.parametrize(
    ("path", "exact"),
    [
        ("userName", False),
        ("displayName", False),
        ('emails[type eq "work"].value', False),
        ("externalId", True),
        ("id", True),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", False),
        ("urn:example:acme:2.0:User:badge", False),
    ],
)
def test_case_exact_follows_rfc_7643(path: str, exact: bool) -> None:
    """caseExact as RFC 7643 declares it; an attribute it does not declare takes the default, false."""
    assert case_exact(path) is exact


def test_matching_key_is_nfc_and_case_exact_on_request() -> None:
    assert matching_key("JOSE\u0301") == matching_key("jos\u00e9")
    assert matching_key("E-1", True) != matching_key("e-1", True)
    assert matching_key("e\u0301", True) == "\u00e9"


def test_verified_hits_keep_only_resources_carrying_the_value() -> None:
    """Another case of a case-exact value is no hit; a hit in another case of userName is one."""
    alice = {"id": "1", "userName": "ALICE@x", "externalId": "E-1"}
    assert verified_hits("userName", "alice@x", [alice]) == [alice]
    assert verified_hits("externalId", "e-1", [alice]) == []
    work = {"id": "2", "emails": [{"type": "work", "value": "A@x"}, {"type": "home", "value": "b@x"}]}
    assert verified_hits('emails[type eq "work"].value', "a@x", [work]) == [work]
    assert verified_hits("emails.value", "b@x", [work]) == [work]


def test_a_resource_without_the_value_means_the_filter_was_ignored() -> None:
    with pytest.raises(MalformedResponseError, match="does not apply filter"):
        verified_hits("userName", "alice@x", [{"id": "1", "userName": "admin@x"}])
    with pytest.raises(MalformedResponseError):
        verified_hits("userName", "alice@x", [{"id": "1"}])
