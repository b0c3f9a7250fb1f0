"""The source attribute names a mapping and its scoping read, held against the names the source has.

A name no record has passes every load-time check and then does damage on every cycle: a mapped
``source: jobTitel`` clears the title of every user, a scoping ``departmnet`` puts every Sales
user out of scope, and the daemon applies both with nobody reviewing a plan. So each name is
looked up in the source's :class:`~syncer.types.DeclaredNames`:

- unknown, and close to a name the source has (difflib ratio of at least 0.8): an error with a
  "did you mean", since a near miss is a typo far more often than an attribute the source lacks;
- unknown and close to nothing: a warning for a mapped attribute (a source may simply not fill an
  optional one; the Asana preset reads ``costCenter``) but an error for a scoping attribute, whose
  clauses would then see no value on anyone and scope people out;
- when the admin declared the names (``source.attributes``), every unknown name is an error;
- a known scoping name the source declares multi-valued (inetOrgPerson's ``departmentNumber``): a
  warning that says how the operators read several values (``core.scoping``: a positive operator
  passes when any value does, a negated one only when none matches), since a clause written for
  one value reads differently on a list and the admin should know which rule decides.

Names are compared as the cycle looks them up: an ``[attribute]`` in an expression case-
insensitively (``expressions._lookup``), ``source:`` and a scoping clause exactly, so a
``source: givenname`` that would flow nothing from an object holding ``givenName`` is caught too.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from syncer.core.mapping import COMPUTED_GROUP, COMPUTED_USER, CompiledMapping
from syncer.core.scoping import JobScope
from syncer.types import DeclaredNames, ObjectKind

CUTOFF = 0.8
"""The difflib ratio at or above which an unknown name reads as a typo of a known one."""


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Problem(enum.Enum):
    """What a finding is about: a name the source lacks, or a scoping name with several values."""

    MISSING = "missing"
    MULTI_VALUED = "multi_valued"


class Use(enum.Enum):
    """Where a mapping reads a source attribute; a scoping name that matches nothing is an error."""

    SOURCE = "source"
    """``source: name``, read exactly as written."""
    EXPRESSION = "expression"
    """``[name]`` in an expression, read case-insensitively."""
    SCOPING = "scoping"
    """A scoping clause's ``attribute``, read exactly as written."""


@dataclass(frozen=True, slots=True)
class NameReference:
    """One source attribute name as a mapping or scoping filter reads it, with its ``file:line``."""

    kind: ObjectKind
    name: str
    where: str
    use: Use


@dataclass(frozen=True, slots=True)
class NameFinding:
    """One name the source does not have: its reference, how bad it is, and a close match if any."""

    severity: Severity
    reference: NameReference
    message: str
    suggestion: str | None = None
    problem: Problem = Problem.MISSING

    def __str__(self) -> str:
        where = self.reference.where
        return f"{where}: {self.message}" if where else self.message


_COMPUTED = {ObjectKind.USER: COMPUTED_USER, ObjectKind.GROUP: COMPUTED_GROUP}


def mapping_references(mapping: CompiledMapping, scope: JobScope) -> tuple[NameReference, ...]:
    """Every source attribute the mapping (``source:``, ``[name]``) and the scoping filters read."""
    found: list[NameReference] = []
    for kind in ObjectKind:
        for attribute in mapping.of(kind).attributes:
            if attribute.source is not None:
                found.append(NameReference(kind, attribute.source, attribute.where, Use.SOURCE))
            if attribute.expression is not None:
                found.extend(
                    NameReference(kind, ref.name, attribute.where, Use.EXPRESSION)
                    for ref in attribute.expression.references
                )
        filters = scope.users if kind is ObjectKind.USER else scope.groups
        for scoping_filter in filters:
            for group in scoping_filter.groups:
                found.extend(NameReference(kind, c.attribute, c.where, Use.SCOPING) for c in group)
    return tuple(found)


