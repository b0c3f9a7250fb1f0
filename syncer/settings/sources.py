"""A job's source: files, LDAP / Active Directory, or another SCIM service."""

from __future__ import annotations

import codecs
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from syncer.settings.auth import ServiceAuth, one_credential
from syncer.settings.values import Duration, Strict, http_url, one_secret, require_tls
from syncer.types import Pagination


class SourceAttributesSettings(Strict):
    """The attribute names a source's users and groups carry, declared so mappings are checked at load.

    A mapping that reads an attribute not listed here is refused when the config loads, instead of
    flowing null for everyone. Computed attributes (``id``, ``IsSoftDeleted``, group ``members``)
    need no declaration. A kind left out (``None``) is not checked.
    """

    users: list[str] | None = None
    groups: list[str] | None = None


DELIMITERS = (",", ";", "\t", "|")
"""The delimiters ``delimiter: auto`` chooses among."""


def _delimiter(value: str | None, auto: bool) -> str | None:
    if value is None or (auto and value == "auto") or (len(value) == 1 and value not in '"\r\n'):
        return value
    also = " or 'auto'" if auto else ""
    raise ValueError(f"expected one character (such as ',', ';', '|' or \"\\t\"){also}, got {value!r}")


def text_encoding(value: str) -> str:
    """A text encoding Python knows, such as ``utf-8``, ``latin-1``, ``cp1252`` or ``utf-16``."""
    try:
        info = codecs.lookup(value)
    except LookupError:
        known = "utf-8, latin-1, cp1252 or utf-16"
        raise ValueError(f"unknown encoding {value!r}: use one such as {known}") from None
    if not getattr(info, "_is_text_encoding", True):  # rot13, base64 and the like are not file encodings
        raise ValueError(f"{value!r} is not a text encoding: use one such as utf-8, latin-1 or cp1252")
    return value


