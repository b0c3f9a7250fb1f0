"""A real HR export through the real CLI: ';'-separated and Latin-1, as European spreadsheets write it.

Without ``delimiter`` and ``encoding`` the sync fails before sending anything, each time saying the
setting that fixes it; with them, accented names reach the real scim2-server intact.
"""

from __future__ import annotations

from tests.e2e.conftest import Workspace

USERS = (
    "id;userPrincipalName;givenName;surname;accountEnabled;employeeId\n"
    "u1;zoe.mueller@contoso.com;Zoë;Müller;true;E0001\n"
    "u2;jose.ibanez@contoso.com;José;Ibáñez;true;E0002\n"
    "u3;francoise.dupre@contoso.com;Françoise;Dupré;true;E0003\n"
)
GROUPS = 'id;displayName;members\ng1;Vertrieb Süd;"u1;u2"\n'


def _export(workspace: Workspace, settings: str) -> Workspace:
    workspace.write_config()
    source = f"source: {{type: file, path: users.csv, groups_path: groups.csv{settings}}}"
    text = workspace.config.read_text("utf-8").replace("source: {type: file, path: directory.json}", source)
    workspace.config.write_text(text, "utf-8")
    (workspace.root / "users.csv").write_bytes(USERS.encode("latin-1"))
    (workspace.root / "groups.csv").write_bytes(GROUPS.encode("latin-1"))
    return workspace


def test_a_semicolon_latin1_export_syncs_accented_names_once_set(workspace: Workspace) -> None:
    """Each failure names file, line (and column) and the key to set; the last run syncs the accents."""
    ws = _export(workspace, "")
    result = ws.run("sync", expect=1)
    assert "users.csv:2:30: not utf-8 text" in result.stderr  # after 'u1;zoe.mueller@contoso.com;Zo'
    assert "set source.encoding" in result.stderr and "'latin-1'" in result.stderr
    assert "Traceback" not in result.stderr and ws.server.writes() == 0

    _export(ws, ", encoding: latin-1")
    result = ws.run("plan", expect=1)
    hint = "users.csv:1: no 'id' column; the header looks ';'-separated: set source.delimiter: ';'"
    assert hint in result.stderr
    assert ws.server.writes() == 0

    _export(ws, ", delimiter: ';', encoding: latin-1")
    ws.run("validate")
    ws.run("sync")
    users = ws.users()
    assert {name: user["name"]["formatted"] for name, user in users.items()} == {
        "zoe.mueller@contoso.com": "Zoë Müller",
        "jose.ibanez@contoso.com": "José Ibáñez",
        "francoise.dupre@contoso.com": "Françoise Dupré",
    }
    (group,) = ws.groups().values()
    assert group["displayName"] == "Vertrieb Süd"
    member_ids = {member["value"] for member in group["members"]}
    assert member_ids == {users["zoe.mueller@contoso.com"]["id"], users["jose.ibanez@contoso.com"]["id"]}


def test_a_utf8_export_set_to_latin1_is_refused_before_it_garbles_names(workspace: Workspace) -> None:
    """Latin-1 decodes any bytes, so a UTF-8 file read so would put 'ZoÃ«' on the target: refused."""
    ws = _export(workspace, ", delimiter: ';', encoding: latin-1")
    (ws.root / "users.csv").write_text(USERS, "utf-8")
    result = ws.run("sync", expect=1)
    assert "users.csv:2:" in result.stderr and "set source.encoding: utf-8" in result.stderr
    assert ws.server.writes() == 0
