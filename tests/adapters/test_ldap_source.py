"""The LDAP source against a real OpenLDAP slapd: anchors, shapes, groups, paging, TLS and failed reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncer.adapters.sources.ldap import LdapSource
from syncer.errors import SourceError
from syncer.settings import LdapSourceSettings
from syncer.types import SourceObject, SourceSnapshot
from tests.support.ldap_directory import (
    GROUPS,
    LOCKED,
    PEOPLE,
    USERS,
    developers,
    engineering,
    mail,
    manager_of,
    sales,
    uid,
)
from tests.support.slapd import ROOT_DN, ROOT_PW, Slapd, free_port
from tests.support.tcpproxy import TriggerProxy


def _source(
    url: str, *, password: str | None = ROOT_PW, ca_file: Path | None = None, **settings: Any
) -> LdapSource:
    config: dict[str, Any] = {
        "type": "ldap",
        "url": url,
        "bind_dn": ROOT_DN,
        "password": password,
        "users": {"base": PEOPLE},
        "groups": {"base": GROUPS},
        **settings,
    }
    return LdapSource(LdapSourceSettings.model_validate(config), password=password, ca_file=ca_file)


def _by_uid(snapshot: SourceSnapshot) -> dict[str, SourceObject]:
    return {u.get("uid")[0]: u for u in snapshot.users}


def _groups(snapshot: SourceSnapshot) -> dict[str, SourceObject]:
    return {g.get("cn")[0]: g for g in snapshot.groups}


def test_every_user_and_group_is_read_with_its_entry_uuid_as_id(slapd: Slapd) -> None:
    """Users and groups come back whole, across several pages, each with entryUUID as its id."""
    source = _source(slapd.url, page_size=7)
    snapshot = source.read()
    assert len(snapshot.users) == USERS and len(snapshot.groups) == 5 and not snapshot.skipped
    assert source.pages == 7  # 40 users in pages of 7, then one page of groups
    for obj in (*snapshot.users, *snapshot.groups):
        assert obj.id == obj.get("entryUUID") and len(obj.id) == 36
        assert not obj.id.startswith(("uid=", "cn="))


def test_attributes_keep_the_directory_names_and_schema_shapes(slapd: Slapd) -> None:
    """Multi-valued attributes are tuples, single-valued ones values, binaries base64, passwords absent."""
    users = _by_uid(_source(slapd.url).read())
    seven = users[uid(7)]
    assert seven.get("mail") == (mail(7), f"second.{mail(7)}")
    assert seven.get("employeeNumber") == "E0007"  # SINGLE-VALUE in inetOrgPerson
    assert seven.get("givenName") == ("Given7",)
    assert seven.get("jpegPhoto")[0].startswith("/9j/")
    assert seven.get("dn") == f"uid=user007,ou=staff,{PEOPLE}"
    assert all("userPassword" not in u.attributes for u in users.values())


def test_manager_dns_resolve_to_the_managers_anchor(slapd: Slapd) -> None:
    """manager holds the manager's entryUUID; a manager outside the users read is dropped."""
    users = _by_uid(_source(slapd.url).read())
    for n in range(USERS):
        boss = manager_of(n)
        expected = () if boss is None else (users[uid(boss)].id,)
        assert users[uid(n)].get("manager") in ((expected or None), expected), n
    assert users[uid(6)].get("manager") == (users[uid(2)].id,)  # the outsider manager was left out


def test_a_ppolicy_locked_user_is_disabled(slapd: Slapd) -> None:
    """pwdAccountLockedTime makes accountEnabled false; every other user is enabled."""
    users = _by_uid(_source(slapd.url).read())
    assert {n for n, u in users.items() if u.get("accountEnabled") is False} == {LOCKED}


def test_groups_of_every_kind_resolve_members_to_user_anchors(slapd: Slapd) -> None:
    """groupOfNames, groupOfUniqueNames and posixGroup members become anchors; nested groups stay groups."""
    snapshot = _source(slapd.url).read()
    users, groups = _by_uid(snapshot), _groups(snapshot)

    def ids(numbers: list[int]) -> list[str]:
        return [users[uid(n)].id for n in numbers]

    assert list(groups["engineering"].members) == ids(engineering())  # the outsider is dropped
    assert list(groups["sales"].members) == ids(sales())  # including the #'0101'B value
    assert list(groups["developers"].members) == ids(developers())  # memberUid -> uid
    assert list(groups["leadership"].members) == [groups["engineering"].id, users[uid(0)].id]
    assert len(groups["everyone"].members) == USERS


