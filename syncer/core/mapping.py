"""Compile a mapping file once; turn each source object into what the target should hold.

Compilation does every check that can be done without data (SCIM paths, expressions,
matching attributes), so a typo refuses the config at start-up instead of failing the third
scheduled cycle. Evaluation is then a walk over precompiled values.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Literal, cast

from syncer.core.expressions import NO_FLOW, EvaluationContext, Expression, compile_expression
from syncer.core.scimpath import ScimPath, parse_path
from syncer.errors import ExpressionError, MappingError, ScimPathError
from syncer.settings import AttributeMappingSettings, MappingFileSettings
from syncer.types import Candidates, Desired, ObjectKind, Reference, SourceObject, Value, freeze

SOFT_DELETED = "IsSoftDeleted"
MEMBERS = "members"
_REQUIRED_TARGET = {ObjectKind.USER: "userName", ObjectKind.GROUP: "displayName"}
_DISPLAY = _REQUIRED_TARGET
_DECLARED = "the source declares its attributes in the config (source.attributes)"
COMPUTED_USER = frozenset({"id", SOFT_DELETED})
"""Attributes every user has, whatever the source: mappings may always read them."""
COMPUTED_GROUP = frozenset({"id", MEMBERS})


@dataclass(frozen=True, slots=True)
class AttributeMapping:
    """One compiled attribute mapping."""

    target: ScimPath
    flow: Literal["source", "constant", "expression"]
    source: str | None
    constant: Value
    expression: Expression | None
    default: Value
    on_create_only: bool
    match: int | None
    where: str
    path: str  # target.text, kept: computing it per object was a third of the mapping's cost
    reference: bool  # target.is_reference, kept for the same reason


@dataclass(frozen=True, slots=True)
class ObjectMapping:
    """The compiled mapping of one object kind, with its matching attributes in precedence order."""

    kind: ObjectKind
    attributes: tuple[AttributeMapping, ...]
    matching: tuple[AttributeMapping, ...]
    members: bool

    @property
    def paths(self) -> tuple[ScimPath, ...]:
        return tuple(a.target for a in self.attributes)

    @property
    def matching_names(self) -> str:
        """The matching attributes as an admin reads them: ``userName (mapped from userPrincipalName)``.

        What a skip for a missing matching value names, so a CSV without the column says which.
        """
        return " or ".join(_described(a) for a in self.matching)

    @property
    def enabled(self) -> bool:
        return bool(self.attributes)


def _described(attribute: AttributeMapping) -> str:
    if attribute.flow == "source":
        return f"{attribute.path} (mapped from {attribute.source})"
    return f"{attribute.path} (from {'an expression' if attribute.flow == 'expression' else 'a constant'})"


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    users: ObjectMapping
    groups: ObjectMapping

    def of(self, kind: ObjectKind) -> ObjectMapping:
        return self.users if kind is ObjectKind.USER else self.groups


class MappingEvaluationError(Exception):
    """An expression failed on one object's data; that object is skipped, the cycle goes on."""

    def __init__(self, attribute: str, message: str) -> None:
        self.attribute = attribute
        super().__init__(f"{attribute}: {message}")


def _where(file: str, lines: Mapping[tuple[Any, ...], int], loc: tuple[Any, ...]) -> str:
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return f"{file}:{line}"
    return file


@dataclass(frozen=True, slots=True)
class _Checks:
    """What compiling can check beyond syntax: the source's declared attributes and the job's settings."""

    attributes: frozenset[str] | None  # casefolded, computed ones included; None: undeclared
    default_domain: bool


def _unknown_attribute(name: str, checks: _Checks) -> bool:
    return checks.attributes is not None and name.casefold() not in checks.attributes


def _compile_expression(text: str, label: str, where: str, checks: _Checks) -> Expression:
    try:
        expression = compile_expression(text)
    except ExpressionError as exc:
        raise MappingError(label, f"{text} — {exc.message}", where) from exc
    for ref in expression.references:
        if _unknown_attribute(ref.name, checks):
            message = f"unknown source attribute [{ref.name}] at column {ref.column}; {_DECLARED}"
            raise MappingError(label, f"{text} — {message}", where)
    if not checks.default_domain:
        call = next((c for c in expression.calls if c.name == "DefaultDomain"), None)
        if call is not None:
            message = f"DefaultDomain() needs the job's default_domain setting at column {call.column}"
            raise MappingError(label, f"{text} — {message}", where)
    return expression