class FileSourceSettings(Strict):
    """A directory kept in files: JSON/YAML ``{users, groups}``, or CSV users plus a groups file."""

    type: Literal["file"]
    path: Path
    groups_path: Path | None = None
    delimiter: str = ","
    """The CSV delimiter: one character, or ``auto`` to sniff it from the header among , ; tab |."""
    groups_delimiter: str | None = None
    """The groups CSV's delimiter, when it differs from the users file's (default: ``delimiter``)."""
    members_separator: str = ";"
    """What separates member ids inside one cell of a groups CSV's ``members`` column."""
    csv_delimiter: str | None = None
    """The older name of ``delimiter``, still read."""
    encoding: str = "utf-8"
    """The files' text encoding; ``utf-8`` (the default) skips the byte-order mark spreadsheets write."""
    attributes: SourceAttributesSettings | None = None
    settle_time: Duration = timedelta(milliseconds=250)
    """A file modified less than this long ago must stay unchanged this long before it is read."""

    @field_validator("delimiter", "groups_delimiter")
    @classmethod
    def _delimiters(cls, value: str | None) -> str | None:
        return _delimiter(value, auto=True)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        return text_encoding(value)

    @field_validator("members_separator", "csv_delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        return _delimiter(value, auto=False)

    @model_validator(mode="after")
    def _one_delimiter(self) -> FileSourceSettings:
        if self.csv_delimiter is not None and "delimiter" in self.model_fields_set:
            raise ValueError("give delimiter or csv_delimiter (its older name), not both")
        return self

    @property
    def users_delimiter(self) -> str:
        """``delimiter``, or ``csv_delimiter`` where an older config sets that."""
        return self.csv_delimiter if self.csv_delimiter is not None else self.delimiter


class LdapSearchSettings(Strict):
    """Where one kind of object lives in the directory: a search base, a filter and a scope.

    ``filter`` defaults by flavour (see :data:`LDAP_DEFAULT_FILTERS`) so the common case needs only the base.
    ``attributes`` limits what is read (default: every user attribute, ``*``); the anchor, the
    disabled marker and group member attributes are always read, since correctness needs them.
    """

    base: str
    filter: str | None = None
    scope: Literal["subtree", "one"] = "subtree"
    attributes: list[str] | None = None


LDAP_DEFAULT_FILTERS: dict[str, dict[str, str]] = {
    "openldap": {
        "users": "(objectClass=inetOrgPerson)",
        "groups": "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))",
    },
    "active_directory": {
        # objectCategory=person leaves out computer accounts, which are objectClass=user too
        "users": "(&(objectCategory=person)(objectClass=user))",
        "groups": "(objectClass=group)",
    },
}
"""The filters a search gets when the config gives none, by flavour."""

LDAP_DEFAULT_ANCHORS = {"openldap": "entryUUID", "active_directory": "objectGUID"}
"""The attribute that becomes a source object's ``id``: stable across renames and moves, unlike the DN."""


class LdapSourceSettings(Strict):
    """An LDAP directory or Active Directory, read in full with paged searches on every cycle."""

    type: Literal["ldap"]
    url: str
    flavour: Literal["openldap", "active_directory"] = "openldap"
    bind_dn: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    start_tls: bool = False
    verify_tls: bool = True
    ca_file: Path | None = None
    users: LdapSearchSettings
    groups: LdapSearchSettings | None = None
    anchor: str | None = None
    disabled_attribute: str | None = None
    disabled_values: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=lambda: ["manager"])
    page_size: int = Field(default=500, ge=1, le=100000)
    timeout: Duration = timedelta(seconds=30)
    time_limit: Duration = timedelta(minutes=10)
    referrals: bool = False

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str) -> str:
        # host and optional port only: a path or a trailing slash is not an LDAP server address
        if not re.fullmatch(r"ldaps?://(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+)(:\d{1,5})?/?", value):
            raise ValueError(f"expected ldap://host[:port] or ldaps://host[:port], got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> LdapSourceSettings:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give password or password_file, not both")
        has_password = self.password is not None or self.password_file is not None
        if has_password and not self.bind_dn:
            raise ValueError("a password needs a bind_dn")
        if self.bind_dn and not has_password:
            # a DN with an empty password is an "unauthenticated bind": anonymous in disguise
            raise ValueError("bind_dn needs password or password_file (leave bind_dn out for anonymous)")
        if self.start_tls and self.url.startswith("ldaps://"):
            raise ValueError("start_tls is for ldap:// URLs; ldaps:// is TLS from the first byte")
        return self

    @property
    def anchor_attribute(self) -> str:
        return self.anchor or LDAP_DEFAULT_ANCHORS[self.flavour]

    @property
    def disabled_by(self) -> str | None:
        """The attribute that marks a disabled account (OpenLDAP's ppolicy lock by default)."""
        if self.disabled_attribute is not None:
            return self.disabled_attribute or None  # "" turns the flavour's default off
        return "pwdAccountLockedTime" if self.flavour == "openldap" else None

    def filter_for(self, kind: Literal["users", "groups"]) -> str:
        search = self.users if kind == "users" else self.groups
        given = search.filter if search is not None else None
        return given or LDAP_DEFAULT_FILTERS[self.flavour][kind]


class ScimSourceSettings(Strict):
    """Another SCIM 2.0 service read as the source (for migrations between services)."""

    type: Literal["scim"]
    url: str
    token: SecretStr | None = None
    token_file: Path | None = None
    auth: ServiceAuth | None = None
    """OAuth 2.0 client credentials instead of a fixed ``token``."""
    page_size: int = Field(default=100, ge=1, le=1000)
    pagination: Pagination = Pagination.INDEX
    """``cursor`` for a service that pages only by cursor (RFC 9865), as AWS IAM Identity Center does."""
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=4, ge=1, le=20)
    verify_tls: bool = True
    ca_file: Path | None = None
    groups: bool = True
    allow_insecure_http: bool = False
    """Allow plain ``http://`` to a host other than this machine (the token then crosses in clear)."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @model_validator(mode="after")
    def _one_token(self) -> ScimSourceSettings:
        one_secret(self.token, self.token_file, "token")
        one_credential(self.token, self.token_file, self.auth)
        require_tls(self.url, self.allow_insecure_http)
        return self


SourceSettings = Annotated[
    FileSourceSettings | LdapSourceSettings | ScimSourceSettings, Field(discriminator="type")
]
"""A job's source, chosen by its ``type`` key."""
