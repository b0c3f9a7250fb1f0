"""Another SCIM 2.0 service as the source: users and groups listed page by page, for migrations.

This module turns SCIM resources into source objects; it does not speak HTTP. The runtime hands
it a reader, in practice the target-side :class:`~syncer.adapters.scim.client.ScimClient` (its
pagination, retries and error translation), through the small :class:`ResourceReader` protocol,
so ``adapters.sources`` never imports ``adapters.scim`` (import-linter keeps adapters apart).

Attribute names are SCIM paths as the mapping language writes them: ``userName``,
``name.givenName``, ``emails[type eq "work"].value``, ``emails.value`` (every email, a tuple),
``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``. A reference such as
the enterprise ``manager`` flows as the referenced resource's ``id``, which is its source id.
``active`` is also given as ``accountEnabled``, so ``IsSoftDeleted`` works as for any source.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

import structlog

from syncer.core.display import redact_url
from syncer.errors import SourceError, TargetError
from syncer.types import DeclaredNames, ObjectKind, SkippedRecord, SourceObject, SourceSnapshot, Value, freeze

from .base import record_names, snapshot_fingerprint

log = structlog.get_logger("syncer.source.scim")

_SKIPPED_KEYS = frozenset({"schemas", "meta", "id"})
_REFERENCE_KEYS = frozenset({"value", "$ref", "display", "displayName", "type"})


class ResourceReader(Protocol):
    """What the SCIM source needs from a SCIM client: every resource of a kind, and a close."""

    def list(self, kind: ObjectKind, *, page_size: int = 100) -> AsyncIterator[dict[str, Any]]: ...

    async def aclose(self) -> None: ...


class ScimSource:
    """Reads every user (and group) of a SCIM service on each cycle; see the module docstring.

    ``open_reader`` is called once per read, inside the read's own event loop (the engine runs
    ``read()`` in a worker thread), so the HTTP client never outlives its loop.
    """

    def __init__(
        self,
        open_reader: Callable[[], ResourceReader],
        *,
        url: str,
        page_size: int = 100,
        groups: bool = True,
    ) -> None:
        self._open_reader = open_reader
        self.url = url
        self.page_size = page_size
        self.groups = groups

    def __repr__(self) -> str:
        return f"ScimSource(url={self.url!r})"

    def read(self) -> SourceSnapshot:
        """Every user and group, or ``SourceError``: a listing that fails on page 7 fails the read.

        So does a listing that does not add up (the client checks every page: a repeated page or
        id, a ``totalResults`` that under-reports or changes), since a short directory disables.
        """
        return asyncio.run(self._read())

    async def _read(self) -> SourceSnapshot:
        reader = self._open_reader()
        try:
            users = [r async for r in reader.list(ObjectKind.USER, page_size=self.page_size)]
            groups = []
            if self.groups:
                groups = [r async for r in reader.list(ObjectKind.GROUP, page_size=self.page_size)]
        except TargetError as exc:
            raise SourceError(
                f"{redact_url(self.url, keep_path=True)}: the SCIM source could not be listed: {exc}"
            ) from exc
        finally:
            await reader.aclose()
        snapshot = build_snapshot(users, groups, where=self.url)
        log.info(
            "scim_source_read",
            url=redact_url(self.url, keep_path=True),
            users=len(snapshot.users),
            groups=len(snapshot.groups),
        )
        return snapshot


ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
RFC7643_NAMES = {
    ObjectKind.USER: frozenset(
        {
            "id",
            "externalId",
            "meta",
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "password",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates",
        }
        | {
            f"{ENTERPRISE_USER}:{name}"
            for name in ("employeeNumber", "costCenter", "organization", "division", "department", "manager")
        }
    ),
    ObjectKind.GROUP: frozenset({"id", "externalId", "meta", "displayName", "members"}),
}
"""The attributes RFC 7643 defines (§4.1, §4.2, §4.3): a SCIM source may carry any of them on no
resource at all (an optional attribute nobody has filled in), which is no typo; a name outside
them and the resources read still is one."""


def _declared(objects: tuple[SourceObject, ...], kind: ObjectKind) -> frozenset[str] | None:
    seen = record_names(objects)
    return None if seen is None else seen | RFC7643_NAMES[kind]


def build_snapshot(users: list[Any], groups: list[Any], *, where: str = "scim") -> SourceSnapshot:
    """Source objects from listed resources; a resource without an ``id`` is skipped, not fatal.

    An id listed twice fails the whole read: a missing page would look like leavers.
    """
    skipped: list[SkippedRecord] = []
    out: dict[ObjectKind, list[SourceObject]] = {ObjectKind.USER: [], ObjectKind.GROUP: []}
    for kind, resources in ((ObjectKind.USER, users), (ObjectKind.GROUP, groups)):
        seen: set[str] = set()
        for index, resource in enumerate(resources):
            location = f"{where}{kind.endpoint}[{index}]"
            if not isinstance(resource, Mapping) or not isinstance(resource.get("id"), str | int):
                skipped.append(SkippedRecord(kind=kind, location=location, reason="resource has no id"))
                continue
            source_id = str(resource["id"])
            if source_id in seen:
                # a listing that repeats an id repeated a page or lost one: nothing in it is trusted
                raise SourceError(f"{location}: id {source_id!r} is listed twice; the listing is not read")
            seen.add(source_id)
            out[kind].append(to_source_object(kind, resource))
    users_t, groups_t = tuple(out[ObjectKind.USER]), tuple(out[ObjectKind.GROUP])
    fingerprint = snapshot_fingerprint(users_t, groups_t)
    declared = DeclaredNames(
        users=_declared(users_t, ObjectKind.USER),
        groups=_declared(groups_t, ObjectKind.GROUP),
        origin="RFC 7643's schemas and the resources read",
    )
    return SourceSnapshot(
        users=users_t, groups=groups_t, skipped=tuple(skipped), fingerprint=fingerprint, declared=declared
    )


def to_source_object(kind: ObjectKind, resource: Mapping[str, Any]) -> SourceObject:
    """One SCIM resource as a source object: flattened attributes, group members as ids."""
    attributes: dict[str, Value] = {}
    members: list[str] = []
    for key, value in resource.items():
        if key in _SKIPPED_KEYS:
            continue
        if kind is ObjectKind.GROUP and key == "members":
            members.extend(str(m["value"]) for m in value or [] if isinstance(m, Mapping) and "value" in m)
            continue
        if key.startswith("urn:") and isinstance(value, Mapping):
            for sub, sub_value in value.items():
                _flatten(f"{key}:{sub}", sub_value, attributes)
            continue
        _flatten(key, value, attributes)
    source_id = str(resource["id"])
    attributes["id"] = source_id
    if kind is ObjectKind.USER and isinstance(resource.get("active"), bool):
        attributes["accountEnabled"] = resource["active"]
    return SourceObject(
        kind=kind, id=source_id, attributes=freeze(attributes), members=tuple(dict.fromkeys(members))
    )


def _flatten(path: str, value: Any, out: dict[str, Value]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        if "value" in value and set(value) <= _REFERENCE_KEYS:
            out[path] = value["value"]  # a reference (manager): its id, as mappings expect of a reference
        for sub, sub_value in value.items():
            _flatten(f"{path}.{sub}", sub_value, out)
        return
    if isinstance(value, list):
        if all(not isinstance(v, Mapping | list) for v in value):
            out[path] = tuple(value)
            return
        _flatten_entries(path, [v for v in value if isinstance(v, Mapping)], out)
        return
    out[path] = value


def _flatten_entries(path: str, entries: list[Mapping[str, Any]], out: dict[str, Value]) -> None:
    """A multi-valued complex attribute: each sub-attribute's values, and each typed or primary entry's."""
    for sub in dict.fromkeys(k for entry in entries for k in entry):
        out[f"{path}.{sub}"] = tuple(e[sub] for e in entries if sub in e and e[sub] is not None)
    for entry in entries:
        selectors = []
        if isinstance(entry.get("type"), str):
            selectors.append(f'type eq "{entry["type"]}"')
        if entry.get("primary") is True:
            selectors.append("primary eq true")
        for selector in selectors:
            for sub, sub_value in entry.items():
                if sub_value is not None and not isinstance(sub_value, Mapping | list):
                    out.setdefault(f"{path}[{selector}].{sub}", sub_value)
