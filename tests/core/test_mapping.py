"""Table-driven tests for compiling mapping files and mapping source objects to desired values."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from syncer.core.mapping import (
    CompiledMapping,
    MappingEvaluationError,
    compile_mapping,
    is_soft_deleted,
    map_object,
)
from syncer.core.scimpath import ENTERPRISE_USER
from syncer.errors import ConfigError
from syncer.settings import MappingFileSettings
from syncer.types import ObjectKind, Reference, SourceObject

MANAGER = f"{ENTERPRISE_USER}:manager"
DEPARTMENT = f"{ENTERPRISE_USER}:department"
USER_NAME = {"target": "userName", "source": "userPrincipalName", "match": 1}
DISPLAY_NAME = {"target": "displayName", "source": "displayName", "match": 1}
MEMBERS = {"target": "members", "source": "members"}
ACTIVE = {"target": "active", "expression": "Not([IsSoftDeleted])"}

# every entry of either section gets a line; the sections themselves too
LINES = {
    ("users",): 2,
    **{("users", i): 10 + i for i in range(6)},
    ("groups",): 20,
    **{("groups", i): 30 + i for i in range(6)},
}


def settings(users: list[dict[str, Any]] = (), groups: list[dict[str, Any]] = ()) -> MappingFileSettings:  # type: ignore[assignment]
    return MappingFileSettings.model_validate({"users": list(users), "groups": list(groups)})


def compiled(users: list[dict[str, Any]] = (), groups: list[dict[str, Any]] = ()) -> CompiledMapping:  # type: ignore[assignment]
    return compile_mapping(settings(users, groups), file="m.yaml", lines=LINES)


def user(
    attributes: dict[str, Any] | None = None, sid: str = "u1", members: tuple[str, ...] = ()
) -> SourceObject:
    return SourceObject(ObjectKind.USER, sid, MappingProxyType(attributes or {}), members)


def group(
    attributes: dict[str, Any] | None = None, sid: str = "g1", members: tuple[str, ...] = ()
) -> SourceObject:
    return SourceObject(ObjectKind.GROUP, sid, MappingProxyType(attributes or {}), members)


def map_user(entries: list[dict[str, Any]], attributes: dict[str, Any], sid: str = "u1") -> Any:
    return map_object(compiled(users=entries).users, user(attributes, sid))


# --- compile errors ---------------------------------------------------------------------------

COMPILE_ERRORS = [
    pytest.param(
        [USER_NAME, {"target": "emails[type eq work].value", "source": "mail"}],
        [],
        "m.yaml:11",
        ["users.emails[type eq work].value", "invalid target path"],
        id="bad-target-path",
    ),
    pytest.param(
        [USER_NAME, ACTIVE, {"target": "name.formatted", "expression": 'Join(" ", [givenName]'}],
        [],
        "m.yaml:12",
        ["users.name.formatted", "column 22"],
        id="bad-expression-column",
    ),
    pytest.param(
        [USER_NAME, {"target": "name.formatted", "expression": "Nope([givenName])"}],
        [],
        "m.yaml:11",
        ["users.name.formatted", "Nope", "column 1"],
        id="unknown-function",
    ),
    pytest.param(
        [USER_NAME, {"target": "title", "source": "jobTitle"}, {"target": "Title", "source": "x"}],
        [],
        "m.yaml:12",
        ["users.Title", "mapped twice", "first at m.yaml:11"],
        id="duplicate-target-case-insensitive",
    ),
    pytest.param(
        [{"target": "displayName", "source": "displayName", "match": 1}],
        [],
        "m.yaml:2",
        ["users", "userName"],
        id="no-userName",
    ),
    pytest.param(
        [],
        [{"target": "externalId", "source": "id", "match": 1}],
        "m.yaml:20",
        ["groups", "displayName"],
        id="no-displayName",
    ),
    pytest.param(
        [{"target": "userName", "source": "userPrincipalName"}],
        [],
        "m.yaml:2",
        ["users", "no matching attribute"],
        id="no-matching-attribute",
    ),
    pytest.param(
        [USER_NAME, {"target": "externalId", "source": "id", "match": 1}],
        [],
        "m.yaml:11",
        ["users", "userName", "externalId", "precedence"],
        id="same-precedence",
    ),
    pytest.param(
        [USER_NAME, {"target": MANAGER, "source": "manager", "match": 2}],
        [],
        "m.yaml:11",
        [f"users.{MANAGER}", "reference cannot be a matching attribute"],
        id="manager-as-match",
    ),
    pytest.param(
        [],
        [DISPLAY_NAME, {"target": "members", "source": "members", "match": 2}],
        "m.yaml:31",
        ["groups.members", "reference cannot be a matching attribute"],
        id="members-as-match",
    ),
    pytest.param(
        [USER_NAME, MEMBERS],
        [],
        "m.yaml:11",
        ["users.members", "group attribute"],
        id="members-on-users",
    ),
    pytest.param(
        [],
        [DISPLAY_NAME, {"target": "members", "constant": "g"}],
        "m.yaml:31",
        ["groups.members", "source: members"],
        id="members-from-constant",
    ),
    pytest.param(
        [],
        [DISPLAY_NAME, {"target": "members", "expression": 'Split([m], ",")'}],
        "m.yaml:31",
        ["groups.members", "source: members"],
        id="members-from-expression",
    ),
]


@pytest.mark.parametrize(("users", "groups", "location", "fragments"), COMPILE_ERRORS)
def test_compile_errors_name_file_line_and_attribute(
    users: list[dict[str, Any]], groups: list[dict[str, Any]], location: str, fragments: list[str]
) -> None:
    """A mapping that cannot work is refused with a ConfigError naming file:line and the attribute."""
    with pytest.raises(ConfigError) as caught:
        compiled(users, groups)
    assert caught.value.location == location
    assert str(caught.value).startswith(f"{location} {fragments[0]}")
    for fragment in fragments:
        assert fragment in caught.value.message


DECLARED = ["userPrincipalName", "givenName", "surname", "mail"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"target": "title", "expression": 'Join(" ", [givenName] [surname])'},
            "m.yaml:11 users.title: Join(\" \", [givenName] [surname]) — expected ',' or ')', "
            "found '[surname]' at column 23",
        ),
        (
            {"target": "title", "expression": 'Join(" ", [givenName], [givnName])'},
            'm.yaml:11 users.title: Join(" ", [givenName], [givnName]) — unknown source attribute '
            "[givnName] at column 24; the source declares its attributes in the config (source.attributes)",
        ),
        (
            {"target": "title", "source": "jobTitle"},
            "m.yaml:11 users.title: unknown source attribute 'jobTitle'; the source declares its "
            "attributes in the config (source.attributes)",
        ),
        (
            {"target": "title", "expression": 'Replace([mail], , "(?<u>[a-", , "", , )'},
            'm.yaml:11 users.title: Replace([mail], , "(?<u>[a-", , "", , ) — Replace: invalid '
            "regexPattern: unterminated character set at column 19",
        ),
        (
            {"target": "title", "expression": 'Join("@", [mail], DefaultDomain())'},
            'm.yaml:11 users.title: Join("@", [mail], DefaultDomain()) — DefaultDomain() needs the '
            "job's default_domain setting at column 19",
        ),
        (
            {"target": "emails[type eq work].value", "source": "mail"},
            "m.yaml:11 users.emails[type eq work].value: emails[type eq work].value — invalid target path: "
            'the value filter needs a quoted string literal, as in [type eq "work"] at column 16',
        ),
    ],
)
def test_load_time_errors_read_file_line_attribute_expression_column(
    entry: dict[str, Any], message: str
) -> None:
    """Every load-time refusal reads `FILE:LINE users.title: EXPR — message at column N`."""
    with pytest.raises(ConfigError) as caught:
        compile_mapping(
            settings([USER_NAME, entry]),
            file="m.yaml",
            lines=LINES,
            user_attributes=DECLARED,
            default_domain=False,
        )
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("declared", "entry"),
    [
        (None, {"target": "title", "source": "anything"}),
        (DECLARED, {"target": "title", "source": "GIVENNAME"}),
        (DECLARED, {"target": "active", "expression": "Not([IsSoftDeleted])"}),
        (DECLARED, {"target": "externalId", "expression": "[id]"}),
    ],
)
def test_known_attributes_are_accepted(declared: list[str] | None, entry: dict[str, Any]) -> None:
    """Undeclared sources accept any name; declared ones accept their names (any case) and computed ones."""
    compile_mapping(settings([USER_NAME, entry]), file="m.yaml", user_attributes=declared)


def test_compile_error_without_lines_names_the_file() -> None:
    """Without a line map the error still names the file."""
    with pytest.raises(ConfigError) as caught:
        compile_mapping(settings([{"target": "title", "source": "t", "match": 1}]), file="m.yaml")
    assert caught.value.location == "m.yaml"


@pytest.mark.parametrize(
    ("users", "matching"),
    [
        ([USER_NAME], ("userName",)),
        (
            [
                {"target": "userName", "source": "upn", "match": 2},
                {"target": "externalId", "source": "id", "match": 1},
                {"target": 'emails[type eq "work"].value', "source": "mail", "match": 3},
            ],
            ("externalId", "userName", 'emails[type eq "work"].value'),
        ),
    ],
)
def test_matching_attributes_are_kept_in_precedence_order(
    users: list[dict[str, Any]], matching: tuple[str, ...]
) -> None:
    """The compiled matching attributes are ordered by their match precedence, 1 first."""
    assert tuple(a.path for a in compiled(users).users.matching) == matching


def test_members_mapping_is_a_flag_not_an_attribute() -> None:
    """A group members mapping turns member management on and is not a plain attribute."""
    groups = compiled(groups=[DISPLAY_NAME, MEMBERS]).groups
    assert groups.members is True
    assert [a.path for a in groups.attributes] == ["displayName"]
    assert compiled(groups=[DISPLAY_NAME]).groups.members is False


def test_an_empty_section_disables_the_kind() -> None:
    """A mapping file without groups compiles to a disabled group mapping."""
    mapping = compiled(users=[USER_NAME])
    assert mapping.users.enabled
    assert not mapping.groups.enabled
    assert mapping.of(ObjectKind.GROUP) is mapping.groups


# --- map_object -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "attributes", "expected"),
    [
        ({"target": "title", "source": "jobTitle"}, {"jobTitle": "Lead"}, "Lead"),
        ({"target": "title", "source": "jobTitle"}, {}, None),
        ({"target": "externalId", "source": "id"}, {}, "u1"),
        ({"target": "externalId", "source": "id"}, {"id": "own"}, "own"),
        ({"target": "title", "constant": "Staff"}, {"jobTitle": "Lead"}, "Staff"),
        ({"target": "title", "constant": 5}, {}, 5),
        ({"target": "title", "constant": ["a", "b"]}, {}, ("a", "b")),
        (
            {"target": "name.formatted", "expression": 'Join(" ", [givenName], [surname])'},
            {"givenName": "Ada", "surname": "Lovelace"},
            "Ada Lovelace",
        ),
        ({"target": "title", "expression": "ToUpper([jobTitle])"}, {"jobTitle": "lead"}, "LEAD"),
        ({"target": "title", "expression": '"fixed"'}, {}, "fixed"),
        ({"target": DEPARTMENT, "source": "department"}, {"department": "R&D"}, "R&D"),
        ({"target": "title", "source": "jobTitle"}, {"jobTitle": ["x", "y"]}, ("x", "y")),
    ],
)
def test_direct_constant_and_expression_flows(
    entry: dict[str, Any], attributes: dict[str, Any], expected: Any
) -> None:
    """Each flow type puts the source attribute, the constant or the expression's value at the target path."""
    desired = map_user([USER_NAME, entry], {"userPrincipalName": "a@x", **attributes})
    path = compiled(users=[USER_NAME, entry]).users.attributes[1].path
    assert desired.attributes[path] == expected


