"""`syncer expression`: the expression builder, run in-process through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncer.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, list[str], str]:
    result = runner.invoke(app, ["expression", *args])
    return result.exit_code, result.stdout.splitlines(), result.stderr


@pytest.mark.parametrize(
    ("args", "last_line"),
    [
        (
            ['Join(" ", [givenName], [surname])', "--attr", "givenName=Ada", "--attr", "surname=Lovelace"],
            "Ada Lovelace",
        ),
        (
            ['Append([userPrincipalName], ".test")', "-a", "userPrincipalName=John.Doe@contoso.com"],
            "John.Doe@contoso.com.test",
        ),
        (
            ['Split([x], ",")', "-a", "x=PermissionSetOne, PermissionSetTwo"],
            '["PermissionSetOne", "PermissionSetTwo"]',
        ),
        (['Join(",", [p])', "-a", "p=a", "-a", "p=b"], "a,b"),
        (["IgnoreFlowIfNullOrEmpty([department])"], "no value: the attribute will not flow"),
        (["[missing]"], "no value: the attribute will not flow"),
        (["Not([IsSoftDeleted])", "-a", "accountEnabled=false"], "False"),
        (["Not([IsSoftDeleted])"], "True"),
        (["Now()", "--now", "2021-07-02T15:33:38Z"], "7/2/2021 3:33:38 PM"),
        (["Now()", "--now", "2021-07-02T17:33:38+02:00"], "7/2/2021 3:33:38 PM"),
        (['DateDiff("d", Now(), CDate([h]))', "-a", "h=2021-07-10", "--now", "2021-07-02"], "8"),
        (
            ['Join("@", [alias], DefaultDomain())', "-a", "alias=jo", "--default-domain", "contoso.com"],
            "jo@contoso.com",
        ),
        (["Count([p])", "-a", "p=a"], "1"),
        (
            [
                'SelectUniqueValue(ToLower([mailNickname]), Join(".", [givenName], [surname]))',
                *("-a", "mailNickname=JSmith", "-a", "givenName=john", "-a", "surname=smith"),
            ],
            "first free of [jsmith, john.smith]",  # which one is free, only the target can say
        ),
    ],
)
def test_prints_the_value_as_the_last_line(args: list[str], last_line: str) -> None:
    """The value is the last line of stdout: text as is, multi-valued as JSON, null as "no value"."""
    code, lines, _ = run(*args)
    assert code == 0
    assert lines[-1] == last_line


def test_object_file_gives_attributes_and_lists_are_multi_valued(tmp_path: Path) -> None:
    """`--object` reads a JSON object; a list is a multi-valued attribute and `--attr` overrides a value."""
    sample = tmp_path / "user.json"
    sample.write_text(json.dumps({"proxyAddresses": ["a", "b", "a"], "givenName": "Ada"}), encoding="utf-8")
    code, lines, _ = run("RemoveDuplicates([proxyAddresses])", "--object", str(sample))
    assert (code, lines[-1]) == (0, '["a", "b"]')
    code, lines, _ = run("[givenName]", "--object", str(sample), "-a", "givenName=Grace")
    assert (code, lines[-1]) == (0, "Grace")


def test_app_roles_print_as_json(tmp_path: Path) -> None:
    """AppRoleAssignmentsComplex over an --object's appRoleAssignments prints SCIM roles as a JSON array."""
    sample = tmp_path / "user.json"
    roles = [{"id": "a1", "value": "admin", "displayName": "Administrator"}]
    sample.write_text(json.dumps({"appRoleAssignments": roles}), encoding="utf-8")
    code, lines, _ = run("AppRoleAssignmentsComplex([appRoleAssignments])", "--object", str(sample))
    assert code == 0
    assert json.loads(lines[-1]) == [
        {
            "primary": False,
            "type": "WindowsAzureActiveDirectoryRole",
            "display": "Administrator",
            "value": "admin",
        }
    ]


def test_explain_prints_the_tree_before_the_value() -> None:
    """`--explain` prints the parse tree, then the value as the last line."""
    code, lines, _ = run("ToLower([mail])", "-a", "mail=Jo@Contoso.com", "--explain")
    assert (code, lines) == (0, ["Call ToLower", "  Attribute [mail]", "jo@contoso.com"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ['Join(" ", [givenName] [surname])'],
            "error: Join(\" \", [givenName] [surname]) — expected ',' or ')', found '[surname]' at column 23",
        ),
        (["Nope([a])"], 'error: Nope([a]) — unknown function "Nope" at column 1'),
        (
            ['Left([s], "x")', "-a", "s=abc"],
            'error: Left([s], "x") — Left: NumChars must be a whole number at column 1',
        ),
        (["Now()", "--now", "yesterday"], "error: --now 'yesterday': expected an ISO 8601 date/time"),
        (["[a]", "--attr", "novalue"], "error: --attr 'novalue': expected NAME=VALUE"),
        (
            ["DefaultDomain()"],
            "error: DefaultDomain() — DefaultDomain: no default domain is configured at column 1",
        ),
        (
            ["SelectUniqueValue([a])"],
            "error: SelectUniqueValue([a]) — SelectUniqueValue expects at least 2 arguments, "
            "got 1 at column 1",
        ),
        (
            ["ToLower(SelectUniqueValue([a], [b]))"],
            "error: ToLower(SelectUniqueValue([a], [b])) — SelectUniqueValue must be the whole expression: "
            "it cannot be nested in another call at column 9",
        ),
    ],
)
def test_bad_expression_or_option_exits_1_with_the_mapping_error_format(
    args: list[str], message: str
) -> None:
    """A bad expression exits 1 with `EXPR — message at column N` (and a caret), never a traceback."""
    code, lines, stderr = run(*args)
    assert code == 1 and lines == []
    assert stderr.splitlines()[0].startswith(message)
    assert "Traceback" not in stderr


def test_caret_points_at_the_column() -> None:
    """Under the error line, the expression is repeated with a caret under the failing column."""
    _, _, stderr = run('Join(" ", [givenName] [surname])')
    _, echoed, caret = stderr.splitlines()
    assert echoed == '  Join(" ", [givenName] [surname])'
    assert caret.index("^") == echoed.index("[surname]")


@pytest.mark.parametrize("content", ["[1, 2]", "{not json"])
def test_bad_object_file_exits_1(tmp_path: Path, content: str) -> None:
    """An --object that is not a JSON object is refused naming the file."""
    sample = tmp_path / "bad.json"
    sample.write_text(content, encoding="utf-8")
    code, _, stderr = run("[a]", "--object", str(sample))
    assert code == 1 and str(sample) in stderr
