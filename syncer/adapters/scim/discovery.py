"""What a SCIM target says it can do: ``/ServiceProviderConfig``, ``/ResourceTypes``, ``/Schemas``.

RFC 7644 §4 makes the three endpoints mandatory, yet real targets leave some out, answer a bare
JSON array where a ListResponse belongs, or omit fields. So parsing is tolerant: a missing
endpoint or field reads as *unknown* (``None``), never as "unsupported", and only an answer that
is not JSON at all is ignored with a note. The parsing is sans-I/O; :func:`discover` does the
three reads through a :class:`~syncer.adapters.scim.client.ScimClient`; :class:`DiscoveryAnswers`
keeps the raw answers, which is what the state caches.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from syncer.errors import MalformedResponseError, TargetError, TransientTargetError
from syncer.types import Pagination

from .lenient import boolean, count, flag, member_of, positive, resources_of, section
from .protocol import Returns, ScimRequest

if TYPE_CHECKING:
    from .client import ScimClient

SERVICE_PROVIDER_CONFIG = "ServiceProviderConfig"
PLURAL_CONFIG = "ServiceProviderConfigs"
"""SCIM 1.1's name for it, which Slack still serves instead of RFC 7644's."""
ENDPOINTS = (SERVICE_PROVIDER_CONFIG, "ResourceTypes", "Schemas")
NOT_OFFERED = frozenset({400, 403, 404, 405, 406, 501})
"""Answers that mean "this target has no such endpoint" rather than "this target is broken"."""
COMMON_ATTRIBUTES = frozenset({"id", "externalid", "meta", "schemas"})
"""RFC 7643 §3.1: on every resource, yet never listed in a resource's schema."""


class Mutability(enum.Enum):
    """RFC 7643 §2.2 ``mutability``."""

    READ_ONLY = "readOnly"
    READ_WRITE = "readWrite"
    IMMUTABLE = "immutable"
    WRITE_ONLY = "writeOnly"


class Uniqueness(enum.Enum):
    """RFC 7643 §2.2 ``uniqueness``."""

    NONE = "none"
    SERVER = "server"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class SchemaAttribute:
    """One attribute definition (RFC 7643 §7); characteristics a server leaves out take RFC defaults."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    case_exact: bool = False
    mutability: Mutability = Mutability.READ_WRITE
    uniqueness: Uniqueness = Uniqueness.NONE
    sub_attributes: tuple[SchemaAttribute, ...] = ()

    def sub(self, name: str) -> SchemaAttribute | None:
        return _named(self.sub_attributes, name)


@dataclass(frozen=True, slots=True)
class ScimSchema:
    """One schema from ``/Schemas``: its URN and attributes."""

    id: str
    name: str | None
    attributes: tuple[SchemaAttribute, ...]

    def attribute(self, name: str) -> SchemaAttribute | None:
        return _named(self.attributes, name)


@dataclass(frozen=True, slots=True)
class SchemaExtension:
    schema: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One resource type from ``/ResourceTypes`` (``User``, ``Group``)."""

    name: str
    endpoint: str
    schema: str
    extensions: tuple[SchemaExtension, ...] = ()

    def offers(self, urn: str) -> bool:
        wanted = urn.lower()
        return self.schema.lower() == wanted or any(e.schema.lower() == wanted for e in self.extensions)


@dataclass(frozen=True, slots=True)
class Feature:
    """A ``supported`` flag; ``None`` when the target did not say."""

    supported: bool | None = None


@dataclass(frozen=True, slots=True)
class FilterFeature:
    supported: bool | None = None
    max_results: int | None = None


@dataclass(frozen=True, slots=True)
class BulkFeature:
    supported: bool | None = None
    max_operations: int | None = None
    max_payload_size: int | None = None


@dataclass(frozen=True, slots=True)
class PaginationFeature:
    """RFC 9865 §4's ``pagination`` section; every field ``None`` when the target did not say.

    A target without the section (most: it is newer than RFC 7644) offers index paging only, as
    far as anyone knows; the section is what says cursors work, or are the only way.
    """

    cursor: bool | None = None
    index: bool | None = None
    default_method: Pagination | None = None
    default_page_size: int | None = None
    max_page_size: int | None = None
    cursor_timeout: int | None = None