def test_a_rename_and_move_keeps_the_id(slapd: Slapd) -> None:
    """modrdn to a new uid in another OU keeps entryUUID, so the id (the link) survives."""
    before = _by_uid(_source(slapd.url).read())[uid(12)]
    slapd.modify(
        f"dn: uid=user012,ou=staff,{PEOPLE}\nchangetype: modrdn\nnewrdn: uid=renamed012\n"
        f"deleteoldrdn: 1\nnewsuperior: ou=contractors,{PEOPLE}\n"
    )
    after = _by_uid(_source(slapd.url).read())["renamed012"]
    assert after.id == before.id
    assert after.get("dn") == f"uid=renamed012,ou=contractors,{PEOPLE}"


def test_a_wrong_password_fails_the_read_without_echoing_it(slapd: Slapd) -> None:
    """A refused bind is a SourceError naming the bind DN and never the password."""
    with pytest.raises(SourceError, match="invalidCredentials") as failed:
        _source(slapd.url, password="not-the-password-4711").read()
    assert ROOT_DN in str(failed.value) and "4711" not in str(failed.value)
    assert "4711" not in repr(_source(slapd.url, password="not-the-password-4711"))


def test_an_unreachable_directory_fails_the_read() -> None:
    """Nothing listening is a SourceError, never an empty directory."""
    with pytest.raises(SourceError, match="cannot connect"):
        _source(f"ldap://127.0.0.1:{free_port()}", timeout="2s").read()


def test_a_missing_search_base_fails_the_read(slapd: Slapd) -> None:
    """A users base that does not exist is an error naming the search, not zero users."""
    with pytest.raises(SourceError, match=r"the users search under 'ou=nobody.*noSuchObject"):
        _source(slapd.url, users={"base": f"ou=nobody,{PEOPLE}"}).read()


def test_a_server_size_limit_fails_the_read_instead_of_truncating_it(slapd: Slapd) -> None:
    """slapd's limit of 15 entries for anonymous clients ends the paged read with an error, not 15 users."""
    with pytest.raises(SourceError, match=r"the users search .* failed: sizeLimitExceeded"):
        _source(slapd.url, bind_dn=None, password=None, page_size=7).read()


def test_slapd_stopped_mid_read_fails_the_whole_read(slapd: Slapd) -> None:
    """slapd stopped while the second page of users streams raises SourceError, never a partial snapshot."""
    with TriggerProxy(slapd.port, b"uid=user015,", slapd.terminate) as proxy:
        proxy.armed = True
        with pytest.raises(SourceError, match="the users search"):
            _source(proxy.url, page_size=10, timeout="5s").read()
        assert proxy.fired.is_set() and not slapd.running


def test_ldaps_verifies_the_certificate_by_default(slapd: Slapd) -> None:
    """ldaps:// to a server whose CA is not trusted fails; with ca_file it reads."""
    with pytest.raises(SourceError, match="TLS certificate verification failed"):
        _source(slapd.ldaps_url).read()
    assert len(_source(slapd.ldaps_url, ca_file=slapd.ca_file).read().users) == USERS
    # localhost is in the certificate too: the host name is checked, not just the chain
    assert len(_source(slapd.ldaps_url.replace("127.0.0.1", "localhost"), ca_file=slapd.ca_file).read().users)


def test_start_tls_verifies_the_certificate_by_default(slapd: Slapd) -> None:
    """StartTLS on ldap:// fails on an untrusted certificate and works with ca_file."""
    with pytest.raises(SourceError, match="StartTLS failed: TLS certificate verification failed"):
        _source(slapd.url, start_tls=True).read()
    assert len(_source(slapd.url, start_tls=True, ca_file=slapd.ca_file).read().users) == USERS


def test_verification_can_be_switched_off_explicitly(slapd: Slapd) -> None:
    """verify_tls: false is the only way to read from a server with an untrusted certificate."""
    assert len(_source(slapd.ldaps_url, verify_tls=False).read().users) == USERS


def test_the_fingerprint_moves_only_when_the_directory_does(slapd: Slapd) -> None:
    """Two reads of an unchanged directory share a fingerprint; a changed title changes it."""
    first, second = _source(slapd.url).read(), _source(slapd.url, page_size=3).read()
    assert first.fingerprint == second.fingerprint
    slapd.modify(f"dn: uid=user003,ou=staff,{PEOPLE}\nchangetype: modify\nreplace: title\ntitle: Boss\n")
    assert _source(slapd.url).read().fingerprint != first.fingerprint


def test_a_chosen_attribute_list_still_reads_what_correctness_needs(slapd: Slapd) -> None:
    """users.attributes limits the read, but the anchor and the lock marker always come along."""
    users = _by_uid(_source(slapd.url, users={"base": PEOPLE, "attributes": ["uid", "mail"]}).read())
    assert set(users[uid(7)].attributes) == {"uid", "mail", "entryUUID", "accountEnabled", "dn", "id"}
    assert users[LOCKED].get("accountEnabled") is False
