"""What a person is shown: control characters visible, never acted on; URLs without their secrets."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from syncer.core.changes import CreateObject, Plan, PlanInputs
from syncer.core.display import redact_url, redact_urls, visible
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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example/services/T0/B0/XXXXSECRET", "https://hooks.example/…"),
        ("https://user:pa55@app.example:8443/scim/v2?api_key=SECRET#x", "https://app.example:8443/…"),
        ("http://[::1]:9000/hook?sig=SECRET", "http://[::1]:9000/…"),
        ("https://app.example", "https://app.example"),
        ("https://app.example/", "https://app.example"),
        ("postgresql://syncer:SECRET@db.example/state", "postgresql://db.example/…"),
        ("not a url SECRET", "(an invalid URL)"),
        ("http://[::1/SECRET", "(an invalid URL)"),
    ],
)
def test_redact_url_keeps_scheme_host_and_port_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "SECRET" not in redact_url(url) and "pa55" not in redact_url(url)


def test_redact_urls_in_an_error_text() -> None:
    text = "Server error '500 Internal Server Error' for url 'https://hooks.example/T0/SECRET?sig=SECRET'"
    assert redact_urls(text) == "Server error '500 Internal Server Error' for url 'https://hooks.example/…'"


def test_redact_url_can_keep_a_scim_base_path() -> None:
    url = "https://user:pa55@app.example/scim/v2/?api_key=SECRET"
    assert redact_url(url, keep_path=True) == "https://app.example/scim/v2?…"
