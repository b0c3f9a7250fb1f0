"""Table-driven tests for intake: every source object ends in scope and mapped, out of scope, or protected."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from syncer.core.changes import Skip
from syncer.core.expressions import EvaluationContext
from syncer.core.intake import Intake, take_in
from syncer.core.mapping import CompiledMapping, compile_mapping
from syncer.core.planning import OutOfScope
from syncer.core.scoping import Assignment, JobScope, compile_filter, resolve_assignment
from syncer.settings import MappingFileSettings
from syncer.types import Desired, ObjectKind, SkippedRecord, SourceObject, SourceSnapshot, Status
from tests.builders import NOT_ASSIGNED, G, U, group, user

DEPARTMENT_FAILS = "users scoping filter: group 1: department EQUALS 'sales' (value 'eng'): false"
TITLE_FAILS = "title: Left: expects a single value, got 2 values at column 1"

USERS = [
    {"target": "userName", "source": "userPrincipalName", "match": 1},
    {"target": "active", "expression": "Not([IsSoftDeleted])"},
    {"target": "title", "expression": "Left([title], 20)"},  # fails on a multi-valued title
]
GROUPS = [
    {"target": "displayName", "source": "displayName", "match": 1},
    {"target": "members", "source": "members"},
]


def mapping(users: list[dict[str, Any]] = USERS, groups: list[dict[str, Any]] = GROUPS) -> CompiledMapping:
    settings = MappingFileSettings.model_validate({"users": users, "groups": groups})
    return compile_mapping(settings, file="m.yaml")


def source_user(sid: str, **attributes: Any) -> SourceObject:
    """A source user ``sid`` with userPrincipalName ``sid@contoso.com`` in department sales."""
    values = {"userPrincipalName": f"{sid}@contoso.com", "department": "sales", **attributes}
    return SourceObject(U, sid, MappingProxyType(values))


def source_group(display: str, *members: str) -> SourceObject:
    return SourceObject(G, display.lower(), MappingProxyType({"displayName": display}), members)


def desired_user(sid: str, *, title: Any = None, soft_deleted: bool = False) -> Desired:
    """The user the mapping above makes of ``source_user(sid)``."""
    return user(sid, title=title, soft_deleted=soft_deleted)


SALES = source_group("Sales", "ann", "bob", "cat", "dan", "eve", "fay")
OPS = source_group("Ops", "zed")
FILTERED = JobScope(
    assignment=Assignment(("Sales",)),
    users=(
        compile_filter(
            [[{"attribute": "department", "operator": "EQUALS", "value": "sales"}]],
            label="users scoping filter",
            where=lambda g, c: "config.yaml:1",
        ),
    ),
)


def intake(
    users: tuple[SourceObject, ...] = (),
    groups: tuple[SourceObject, ...] = (SALES,),
    skipped: tuple[SkippedRecord, ...] = (),
    scope: JobScope = FILTERED,
    compiled: CompiledMapping | None = None,
    **options: Any,
) -> Intake:
    snapshot = SourceSnapshot(users=users, groups=groups, skipped=skipped)
    assigned = resolve_assignment(scope.assignment, groups)
    return take_in(snapshot, compiled or mapping(), scope, assigned, EvaluationContext(), **options)


# --- where one user lands -----------------------------------------------------------------------

FAILED = Skip(U, "dan", "dan", "AttributeMappingFailure", Status.FAILURE, TITLE_FAILS)

ONE_USER = [
    pytest.param(
        source_user("ann", title="Lead"), [desired_user("ann", title="Lead")], {}, [], id="in-scope"
    ),
    pytest.param(
        source_user("bob", accountEnabled=False),
        [desired_user("bob", soft_deleted=True)],
        {},
        [],
        id="soft-deleted-in-scope-is-mapped",
    ),
    pytest.param(
        source_user("zoe"),
        [],
        {(U, "zoe"): OutOfScope("zoe@contoso.com", NOT_ASSIGNED)},
        [],
        id="not-assigned",
    ),
    pytest.param(
        source_user("cat", department="eng"),
        [],
        {(U, "cat"): OutOfScope("cat@contoso.com", DEPARTMENT_FAILS)},
        [],
        id="filtered-out",
    ),
    pytest.param(source_user("dan", title=("a", "b")), [], {}, [FAILED], id="mapping-failure"),
    pytest.param(
        source_user("eve", department="eng", title=("a", "b")),
        [],
        {(U, "eve"): OutOfScope("eve", DEPARTMENT_FAILS)},
        [],
        id="out-of-scope-and-unmappable-shows-the-id",
    ),
]


@pytest.mark.parametrize(("obj", "users", "outside", "skips"), ONE_USER)
def test_where_a_user_lands(
    obj: SourceObject, users: list[Desired], outside: dict[Any, OutOfScope], skips: list[Skip]
) -> None:
    """An in-scope user is mapped, an out-of-scope one recorded with its reason, a failing one protected."""
    result = intake((obj,))
    assert list(result.users) == users
    assert dict(result.out_of_scope) == outside
    assert list(result.skips) == skips
    assert result.protected == ({(U, obj.id)} if skips else set())
    assert result.groups == (group("Sales", "ann", "bob", "cat", "dan", "eve", "fay"),)


def test_every_object_lands_in_exactly_one_place() -> None:
    """A mixed snapshot is split exactly: mapped users and groups, out-of-scope objects, protected records."""
    users = (
        source_user("ann"),
        source_user("zoe"),
        source_user("cat", department="eng"),
        source_user("dan", title=("a", "b")),
    )
    skipped = (
        SkippedRecord(U, "users.csv:7", "row has 3 cells, header has 4", "fay"),
        SkippedRecord(G, "groups.json:2", "no displayName", "old"),
        SkippedRecord(U, "users.csv:9", "no id"),
    )
    result = intake(users, (SALES, OPS), skipped)
    assert result == Intake(
        users=(desired_user("ann"),),
        groups=(group("Sales", "ann", "bob", "cat", "dan", "eve", "fay"),),
        skips=(
            Skip(
                U, "fay", "fay", "ImportSkipped", Status.SKIPPED, "users.csv:7: row has 3 cells, header has 4"
            ),
            Skip(G, "old", "old", "ImportSkipped", Status.SKIPPED, "groups.json:2: no displayName"),
            FAILED,
        ),
        protected=frozenset({(U, "fay"), (G, "old"), (U, "dan")}),
        out_of_scope=MappingProxyType(
            {
                (U, "zoe"): OutOfScope("zoe@contoso.com", NOT_ASSIGNED),
                (U, "cat"): OutOfScope("cat@contoso.com", DEPARTMENT_FAILS),
                (G, "ops"): OutOfScope("Ops", "not an assigned group"),
            }
        ),
    )


@pytest.mark.parametrize(
    ("options", "compiled", "groups", "protected", "outside"),
    [
        pytest.param(
            {},
            mapping(),
            [group("Sales", "ann")],
            set(),
            {(G, "ops"): OutOfScope("Ops", "not an assigned group")},
            id="groups-provisioned",
        ),
        pytest.param(
            {"provision_groups": False},
            mapping(),
            [],
            {(G, "sales"), (G, "ops")},
            {},
            id="provision-groups-off-protects-every-group",
        ),
        pytest.param(
            {},
            mapping(groups=[]),
            [],
            {(G, "sales"), (G, "ops")},
            {},
            id="no-group-mapping-protects-every-group",
        ),
    ],
)
def test_groups_not_provisioned_are_protected(
    options: dict[str, Any],
    compiled: CompiledMapping,
    groups: list[Desired],
    protected: set[tuple[ObjectKind, str]],
    outside: dict[Any, OutOfScope],
) -> None:
    """With groups not provisioned every group, in scope or not, is protected and left exactly as it is."""
    sales = source_group("Sales", "ann")
    result = intake((source_user("ann"),), (sales, OPS), compiled=compiled, **options)
    assert list(result.groups) == groups
    assert result.protected == protected
    assert dict(result.out_of_scope) == outside
    assert result.users == (desired_user("ann"),)
    assert result.skips == ()


def test_no_user_mapping_protects_every_user() -> None:
    """A mapping file without users protects every user, so none is deprovisioned."""
    result = intake((source_user("ann"), source_user("zoe")), compiled=mapping(users=[]))
    assert result.users == ()
    assert result.protected == {(U, "ann"), (U, "zoe")}
    assert dict(result.out_of_scope) == {}


def test_everyone_in_scope_without_assignment_or_filters() -> None:
    """With no assigned groups and no filters every source object is mapped."""
    result = intake((source_user("zoe", department="eng"),), (OPS,), scope=JobScope())
    assert result.users == (desired_user("zoe"),)
    assert result.groups == (group("Ops", "zed"),)
    assert dict(result.out_of_scope) == {}
    assert result.protected == frozenset()


def test_scoping_clause_past_its_time_limit_protects_the_object() -> None:
    """A regex clause that passes its time limit puts the user neither in nor out: protected, with why."""
    slow = JobScope(
        users=(
            compile_filter(
                [[{"attribute": "employeeId", "operator": "REGEX MATCH", "value": "^(a|aa)+\\1$"}]],
                label="users scoping filter",
                where=lambda g, c: "config.yaml:1",
            ),
        ),
    )
    result = intake(users=(source_user("ann", employeeId="a" * 40 + "!"),), groups=(), scope=slow)
    assert result.users == () and result.out_of_scope == {}
    assert (U, "ann") in result.protected
    (skip,) = result.skips
    assert skip.status is Status.FAILURE and skip.reason == "ScopingFailure"
    assert "time limit" in skip.detail


@pytest.mark.parametrize(
    ("sid", "attributes", "what"),
    [
        pytest.param(
            "ann", {"userPrincipalName": "ann@contoso.com\n+ create user ceo"}, "userName", id="newline"
        ),
        pytest.param("ann", {"userPrincipalName": "ann\x00@contoso.com"}, "userName", id="nul"),
        pytest.param("ann", {"userPrincipalName": "ann\u202emoc.osotnoc@"}, "userName", id="bidi-override"),
        pytest.param("an\x1bn", {}, "id", id="escape-in-id"),
    ],
)
def test_control_characters_in_identity_values_skip_that_record(
    sid: str, attributes: dict[str, Any], what: str
) -> None:
    """A control character in an id or a matching value skips and protects that one record, naming it."""
    result = intake(
        users=(source_user(sid, **attributes), source_user("bob")),
        groups=(),
        scope=JobScope(),
    )
    assert [d.source_id for d in result.users] == ["bob"]
    assert (U, sid) in result.protected
    (skip,) = result.skips
    assert skip.source_id == sid and skip.reason == "ImportSkipped"
    assert what in skip.detail and "control character" in skip.detail
    assert "ceo" not in skip.detail and "\x00" not in skip.detail