@dataclass(frozen=True, slots=True)
class TargetCapabilities:
    """Everything discovered; ``resource_types``/``schemas`` are ``None`` when the endpoint was missing."""

    patch: Feature = Feature()
    filter: FilterFeature = FilterFeature()
    bulk: BulkFeature = BulkFeature()
    etag: Feature = Feature()
    sort: Feature = Feature()
    change_password: Feature = Feature()
    pagination: PaginationFeature = PaginationFeature()
    resource_types: tuple[ResourceType, ...] | None = None
    schemas: Mapping[str, ScimSchema] | None = None
    notes: tuple[str, ...] = ()

    def resource_type(self, name: str) -> ResourceType | None:
        """By name (``User``) or endpoint (``/Users``), case-insensitively."""
        wanted = name.lower().strip("/")
        for rt in self.resource_types or ():
            if wanted in (rt.name.lower(), rt.endpoint.lower().strip("/")):
                return rt
        return None

    def schema(self, urn: str) -> ScimSchema | None:
        return (self.schemas or {}).get(urn.lower())


UNKNOWN = TargetCapabilities()
"""A target that answered none of the discovery endpoints."""


# --- parsing (no I/O) -------------------------------------------------------------------------------


def parse_service_provider_config(data: Any) -> dict[str, Any]:
    """The feature fields of a ServiceProviderConfig, as :class:`TargetCapabilities` keywords."""
    if not isinstance(data, Mapping):
        return {}
    return {
        "patch": Feature(flag(data, "patch")),
        "filter": FilterFeature(flag(data, "filter"), count(section(data, "filter").get("maxResults"))),
        "bulk": BulkFeature(
            flag(data, "bulk"),
            count(section(data, "bulk").get("maxOperations")),
            count(section(data, "bulk").get("maxPayloadSize")),
        ),
        "etag": Feature(flag(data, "etag")),
        "sort": Feature(flag(data, "sort")),
        "change_password": Feature(flag(data, "changePassword")),
        "pagination": parse_pagination(section(data, "pagination")),
    }


def parse_pagination(section: Mapping[str, Any]) -> PaginationFeature:
    """The ``pagination`` section (RFC 9865 §4); a ``defaultPaginationMethod`` we do not know is unknown."""
    method = section.get("defaultPaginationMethod")
    default = next((p for p in Pagination if isinstance(method, str) and p.value == method.lower()), None)
    return PaginationFeature(
        cursor=boolean(section.get("cursor")),
        index=boolean(section.get("index")),
        default_method=default,
        default_page_size=positive(section.get("defaultPageSize")),
        max_page_size=positive(section.get("maxPageSize")),
        cursor_timeout=positive(section.get("cursorTimeout")),
    )


def parse_resource_types(data: Any) -> tuple[ResourceType, ...]:
    """A ListResponse, a bare list, or one resource type; entries without name or schema are skipped."""
    found: list[ResourceType] = []
    for item in resources_of(data):
        name, schema = item.get("name") or item.get("id"), item.get("schema")
        if not isinstance(name, str) or not isinstance(schema, str):
            continue
        endpoint = item.get("endpoint")
        extensions = tuple(
            SchemaExtension(e["schema"], boolean(e.get("required")) or False)
            for e in item.get("schemaExtensions") or ()
            if isinstance(e, Mapping) and isinstance(e.get("schema"), str)
        )
        found.append(
            ResourceType(name, endpoint if isinstance(endpoint, str) else f"/{name}s", schema, extensions)
        )
    return tuple(found)


def parse_schemas(data: Any) -> Mapping[str, ScimSchema]:
    """Schemas by lower-cased URN, from a ListResponse, a bare list, or one schema."""
    found: dict[str, ScimSchema] = {}
    for item in resources_of(data):
        urn = item.get("id")
        if not isinstance(urn, str):
            continue
        name = item.get("name")
        found[urn.lower()] = ScimSchema(
            id=urn,
            name=name if isinstance(name, str) else None,
            attributes=_attributes(item.get("attributes")),
        )
    return MappingProxyType(found)


def capabilities_from(
    service_provider_config: Any, resource_types: Any, schemas: Any, notes: tuple[str, ...] = ()
) -> TargetCapabilities:
    """Combine the three answers; ``None`` for an endpoint the target does not have."""
    return TargetCapabilities(
        **parse_service_provider_config(service_provider_config),
        resource_types=None if resource_types is None else parse_resource_types(resource_types),
        schemas=None if schemas is None else parse_schemas(schemas),
        notes=notes,
    )


def _attributes(data: Any) -> tuple[SchemaAttribute, ...]:
    if not isinstance(data, list):
        return ()
    return tuple(_attribute(a) for a in data if isinstance(a, Mapping) and isinstance(a.get("name"), str))


