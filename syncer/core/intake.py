"""From one source snapshot to the objects a cycle works on: imported, scoped, mapped.

Every source object ends in exactly one place: in scope and mapped (``Desired``), out of scope
(with the clause that put it there), or protected (its record could not be imported or mapped,
so it is neither updated nor deprovisioned this cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from syncer.core.changes import Skip
from syncer.core.expressions import EvaluationContext
from syncer.core.mapping import CompiledMapping, MappingEvaluationError, map_object, source_view
from syncer.core.planning import IMPORT_SKIPPED, OutOfScope
from syncer.core.scoping import AssignedScope, JobScope, ScopeUndecided
from syncer.types import Desired, ObjectKind, SourceObject, SourceSnapshot, Status

MAPPING_FAILURE = "AttributeMappingFailure"
SCOPING_FAILURE = "ScopingFailure"


@dataclass(frozen=True, slots=True)
class Intake:
    users: tuple[Desired, ...]
    groups: tuple[Desired, ...]
    skips: tuple[Skip, ...]
    protected: frozenset[tuple[ObjectKind, str]]
    out_of_scope: Mapping[tuple[ObjectKind, str], OutOfScope] = field(
        default_factory=lambda: MappingProxyType({})
    )


def _display(mapping: CompiledMapping, obj: SourceObject, context: EvaluationContext) -> str:
    try:
        return map_object(mapping.of(obj.kind), obj, context).display
    except MappingEvaluationError:
        return obj.id


def take_in(
    snapshot: SourceSnapshot,
    mapping: CompiledMapping,
    scope: JobScope,
    assigned: AssignedScope,
    context: EvaluationContext,
    *,
    provision_groups: bool = True,
) -> Intake:
    """Scope and map every object of the snapshot."""
    users: list[Desired] = []
    groups: list[Desired] = []
    skips: list[Skip] = []
    protected: set[tuple[ObjectKind, str]] = set()
    outside: dict[tuple[ObjectKind, str], OutOfScope] = {}
    for record in snapshot.skipped:
        if record.id is not None:
            protected.add((record.kind, record.id))
            skips.append(
                Skip(
                    record.kind,
                    record.id,
                    record.id,
                    IMPORT_SKIPPED,
                    Status.SKIPPED,
                    f"{record.location}: {record.reason}",
                )
            )
    for kind, objects, out in (
        (ObjectKind.USER, snapshot.users, users),
        (ObjectKind.GROUP, snapshot.groups, groups),
    ):
        object_mapping = mapping.of(kind)
        if not object_mapping.enabled or (kind is ObjectKind.GROUP and not provision_groups):
            # groups not provisioned: leave every linked group exactly as it is
            protected.update((kind, obj.id) for obj in objects)
            continue
        for obj in objects:
            try:
                reason = scope.out_of_scope(obj, source_view(obj), assigned)
            except ScopeUndecided as exc:  # neither in nor out: leave the object as it is
                protected.add((kind, obj.id))
                skips.append(Skip(kind, obj.id, obj.id, SCOPING_FAILURE, Status.FAILURE, str(exc)))
                continue
            if reason is not None:
                outside[(kind, obj.id)] = OutOfScope(_display(mapping, obj, context), reason)
                continue
            try:
                out.append(map_object(object_mapping, obj, context))
            except MappingEvaluationError as exc:
                protected.add((kind, obj.id))
                skips.append(Skip(kind, obj.id, obj.id, MAPPING_FAILURE, Status.FAILURE, str(exc)))
    return Intake(
        users=tuple(users),
        groups=tuple(groups),
        skips=tuple(skips),
        protected=frozenset(protected),
        out_of_scope=MappingProxyType(outside),
    )
