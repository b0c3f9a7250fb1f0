"""The mapping's and the scoping's source attribute names held against the names the source has."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.core.mapping import compile_mapping
from syncer.core.scoping import JobScope, compile_filter
from syncer.core.sourcenames import (
    NameReference,
    Severity,
    Use,
    check_names,
    errors,
    mapping_references,
    warnings,
)
from syncer.settings import MappingFileSettings
from syncer.types import DeclaredNames, ObjectKind

U, G = ObjectKind.USER, ObjectKind.GROUP
HEADER = frozenset({"id", "userPrincipalName", "jobTitle", "department", "givenName", "mail"})
CSV = DeclaredNames(users=HEADER, groups=None, origin="the CSV header")
LINES = {("users", i): 10 + i for i in range(8)}


def references(users: list[dict[str, Any]], scoping: list[dict[str, Any]] = ()) -> tuple[NameReference, ...]:  # type: ignore[assignment]
    settings = MappingFileSettings.model_validate(
        {"users": [{"target": "userName", "source": "userPrincipalName", "match": 1}, *users]}
    )
    mapping = compile_mapping(settings, file="mappings/x.yaml", lines=LINES)
    filters = ()
    if scoping:

        def where(group: int, clause: int) -> str:
            return f"config.yaml:{40 + clause}"

        filters = (compile_filter([scoping], label="users scoping filter", where=where),)
    return mapping_references(mapping, JobScope(users=filters))


def one(found: tuple[Any, ...]) -> Any:
    assert len(found) == 1, found
    return found[0]


def test_a_mapped_typo_is_an_error_naming_file_line_and_the_close_match() -> None:
    """``source: jobTitel`` would clear every title: refused, with the header's spelling offered."""
    finding = one(check_names(references([{"target": "title", "source": "jobTitel"}]), CSV))
    assert finding.severity is Severity.ERROR
    assert finding.suggestion == "jobTitle"
    assert str(finding) == (
        "mappings/x.yaml:11: source attribute 'jobTitel' is not in the source (did you mean 'jobTitle'?)"
    )


def test_a_typo_inside_an_expression_is_caught_too() -> None:
    found = check_names(references([{"target": "name.givenName", "expression": "ToLower([givnName])"}]), CSV)
    finding = one(found)
    assert (finding.severity, finding.suggestion, finding.reference.use) == (
        Severity.ERROR,
        "givenName",
        Use.EXPRESSION,
    )
    assert str(finding).startswith("mappings/x.yaml:11: source attribute 'givnName' is not in the source")


def test_an_unknown_mapped_name_with_no_close_match_is_only_a_warning() -> None:
    """A source may simply not fill an optional attribute (the preset's costCenter)."""
    finding = one(check_names(references([{"target": "title", "source": "costCenter"}]), CSV))
    assert finding.severity is Severity.WARNING
    assert finding.suggestion is None
    assert "(the CSV header): it flows no value" in str(finding)


def test_an_unknown_scoping_name_is_an_error_even_without_a_close_match() -> None:
    """A scoping clause on a name no record has scopes everybody out: that is never a warning."""
    scoping = [{"attribute": "costCentre", "operator": "EQUALS", "value": "1"}]
    finding = one(check_names(references([], scoping), CSV))
    assert finding.severity is Severity.ERROR
    assert finding.reference.where == "config.yaml:40"
    assert str(finding).startswith("config.yaml:40: scoping attribute 'costCentre' is not in the source")


def test_a_scoping_typo_suggests_the_name() -> None:
    scoping = [
        {"attribute": "departmnet", "operator": "EQUALS", "value": "Sales"},
        {"attribute": "mail", "operator": "IS NOT NULL"},
    ]
    finding = one(check_names(references([], scoping), CSV))
    assert str(finding) == (
        "config.yaml:40: scoping attribute 'departmnet' is not in the source (did you mean 'department'?)"
    )


