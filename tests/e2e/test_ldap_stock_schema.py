"""A stock OpenLDAP (Debian's default schemas, no ppolicy overlay) syncs through the real CLI.

The OpenLDAP flavour's lock attribute, ``pwdAccountLockedTime``, exists only with ppolicy; a
search that names an attribute the subschema lacks is refused before it leaves the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_ldap_sync import LdapWorkspace
from tests.support.ldap_directory import USERS, directory_ldif, mail
from tests.support.scim_server import ScimTestServer
from tests.support.slapd import Slapd


@pytest.fixture(scope="module")
def stock_slapd() -> Iterator[Slapd]:
    """slapd with only core, cosine, inetorgperson and nis: no overlay at all."""
    with Slapd(overlays=()) as server:
        server.init_suffix()
        server.add(directory_ldif())
        yield server


@pytest.fixture
def stock_ws(tmp_path: Path, scim: ScimTestServer, stock_slapd: Slapd) -> LdapWorkspace:
    ws = LdapWorkspace(root=tmp_path, server=scim)
    ws.write_ldap_config(stock_slapd.url)
    return ws


def test_a_directory_without_ppolicy_syncs_every_user(stock_ws: LdapWorkspace) -> None:
    result = stock_ws.sync("sync")
    assert sorted(stock_ws.users()) == sorted(mail(n) for n in range(USERS))
    assert sorted(stock_ws.groups()) == ["developers", "engineering", "everyone", "leadership", "sales"]
    # the missing lock attribute is named once, as what cannot be detected
    output = result.stdout + result.stderr
    assert output.count("ldap_attributes_not_in_schema") == 1
    assert "pwdAccountLockedTime" in output


def test_an_anchor_the_schema_lacks_fails_the_read_naming_it(stock_ws: LdapWorkspace) -> None:
    stock_ws.config.write_text(
        stock_ws.config.read_text().replace(
            "      page_size: 10\n", "      page_size: 10\n      anchor: pwdAccountLockedTime\n"
        )
    )
    result = stock_ws.sync("sync", expect=1)
    assert "the anchor attribute 'pwdAccountLockedTime' is not in the directory's schema" in result.stderr
    assert stock_ws.users() == {}


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ldap-slapd.yaml"


def test_the_plain_slapd_example_validates_and_plans_against_a_stock_slapd(
    tmp_path: Path, scim: ScimTestServer, stock_slapd: Slapd
) -> None:
    """examples/ldap-slapd.yaml, with only its host, port and target changed, fits a stock slapd."""
    ws = LdapWorkspace(root=tmp_path, server=scim)
    text = EXAMPLE.read_text("utf-8")
    for old, new in (
        ("ldap://localhost", stock_slapd.url),
        ("https://app.example.com/scim/v2", scim.base_url),
        ("${SCIM_TOKEN}", "${E2E_TOKEN}"),
    ):
        assert old in text
        text = text.replace(old, new)
    ws.config.write_text(text, "utf-8")
    validated = ws.sync("validate")
    assert "error:" not in validated.stderr
    planned = ws.sync("plan")
    output = planned.stdout + planned.stderr
    assert "ldap_attributes_not_in_schema" not in output  # the disabled marker is in the stock schema
    assert f"Plan: {USERS + 5} to create," in output  # every user and the 5 groups
    assert " 0 failing." in output
