"""Table-driven tests for SCIM path parsing, reading, create bodies, PATCH operations and filters."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from syncer.adapters.scim.protocol import PATCH_OP, build_patch_operations, build_resource, patch_body
from syncer.core.scimpath import (
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE_USER,
    ScimPath,
    canonical,
    equality_filter,
    flatten,
    get_value,
    parse_path,
)
from syncer.errors import ConfigError, ScimPathError
from syncer.types import AttributeChange, Reference

E = ENTERPRISE_USER
WORK_EMAIL = 'emails[type eq "work"].value'
COUNTRY = 'addresses[type eq "work"].country'
REGION = 'addresses[type eq "work"].region'
LOCALITY = 'addresses[type eq "work"].locality'
PHONE = 'phoneNumbers[type eq "work"].value'
MANAGER = f"{E}:manager"
DEPARTMENT = f"{E}:department"

PARSED = [
    ("userName", None, "userName", None, None, "userName"),
    ("active", None, "active", None, None, "active"),
    ("externalId", None, "externalId", None, None, "externalId"),
    ("members", None, "members", None, None, "members"),
    ("name.formatted", None, "name", None, "formatted", "name.formatted"),
    ("name.givenName", None, "name", None, "givenName", "name.givenName"),
    (WORK_EMAIL, None, "emails", ("type", "work"), "value", WORK_EMAIL),
    ('emails[type  EQ   "work" ].value', None, "emails", ("type", "work"), "value", WORK_EMAIL),
    (COUNTRY, None, "addresses", ("type", "work"), "country", COUNTRY),
    ('emails[type eq "work"]', None, "emails", ("type", "work"), None, 'emails[type eq "work"]'),
    ('members[value eq "a\\"b"]', None, "members", ("value", 'a"b'), None, 'members[value eq "a\\"b"]'),
    ("members.$ref", None, "members", None, "$ref", "members.$ref"),
    (DEPARTMENT, E, "department", None, None, DEPARTMENT),
    (MANAGER, E, "manager", None, None, MANAGER),
    (f"{E}:manager.value", E, "manager", None, "value", f"{E}:manager.value"),
    (f"{E.upper()}:employeeNumber", E.upper(), "employeeNumber", None, None, f"{E.upper()}:employeeNumber"),
    (f"{CORE_USER}:userName", None, "userName", None, None, "userName"),
    (f"{CORE_GROUP}:displayName", None, "displayName", None, None, "displayName"),
    (
        "urn:example:acme.com:2.0:User:badge-id",
        "urn:example:acme.com:2.0:User",
        "badge-id",
        None,
        None,
        "urn:example:acme.com:2.0:User:badge-id",
    ),
    (
        'urn:x:y:tags[kind eq "a:b"].value',
        "urn:x:y",
        "tags",
        ("kind", "a:b"),
        "value",
        'urn:x:y:tags[kind eq "a:b"].value',
    ),
]


@pytest.mark.parametrize(("text", "schema", "attribute", "value_filter", "sub", "canonical_text"), PARSED)
def test_parse_path(
    text: str, schema: str | None, attribute: str, value_filter: Any, sub: str | None, canonical_text: str
) -> None:
    """Each supported path form parses into its parts and a canonical text that parses back to itself."""
    path = parse_path(text)
    assert path == ScimPath(schema, attribute, value_filter, sub)
    assert path.text == canonical_text == canonical(text)
    assert parse_path(path.text) == path


PARSE_ERRORS = [
    ("", "empty path", 1),
    (".name", "expected an attribute name", 1),
    ("1name", "expected an attribute name", 1),
    ("name.", "dangling '.'", 5),
    ("name..x", "expected a sub-attribute name", 6),
    ("name.given.x", "one level of sub-attribute", 11),
    ("user name", "unexpected ' '", 5),
    ("user_name!", "unexpected '!'", 10),
    ("emails[", "expected an attribute name in the value filter", 8),
    ('emails[type ne "work"].value', "only 'eq' is supported", 13),
    ('emails[type like "work"]', "unknown filter operator 'like'", 13),
    ("emails[type eq work]", "quoted string literal", 16),
    ("emails[type eq true]", "quoted string literal", 16),
    ('emails[type eq "work]', "malformed string literal", 16),
    ('emails[type eq "wo\\qrk"]', "malformed string literal", 16),
    ('emails[type eq "work"', "missing ']'", 22),
    ('emails[type eq "work" and value eq "x"]', "only a single", 23),
    ('emails[type eq"work"]', "expected a space", 15),
    ('emails[type eq "work"]value', "unexpected 'v'", 23),
    ('emails[type eq "work"].value.x', "one level of sub-attribute", 29),
    ("urn:", "malformed schema URN", 1),
    ("URN:a:b:", "expected an attribute name", 9),
    ("urn:a b:c:x", "' ' is not allowed in a schema URN", 6),
    ("urn::x:attr", "malformed schema URN", 1),
    ("urn:nid:attr", "malformed schema URN", 1),
    (f"{E}:", "expected an attribute name", len(E) + 2),
    (f"{E}:9lives", "expected an attribute name", len(E) + 2),
    ("foo:bar", "unexpected ':'", 4),
]


@pytest.mark.parametrize(("text", "message", "column"), PARSE_ERRORS)
def test_parse_path_rejects(text: str, message: str, column: int) -> None:
    """Invalid paths raise ScimPathError naming the problem, the 1-based column and the path."""
    with pytest.raises(ScimPathError) as caught:
        parse_path(text)
    assert message in caught.value.message
    assert caught.value.column == column
    assert caught.value.path == text
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize(
    ("text", "is_reference", "entry_key"),
    [
        (MANAGER, True, None),
        (f"{E.lower()}:Manager", True, None),
        (f"{E}:manager.value", False, None),
        ("manager", False, None),
        ("urn:example:other:User:manager", False, None),
        (DEPARTMENT, False, None),
        (WORK_EMAIL, False, 'emails[type eq "work"]'),
        ('emails[type eq "work"]', False, 'emails[type eq "work"]'),
        (f'{E}:things[kind eq "x"].value', False, f'{E}:things[kind eq "x"]'),
    ],
)
def test_reference_and_entry_key(text: str, is_reference: bool, entry_key: str | None) -> None:
    """Only the enterprise manager is a reference, and only filtered paths have an entry key."""
    path = parse_path(text)
    assert path.is_reference is is_reference
    assert path.entry_key == entry_key


RESOURCE: dict[str, Any] = {
    "schemas": [CORE_USER, E],
    "id": "u1",
    "UserName": "alice",
    "active": False,
    "name": {"formatted": "Alice L", "GivenName": "Alice"},
    "emails": [
        {"type": "home", "value": "a@home"},
        {"type": "Work", "value": "a@WORK-cased"},
        {"Type": "work", "value": "a@work"},
        {"type": "work", "value": "a@work2"},
    ],
    "addresses": [{"type": "work", "country": "DE"}],
    "phoneNumbers": [],
    "groups": [{"value": "g1"}, {"value": "g2"}],
    "nicknames": ["al", "ally"],
    E.lower(): {"department": "R&D", "manager": {"value": "m1", "displayName": "Mo"}, "costCenter": ""},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("userName", "alice"),
        ("USERNAME", "alice"),
        ("active", False),
        ("name.givenName", "Alice"),
        ("name.familyName", None),
        ("title", None),
        (WORK_EMAIL, "a@work"),
        ('emails[type eq "WORK"].value', None),
        ('emails[type eq "home"].value', "a@home"),
        ('emails[type eq "other"].value', None),
        (COUNTRY, "DE"),
        (REGION, None),
        (PHONE, None),
        ("phoneNumbers", None),
        ("groups.value", ("g1", "g2")),
        ("nicknames", ("al", "ally")),
        (MANAGER, "m1"),
        (f"{E}:manager.displayName", "Mo"),
        (DEPARTMENT, "R&D"),
        (f"{E}:costCenter", ""),
        (f"{E}:employeeNumber", None),
        ("urn:example:missing:User:x", None),
    ],
)
def test_get_value(text: str, expected: Any) -> None:
    """Names match case-insensitively, filter values case-sensitively, and missing or empty reads as None."""
    assert get_value(RESOURCE, parse_path(text)) == expected


def test_get_value_freezes_complex_values() -> None:
    """A complex value comes back read-only so it cannot be mutated through the diff."""
    entry: Any = get_value(RESOURCE, parse_path('addresses[type eq "work"]'))
    assert dict(entry) == {"type": "work", "country": "DE"}
    with pytest.raises(TypeError):
        entry["country"] = "FR"


def test_get_value_manager_as_bare_string() -> None:
    """A lax target that stores the manager as a bare id still yields that id."""
    assert get_value({E: {"manager": "m9"}}, parse_path(MANAGER)) == "m9"


def test_flatten() -> None:
    """Flatten keys each value by the canonical text of its path."""
    paths = [parse_path("USERNAME"), parse_path('emails[type  eq "work"].value'), parse_path(MANAGER)]
    assert flatten(RESOURCE, paths) == {"USERNAME": "alice", WORK_EMAIL: "a@work", MANAGER: "m1"}


BUILD = [
    ({"userName": "a", "title": None}, {"schemas": [CORE_USER], "userName": "a"}),
    (
        {"active": False, "name.formatted": "A B", "name.givenName": "A"},
        {"schemas": [CORE_USER], "active": False, "name": {"formatted": "A B", "givenName": "A"}},
    ),
    (
        {WORK_EMAIL: "a@x", 'emails[type eq "home"].value': "a@home"},
        {
            "schemas": [CORE_USER],
            "emails": [{"type": "home", "value": "a@home"}, {"type": "work", "value": "a@x"}],
        },
    ),
    (
        {COUNTRY: "DE", REGION: "BY", LOCALITY: "Munich", PHONE: None},
        {
            "schemas": [CORE_USER],
            "addresses": [{"type": "work", "country": "DE", "locality": "Munich", "region": "BY"}],
        },
    ),
    (
        {'Emails[type eq "work"].value': "a@x", 'emails[type eq "work"].primary': True},
        {"schemas": [CORE_USER], "Emails": [{"type": "work", "value": "a@x", "primary": True}]},
    ),
    (
        {DEPARTMENT: "R&D", MANAGER: "m1", f"{E}:employeeNumber": "42"},
        {
            "schemas": [CORE_USER, E],
            E: {"department": "R&D", "employeeNumber": "42", "manager": {"value": "m1"}},
        },
    ),
    ({MANAGER: None, "userName": "a"}, {"schemas": [CORE_USER], "userName": "a"}),
    (
        {"urn:example:b:User:x": 1, "urn:example:a:User:y": 2, "userName": "a"},
        {
            "schemas": [CORE_USER, "urn:example:a:User", "urn:example:b:User"],
            "userName": "a",
            "urn:example:a:User": {"y": 2},
            "urn:example:b:User": {"x": 1},
        },
    ),
    ({"nicknames": ("a", "b")}, {"schemas": [CORE_USER], "nicknames": ["a", "b"]}),
    (
        {"displayName": "eng", "members": ({"value": "u1"},)},
        {"schemas": [CORE_USER], "displayName": "eng", "members": [{"value": "u1"}]},
    ),
    (
        {"name": {"familyName": "B"}, "name.givenName": "A"},
        {"schemas": [CORE_USER], "name": {"givenName": "A", "familyName": "B"}},
    ),
]


@pytest.mark.parametrize(("values", "expected"), BUILD)
def test_build_resource(values: dict[str, Any], expected: dict[str, Any]) -> None:
    """Create bodies nest sub-attributes, merge one filtered entry, wrap the manager and omit nulls."""
    assert build_resource(CORE_USER, values) == expected


def test_build_resource_group_schema() -> None:
    """The core schema given is the first schema of the body."""
    assert build_resource(CORE_GROUP, {"displayName": "eng"}) == {
        "schemas": [CORE_GROUP],
        "displayName": "eng",
    }


@pytest.mark.parametrize(
    "values",
    [
        {"name": "x", "name.givenName": "A"},
        {"emails": "x", WORK_EMAIL: "a@x"},
        {'emails[type eq "work"]': "not a dict"},
        {MANAGER: Reference("src-7")},
    ],
)
def test_build_resource_rejects(values: dict[str, Any]) -> None:
    """Clashing shapes, unresolved references and bad paths fail loudly instead of sending a wrong body."""
    with pytest.raises(ValueError):
        build_resource(CORE_USER, values)


def test_build_resource_rejects_bad_path() -> None:
    """A key that is not a SCIM path is the same config error the mapping loader raises."""
    with pytest.raises(ScimPathError):
        build_resource(CORE_USER, {"bad path!": 1})


def c(path: str, old: Any, new: Any) -> AttributeChange:
    return AttributeChange(path, old, new)


PATCHES = [
    ([c("displayName", "a", "b")], None, [{"op": "replace", "path": "displayName", "value": "b"}]),
    ([c("title", None, "Boss")], None, [{"op": "replace", "path": "title", "value": "Boss"}]),
    ([c("title", "Boss", None)], None, [{"op": "remove", "path": "title"}]),
    ([c("title", None, None)], None, []),
    ([c("active", True, False)], None, [{"op": "replace", "path": "active", "value": False}]),
    ([c("name.givenName", "A", None)], None, [{"op": "remove", "path": "name.givenName"}]),
    (
        [c("nicknames", ("a",), ("a", "b"))],
        None,
        [{"op": "replace", "path": "nicknames", "value": ["a", "b"]}],
    ),
    ([c(MANAGER, "m1", "m2")], None, [{"op": "replace", "path": MANAGER, "value": {"value": "m2"}}]),
    ([c(MANAGER, "m1", None)], None, [{"op": "remove", "path": MANAGER}]),
    (
        [c(WORK_EMAIL, None, "a@x")],
        None,
        [{"op": "add", "path": "emails", "value": [{"type": "work", "value": "a@x"}]}],
    ),
    ([c(WORK_EMAIL, "a@x", "b@x")], None, [{"op": "replace", "path": WORK_EMAIL, "value": "b@x"}]),
    ([c(WORK_EMAIL, "a@x", None)], None, [{"op": "remove", "path": 'emails[type eq "work"]'}]),
    (
        [c(COUNTRY, None, "DE"), c(LOCALITY, None, "Munich")],
        None,
        [
            {
                "op": "add",
                "path": "addresses",
                "value": [{"type": "work", "country": "DE", "locality": "Munich"}],
            }
        ],
    ),
    (
        [c(COUNTRY, "DE", None), c(REGION, "BY", None)],
        None,
        [{"op": "remove", "path": 'addresses[type eq "work"]'}],
    ),
    (
        [c(COUNTRY, "DE", None), c(REGION, "BY", "BW")],
        None,
        [{"op": "remove", "path": COUNTRY}, {"op": "replace", "path": REGION, "value": "BW"}],
    ),
    (
        [c(COUNTRY, "DE", "FR"), c(LOCALITY, None, "Paris")],
        None,
        [
            {"op": "replace", "path": COUNTRY, "value": "FR"},
            {"op": "replace", "path": LOCALITY, "value": "Paris"},
        ],
    ),
    (
        [c(WORK_EMAIL, None, "w@x"), c('emails[type eq "home"].value', None, "h@x")],
        None,
        [
            {
                "op": "add",
                "path": "emails",
                "value": [{"type": "home", "value": "h@x"}, {"type": "work", "value": "w@x"}],
            }
        ],
    ),
    # with `current`, unchanged siblings of the entry show it exists (or stays non-empty)
    (
        [c(COUNTRY, None, "DE")],
        {REGION: "BY", COUNTRY: None},
        [{"op": "replace", "path": COUNTRY, "value": "DE"}],
    ),
    ([c(COUNTRY, "DE", None)], {REGION: "BY", COUNTRY: "DE"}, [{"op": "remove", "path": COUNTRY}]),
    (
        [c(COUNTRY, "DE", None)],
        {REGION: None, COUNTRY: "DE", "userName": "a"},
        [{"op": "remove", "path": 'addresses[type eq "work"]'}],
    ),
    (
        [c(COUNTRY, None, "DE")],
        {REGION: None, WORK_EMAIL: "a@x"},
        [{"op": "add", "path": "addresses", "value": [{"type": "work", "country": "DE"}]}],
    ),
    (
        [c('addresses[type  eq "work"].country', None, "DE")],
        {'addresses[type eq "work"].Region': "BY"},
        [{"op": "replace", "path": COUNTRY, "value": "DE"}],
    ),
    (
        [c(COUNTRY, "DE", None)],
        {'addresses[type eq "work"].Country': "DE"},
        [{"op": "remove", "path": 'addresses[type eq "work"]'}],
    ),
    (
        [
            c(DEPARTMENT, None, "R&D"),
            c("userName", "a", "b"),
            c(WORK_EMAIL, None, "b@x"),
            c(MANAGER, None, "m"),
        ],
        None,
        [
            {"op": "add", "path": "emails", "value": [{"type": "work", "value": "b@x"}]},
            {"op": "replace", "path": DEPARTMENT, "value": "R&D"},
            {"op": "replace", "path": MANAGER, "value": {"value": "m"}},
            {"op": "replace", "path": "userName", "value": "b"},
        ],
    ),
]


@pytest.mark.parametrize(("changes", "current", "expected"), PATCHES)
def test_build_patch_operations(
    changes: list[AttributeChange], current: dict[str, Any] | None, expected: list[dict[str, Any]]
) -> None:
    """Each diff becomes the RFC 7644 §3.5.2 operations that a strict server applies as intended."""
    assert build_patch_operations(changes, current=current) == expected


def test_patch_operations_are_order_independent() -> None:
    """The same changes in any order give byte-identical operations, so a saved plan renders the same."""
    changes = [
        c("userName", "a", "b"),
        c(COUNTRY, None, "DE"),
        c(REGION, None, "BY"),
        c(MANAGER, "m", None),
        c("title", "t", None),
        c(WORK_EMAIL, "a@x", "b@x"),
    ]
    outputs = {repr(build_patch_operations(list(p))) for p in itertools.permutations(changes)}
    assert len(outputs) == 1


def test_patch_operations_reject_unresolved_reference() -> None:
    """A manager still naming a source id must be resolved before it can become an operation."""
    with pytest.raises(ValueError, match="unresolved reference"):
        build_patch_operations([c(MANAGER, None, Reference("src-1"))])


def test_unknown_dialect() -> None:
    """An unknown dialect is refused rather than silently sending RFC operations."""
    with pytest.raises(ValueError, match="unknown PATCH dialect 'entra2'"):
        build_patch_operations([c("title", "a", "b")], dialect="entra2")


def test_patch_body() -> None:
    """The body wraps the operations in the PatchOp message schema."""
    ops = build_patch_operations([c("title", "a", "b")], dialect="rfc")
    assert patch_body(ops) == {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": "b"}],
    }


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("userName", "alice", 'userName eq "alice"'),
        ("userName", 'va"l\\ue', 'userName eq "va\\"l\\\\ue"'),
        ("userName", "tab\there\nnl\x01", 'userName eq "tab\\there\\nnl\\u0001"'),
        ("userName", "Zoë", 'userName eq "Zoë"'),
        ("active", True, "active eq true"),
        ("active", False, "active eq false"),
        (f"{E}:employeeNumber", 42, f"{E}:employeeNumber eq 42"),
        ("x", 1.5, "x eq 1.5"),
        ("externalId", None, "externalId eq null"),
        (WORK_EMAIL, "a@x", 'emails[type eq "work" and value eq "a@x"]'),
        ('emails[type  eq "wo\\"rk"].value', "a", 'emails[type eq "wo\\"rk" and value eq "a"]'),
        (MANAGER, "m1", f'{MANAGER}.value eq "m1"'),
        ("name.givenName", "A", 'name.givenName eq "A"'),
    ],
)
def test_equality_filter(path: str, value: Any, expected: str) -> None:
    """Filters escape literals as JSON strings and fold a value-filtered path into one bracket filter."""
    assert equality_filter(path, value) == expected


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("userName", ("a", "b")),
        ("userName", {"a": 1}),
        ("userName", Reference("s")),
        ("userName", float("nan")),
        ('emails[type eq "work"]', "a@x"),
    ],
)
def test_equality_filter_rejects(path: str, value: Any) -> None:
    """Values a SCIM filter cannot compare are refused instead of producing a filter that matches wrongly."""
    with pytest.raises(ValueError):
        equality_filter(path, value)


def test_equality_filter_rejects_bad_path() -> None:
    """A bad path is a ScimPathError even when it reaches the filter builder."""
    with pytest.raises(ScimPathError):
        equality_filter("user name", "x")