def _compile_attribute(
    kind: ObjectKind, entry: AttributeMappingSettings, where: str, label: str, checks: _Checks
) -> AttributeMapping:
    try:
        target = parse_path(entry.target)
    except ScimPathError as exc:
        problem = exc.message.replace(f" in SCIM path {entry.target!r}", "")
        raise MappingError(label, f"{entry.target} — invalid target path: {problem}", where) from exc
    if target.attribute == MEMBERS and kind is ObjectKind.USER:
        raise MappingError(label, "'members' is a group attribute", where)
    if entry.source is not None and _unknown_attribute(entry.source, checks):
        raise MappingError(label, f"unknown source attribute {entry.source!r}; {_DECLARED}", where)
    expression = None
    if entry.expression is not None:
        expression = _compile_expression(entry.expression, label, where, checks)
    flow: Literal["source", "constant", "expression"] = (
        "source" if entry.source is not None else "expression" if expression is not None else "constant"
    )
    if target.attribute == MEMBERS and flow != "source":
        raise MappingError(label, "members must be mapped from the source's members (source: members)", where)
    if expression is not None and expression.selects_unique:
        _check_unique(entry, target, label, where)
    return AttributeMapping(
        target=target,
        flow=flow,
        source=entry.source,
        constant=freeze(entry.constant),
        expression=expression,
        default=freeze(entry.default),
        on_create_only=entry.apply == "on_create",
        match=entry.match,
        where=where,
        path=target.text,
        reference=target.is_reference,
    )


def _check_unique(entry: AttributeMappingSettings, target: ScimPath, label: str, where: str) -> None:
    """Where SelectUniqueValue may go: Entra's own rules, since its value is chosen on create only.

    Updating the attribute would re-pick a value each cycle; matching on it would look objects up
    by a value the target has not given anyone yet.
    """
    text = entry.expression
    if entry.apply != "on_create":
        message = "SelectUniqueValue picks a value when the object is created: set apply: on_create"
        raise MappingError(label, f"{text} — {message}", where)
    if entry.match is not None:
        message = "SelectUniqueValue cannot be a matching attribute (remove match:)"
        raise MappingError(label, f"{text} — {message}", where)
    if target.is_reference:
        raise MappingError(label, f"{text} — SelectUniqueValue cannot feed a reference", where)


def _compile_kind(
    kind: ObjectKind,
    entries: list[AttributeMappingSettings],
    file: str,
    lines: Mapping[tuple[Any, ...], int],
    checks: _Checks,
) -> ObjectMapping:
    section = "users" if kind is ObjectKind.USER else "groups"
    compiled: list[AttributeMapping] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = _where(file, lines, (section, index))
        label = f"{section}.{entry.target}"
        attribute = _compile_attribute(kind, entry, where, label, checks)
        key = attribute.path.lower()
        if key in seen:
            raise MappingError(label, f"target mapped twice (first at {seen[key]})", where)
        seen[key] = where
        compiled.append(attribute)
    if not compiled:
        return ObjectMapping(kind=kind, attributes=(), matching=(), members=False)
    required = _REQUIRED_TARGET[kind]
    section_where = _where(file, lines, (section,))
    if not any(a.path == required for a in compiled):
        raise MappingError(section, f"no mapping for {required}, which SCIM requires", section_where)
    matching = tuple(sorted((a for a in compiled if a.match is not None), key=lambda a: a.match or 0))
    if not matching:
        raise MappingError(section, "no matching attribute (set match: 1 on one mapping)", section_where)
    for first, second in pairwise(matching):
        if first.match == second.match:
            raise MappingError(
                f"{section}.{second.path}",
                f"matching precedence {second.match} is also used by "
                f"{first.path} (at {first.where}); give each matching attribute its own",
                second.where,
            )
    for a in matching:
        if a.target.is_reference or a.target.attribute == MEMBERS:
            raise MappingError(f"{section}.{a.path}", "a reference cannot be a matching attribute", a.where)
    members = any(a.target.attribute == MEMBERS for a in compiled)
    attributes = tuple(a for a in compiled if a.target.attribute != MEMBERS)
    return ObjectMapping(kind=kind, attributes=attributes, matching=matching, members=members)


