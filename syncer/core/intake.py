"""From one source snapshot to the objects a cycle works on: imported, scoped, mapped.

Every source object ends in exactly one place: in scope and mapped (``Desired``), out of scope
(with the clause that put it there), or protected (its record could not be imported or mapped,
so it is neither updated nor deprovisioned this cycle).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from syncer.core.changes import Skip
from syncer.core.expressions import EvaluationContext
from syncer.core.mapping import CompiledMapping, MappingEvaluationError, map_object, source_view
from syncer.core.planning import IMPORT_SKIPPED, OutOfScope
from syncer.core.scoping import AssignedScope, JobScope, ScopeUndecided
from syncer.core.targetfit import TARGET_REQUIRES, fit_user
from syncer.settings.profiles import PROFILES, TargetProfile, TargetQuirks
from syncer.types import Candidates, Desired, ObjectKind, SourceObject, SourceSnapshot, Status

MAPPING_FAILURE = "AttributeMappingFailure"
SCOPING_FAILURE = "ScopingFailure"


IDENTITY_PATHS = ("userName", "displayName", "externalId")
"""Target values that name an object, checked with the matching values for control characters."""

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_CONTROL_DETAIL = (
    "holds a control character (a line end, NUL, an escape or a bidi override): an identity value "
    "must be plain text, since it names the account in matching, plans and logs"
)


def unsafe_text(value: object) -> bool:
    """A text with a control character (Unicode Cc), a line separator or a bidi embedding or override."""
    return isinstance(value, str) and any(unicodedata.category(ch) == "Cc" or ch in _BIDI for ch in value)


def identity_problem(desired: Desired) -> str | None:
    """Why an object's identity values cannot be trusted (a control character in one), or ``None``.

    A newline in a userName forges lines in a plan; a NUL or a right-to-left override makes two
    different accounts look alike. The reason names the attribute, never the value.
    """
    named = [*desired.matching, *((p, desired.attributes.get(p)) for p in IDENTITY_PATHS)]
    for path, value in named:
        offered = value.values if isinstance(value, Candidates) else (value,)  # SelectUniqueValue's
        if any(unsafe_text(v) for v in offered):
            return f"{path} {_CONTROL_DETAIL}"
    return None


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


class _Sorting:
    """Where each object of one snapshot lands, filled one object at a time."""

    def __init__(self) -> None:
        self.desired: dict[ObjectKind, list[Desired]] = {ObjectKind.USER: [], ObjectKind.GROUP: []}
        self.skips: list[Skip] = []
        self.protected: set[tuple[ObjectKind, str]] = set()
        self.outside: dict[tuple[ObjectKind, str], OutOfScope] = {}

    def protect(self, kind: ObjectKind, source_id: str, reason: str, status: Status, detail: str) -> None:
        """Neither update nor deprovision this object: what the source said of it cannot be used."""
        self.protected.add((kind, source_id))
        self.skips.append(Skip(kind, source_id, source_id, reason, status, detail))

    def sort(
        self,
        obj: SourceObject,
        mapping: CompiledMapping,
        scope: JobScope,
        assigned: AssignedScope,
        context: EvaluationContext,
        target: TargetQuirks,
    ) -> None:
        kind = obj.kind
        if unsafe_text(obj.id):
            self.protect(kind, obj.id, IMPORT_SKIPPED, Status.SKIPPED, f"id {_CONTROL_DETAIL}")
            return
        try:
            reason = scope.out_of_scope(obj, source_view(obj), assigned)
        except ScopeUndecided as exc:  # neither in nor out: leave the object as it is
            self.protect(kind, obj.id, SCOPING_FAILURE, Status.FAILURE, str(exc))
            return
        if reason is not None:
            self.outside[(kind, obj.id)] = OutOfScope(_display(mapping, obj, context), reason)
            return
        try:
            desired = map_object(mapping.of(kind), obj, context)
        except MappingEvaluationError as exc:
            self.protect(kind, obj.id, MAPPING_FAILURE, Status.FAILURE, str(exc))
            return
        unsafe = identity_problem(desired)
        if unsafe is not None:
            self.protect(kind, obj.id, IMPORT_SKIPPED, Status.SKIPPED, unsafe)
            return
        desired, refusal = fit_user(desired, target)
        if refusal is not None:  # the target would refuse it: neither sent nor deprovisioned
            self.protect(kind, obj.id, TARGET_REQUIRES, Status.SKIPPED, refusal)
            return
        self.desired[kind].append(desired)


def take_in(
    snapshot: SourceSnapshot,
    mapping: CompiledMapping,
    scope: JobScope,
    assigned: AssignedScope,
    context: EvaluationContext,
    *,
    provision_groups: bool = True,
    target: TargetQuirks = PROFILES[TargetProfile.GENERIC],
) -> Intake:
    """Scope and map every object of the snapshot, as the ``target``'s profile takes it."""
    sorting = _Sorting()
    for record in snapshot.skipped:
        if record.id is not None:
            detail = f"{record.location}: {record.reason}"
            sorting.protect(record.kind, record.id, IMPORT_SKIPPED, Status.SKIPPED, detail)
    for kind, objects in ((ObjectKind.USER, snapshot.users), (ObjectKind.GROUP, snapshot.groups)):
        if not mapping.of(kind).enabled or (kind is ObjectKind.GROUP and not provision_groups):
            # groups not provisioned: leave every linked group exactly as it is
            sorting.protected.update((kind, obj.id) for obj in objects)
            continue
        for obj in objects:
            sorting.sort(obj, mapping, scope, assigned, context, target)
    users, groups = sorting.desired[ObjectKind.USER], sorting.desired[ObjectKind.GROUP]
    skips, protected, outside = sorting.skips, sorting.protected, sorting.outside
    return Intake(
        users=tuple(users),
        groups=tuple(groups),
        skips=tuple(skips),
        protected=frozenset(protected),
        out_of_scope=MappingProxyType(outside),
    )
