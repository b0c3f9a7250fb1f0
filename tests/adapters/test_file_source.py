"""The file source: JSON, YAML and CSV directories, skipped records, and reads that must fail whole."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from syncer.adapters.sources.base import Source
from syncer.adapters.sources.files import FileSource
from syncer.errors import ConfigError, SourceError
from syncer.types import ObjectKind, SourceSnapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


def read(path: Path, groups_path: Path | None = None) -> SourceSnapshot:
    source: Source = FileSource(path, groups_path)
    return source.read()


def test_json_directory_reads_users_and_groups(tmp_path: Path) -> None:
    """Users keep every attribute including id; group members leave the attributes for ``members``."""
    path = write_json(
        tmp_path / "dir.json",
        {
            "users": [
                {"id": "u1", "mail": "a@contoso.com", "accountEnabled": True, "tags": ["x", "y"]},
                {"id": 42, "userPrincipalName": "b@contoso.com", "manager": "u1"},
            ],
            "groups": [{"id": "g1", "displayName": "Sales", "members": ["u1", 42, "u1", "g2"]}],
        },
    )
    snapshot = read(path)
    assert [u.id for u in snapshot.users] == ["u1", "42"]
    first = snapshot.users[0]
    assert first.kind is ObjectKind.USER
    assert first.get("id") == "u1" and first.get("accountEnabled") is True
    assert first.get("tags") == ("x", "y")
    assert snapshot.users[1].get("id") == "42"
    (group,) = snapshot.groups
    assert group.kind is ObjectKind.GROUP
    assert group.members == ("u1", "42", "g2")
    assert "members" not in group.attributes and group.get("displayName") == "Sales"
    assert snapshot.skipped == ()


def test_app_role_assignments_may_hold_objects(tmp_path: Path) -> None:
    """appRoleAssignments is the one attribute whose values may be {id, value, displayName} objects."""
    roles = [{"id": "a1", "value": "admin", "displayName": "Administrator"}, "reader"]
    path = write_json(tmp_path / "dir.json", {"users": [{"id": "u1", "appRoleAssignments": roles}]})
    (user,) = read(path).users
    assert [dict(r) if not isinstance(r, str) else r for r in user.get("appRoleAssignments")] == roles


def test_absent_sections_are_empty(tmp_path: Path) -> None:
    """A file with only users reads no groups, and vice versa, since either key may be left out."""
    assert read(write_json(tmp_path / "u.json", {"users": [{"id": "u1"}]})).groups == ()
    assert read(write_json(tmp_path / "g.json", {"groups": [{"id": "g1"}]})).users == ()


def test_yaml_directory_keeps_dates_as_written(tmp_path: Path) -> None:
    """An unquoted YAML date stays the text written, because attribute values are JSON-like."""
    path = tmp_path / "dir.yaml"
    path.write_text(
        "users:\n  - id: u1\n    hireDate: 2024-03-01\n    accountEnabled: false\n"
        "groups:\n  - id: g1\n    members: [u1]\n",
        "utf-8",
    )
    snapshot = read(path)
    assert snapshot.users[0].get("hireDate") == "2024-03-01"
    assert snapshot.users[0].get("accountEnabled") is False
    assert snapshot.groups[0].members == ("u1",)


def test_csv_users_with_csv_groups(tmp_path: Path) -> None:
    """CSV cells are strings, empty cells are absent, true/false become booleans, members split on ``;``."""
    users = tmp_path / "users.csv"
    users.write_text("id,displayName,accountEnabled,city\nu1,Zoë,TRUE,\nu2,Ben,false,Berlin\n", "utf-8")
    groups = tmp_path / "groups.csv"
    groups.write_text("id,displayName,members\ng1,Sales,u1; u2;;u1\ng2,Empty,\n", "utf-8")
    snapshot = read(users, groups)
    u1, u2 = snapshot.users
    assert dict(u1.attributes) == {"id": "u1", "displayName": "Zoë", "accountEnabled": True}
    assert u2.get("accountEnabled") is False and u2.get("city") == "Berlin"
    assert [(g.id, g.members) for g in snapshot.groups] == [("g1", ("u1", "u2")), ("g2", ())]


def test_csv_users_with_yaml_groups_and_a_delimiter(tmp_path: Path) -> None:
    """A semicolon CSV (as European spreadsheets export) pairs with a YAML groups file."""
    users = tmp_path / "users.csv"
    users.write_text("\ufeffid;mail\nu1;a@contoso.com\n", "utf-8")
    groups = tmp_path / "groups.yaml"
    groups.write_text("groups:\n  - {id: g1, members: [u1]}\n", "utf-8")
    snapshot = FileSource(users, groups, delimiter=";").read()
    assert snapshot.users[0].get("mail") == "a@contoso.com"
    assert snapshot.groups[0].members == ("u1",)


def test_groups_come_from_both_files(tmp_path: Path) -> None:
    """With a JSON directory and a groups file, the groups of both are read, the directory's first."""
    path = write_json(tmp_path / "dir.json", {"users": [{"id": "u1"}], "groups": [{"id": "g1"}]})
    groups = write_json(tmp_path / "more.json", {"groups": [{"id": "g2", "members": ["u1"]}, {"id": "g1"}]})
    snapshot = read(path, groups)
    assert [g.id for g in snapshot.groups] == ["g1", "g2"]
    (dup,) = snapshot.skipped
    assert dup.location == f"{groups}:groups[1]" and "duplicate" in dup.reason


