"""LDAP to SCIM end to end: the real CLI reads a real slapd and provisions a real scim2-server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from syncer.runtime.configfile import load_config
from syncer.runtime.engine import run_cycle
from tests.e2e.conftest import ENTERPRISE, ROOT, TOKEN, Workspace
from tests.support import canary
from tests.support.ldap_directory import (
    GROUPS,
    LOCKED,
    PEOPLE,
    USERS,
    developers,
    engineering,
    lock_ldif,
    mail,
    manager_of,
    sales,
    unlock_ldif,
)
from tests.support.scim_server import ScimTestServer
from tests.support.slapd import ROOT_DN, ROOT_PW, Slapd
from tests.support.tcpproxy import TriggerProxy


class LdapWorkspace(Workspace):
    """A workspace whose job reads the test slapd (through ``url``) with the ldap.yaml preset."""

    def write_ldap_config(self, url: str, secret_line: str = "password: ${LDAP_PASSWORD}") -> None:
        self.config.write_text(
            f"""state: sqlite:///state.db
jobs:
  - name: ldap
    source:
      type: ldap
      url: {url}
      bind_dn: {ROOT_DN}
      {secret_line}
      users: {{base: "{PEOPLE}"}}
      groups: {{base: "{GROUPS}"}}
      page_size: 10
      timeout: 5s
    target:
      url: {self.server.base_url}
      token: ${{E2E_TOKEN}}
      concurrency: 4
    mapping: {ROOT / "mappings" / "ldap.yaml"}