def compile_mapping(
    settings: MappingFileSettings,
    *,
    file: str,
    lines: Mapping[tuple[Any, ...], int] | None = None,
    user_attributes: Collection[str] | None = None,
    group_attributes: Collection[str] | None = None,
    default_domain: bool = True,
) -> CompiledMapping:
    """Check and compile a mapping file; errors read ``FILE:LINE users.title: message``.

    ``user_attributes``/``group_attributes`` are the attributes the source declares (``None``: it
    does not declare them, so any name is accepted); computed ones (``id``, ``IsSoftDeleted``,
    group ``members``) are always known. ``default_domain`` says whether the job sets one, since
    ``DefaultDomain()`` without it could only fail on every object.
    """
    line_map = lines or {}

    def checks(declared: Collection[str] | None, computed: frozenset[str]) -> _Checks:
        known = None if declared is None else frozenset(n.casefold() for n in (*declared, *computed))
        return _Checks(attributes=known, default_domain=default_domain)

    return CompiledMapping(
        users=_compile_kind(
            ObjectKind.USER, settings.users, file, line_map, checks(user_attributes, COMPUTED_USER)
        ),
        groups=_compile_kind(
            ObjectKind.GROUP, settings.groups, file, line_map, checks(group_attributes, COMPUTED_GROUP)
        ),
    )


def is_soft_deleted(obj: SourceObject) -> bool:
    """Entra's computed ``IsSoftDeleted``: disabled (``accountEnabled: false``) or flagged deleted."""
    if obj.get(SOFT_DELETED) is True:
        return True
    enabled = obj.get("accountEnabled")
    return enabled is False or (isinstance(enabled, str) and enabled.strip().lower() == "false")


def source_view(obj: SourceObject) -> dict[str, Value]:
    """The attributes mappings see: the source's own plus the computed ones."""
    view = dict(obj.attributes)
    view.setdefault("id", obj.id)
    view[SOFT_DELETED] = is_soft_deleted(obj)
    return view


def _normalise(value: Value, attribute: AttributeMapping) -> Value:
    if type(value) is str and value and not attribute.reference:  # the common case, first
        return value
    if isinstance(value, list):
        value = tuple(value)
    if value == "" or value == ():
        value = None
    if attribute.reference and value is not None:
        if isinstance(value, tuple):
            value = value[0] if value else None
        return Reference(str(value)) if value is not None else None
    return value


_NO_CONTEXT = EvaluationContext()


def map_object(
    mapping: ObjectMapping, obj: SourceObject, context: EvaluationContext = _NO_CONTEXT
) -> Desired:
    """What the target should hold for ``obj``; raises :class:`MappingEvaluationError` on bad data."""
    view = source_view(obj)
    values: dict[str, Value] = {}
    defaults: dict[str, Value] = {}
    on_create: set[str] = set()
    for attribute in mapping.attributes:
        value: object
        if attribute.flow == "source":
            assert attribute.source is not None
            value = view.get(attribute.source)
        elif attribute.flow == "constant":
            value = attribute.constant
        else:
            assert attribute.expression is not None
            try:
                value = attribute.expression.evaluate(view, context)
            except (ValueError, TypeError, ArithmeticError, LookupError) as exc:
                raise MappingEvaluationError(attribute.path, str(exc)) from exc
        if value is NO_FLOW:
            continue
        values[attribute.path] = _normalise(cast(Value, value), attribute)  # NO_FLOW ruled out above
        if attribute.default is not None:
            defaults[attribute.path] = attribute.default
        if attribute.on_create_only:
            on_create.add(attribute.path)
    matching = tuple((a.path, values[a.path]) for a in mapping.matching if values.get(a.path) is not None)
    display_value = values.get(_DISPLAY[mapping.kind])
    if not display_value or isinstance(display_value, Candidates):  # the value is picked when sent
        display_value = matching[0][1] if matching else None
    return Desired(
        kind=mapping.kind,
        source_id=obj.id,
        display=str(display_value) if display_value is not None else obj.id,
        attributes=MappingProxyType(values),
        matching=matching,
        on_create_only=frozenset(on_create),
        defaults=MappingProxyType(defaults),
        members=frozenset(obj.members) if mapping.members else frozenset(),
        soft_deleted=view[SOFT_DELETED] is True if mapping.kind is ObjectKind.USER else False,
    )
