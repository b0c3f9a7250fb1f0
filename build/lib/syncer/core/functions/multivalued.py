"""Multi-valued attributes: Count, Item, RemoveDuplicates, and the app-role functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from syncer.core.functions.registry import (
    Args,
    EvaluationContext,
    fail,
    function,
    to_text,
    values_of,
    whole,
)
from syncer.types import freeze


@function("Count", 1, 1)
def _count(args: Args, ctx: EvaluationContext) -> object:
    return len(values_of(args[0]))


@function("Item", 2, 2)
def _item(args: Args, ctx: EvaluationContext) -> object:
    values, index = values_of(args[0]), whole(args[1], "index")
    return values[index - 1] if 1 <= index <= len(values) else None


@function("RemoveDuplicates", 1, 1)
def _remove_duplicates(args: Args, ctx: EvaluationContext) -> object:
    if not isinstance(args[0], tuple):
        return args[0]
    unique: list[object] = []
    for value in args[0]:  # a list, not a dict: app role objects do not hash
        if value not in unique:
            unique.append(value)
    return tuple(unique)


# --- app roles ----------------------------------------------------------------------------------
# A source gives a user's app role assignments as the multi-valued attribute appRoleAssignments:
# each value is an object {"id": assignment id, "value": role value, "displayName": role name},
# or just the role's value as a string. Entra's role functions turn that into what SCIM's roles hold.

ROLE_TYPE: Final = "WindowsAzureActiveDirectoryRole"


def _role(assignment: object) -> tuple[str, str] | None:
    """(value, display name) of one assignment; either falls back to the other when missing."""
    if isinstance(assignment, Mapping):
        value, name = to_text(assignment.get("value")), to_text(assignment.get("displayName"))
        if not value and not name:
            fail("an app role assignment needs a value or a displayName")
        return (value or name or "", name or value or "")
    text = to_text(assignment)
    return (text, text) if text else None


def _roles(value: object) -> list[tuple[str, str]]:
    roles = (r for r in map(_role, values_of(value)) if r is not None)
    return list(dict.fromkeys(roles))  # one entry per role, in the source's order


@function("SingleAppRoleAssignment", 1, 1)
def _single_app_role_assignment(args: Args, ctx: EvaluationContext) -> object:
    # Entra picks one role when a user has several and does not say which: syncer takes the first.
    roles = _roles(args[0])
    return roles[0][1] if roles else None


def _complex_roles(args: Args, ctx: EvaluationContext) -> object:
    roles = _roles(args[0])
    if not roles:
        return None
    return tuple(
        freeze({"primary": False, "type": ROLE_TYPE, "display": name, "value": value})
        for value, name in roles
    )


# Entra's AppRoleAssignmentsComplex only ever adds roles, its Assertive twin replaces them; syncer
# sends the roles attribute whole whenever it changes, so both give the assertive result.
function("AppRoleAssignmentsComplex", 1, 1)(_complex_roles)
function("AssertiveAppRoleAssignmentsComplex", 1, 1)(_complex_roles)