@pytest.mark.parametrize(
    ("attributes", "soft_deleted"),
    [
        ({"accountEnabled": False}, True),
        ({"accountEnabled": "false"}, True),
        ({"accountEnabled": " FALSE "}, True),
        ({"accountEnabled": True}, False),
        ({"accountEnabled": "true"}, False),
        ({"accountEnabled": None}, False),
        ({}, False),
        ({"IsSoftDeleted": True}, True),
        ({"IsSoftDeleted": True, "accountEnabled": True}, True),
    ],
)
def test_is_soft_deleted_and_the_default_active_mapping(
    attributes: dict[str, Any], soft_deleted: bool
) -> None:
    """IsSoftDeleted is true for accountEnabled false (bool or string); Not([IsSoftDeleted]) gives active."""
    entries = [USER_NAME, ACTIVE, {"target": "title", "source": "IsSoftDeleted"}]
    desired = map_user(entries, {"userPrincipalName": "a@x", **attributes})
    assert is_soft_deleted(user(attributes)) is soft_deleted
    assert desired.soft_deleted is soft_deleted
    assert desired.attributes["active"] is (not soft_deleted)
    assert desired.attributes["title"] is soft_deleted


def test_groups_are_never_soft_deleted() -> None:
    """A group's Desired never carries soft_deleted, whatever its attributes say."""
    mapping = compiled(groups=[DISPLAY_NAME])
    desired = map_object(mapping.groups, group({"displayName": "Sales", "accountEnabled": False}))
    assert desired.soft_deleted is False