BAD_USERS = [
    ({"name": "no id"}, "no id", None),
    ({"id": None}, "null", None),
    ({"id": ""}, "empty", None),
    ({"id": "  "}, "empty", None),
    ({"id": ["u9"]}, "a list", None),
    ({"id": {"v": "u9"}}, "a mapping", None),
    ({"id": True}, "a bool", None),
    ({"id": 1.5}, "a float", None),
    ({"id": "u9", "address": {"city": "Berlin"}}, "'address'", "u9"),
    ({"id": "u9", "emails": [{"value": "a@contoso.com"}]}, "'emails'", "u9"),
    ({"id": "u9", "tags": [["a"]]}, "'tags'", "u9"),
    ({"id": "u9", "appRoleAssignments": "admin"}, "expected a list of app role assignments", "u9"),
    ({"id": "u9", "appRoleAssignments": [{"value": ["a"]}]}, "nested value under 'value'", "u9"),
    ({"id": "u9", "appRoleAssignments": [["a"]]}, "a list at [0]", "u9"),
    ("u9", "not a mapping", None),
    ({"id": "u1", "mail": "again@contoso.com"}, "duplicate id", "u1"),
]


@pytest.mark.parametrize(("record", "reason", "source_id"), BAD_USERS)
def test_bad_user_is_skipped_and_the_rest_read(
    tmp_path: Path, record: Any, reason: str, source_id: str | None
) -> None:
    """A bad record is skipped with its location and reason, logged, and the records around it still read."""
    path = write_json(tmp_path / "dir.json", {"users": [{"id": "u1"}, record, {"id": "u2"}]})
    with capture_logs() as logs:
        snapshot = read(path)
    assert [u.id for u in snapshot.users] == ["u1", "u2"]
    (skipped,) = snapshot.skipped
    assert skipped.kind is ObjectKind.USER
    assert skipped.location == f"{path}:users[1]"
    assert reason in skipped.reason
    assert skipped.id == source_id
    assert [(e["event"], e["log_level"], e["location"]) for e in logs] == [
        ("source_record_skipped", "warning", f"{path}:users[1]")
    ]


@pytest.mark.parametrize(
    ("members", "reason"),
    [(["u1", None], "members[1] is null"), (["u1", {"id": "u2"}], "members[1]"), ("u1", "members is a str")],
)
def test_group_with_a_bad_member_is_skipped(tmp_path: Path, members: Any, reason: str) -> None:
    """A member that is not an id skips its group, since a partial member list would remove members."""
    path = write_json(tmp_path / "dir.json", {"groups": [{"id": "g1", "members": members}, {"id": "g2"}]})
    snapshot = read(path)
    assert [g.id for g in snapshot.groups] == ["g2"]
    (skipped,) = snapshot.skipped
    assert (skipped.kind, skipped.id, skipped.location) == (ObjectKind.GROUP, "g1", f"{path}:groups[0]")
    assert reason in skipped.reason


