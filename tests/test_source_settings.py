"""Source settings: ``type`` picks the model, LDAP and SCIM keys are checked, errors cite file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from syncer.errors import ConfigError
from syncer.runtime.configfile import load_config
from syncer.settings import FileSourceSettings, LdapSourceSettings, ScimSourceSettings, SourceSettings

SOURCE: TypeAdapter[Any] = TypeAdapter(SourceSettings)
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("data", "model"),
    [
        ({"type": "file", "path": "d.json"}, FileSourceSettings),
        (
            {"type": "ldap", "url": "ldaps://dc1.corp.example", "users": {"base": "dc=corp"}},
            LdapSourceSettings,
        ),
        ({"type": "scim", "url": "https://old.example/scim/v2"}, ScimSourceSettings),
    ],
)
def test_the_type_key_picks_the_source_model(data: dict[str, Any], model: type) -> None:
    """type: file, ldap or scim each validate as their own model."""
    assert isinstance(SOURCE.validate_python(data), model)


def test_ldap_defaults_follow_the_flavour() -> None:
    """OpenLDAP anchors on entryUUID and locks with pwdAccountLockedTime; AD anchors on objectGUID."""
    openldap = LdapSourceSettings.model_validate(
        {"type": "ldap", "url": "ldap://h", "users": {"base": "o=x"}}
    )
    ad = LdapSourceSettings.model_validate(
        {"type": "ldap", "url": "ldaps://h:636/", "flavour": "active_directory", "users": {"base": "dc=x"}}
    )
    assert (openldap.anchor_attribute, openldap.disabled_by) == ("entryUUID", "pwdAccountLockedTime")
    assert (ad.anchor_attribute, ad.disabled_by, ad.url) == ("objectGUID", None, "ldaps://h:636")
    assert openldap.filter_for("users") == "(objectClass=inetOrgPerson)"
    assert ad.filter_for("users") == "(&(objectCategory=person)(objectClass=user))"
    assert ad.filter_for("groups") == "(objectClass=group)"
    assert openldap.verify_tls and not openldap.referrals and openldap.page_size == 500


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"url": "http://h"}, "expected ldap://host"),
        ({"url": "ldap://h/ou=x"}, "expected ldap://host"),
        ({"password": "p"}, "a password needs a bind_dn"),
        ({"bind_dn": "cn=a"}, "bind_dn needs password or password_file"),
        ({"bind_dn": "cn=a", "password": "p", "password_file": "f"}, "give password or password_file"),
        ({"url": "ldaps://h", "start_tls": True}, "start_tls is for ldap://"),
        ({"flavour": "novell"}, "openldap"),
        ({"page_size": 0}, "greater than or equal to 1"),
        ({"users": {"base": "o=x", "scope": "base"}}, "subtree"),
    ],
)
def test_inconsistent_ldap_settings_are_refused(extra: dict[str, Any], message: str) -> None:
    """Settings that cannot work are refused when the config loads, not on the first cycle."""
    data = {"type": "ldap", "url": "ldap://h", "users": {"base": "o=x"}, **extra}
    with pytest.raises(ValidationError, match=message):
        LdapSourceSettings.model_validate(data)


def test_an_ldap_password_is_a_secret_in_reprs() -> None:
    """The password never shows in a repr of the settings."""
    settings = LdapSourceSettings.model_validate(
        {
            "type": "ldap",
            "url": "ldap://h",
            "bind_dn": "cn=a",
            "password": "hunter2-secret",
            "users": {"base": "o"},
        }
    )
    assert "hunter2-secret" not in repr(settings) and "hunter2-secret" not in str(settings.model_dump())


def _config(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""jobs:
  - name: j
    source:
{source}
    target: {{url: "http://127.0.0.1:1/v2"}}
    mapping: {ROOT / "mappings" / "ldap.yaml"}
""",
        encoding="utf-8",
    )
    return path