""",
            encoding="utf-8",
        )

    def sync(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        return self.run(*args, expect=expect, env={"LDAP_PASSWORD": ROOT_PW})

    def zero_counts(self) -> None:
        self.server.reset_counts()


@pytest.fixture
def ldap_ws(tmp_path: Path, scim: ScimTestServer, slapd: Slapd) -> LdapWorkspace:
    ws = LdapWorkspace(root=tmp_path, server=scim)
    ws.write_ldap_config(slapd.url)
    return ws


@pytest.fixture
def ldap_synced(ldap_ws: LdapWorkspace, monkeypatch: pytest.MonkeyPatch) -> LdapWorkspace:
    """After a successful initial sync from slapd, with the server's counters zeroed.

    The setup cycle runs in this process (the same ``run_cycle`` the CLI calls) to spare a
    second interpreter start; what each test checks still goes through the CLI.
    """
    monkeypatch.setenv("LDAP_PASSWORD", ROOT_PW)
    monkeypatch.setenv("E2E_TOKEN", TOKEN)
    result = run_cycle(load_config(ldap_ws.config), None, mode="sync")
    assert result.report is not None and not result.report.failures
    ldap_ws.zero_counts()
    return ldap_ws


def _user_name(n: int) -> str:
    return mail(n)


def test_initial_sync_from_slapd_provisions_users_managers_and_groups(ldap_ws: LdapWorkspace) -> None:
    """Unlocked users are created with attributes and managers, groups with user members; then nothing."""
    result = ldap_ws.sync("sync")
    assert "initial cycle" in result.stdout
    users = ldap_ws.users()
    locked = int(LOCKED[4:])
    assert sorted(users) == sorted(_user_name(n) for n in range(USERS) if n != locked)
    by_target_id = {u["id"]: name for name, u in users.items()}
    for n in range(USERS):
        if n == locked:
            continue
        got = users[_user_name(n)]
        assert got["active"] is True
        assert got["name"] == {
            "givenName": f"Given{n}",
            "familyName": f"Family{n}",
            "formatted": f"Given{n} Family{n}",
        }
        assert got["title"] == f"Title {n % 4}"
        assert got["emails"] == [{"type": "work", "value": mail(n)}]
        assert got[ENTERPRISE]["employeeNumber"] == f"E{n:04d}"
        assert got[ENTERPRISE]["department"] == f"D{n % 3}"
        assert len(got["externalId"]) == 36  # the entryUUID anchor
        boss = manager_of(n)
        if boss is None:
            assert "manager" not in got.get(ENTERPRISE, {})
        else:
            assert by_target_id[got[ENTERPRISE]["manager"]["value"]] == _user_name(boss)
    groups = ldap_ws.groups()
    assert sorted(groups) == ["developers", "engineering", "everyone", "leadership", "sales"]

    def members(name: str) -> list[str]:
        return sorted(by_target_id[m["value"]] for m in groups[name].get("members") or [])

    assert members("engineering") == sorted(_user_name(n) for n in engineering())
    assert members("sales") == sorted(_user_name(n) for n in sales())
    assert members("developers") == sorted(_user_name(n) for n in developers())
    assert members("leadership") == [_user_name(0)]  # the nested group is not a SCIM member here
    assert members("everyone") == sorted(_user_name(n) for n in range(USERS) if n != locked)
    # an unchanged directory then costs no SCIM request at all
    ldap_ws.zero_counts()
    assert "incremental cycle" in ldap_ws.sync("sync").stdout
    assert ldap_ws.server.counts() == {}


def test_rename_and_move_keeps_the_link(ldap_synced: LdapWorkspace, slapd: Slapd) -> None:
    """A user renamed (new uid and cn) and moved to another OU is updated in place: no new user."""
    before = ldap_synced.users()[_user_name(30)]
    slapd.modify(
        f"dn: uid=user030,ou=staff,{PEOPLE}\nchangetype: modrdn\nnewrdn: uid=renamed030\n"
        f"deleteoldrdn: 1\nnewsuperior: ou=contractors,{PEOPLE}\n\n"
        f"dn: uid=renamed030,ou=contractors,{PEOPLE}\nchangetype: modify\nreplace: cn\ncn: Renamed Thirty\n"
    )
    ldap_synced.sync("sync")
    after = ldap_synced.users()[_user_name(30)]
    assert after["id"] == before["id"] and after["displayName"] == "Renamed Thirty"
    assert len(ldap_synced.users()) == USERS - 1
    # one PATCH of displayName; the groups (member DNs rewritten by refint) do not move
    assert ldap_synced.server.counts() == {"PATCH": 1}


def test_locking_a_user_in_the_directory_disables_it(ldap_synced: LdapWorkspace, slapd: Slapd) -> None:
    """pwdAccountLockedTime on a provisioned user sends PATCH active=false; unlocking re-activates."""
    slapd.modify(lock_ldif(3))
    ldap_synced.sync("sync")
    assert ldap_synced.users()[_user_name(3)]["active"] is False
    slapd.modify(unlock_ldif(3))
    ldap_synced.sync("sync")
    assert ldap_synced.users()[_user_name(3)]["active"] is True


def test_slapd_stopped_mid_read_fails_the_cycle_and_deprovisions_nobody(
    ldap_synced: LdapWorkspace, slapd: Slapd
) -> None:
    """slapd stopped while users stream in fails the sync (exit 1) and sends no request at all."""
    with TriggerProxy(slapd.port, b"uid=user015,", slapd.terminate) as proxy:
        ldap_synced.write_ldap_config(proxy.url)
        proxy.armed = True
        result = ldap_synced.sync("sync", expect=1)
        assert proxy.fired.is_set()
    assert "the users search" in result.stderr and "Traceback" not in result.stderr
    assert ldap_synced.server.counts() == {}
    assert all(u["active"] for u in ldap_synced.users().values())
    # with slapd back, the next cycle finds nothing to do
    assert not slapd.running
    slapd.start()
    ldap_synced.write_ldap_config(slapd.url)
    ldap_synced.sync("sync")
    assert ldap_synced.server.counts() == {}


def test_password_file_and_secrets_stay_out_of_output(ldap_ws: LdapWorkspace, slapd: Slapd) -> None:
    """password_file works like password, and the password is printed nowhere."""
    secret = canary.declare_input(ldap_ws.root / "ldap-password")
    secret.write_text(ROOT_PW + "\n", encoding="utf-8")
    ldap_ws.write_ldap_config(slapd.url, f"password_file: {secret}")
    result = ldap_ws.run("--log-level", "debug", "plan")
    assert f"Plan: {USERS - 1 + 5} to create" in result.stdout  # 39 users and 5 groups
    assert ROOT_PW not in result.stdout + result.stderr


def test_a_wrong_password_fails_cleanly_without_echoing_it(ldap_ws: LdapWorkspace) -> None:
    """A refused bind exits 1 with the bind DN named and the password nowhere in the output."""
    result = ldap_ws.run("sync", expect=1, env={"LDAP_PASSWORD": "wrong-pw-8813"})
    assert "invalidCredentials" in result.stderr and ROOT_DN in result.stderr
    assert "8813" not in result.stdout + result.stderr
    assert ldap_ws.server.counts() == {}


def test_validate_cites_the_line_of_a_bad_ldap_key(ldap_ws: LdapWorkspace) -> None:
    """An unknown key under an LDAP source is refused with file:line and the key's path."""
    text = ldap_ws.config.read_text().replace(
        "      page_size: 10\n", "      page_size: 10\n      pagesize: 5\n"
    )
    ldap_ws.config.write_text(text, encoding="utf-8")
    result = ldap_ws.sync("validate", expect=1)
    line = text.splitlines().index("      pagesize: 5") + 1
    assert f"config.yaml:{line}: jobs.0.source.pagesize: unknown key" in result.stderr
