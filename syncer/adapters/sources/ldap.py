"""An LDAP directory or Active Directory as the source, read with ldap3.

Every cycle reads the whole directory: paged searches (RFC 2696) for users and groups, then
AD's ranged ``member`` values for groups too large to come inline. Any failure part-way, a
dropped connection, a server-side size or time limit, a ranged read that stops short, raises
:class:`~syncer.errors.SourceError`: a partial directory would read as leavers.

The password lives in the ldap3 connection and nowhere else; messages name the server and the
bind DN, never the password. TLS certificates are verified unless the config says otherwise.
Decoding and resolving entries is in :mod:`.ldapentries`, which needs no server to test.
"""

from __future__ import annotations

import contextlib
import re
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from ldap3 import BASE, DEREF_NEVER, LEVEL, SCHEMA, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import (
    LDAPBindError,
    LDAPException,
    LDAPInvalidCredentialsResult,
    LDAPOperationResult,
    LDAPSocketOpenError,
    LDAPStartTLSError,
)

from syncer.core.display import redact_url
from syncer.errors import ConfigError, SourceError
from syncer.settings import LdapSearchSettings, LdapSourceSettings
from syncer.types import ObjectKind, SourceSnapshot

from .ldapentries import (
    MEMBER_ATTRIBUTES,
    AttributeType,
    EntryOptions,
    RawEntry,
    Schema,
    build_snapshot,
    range_page,
    schema_from_types,
    split_ranges,
)

log = structlog.get_logger("syncer.source.ldap")

PAGED_RESULTS = "1.2.840.113556.1.4.319"
"""The RFC 2696 simple paged results control."""
SPECIAL_SELECTORS = frozenset({"*", "+", "1.1"})
"""RFC 4511 attribute selectors, not names: never looked up in the subschema."""

_reported_missing: set[tuple[str, tuple[str, ...]]] = set()
"""(url, names) already logged as missing from the schema: a daemon says it once, not every cycle."""