def test_yaml_bad_record_location_is_its_line(tmp_path: Path) -> None:
    """A YAML record is located by the line it starts on, which is what an editor can jump to."""
    path = tmp_path / "dir.yaml"
    path.write_text("users:\n  - id: u1\n  # a comment\n  - id: u1\n    mail: x\n  - name: nobody\n", "utf-8")
    snapshot = read(path)
    assert [(s.location, s.id) for s in snapshot.skipped] == [(f"{path}:4", "u1"), (f"{path}:6", None)]


def test_csv_bad_rows_are_located_by_line(tmp_path: Path) -> None:
    """CSV rows are located by their first line, even after a quoted cell that spans lines."""
    path = tmp_path / "users.csv"
    path.write_text('id,note\nu1,"two\nlines"\n,empty id\nu3,too,many\n\nu4,ok\n', "utf-8")
    snapshot = read(path)
    assert [u.id for u in snapshot.users] == ["u1", "u4"]
    assert snapshot.users[0].get("note") == "two\nlines"
    assert [(s.location, s.id) for s in snapshot.skipped] == [(f"{path}:4", None), (f"{path}:5", "u3")]
    assert "empty" in snapshot.skipped[0].reason and "3 cells" in snapshot.skipped[1].reason


def make_missing(tmp_path: Path) -> Path:
    return tmp_path / "missing.json"


def make_directory(tmp_path: Path) -> Path:
    path = tmp_path / "dir.json"
    path.mkdir()
    return path


def make_file(name: str, content: str | bytes) -> Any:
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")
        return path

    return make


WHOLE_READ_FAILURES = [
    (make_missing, "not found"),
    (make_directory, "cannot be read"),
    (make_file("bad.json", '{"users": [\n  {"id": "u1"},\n]}'), ":3:1: invalid JSON"),
    (make_file("empty.json", ""), "invalid JSON"),
    (make_file("bad.yaml", "users:\n  - id: u1\n   mail: [x\n"), "invalid YAML"),
    (make_file("empty.yaml", ""), "top level is null"),
    (make_file("list.json", '[{"id": "u1"}]'), "top level is a list"),
    (make_file("users.json", '{"users": {"id": "u1"}}'), "'users' is a mapping"),
    (make_file("null.yaml", "users:\ngroups: []\n"), "'users' is null"),
    (make_file("typo.json", '{"user": [{"id": "u1"}]}'), "unknown top-level key 'user'"),
    (make_file("latin1.json", '{"users": [{"id": "Zoë"}]}'.encode("latin-1")), "1:22: not utf-8 text"),
    (make_file("noid.csv", "objectId,mail\nu1,a@contoso.com\n"), "no 'id' column"),
    (make_file("empty.csv", ""), "empty CSV"),
    (make_file("twice.csv", "id,mail,mail\nu1,a,b\n"), "'mail' appears twice"),
]


@pytest.mark.parametrize(("make", "reason"), WHOLE_READ_FAILURES)
def test_whole_read_failure_raises_naming_the_file(tmp_path: Path, make: Any, reason: str) -> None:
    """A file that cannot be read as a whole raises SourceError naming it, never an empty directory."""
    path = make(tmp_path)
    with pytest.raises(SourceError) as caught:
        read(path)
    assert str(path) in str(caught.value)
    assert reason in str(caught.value)


def test_invalid_yaml_error_cites_line_and_column(tmp_path: Path) -> None:
    """The YAML parser's position is passed on, so the message points at the fix."""
    path = make_file("bad.yaml", "users:\n  - id: u1\n    mail: [x\n")(tmp_path)
    with pytest.raises(SourceError, match=rf"{path}:\d+:\d+: invalid YAML"):
        read(path)


def test_groups_file_with_users_fails(tmp_path: Path) -> None:
    """A groups file holds only groups; users in it would be ignored, so the read refuses instead."""
    users = write_json(tmp_path / "users.json", {"users": []})
    groups = write_json(tmp_path / "groups.json", {"users": [{"id": "u1"}], "groups": []})
    with pytest.raises(SourceError, match=r"groups\.json: unknown top-level key 'users'"):
        read(users, groups)


def test_missing_groups_file_fails_the_read(tmp_path: Path) -> None:
    """A missing groups file fails the read, since no groups would read as every group deleted."""
    users = write_json(tmp_path / "users.json", {"users": [{"id": "u1"}]})
    with pytest.raises(SourceError, match=r"groups\.yaml: source file not found"):
        read(users, tmp_path / "groups.yaml")


