"""The local PATCH applier for PUT-only targets: same operations, same result as a compliant server."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.adapters.scim.protocol import apply_operations, build_patch_operations, member_operations
from syncer.core.scimpath import ENTERPRISE_USER
from syncer.types import AttributeChange

BASE: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "id": "u1",
    "meta": {"resourceType": "User", "version": 'W/"3"'},
    "userName": "alice@contoso.com",
    "title": "Engineer",
    "active": True,
    "addresses": [{"type": "work", "country": "DE", "locality": "Berlin"}],
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([AttributeChange("title", "Engineer", "Lead")], {"title": "Lead"}),
        ([AttributeChange("title", "Engineer", None)], {"title": None}),
        ([AttributeChange("active", True, False)], {"active": False}),
        ([AttributeChange("name.formatted", None, "Alice A")], {"name": {"formatted": "Alice A"}}),
        (
            [AttributeChange('addresses[type eq "work"].country', "DE", "FR")],
            {"addresses": [{"type": "work", "country": "FR", "locality": "Berlin"}]},
        ),
        (
            [AttributeChange('emails[type eq "work"].value', None, "a@contoso.com")],
            {"emails": [{"type": "work", "value": "a@contoso.com"}]},
        ),
        (
            [
                AttributeChange('addresses[type eq "work"].country', "DE", None),
                AttributeChange('addresses[type eq "work"].locality', "Berlin", None),
            ],
            {"addresses": None},
        ),
        (
            [AttributeChange(f"{ENTERPRISE_USER}:department", None, "R&D")],
            {ENTERPRISE_USER: {"department": "R&D"}},
        ),
    ],
)
def test_operations_built_for_patch_apply_locally(
    changes: list[AttributeChange], expected: dict[str, Any]
) -> None:
    """Each operation syncer builds for PATCH gives, applied locally, the resource a server would hold."""
    current = {
        "title": "Engineer",
        'addresses[type eq "work"].country': "DE",
        'addresses[type eq "work"].locality': "Berlin",
    }
    result = apply_operations(BASE, build_patch_operations(changes, current=current))
    assert "id" not in result and "meta" not in result
    for key, value in expected.items():
        if value is None:
            assert key not in result
        else:
            assert result[key] == value
    if ENTERPRISE_USER in expected:
        assert ENTERPRISE_USER in result["schemas"]
    assert result["userName"] == "alice@contoso.com"


def test_members_add_and_remove_locally() -> None:
    """Member additions are de-duplicated and removals by value filter drop exactly those members."""
    group = {"displayName": "Sales", "members": [{"value": "a"}, {"value": "b"}]}
    added = apply_operations(group, member_operations(["b", "c"], []))
    assert added["members"] == [{"value": "a"}, {"value": "b"}, {"value": "c"}]
    removed = apply_operations(added, member_operations([], ["a", "c"]))
    assert removed["members"] == [{"value": "b"}]


def test_unsupported_operations_are_refused() -> None:
    """A replace through a filter that matches nothing, or an operation without a path, raises."""
    with pytest.raises(ValueError, match="noTarget"):
        apply_operations(BASE, [{"op": "replace", "path": 'emails[type eq "home"].value', "value": "x"}])
    with pytest.raises(ValueError, match="without a path"):
        apply_operations(BASE, [{"op": "replace", "value": {"title": "x"}}])
