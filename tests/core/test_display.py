"""What a person is shown: control characters visible, never acted on; URLs without their secrets."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from syncer.core.changes import CreateObject, Plan, PlanInputs
from syncer.core.display import visible
from syncer.core.rendering import render_text
from syncer.types import ObjectKind


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ada@contoso.com", "ada@contoso.com"),
        ("Zoë Ünal 王", "Zoë Ünal 王"),
        ("DOMAIN\\ada", "DOMAIN\\ada"),
        ("x\n+ create user ceo@contoso.com", "x\\n+ create user ceo@contoso.com"),
        ("a\rb\tc", "a\\rb\\tc"),
        ("\x1b[2K\x1b[1Aceo", "\\x1b[2K\\x1b[1Aceo"),
        ("nul\x00del\x7fc1\x85", "nul\\x00del\\x7fc1\\x85"),
        ("rtl\u202eevil\u2028sep", "rtl\\u202eevil\\u2028sep"),
        ("family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"),  # a joiner is not a control
    ],
)
def test_visible_escapes_controls_only(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_a_newline_in_a_user_name_cannot_forge_a_plan_line() -> None:
    forged = "intern@contoso.com\n+ create user ceo@contoso.com"
    change = CreateObject(ObjectKind.USER, "u1", forged, MappingProxyType({}))
    plan = Plan("j", False, (change,), (), PlanInputs("sha256:c", "sha256:s", "sha256:t"))
    lines = render_text(plan).splitlines()
    assert lines[0] == "+ create user intern@contoso.com\\n+ create user ceo@contoso.com"
    assert not [line for line in lines if line.startswith("+ create user ceo@")]