def check_names(references: Iterable[NameReference], declared: DeclaredNames) -> tuple[NameFinding, ...]:
    """A finding for each referenced name the source does not have, once per name and place."""
    findings: list[NameFinding] = []
    seen: set[NameReference] = set()
    for reference in references:
        names = declared.of(reference.kind)
        if names is None or reference in seen:
            continue
        seen.add(reference)
        known = names | _COMPUTED[reference.kind]
        finding = _check(reference, known, declared) or _multi_valued(reference, declared)
        if finding is not None:
            findings.append(finding)
    return tuple(findings)


def _check(reference: NameReference, known: frozenset[str], declared: DeclaredNames) -> NameFinding | None:
    name = reference.name
    if name in known or _base(name) in known:
        return None
    folded = {n.casefold(): n for n in sorted(known)}
    if reference.use is Use.EXPRESSION and name.casefold() in folded:
        return None
    what = "scoping attribute" if reference.use is Use.SCOPING else "source attribute"
    alias = declared.aliases.get(name.casefold())
    if alias is not None and alias in known:
        message = f"{what} {name!r} is not in the source (did you mean {alias!r}? the schema's name for it)"
        return NameFinding(Severity.ERROR, reference, message, alias)
    suggestion = _close_match(name, folded)
    if suggestion is not None:
        message = f"{what} {name!r} is not in the source (did you mean {suggestion!r}?)"
        return NameFinding(Severity.ERROR, reference, message, suggestion)
    if declared.strict:
        return NameFinding(Severity.ERROR, reference, f"{what} {name!r} is not declared in {declared.origin}")
    if reference.use is Use.SCOPING:
        message = (
            f"{what} {name!r} is not in the source ({declared.origin}): every clause on it would see "
            "no value, and the filter would scope people out"
        )
        return NameFinding(Severity.ERROR, reference, message)
    message = f"{what} {name!r} is not in the source ({declared.origin}): it flows no value"
    return NameFinding(Severity.WARNING, reference, message)


MULTI_VALUED_RULE = (
    "EQUALS, Includes, REGEX MATCH and the other positive operators pass when any value does; "
    "NOT EQUALS, NOT REGEX MATCH and !& pass only when no value matches"
)
"""How ``core.scoping`` reads a list of values, said where a clause meets one."""


def _multi_valued(reference: NameReference, declared: DeclaredNames) -> NameFinding | None:
    if reference.use is not Use.SCOPING or reference.name.casefold() not in declared.multi_valued:
        return None
    origin = declared.origin.removesuffix(" and the entries read")
    message = f"scoping attribute {reference.name!r} is multi-valued in {origin}: {MULTI_VALUED_RULE}"
    return NameFinding(Severity.WARNING, reference, message, problem=Problem.MULTI_VALUED)


def _base(name: str) -> str:
    """``emails[type eq "work"].value`` → ``emails``; ``name.givenName`` → ``name``: the attribute a
    SCIM path reads into, which a source declares (RFC 7643's schemas) even when no record fills it.
    An extension URN keeps its colons: only ``[`` and a ``.`` after the last ``:`` cut it."""
    cut = name.find("[")
    head = name if cut < 0 else name[:cut]
    colon = head.rfind(":")
    dot = head.find(".", colon + 1)
    return head if dot < 0 else head[:dot]


def _close_match(name: str, folded: Mapping[str, str]) -> str | None:
    """The known name closest to ``name`` (compared casefolded), if it is close enough to be a typo."""
    matches = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=CUTOFF)
    return folded[matches[0]] if matches else None


def errors(findings: Iterable[NameFinding]) -> tuple[NameFinding, ...]:
    return tuple(f for f in findings if f.severity is Severity.ERROR)


def warnings(findings: Iterable[NameFinding]) -> tuple[NameFinding, ...]:
    return tuple(f for f in findings if f.severity is Severity.WARNING)