def test_declared_names_make_every_unknown_an_error() -> None:
    """``source.attributes`` is the admin's word: a name outside it is an error, close match or not."""
    strict = DeclaredNames(users=HEADER, origin="source.attributes", strict=True)
    scoping = [{"attribute": "costCentre", "operator": "EQUALS", "value": "1"}]
    finding = one(check_names(references([], scoping), strict))
    assert finding.severity is Severity.ERROR
    assert str(finding) == (
        "config.yaml:40: scoping attribute 'costCentre' is not declared in source.attributes"
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        # an expression looks names up case-insensitively, so another case is found at run time
        ({"target": "title", "expression": "ToLower([JOBTITLE])"}, None),
        # source: reads the name exactly; another case flows nothing, so it is refused
        ({"target": "title", "source": "jobtitle"}, "jobTitle"),
    ],
    ids=["expression-any-case", "source-exact-case"],
)
def test_names_compare_as_the_cycle_looks_them_up(entry: dict[str, Any], expected: str | None) -> None:
    found = check_names(references([entry]), CSV)
    assert [f.suggestion for f in errors(found)] == ([expected] if expected else [])


def test_computed_attributes_are_always_known() -> None:
    entries = [
        {"target": "externalId", "source": "id"},
        {"target": "active", "expression": "Not([IsSoftDeleted])"},
    ]
    assert check_names(references(entries), CSV) == ()


def test_a_kind_the_source_shows_nothing_of_is_not_checked() -> None:
    reference = NameReference(G, "descriptin", "m.yaml:3", Use.SOURCE)
    assert check_names([reference], CSV) == ()
    assert one(check_names([reference], DeclaredNames(groups=frozenset({"description"})))).suggestion == (
        "description"
    )


def test_an_ldap_schema_alias_points_at_the_name_the_objects_carry() -> None:
    """The schema lists ``surname`` for ``sn``; the entries carry ``sn``, so ``source: surname`` is empty."""
    ldap = DeclaredNames(users=frozenset({"sn", "cn"}), origin="the schema", aliases={"surname": "sn"})
    finding = one(check_names([NameReference(U, "surname", "m.yaml:4", Use.SOURCE)], ldap))
    assert (finding.severity, finding.suggestion) == (Severity.ERROR, "sn")


def test_each_name_and_place_is_reported_once_and_findings_split_by_severity() -> None:
    entries = [
        {"target": "title", "expression": "IIF(IsNull([jobTitel]), [costCenter], [jobTitel])"},
    ]
    found = check_names(references(entries), CSV)
    assert [f.reference.name for f in errors(found)] == ["jobTitel"]
    assert [f.reference.name for f in warnings(found)] == ["costCenter"]


def test_a_scim_path_is_known_by_the_attribute_it_reads_into() -> None:
    """``phoneNumbers[type eq "work"].value`` needs ``phoneNumbers``; an extension URN keeps its dots."""
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    scim = DeclaredNames(users=frozenset({"userPrincipalName", "phoneNumbers", f"{enterprise}:manager"}))
    mapped = [
        {"target": 'phoneNumbers[type eq "work"].value', "source": 'phoneNumbers[type eq "work"].value'},
        {"target": "title", "source": f"{enterprise}:manager.value"},
        {"target": "nickName", "source": f"{enterprise}:department"},
    ]
    finding = one(check_names(references(mapped), scim))
    assert finding.reference.name == f"{enterprise}:department"


LDAP = DeclaredNames(
    users=frozenset({"uid", "mail", "departmentNumber", "employeeNumber", "userPrincipalName"}),
    origin="the directory schema and the entries read",
    multi_valued=frozenset({"uid", "mail", "departmentnumber"}),
)


def test_a_scoping_clause_on_a_multi_valued_attribute_is_a_warning_saying_how_it_reads() -> None:
    """The clause is fine, but "department equals Sales" on a list needs its rule said once."""
    scoping = [{"attribute": "departmentNumber", "operator": "EQUALS", "value": "Sales"}]
    finding = one(check_names(references([], scoping), LDAP))
    assert finding.severity is Severity.WARNING
    assert str(finding).startswith(
        "config.yaml:40: scoping attribute 'departmentNumber' is multi-valued in the directory schema: "
    )
    assert "pass when any value does" in str(finding) and "only when no value matches" in str(finding)


def test_a_mapped_multi_valued_attribute_and_a_single_valued_clause_are_not_pointed_out() -> None:
    """Mappings take Item([mail], 1) on purpose; only a scoping clause reads the list as a whole."""
    scoping = [{"attribute": "employeeNumber", "operator": "EQUALS", "value": "E1"}]
    assert check_names(references([{"target": "title", "source": "mail"}], scoping), LDAP) == ()