def test_apply_on_create_and_defaults() -> None:
    """apply: on_create fills on_create_only, and a default goes to defaults while the value stays None."""
    entries = [
        USER_NAME,
        {"target": "externalId", "source": "id", "apply": "on_create"},
        {"target": "title", "source": "jobTitle", "default": "Staff"},
        {"target": "nickName", "source": "nick"},
    ]
    desired = map_user(entries, {"userPrincipalName": "a@x"})
    assert desired.on_create_only == frozenset({"externalId"})
    assert desired.attributes["externalId"] == "u1"
    assert dict(desired.defaults) == {"title": "Staff"}
    assert desired.attributes["title"] is None
    assert desired.attributes["nickName"] is None


@pytest.mark.parametrize(
    ("attributes", "present", "value"),
    [
        ({}, False, None),
        ({"nick": None}, False, None),
        ({"nick": ""}, False, None),
        ({"nick": "Ada"}, True, "Ada"),
    ],
)
def test_ignore_flow_if_null_or_empty_leaves_the_path_out(
    attributes: dict[str, Any], present: bool, value: Any
) -> None:
    """IgnoreFlowIfNullOrEmpty on a null or empty value yields no path at all, not a None value."""
    entries = [USER_NAME, {"target": "nickName", "expression": "IgnoreFlowIfNullOrEmpty([nick])"}]
    desired = map_user(entries, {"userPrincipalName": "a@x", **attributes})
    assert ("nickName" in desired.attributes) is present
    assert desired.attributes.get("nickName") == value