def _attribute(data: Mapping[str, Any]) -> SchemaAttribute:
    return SchemaAttribute(
        name=data["name"],
        type=data["type"] if isinstance(data.get("type"), str) else "string",
        multi_valued=boolean(data.get("multiValued")) or False,
        case_exact=boolean(data.get("caseExact")) or False,
        mutability=member_of(Mutability, data.get("mutability"), Mutability.READ_WRITE),
        uniqueness=member_of(Uniqueness, data.get("uniqueness"), Uniqueness.NONE),
        sub_attributes=_attributes(data.get("subAttributes")),
    )


def _named(attributes: tuple[SchemaAttribute, ...], name: str) -> SchemaAttribute | None:
    wanted = name.lower()
    return next((a for a in attributes if a.name.lower() == wanted), None)


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiscoveryAnswers:
    """The three answers as the target sent them (JSON, ``None`` where it has no such endpoint).

    This is what the state caches (``target_capabilities``): parsing again on the way out means a
    parser that learns more reads more from an old cache, and the cache never holds a stale shape.
    """

    service_provider_config: Any = None
    resource_types: Any = None
    schemas: Any = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "ServiceProviderConfig": self.service_provider_config,
            "ResourceTypes": self.resource_types,
            "Schemas": self.schemas,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Any) -> DiscoveryAnswers:
        """Back from :meth:`to_json`; anything else (a damaged row) reads as nothing discovered."""
        if not isinstance(data, Mapping):
            return cls()
        notes = data.get("notes")
        return cls(
            data.get("ServiceProviderConfig"),
            data.get("ResourceTypes"),
            data.get("Schemas"),
            tuple(n for n in notes if isinstance(n, str)) if isinstance(notes, list) else (),
        )

    @property
    def capabilities(self) -> TargetCapabilities:
        return capabilities_from(
            self.service_provider_config, self.resource_types, self.schemas, notes=self.notes
        )


async def read_answers(client: ScimClient, *, plural_first: bool = False) -> DiscoveryAnswers:
    """Read the three endpoints; one the target lacks (404 and the like) is unknown, not an error.

    A 401 or an unreachable target still raises: those say the target is wrong, not old. The
    service provider configuration is asked at RFC 7644's ``/ServiceProviderConfig`` and, when
    that is missing, at SCIM 1.1's ``/ServiceProviderConfigs`` (Slack serves only the plural); a
    target known to serve the plural (``plural_first``) is asked there first, so it sees no 404.
    """
    answers: list[Any] = []
    notes: list[str] = []
    for endpoint in ENDPOINTS:
        if endpoint == SERVICE_PROVIDER_CONFIG:
            answer, note = await _read_config(client, plural_first)
        else:
            answer, note = await _read(client, endpoint)
        if note:
            notes.append(note)
        answers.append(answer)
    config, resource_types, schemas = answers
    return DiscoveryAnswers(config, resource_types, schemas, tuple(notes))


async def discover(client: ScimClient) -> TargetCapabilities:
    """:func:`read_answers`, parsed."""
    return (await read_answers(client)).capabilities


async def _read_config(client: ScimClient, plural_first: bool) -> tuple[Any, str | None]:
    """The service provider configuration at whichever of its two names the target serves."""
    names = (
        (PLURAL_CONFIG, SERVICE_PROVIDER_CONFIG) if plural_first else (SERVICE_PROVIDER_CONFIG, PLURAL_CONFIG)
    )
    answer, note = await _read(client, names[0])
    if answer is not None:
        return answer, None
    fallback, fallback_note = await _read(client, names[1])
    if fallback is not None:
        return fallback, None
    return None, note if not plural_first else fallback_note


async def _read(client: ScimClient, endpoint: str) -> tuple[Any, str | None]:
    request = ScimRequest("GET", f"/{endpoint}", returns=Returns.OPTIONAL)
    try:
        answer = await client.send(request)
    except MalformedResponseError:
        return None, f"/{endpoint} did not answer JSON"
    except TransientTargetError as exc:
        if exc.status != 501:
            raise
        return None, f"/{endpoint} is not offered (501)"
    except TargetError as exc:
        if exc.status not in NOT_OFFERED or exc.status == 401:
            raise
        return None, f"/{endpoint} is not offered ({exc.status})"
    if answer is None:
        return None, f"/{endpoint} answered nothing"
    return answer, None