class LdapSource:
    """Reads users and groups from one LDAP server on every cycle; see the module docstring.

    Constructing it checks the settings and connects to nothing, so ``syncer validate`` works
    offline. ``password`` is the resolved secret (from ``password`` or ``password_file``).
    """

    def __init__(self, settings: LdapSourceSettings, *, password: str | None, ca_file: Path | None) -> None:
        url = urlsplit(settings.url)
        if url.hostname is None:
            raise ConfigError(f"source url {settings.url!r} has no host")
        self.settings = settings
        self.host = url.hostname
        self.use_ssl = url.scheme == "ldaps"
        self.port = url.port or (636 if self.use_ssl else 389)
        self.ca_file = ca_file
        self._password = password
        self.options = EntryOptions(
            anchor=settings.anchor_attribute,
            active_directory=settings.flavour == "active_directory",
            disabled_attribute=settings.disabled_by,
            disabled_values=tuple(settings.disabled_values),
            references=tuple(settings.references),
        )
        self.pages = 0

    def __repr__(self) -> str:
        return f"LdapSource(url={self.settings.url!r}, bind_dn={self.settings.bind_dn!r})"

    @property
    def where(self) -> str:
        return f"{self.settings.url}"

    def read(self) -> SourceSnapshot:
        """The whole directory, or ``SourceError``: never a snapshot missing entries that exist."""
        started = time.perf_counter()
        self.pages = 0
        try:
            connection = self._connect()
            try:
                schema = self._schema(connection)
                users = list(self._search(connection, self.settings.users, "users", schema))
                groups: list[RawEntry] = []
                if self.settings.groups is not None:
                    groups = [
                        self._complete_ranges(connection, entry)
                        for entry in self._search(connection, self.settings.groups, "groups", schema)
                    ]
            finally:
                _unbind(connection)
        except SourceError:
            raise
        except LDAPException as exc:
            raise SourceError(f"{self.where}: the directory read failed: {_describe(exc)}") from exc
        unresolved: dict[str, int] = {}
        requested = {ObjectKind.USER: self._attributes("users", schema)}
        if self.settings.groups is not None:
            requested[ObjectKind.GROUP] = self._attributes("groups", schema)
        snapshot = build_snapshot(
            users, groups, self.options, schema, unresolved=unresolved, requested=requested
        )
        log.info(
            "ldap_read",
            url=self.settings.url,
            users=len(snapshot.users),
            groups=len(snapshot.groups),
            skipped=len(snapshot.skipped),
            pages=self.pages,
            unresolved_members=sum(unresolved.values()),
            elapsed_s=round(time.perf_counter() - started, 3),
        )
        for record in snapshot.skipped:
            kind, location, reason = record.kind.value, record.location, record.reason
            log.warning("source_record_skipped", kind=kind, location=location, reason=reason)
        return snapshot

    # --- connection ------------------------------------------------------------------------------

    def _tls(self) -> Tls | None:
        if not (self.use_ssl or self.settings.start_tls):
            return None
        verify = ssl.CERT_REQUIRED if self.settings.verify_tls else ssl.CERT_NONE
        return Tls(validate=verify, ca_certs_file=str(self.ca_file) if self.ca_file else None)

    def _connect(self) -> Connection:
        s = self.settings
        timeout = max(1, round(s.timeout.total_seconds()))  # ldap3 packs it into a C struct: int only
        server = Server(
            self.host,
            port=self.port,
            use_ssl=self.use_ssl,
            tls=self._tls(),
            get_info=SCHEMA,
            connect_timeout=timeout,
            allowed_referral_hosts=[("*", True)] if s.referrals else [],
        )
        connection = Connection(
            server,
            user=s.bind_dn,
            password=self._password,
            authentication=SIMPLE if s.bind_dn else None,
            auto_bind="NONE",
            read_only=True,
            raise_exceptions=True,
            auto_referrals=s.referrals,
            auto_range=False,  # ranged values are completed here, where a short read is an error
            receive_timeout=timeout,
            return_empty_attributes=False,
            check_names=False,  # the filter is the admin's; the directory judges its names
        )
        try:
            connection.open()
            if s.start_tls:
                connection.start_tls()
            elif not self.use_ssl and s.bind_dn and self.host not in ("127.0.0.1", "::1", "localhost"):
                log.warning(
                    "ldap_plaintext_bind", url=redact_url(s.url), hint="use ldaps:// or start_tls: true"
                )
            if not connection.bind():
                raise SourceError(f"{self.where}: bind as {s.bind_dn!r} was refused")
        except LDAPSocketOpenError as exc:
            _unbind(connection)
            raise SourceError(f"{self.where}: cannot connect: {_describe(exc)}") from exc
        except (LDAPInvalidCredentialsResult, LDAPBindError) as exc:
            _unbind(connection)
            raise SourceError(
                f"{self.where}: bind as {s.bind_dn!r} failed: {_describe(exc)} "
                "(check bind_dn and the password)"
            ) from exc
        except LDAPStartTLSError as exc:
            _unbind(connection)
            raise SourceError(f"{self.where}: StartTLS failed: {_describe(exc)}") from exc
        except LDAPException:
            _unbind(connection)
            raise
        return connection

    def _schema(self, connection: Connection) -> Schema:
        """Cardinality and syntax of every attribute type, from the server's subschema."""
        info = connection.server.schema
        if info is None or not info.attribute_types:
            # The schema is how a value's shape is known; guessing would flip shapes between cycles.
            raise SourceError(
                f"{self.where}: the directory schema (subschemaSubentry) could not be read; "
                "the bind account needs read access to it"
            )
        types = [
            AttributeType(
                names=tuple(definition.name or (oid,)),
                single=bool(definition.single_value),
                syntax=definition.syntax,
                superior=(definition.superior or [None])[0],
            )
            for oid, definition in _unique_definitions(info.attribute_types)
        ]
        return schema_from_types(types)

    # --- searches ---------------------------------------------------------------------------------

    def _attributes(self, kind: str, schema: Schema) -> list[str]:
        """The attributes to ask for, only those the subschema announces.

        ldap3 refuses a search naming an unknown attribute before sending it, so asking for
        ppolicy's ``pwdAccountLockedTime`` on a directory without ppolicy would fail every cycle.
        A missing optional attribute is left out and logged once; a missing anchor is an error.
        """
        wanted = self._wanted(kind)
        kept = [name for name in wanted if _announced(name, schema)]
        missing = tuple(name for name in wanted if name not in kept)
        anchor = self.settings.anchor_attribute
        if anchor in missing:
            raise SourceError(
                f"{self.where}: the anchor attribute {anchor!r} is not in the directory's schema; "
                "set anchor to an attribute every entry has (entryUUID on OpenLDAP)"
            )
        if missing and (self.settings.url, missing) not in _reported_missing:
            _reported_missing.add((self.settings.url, missing))
            disabled = self.settings.disabled_by
            log.warning(
                "ldap_attributes_not_in_schema",
                url=redact_url(self.settings.url),
                search=kind,
                missing=list(missing),
                effect=(
                    f"disabled accounts cannot be detected by {disabled}"
                    if disabled in missing
                    else "these attributes are not read"
                ),
            )
        return kept

    def _wanted(self, kind: str) -> list[str]:
        s = self.settings
        search = s.users if kind == "users" else s.groups
        chosen = search.attributes if search is not None and search.attributes is not None else ["*"]
        wanted = [*chosen, s.anchor_attribute]
        if kind == "users" and s.disabled_by:
            wanted.append(s.disabled_by)
        if kind == "users" and s.flavour == "active_directory":
            wanted.append("userAccountControl")
        if kind == "groups":
            wanted.extend(MEMBER_ATTRIBUTES if s.flavour == "openldap" else ("member",))
        return list(dict.fromkeys(wanted))

    def _search(
        self, connection: Connection, search: LdapSearchSettings, kind: str, schema: Schema
    ) -> Iterator[RawEntry]:
        """Every entry of one search, page by page; a page that fails fails the whole read."""
        s = self.settings
        attributes = self._attributes(kind, schema)
        cookie: Any = None
        references = 0
        what = f"the {kind} search under {search.base!r}"
        while True:
            self._run(
                connection,
                what,
                search.base,
                s.filter_for("users" if kind == "users" else "groups"),
                search_scope=SUBTREE if search.scope == "subtree" else LEVEL,
                dereference_aliases=DEREF_NEVER,
                attributes=attributes,
                time_limit=int(s.time_limit.total_seconds()),
                paged_size=s.page_size,
                paged_criticality=True,  # a server that cannot page must say so, not truncate
                paged_cookie=cookie,
            )
            # taken before yielding: the caller may search again (ranged values) between entries
            page = list(connection.response or [])
            controls = (connection.result or {}).get("controls") or {}
            cookie = controls.get(PAGED_RESULTS, {}).get("value", {}).get("cookie")
            for item in page:
                if item.get("type") == "searchResEntry":
                    yield RawEntry(dn=item["dn"], attributes=item["raw_attributes"])
                elif item.get("type") == "searchResRef":
                    references += 1
            if not cookie:
                break
        if references:
            # AD answers a domain-root search with references to its DNS and configuration partitions
            log.debug("ldap_references_not_followed", search=kind, count=references)

    def _run(self, connection: Connection, what: str, base: str, search_filter: str, **kwargs: Any) -> None:
        """One search request; any failure, result code or dropped connection, names the search."""
        try:
            connection.search(base, search_filter, **kwargs)
        except LDAPException as exc:
            raise SourceError(f"{self.where}: {what} failed: {_describe(exc)}") from exc
        self.pages += 1
        _check_result(connection, f"{self.where}: {what}")

    def _complete_ranges(self, connection: Connection, entry: RawEntry) -> RawEntry:
        """A group with every value of its ranged attributes (AD's ``member;range=...``)."""
        attributes, pending = split_ranges(entry.attributes)
        for name, start in pending.items():
            next_start: int | None = start
            while next_start is not None:
                self._run(
                    connection,
                    f"the ranged read of {name} on {entry.dn!r}",
                    entry.dn,
                    "(objectClass=*)",
                    search_scope=BASE,
                    attributes=[f"{name};range={next_start}-*"],
                )
                found = [i for i in connection.response or [] if i.get("type") == "searchResEntry"]
                if not found:
                    gone = f"{entry.dn!r} vanished while its {name} values were read"
                    raise SourceError(f"{self.where}: {gone}")
                try:
                    values, next_start = range_page(found[0]["raw_attributes"], name, next_start)
                except ValueError as exc:
                    raise SourceError(f"{self.where}: {entry.dn!r}: {exc}") from exc
                attributes.setdefault(name, []).extend(values)
        return RawEntry(dn=entry.dn, attributes=attributes)