@pytest.mark.parametrize(
    ("entry", "attributes"),
    [
        ({"target": "title", "source": "jobTitle"}, {"jobTitle": ""}),
        ({"target": "title", "source": "jobTitle"}, {"jobTitle": []}),
        ({"target": "title", "source": "jobTitle"}, {"jobTitle": ()}),
        ({"target": "title", "constant": ""}, {}),
        ({"target": "title", "constant": []}, {}),
        ({"target": "title", "expression": "Left([jobTitle], 0)"}, {"jobTitle": "Lead"}),
    ],
)
def test_empty_values_are_normalised_to_none(entry: dict[str, Any], attributes: dict[str, Any]) -> None:
    """An empty string or empty list is no value, so it is never sent and compares equal to None."""
    desired = map_user([USER_NAME, entry], {"userPrincipalName": "a@x", **attributes})
    assert "title" in desired.attributes
    assert desired.attributes["title"] is None


@pytest.mark.parametrize(
    ("manager", "expected"),
    [
        ("m1", Reference("m1")),
        (["m1"], Reference("m1")),
        (("m1", "m2"), Reference("m1")),
        (7, Reference("7")),
        ("", None),
        ([], None),
        (None, None),
    ],
)
def test_manager_becomes_a_reference(manager: Any, expected: Any) -> None:
    """The enterprise manager holds a Reference to the manager's source id, or None when empty."""
    desired = map_user(
        [USER_NAME, {"target": MANAGER, "source": "manager"}],
        {"userPrincipalName": "a@x", "manager": manager},
    )
    assert desired.attributes[MANAGER] == expected


