"""A job's mapping held against what its target announces (``test-connection``, ``validate --online``).

A mapped schema extension the target does not offer is an error: every create carrying it would be
refused, 60 failed POSTs in, instead of once before the first cycle. An attribute the target's
schema does not list, or lists as ``readOnly``, is a warning: some targets announce less than
they take, and a readOnly value is ignored or refused but harms nothing else. Every finding names
the mapping file and line. Nothing is checked when the target did not answer the endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from syncer.adapters.scim.discovery import (
    COMMON_ATTRIBUTES,
    Mutability,
    ResourceType,
    SchemaAttribute,
    TargetCapabilities,
)
from syncer.core.mapping import AttributeMapping, CompiledMapping
from syncer.core.sourcenames import Severity
from syncer.types import ObjectKind

__all__ = ["Finding", "Severity", "mapping_findings"]


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    where: str
    message: str

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
                Finding(Severity.WARNING, where, f"the target announces no {kind.endpoint} resource type")
            )
            continue
        for attribute in attributes:
            found.extend(_check(attribute, resource_type, capabilities))
    return tuple(found)


def _check(a: AttributeMapping, rt: ResourceType, capabilities: TargetCapabilities) -> Iterator[Finding]:
    urn = a.target.schema or rt.schema
    label = f"{a.path}:"
    if a.target.schema is not None and not rt.offers(urn):
        yield Finding(
            Severity.ERROR,
            a.where,
            f"{label} schema extension {urn} is not offered by the target's {rt.name} resource type "
            "(its /ResourceTypes lists it in no schemaExtensions); every write carrying it would be refused",
        )
        return
    if capabilities.schemas is None or (
        a.target.schema is None and a.target.attribute.lower() in COMMON_ATTRIBUTES
    ):
        return
    schema = capabilities.schema(urn)
    if schema is None:
        yield Finding(Severity.WARNING, a.where, f"{label} the target's /Schemas does not announce {urn}")
        return
    definition = schema.attribute(a.target.attribute)
    if definition is None:
        yield Finding(
            Severity.WARNING,
            a.where,
            f"{label} {a.target.attribute!r} is not an attribute of {urn} on the target",
        )
        return
    found = _sub(definition, a.target.sub_attribute)
    if found is None:
        sub = a.target.sub_attribute
        yield Finding(
            Severity.WARNING, a.where, f"{label} {definition.name} has no sub-attribute {sub!r} on the target"
        )
    elif found.mutability is Mutability.READ_ONLY:
        yield Finding(
            Severity.WARNING,
            a.where,
            f"{label} {found.name} is readOnly on the target: it will ignore or refuse the value",
        )


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
    if c.filter.supported is False:
        lines.append("filter is not supported: matching lists the target instead of querying it")
    lines.extend(c.notes)
    return lines


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")