def test_an_unknown_source_type_is_refused_at_its_line(tmp_path: Path) -> None:
    """type: nfs names the allowed types and the line of the job's source."""
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, "      type: nfs\n      path: x"))
    assert "config.yaml:3: jobs.0.source:" in str(failed.value) and "'file', 'ldap', 'scim'" in str(
        failed.value
    )


def test_a_bad_ldap_value_is_refused_at_its_line(tmp_path: Path) -> None:
    """A wrong value inside an LDAP source cites its own line, without pydantic's union tag in the path."""
    source = "      type: ldap\n      url: ldap://h\n      users: {base: o=x}\n      page_size: lots"
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, source))
    assert "config.yaml:7: jobs.0.source.page_size:" in str(failed.value)


def test_a_missing_password_variable_is_refused_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """${LDAP_PASSWORD} unset is an error at its line, never an empty password (an anonymous bind)."""
    monkeypatch.delenv("LDAP_PASSWORD", raising=False)
    source = "\n".join(
        ["      type: ldap", "      url: ldap://h", "      bind_dn: cn=a", "      password: ${LDAP_PASSWORD}"]
    )
    with pytest.raises(ConfigError, match=r"config.yaml:7: environment variable LDAP_PASSWORD is not set"):
        load_config(_config(tmp_path, source))


@pytest.mark.parametrize("example", ["openldap.yaml", "active-directory.yaml", "ldap-slapd.yaml"])
def test_the_example_configs_load(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/openldap.yaml and examples/active-directory.yaml are valid configs with ldap.yaml."""
    for name in ("LDAP_PASSWORD", "AD_PASSWORD", "SCIM_TOKEN"):
        monkeypatch.setenv(name, "x")
    config = load_config(ROOT / "examples" / example)
    [job] = config.settings.jobs
    assert isinstance(job.source, LdapSourceSettings) and job.source.verify_tls
    assert config.mappings[job.name].document.path.name == "ldap.yaml"


@pytest.mark.parametrize(
    ("keys", "delimiters"),
    [
        ({}, (",", None, ";")),
        ({"delimiter": "auto", "groups_delimiter": ";", "members_separator": "|"}, ("auto", ";", "|")),
        ({"delimiter": "\t"}, ("\t", None, ";")),
        ({"csv_delimiter": ";"}, (";", None, ";")),  # the older name still reads
    ],
)
def test_file_source_delimiters(keys: dict[str, str], delimiters: tuple[str, str | None, str]) -> None:
    settings = FileSourceSettings.model_validate({"type": "file", "path": "u.csv", **keys})
    assert (settings.users_delimiter, settings.groups_delimiter, settings.members_separator) == delimiters


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"delimiter": ";;"}, "expected one character"),
        ({"groups_delimiter": '"'}, "expected one character"),
        ({"members_separator": "auto"}, "expected one character"),
        ({"delimiter": ";", "csv_delimiter": ";"}, "give delimiter or csv_delimiter"),
    ],
)
def test_unusable_file_source_delimiters_are_refused(keys: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FileSourceSettings.model_validate({"type": "file", "path": "u.csv", **keys})


def test_a_bad_delimiter_is_refused_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, "      type: file\n      path: u.csv\n      delimiter: ';;'"))
    assert "config.yaml:6: jobs.0.source.delimiter:" in str(failed.value)


@pytest.mark.parametrize(("encoding", "message"), [("latin-2x", "unknown encoding"), ("rot13", "not a text")])
def test_an_unusable_encoding_is_refused_at_its_line(tmp_path: Path, encoding: str, message: str) -> None:
    assert FileSourceSettings.model_validate({"type": "file", "path": "u.csv"}).encoding == "utf-8"
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, f"      type: file\n      path: u.csv\n      encoding: {encoding}"))
    assert "config.yaml:6: jobs.0.source.encoding:" in str(failed.value) and message in str(failed.value)