MATCHING_ENTRIES = [
    {"target": "userName", "source": "upn", "match": 2},
    {"target": "externalId", "source": "employeeId", "match": 1},
    {"target": 'emails[type eq "work"].value', "source": "mail", "match": 3},
]


@pytest.mark.parametrize(
    ("attributes", "matching", "display"),
    [
        (
            {"upn": "a@x", "employeeId": "E1", "mail": "m@x"},
            (("externalId", "E1"), ("userName", "a@x"), ('emails[type eq "work"].value', "m@x")),
            "a@x",
        ),
        (
            {"upn": "a@x", "mail": "m@x"},
            (("userName", "a@x"), ('emails[type eq "work"].value', "m@x")),
            "a@x",
        ),
        ({"upn": "a@x", "employeeId": ""}, (("userName", "a@x"),), "a@x"),
        ({"employeeId": "E1"}, (("externalId", "E1"),), "E1"),
        ({}, (), "u1"),
    ],
)
def test_matching_values_in_precedence_order_and_display(
    attributes: dict[str, Any], matching: tuple[tuple[str, Any], ...], display: str
) -> None:
    """Matching is (path, value) by precedence, no Nones; display is userName, else first match, else id."""
    desired = map_user(MATCHING_ENTRIES, attributes)
    assert desired.matching == matching
    assert desired.display == display


@pytest.mark.parametrize(
    ("entries", "members", "expected"),
    [
        ([DISPLAY_NAME, MEMBERS], ("u2", "u1", "u2"), frozenset({"u1", "u2"})),
        ([DISPLAY_NAME], ("u1", "u2"), frozenset()),
        ([DISPLAY_NAME, MEMBERS], (), frozenset()),
    ],
)
def test_group_members_come_from_the_source_object(
    entries: list[dict[str, Any]], members: tuple[str, ...], expected: frozenset[str]
) -> None:
    """A group's desired members are SourceObject.members, and only when a members mapping exists."""
    mapping = compiled(groups=entries).groups
    desired = map_object(mapping, group({"displayName": "Sales", "members": ("ignored",)}, members=members))
    assert desired.members == expected
    assert desired.display == "Sales"
    assert desired.matching == (("displayName", "Sales"),)
    assert "members" not in desired.attributes


def test_user_members_are_ignored() -> None:
    """A user's desired members stay empty even when the source object lists some."""
    desired = map_object(
        compiled(users=[USER_NAME]).users, user({"userPrincipalName": "a@x"}, members=("g1",))
    )
    assert desired.members == frozenset()


@pytest.mark.parametrize(
    ("expression", "attributes"),
    [
        ("Left([jobTitle], [n])", {"jobTitle": "Lead", "n": "x"}),
        ("CDate([hired])", {"hired": "not a date"}),
        ('DateAdd("d", [n], "2024-01-01")', {"n": "many"}),
    ],
)
def test_an_expression_that_fails_on_the_data_raises_mapping_evaluation_error(
    expression: str, attributes: dict[str, Any]
) -> None:
    """An expression that raises at evaluation becomes MappingEvaluationError naming the target path."""
    entries = [USER_NAME, {"target": "title", "expression": expression}]
    with pytest.raises(MappingEvaluationError) as caught:
        map_user(entries, {"userPrincipalName": "a@x", **attributes})
    assert caught.value.attribute == "title"
    assert str(caught.value).startswith("title: ")