@pytest.mark.parametrize(("path", "delimiter"), [("dir.txt", ","), ("dir", ","), ("dir.csv", ";;")])
def test_unusable_settings_are_config_errors(path: str, delimiter: str) -> None:
    """An unknown file type or delimiter fails when the config loads, not on the first cycle."""
    with pytest.raises(ConfigError):
        FileSource(Path(path), delimiter=delimiter)


def test_fingerprint_follows_the_bytes(tmp_path: Path) -> None:
    """The fingerprint is the file's sha256, and moves when either file changes."""
    path = write_json(tmp_path / "dir.json", {"users": [{"id": "u1"}]})
    first = read(path).fingerprint
    assert first == hashlib.sha256(path.read_bytes()).hexdigest()
    assert read(path).fingerprint == first
    write_json(path, {"users": [{"id": "u1", "mail": "a@contoso.com"}]})
    second = read(path).fingerprint
    assert second != first
    groups = write_json(tmp_path / "groups.json", {"groups": []})
    with_groups = read(path, groups).fingerprint
    write_json(groups, {"groups": [{"id": "g1"}]})
    assert len({first, second, with_groups, read(path, groups).fingerprint}) == 4


def test_bundled_example_directory() -> None:
    """examples/directory.json holds 60 users and 5 groups whose managers and members all resolve."""
    snapshot = read(EXAMPLES / "directory.json")
    assert (len(snapshot.users), len(snapshot.groups), snapshot.skipped) == (60, 5, ())
    assert sum(u.get("accountEnabled") is False for u in snapshot.users) == 1
    assert all(u.get("accountEnabled") in (True, False) for u in snapshot.users)
    user_ids = {u.id for u in snapshot.users}
    managers = [u.get("manager") for u in snapshot.users]
    assert managers.count(None) == 1
    assert {m for m in managers if m is not None} <= user_ids
    group_ids = {g.id for g in snapshot.groups}
    assert all(g.members and set(g.members) <= user_ids | group_ids for g in snapshot.groups)
    assert all(u.get("userPrincipalName").isascii() for u in snapshot.users)
    assert any(not u.get("displayName").isascii() for u in snapshot.users)


def test_bundled_example_csv_with_groups() -> None:
    """examples/directory.csv and groups.yaml read as 10 users and 2 groups that resolve among themselves."""
    snapshot = read(EXAMPLES / "directory.csv", EXAMPLES / "groups.yaml")
    assert (len(snapshot.users), len(snapshot.groups), snapshot.skipped) == (10, 2, ())
    user_ids = {u.id for u in snapshot.users}
    assert all(g.members and set(g.members) <= user_ids for g in snapshot.groups)
    assert {u.get("manager") for u in snapshot.users} - {None} <= user_ids
    assert all(isinstance(u.get("accountEnabled"), bool) for u in snapshot.users)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_source_file_nested_thousands_deep_fails_the_read_cleanly(tmp_path: Path, suffix: str) -> None:
    """Python's JSON decoder and PyYAML recurse per level: 5,000 levels must be a SourceError naming
    the file and line, never a RecursionError that ends the cycle (or the daemon's tick) with a traceback."""
    deep = "[" * 5000 + "]" * 5000
    text = f'{{"users": [{{"id": "u1", "x": {deep}}}]}}\n'
    path = tmp_path / f"dir{suffix}"
    path.write_text(text, "utf-8")
    with pytest.raises(SourceError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message and "nest" in message


def test_the_declared_names_are_the_csv_header_or_the_keys_the_records_carry(tmp_path: Path) -> None:
    """A CSV column no row fills is still a column; JSON names are what some record carries."""
    csv_path = tmp_path / "users.csv"
    csv_path.write_text("id,userPrincipalName,jobTitle\nu1,a@contoso.com,\n", "utf-8")
    declared = read(csv_path).declared
    assert declared is not None
    assert declared.users == frozenset({"id", "userPrincipalName", "jobTitle"})
    assert declared.groups is None  # no groups file: nothing known, nothing checked
    assert declared.origin == "the CSV header"
    path = write_json(
        tmp_path / "dir.json",
        {"users": [{"id": "u1", "mail": "a@x"}, {"id": "u2", "title": "CEO"}], "groups": []},
    )
    declared = read(path).declared
    assert declared is not None
    assert (declared.users, declared.groups) == (frozenset({"id", "mail", "title"}), None)