def _announced(name: str, schema: Schema) -> bool:
    """Whether the subschema defines ``name`` (options such as ``;binary`` aside)."""
    if name in SPECIAL_SELECTORS:
        return True
    return name.split(";")[0].lower() in schema.rules


def _unique_definitions(types: Any) -> Iterator[tuple[str, Any]]:
    """ldap3 files each attribute type under every one of its names; yield each definition once."""
    seen: set[int] = set()
    for key, definition in types.items():
        if id(definition) in seen:
            continue
        seen.add(id(definition))
        yield getattr(definition, "oid", None) or key, definition


def _check_result(connection: Connection, what: str) -> None:
    """Fail on any result but success.

    ``raise_exceptions`` is not enough: ldap3 lets sizeLimitExceeded and timeLimitExceeded
    through as if they were answers, and those are exactly the searches that stop part-way.
    """
    result = connection.result or {}
    code = result.get("result")
    if code != 0:
        description = result.get("description") or f"result code {code}"
        raise SourceError(f"{what} failed: {description} {result.get('message') or ''}".rstrip())


def _describe(exc: LDAPException) -> str:
    """A one-line reason from an ldap3 error: its result description, or its message."""
    if isinstance(exc, LDAPOperationResult):
        message = (exc.message or "").strip()
        return f"{exc.description}" + (f" ({message})" if message else "")
    text = str(exc) or type(exc).__name__
    verify = re.search(r"certificate verify failed: ([^(']+)", text)
    if verify:
        reason = verify.group(1).strip()
        return f"TLS certificate verification failed ({reason}); set ca_file to the CA that signed it"
    # ldap3 wraps socket errors in tuple reprs: ("('socket ... error',)",)
    return re.sub(r"^[(\"',]+|[)\"',]+$", "", text.splitlines()[0])


def _unbind(connection: Connection) -> None:
    # closing a connection that already broke: the original error is the one to report
    with contextlib.suppress(LDAPException, OSError):
        connection.unbind()
