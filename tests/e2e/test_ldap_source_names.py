"""LDAP: scoping names held against the directory's schema, and a multi-valued scoping attribute.

inetOrgPerson's ``departmentNumber`` is multi-valued; the obvious department clause must select
whoever holds the department among their values, and a misspelt ``departmentNumbr`` must be
refused with the schema's spelling before anyone is scoped out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_ldap_sync import LdapWorkspace
from tests.support.ldap_directory import mail, user_dn
from tests.support.scim_server import ScimTestServer
from tests.support.slapd import Slapd

pytestmark = pytest.mark.e2e


def _scoped(ws: LdapWorkspace, url: str, attribute: str) -> int:
    """Scope the users to department D1 through ``attribute``; the clause's line in the config."""
    ws.write_ldap_config(url)
    clause = f"        - - {{attribute: {attribute}, operator: EQUALS, value: D1}}\n"
    ws.config.write_text(ws.config.read_text("utf-8") + "    scope:\n      users:\n" + clause, "utf-8")
    return len(ws.config.read_text("utf-8").splitlines())


@pytest.fixture
def ldap_ws(tmp_path: Path, scim: ScimTestServer, slapd: Slapd) -> LdapWorkspace:
    return LdapWorkspace(root=tmp_path, server=scim)


def test_a_multi_valued_department_scopes_by_any_of_its_values(ldap_ws: LdapWorkspace, slapd: Slapd) -> None:
    """user003 is in D0 and, added here, D1: the D1 clause selects it; user006 (D0 only) stays out."""
    slapd.modify(f"dn: {user_dn(3)}\nchangetype: modify\nadd: departmentNumber\ndepartmentNumber: D1\n")
    _scoped(ldap_ws, slapd.url, "departmentNumber")
    ldap_ws.sync("validate")
    ldap_ws.sync("sync")
    synced = ldap_ws.users()
    assert mail(3) in synced and mail(4) in synced  # 4 % 3 == 1: D1 alone
    assert mail(6) not in synced


def test_a_misspelt_ldap_scoping_attribute_is_refused_with_the_schema_spelling(
    ldap_ws: LdapWorkspace, slapd: Slapd
) -> None:
    line = _scoped(ldap_ws, slapd.url, "departmentNumbr")
    result = ldap_ws.sync("validate", expect=1)
    assert (
        f"error: {ldap_ws.config}:{line}: scoping attribute 'departmentNumbr' is not in the source "
        "(did you mean 'departmentNumber'?)"
    ) in result.stderr.splitlines()
    ldap_ws.sync("sync", expect=1)
    assert ldap_ws.server.writes() == 0 and ldap_ws.users() == {}


def test_a_scoping_clause_on_a_multi_valued_attribute_is_pointed_out(
    ldap_ws: LdapWorkspace, slapd: Slapd
) -> None:
    """``validate`` and the cycle name the clause and say how the operators read several values."""
    line = _scoped(ldap_ws, slapd.url, "departmentNumber")
    result = ldap_ws.sync("validate")
    assert (
        f"warning: {ldap_ws.config}:{line}: scoping attribute 'departmentNumber' is multi-valued in the "
        "directory schema: EQUALS, Includes, REGEX MATCH and the other positive operators pass when any "
        "value does; NOT EQUALS, NOT REGEX MATCH and !& pass only when no value matches"
    ) in result.stderr.splitlines()
    synced = ldap_ws.sync("sync")
    assert "scoping_attribute_multi_valued" in synced.stdout + synced.stderr


def test_a_scoping_clause_on_a_single_valued_attribute_is_not_pointed_out(
    ldap_ws: LdapWorkspace, slapd: Slapd
) -> None:
    _scoped(ldap_ws, slapd.url, "employeeNumber")  # SINGLE-VALUE in inetOrgPerson
    result = ldap_ws.sync("validate")
    assert "multi-valued" not in result.stderr
