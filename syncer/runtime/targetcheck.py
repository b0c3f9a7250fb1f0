"""A job's mapping held against what its target announces (``test-connection``, ``validate --online``).

A mapped schema extension the target does not offer is an error: every create carrying it would be
refused, 60 failed POSTs in, instead of once before the first cycle (the cycle refuses it too:
:func:`syncer.runtime.capabilities.refuse_missing_extensions`). An attribute the target's schema
does not list (``titel``) is an error too, with the nearest name the schema has: it is a typo far
more often than a target announcing less than it takes. A ``readOnly`` attribute, a schema or a
sub-attribute not announced is a warning: the value is ignored or refused but harms nothing else.
Every finding names the mapping file and line. Nothing is checked when the target did not answer
the endpoint.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterator
from dataclasses import dataclass

from syncer.adapters.scim.discovery import (
    COMMON_ATTRIBUTES,
    Mutability,
    PaginationFeature,
    ResourceType,
    SchemaAttribute,
    TargetCapabilities,
)
from syncer.core.mapping import AttributeMapping, CompiledMapping
from syncer.core.sourcenames import Severity
from syncer.types import ObjectKind

__all__ = ["Finding", "Severity", "mapping_findings"]


class Check(enum.Enum):
    """Which check a finding comes from (the cycle refuses on ``EXTENSION_NOT_OFFERED`` only)."""

    NO_RESOURCE_TYPE = "no_resource_type"
    EXTENSION_NOT_OFFERED = "extension_not_offered"
    SCHEMA_NOT_ANNOUNCED = "schema_not_announced"
    UNKNOWN_ATTRIBUTE = "unknown_attribute"
    UNKNOWN_SUB_ATTRIBUTE = "unknown_sub_attribute"
    READ_ONLY = "read_only"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    where: str
    message: str
    check: Check
    subject: str = ""
    """The mapped target path."""
    urn: str | None = None
    """The schema the path is in."""

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.where} {self.message}"


def mapping_findings(mapping: CompiledMapping, capabilities: TargetCapabilities) -> tuple[Finding, ...]:
    """Every mapped target path the target does not announce, or announces as readOnly."""
    found: list[Finding] = []
    for kind in ObjectKind:
        attributes = mapping.of(kind).attributes
        if not attributes or capabilities.resource_types is None:
            continue
        resource_type = capabilities.resource_type(kind.endpoint)
        if resource_type is None:
            where = attributes[0].where
            found.append(
                Finding(
                    Severity.WARNING,
                    where,
                    f"the target announces no {kind.endpoint} resource type",
                    Check.NO_RESOURCE_TYPE,
                )
            )
            continue
        for attribute in attributes:
            found.extend(_check(attribute, resource_type, capabilities))
    return tuple(found)


def _check(a: AttributeMapping, rt: ResourceType, capabilities: TargetCapabilities) -> Iterator[Finding]:
    urn = a.target.schema or rt.schema

    def finding(severity: Severity, check: Check, message: str) -> Finding:
        return Finding(severity, a.where, f"{a.path}: {message}", check, a.path, urn)

    if a.target.schema is not None and not rt.offers(urn):
        yield finding(
            Severity.ERROR,
            Check.EXTENSION_NOT_OFFERED,
            f"schema extension {urn} is not offered by the target's {rt.name} resource type "
            "(its /ResourceTypes lists it in no schemaExtensions); every write carrying it would be refused",
        )
        return
    if capabilities.schemas is None or (
        a.target.schema is None and a.target.attribute.lower() in COMMON_ATTRIBUTES
    ):
        return
    schema = capabilities.schema(urn)
    if schema is None:
        yield finding(
            Severity.WARNING, Check.SCHEMA_NOT_ANNOUNCED, f"the target's /Schemas does not announce {urn}"
        )
        return
    definition = schema.attribute(a.target.attribute)
    if definition is None:
        hint = did_you_mean(a.target.attribute, [attribute.name for attribute in schema.attributes])
        yield finding(
            Severity.ERROR,
            Check.UNKNOWN_ATTRIBUTE,
            f"{a.target.attribute!r} is not an attribute of {urn} on the target{hint}",
        )
        return
    found = _sub(definition, a.target.sub_attribute)
    if found is None:
        sub = a.target.sub_attribute
        yield finding(
            Severity.WARNING,
            Check.UNKNOWN_SUB_ATTRIBUTE,
            f"{definition.name} has no sub-attribute {sub!r} on the target",
        )
    elif found.mutability is Mutability.READ_ONLY:
        yield finding(
            Severity.WARNING,
            Check.READ_ONLY,
            f"{found.name} is readOnly on the target: it will ignore or refuse the value",
        )


def did_you_mean(name: str, candidates: list[str]) -> str:
    """``" (did you mean 'title'?)"`` for the closest candidate, compared case-insensitively; else ``""``."""
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def _sub(definition: SchemaAttribute, sub: str | None) -> SchemaAttribute | None:
    """The sub-attribute's definition; the attribute itself when there is none or none is listed."""
    if sub is None or not definition.sub_attributes:
        return definition
    found = definition.sub(sub)
    if found is None:
        return None
    return definition if definition.mutability is Mutability.READ_ONLY else found


def describe(capabilities: TargetCapabilities) -> list[str]:
    """The capabilities as ``test-connection`` prints them, one line each."""
    c = capabilities
    filter_text = _yes_no(c.filter.supported) + (
        f" (maxResults {c.filter.max_results})" if c.filter.max_results is not None else ""
    )
    bulk_text = _yes_no(c.bulk.supported) + (
        f" (maxOperations {c.bulk.max_operations})" if c.bulk.supported and c.bulk.max_operations else ""
    )
    lines = [
        f"patch: {_yes_no(c.patch.supported)}; filter: {filter_text}; bulk: {bulk_text}; "
        f"etag: {_yes_no(c.etag.supported)}; sort: {_yes_no(c.sort.supported)}; "
        f"changePassword: {_yes_no(c.change_password.supported)}"
    ]
    for rt in c.resource_types or ():
        extensions = ", ".join(e.schema + (" (required)" if e.required else "") for e in rt.extensions)
        lines.append(f"{rt.name} ({rt.endpoint}): {rt.schema}" + (f" + {extensions}" if extensions else ""))
    if c.schemas is not None:
        lines.append(f"schemas: {len(c.schemas)} announced")
    if c.pagination != PaginationFeature():
        lines.append(_pagination(c.pagination))
    if c.filter.supported is False:
        lines.append("filter is not supported: matching lists the target instead of querying it")
    lines.extend(c.notes)
    return lines


def _pagination(p: PaginationFeature) -> str:
    """RFC 9865's section as announced; without it a target is taken to page by index only."""
    text = f"pagination: cursor: {_yes_no(p.cursor)}; index: {_yes_no(p.index)}"
    for name, value in (
        ("default", p.default_method),
        ("defaultPageSize", p.default_page_size),
        ("maxPageSize", p.max_page_size),
        ("cursorTimeout", p.cursor_timeout),
    ):
        if value is not None:
            text += f"; {name}: {value}"
    return text


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")
