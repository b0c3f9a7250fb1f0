"""Each bundled preset syncs the sample directory into the real SCIM server, every attribute verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from syncer.core.expressions import EvaluationContext, compile_expression
from syncer.core.mapping import SOFT_DELETED
from syncer.core.scimpath import get_value, parse_path
from tests.e2e.conftest import ROOT, Workspace

# the presets for an Entra-shaped directory; ldap.yaml and scim-to-scim.yaml are tested with their sources
PRESETS = [ROOT / "mappings" / "asana.yaml", ROOT / "mappings" / "scim-default.yaml"]


def _expected(entry: dict[str, Any], user: dict[str, Any]) -> Any:
    """What the server should hold for one mapping entry, from the source record alone."""
    if "source" in entry:
        return user.get(entry["source"])
    if "constant" in entry:
        return entry["constant"]
    attributes = {**user, SOFT_DELETED: not user["accountEnabled"]}
    return compile_expression(entry["expression"]).evaluate(attributes, EvaluationContext())


@pytest.mark.parametrize("preset", PRESETS, ids=[p.stem for p in PRESETS])
def test_preset_syncs_every_mapped_attribute(workspace: Workspace, preset: Path) -> None:
    """After one sync with the preset, every mapped user and group attribute on the server is the source's."""
    mapping = yaml.safe_load(preset.read_text(encoding="utf-8"))
    workspace.mapping = preset
    workspace.write_config()
    workspace.run("sync")

    source = workspace.load()
    by_source = {u["id"]: u for u in source["users"]}
    users = workspace.users()
    target_upn = {u["id"]: name for name, u in users.items()}
    enabled = [u for u in source["users"] if u["accountEnabled"]]
    assert sorted(users) == sorted(u["userPrincipalName"] for u in enabled)
    checked: dict[str, int] = {}
    for src in enabled:
        got = users[src["userPrincipalName"]]
        for entry in mapping["users"]:
            path = parse_path(entry["target"])
            value, expected = get_value(got, path), _expected(entry, src)
            if path.is_reference:  # the manager arrives as the manager's target id
                value = target_upn.get(value["value"] if isinstance(value, dict) else value)
                expected = by_source[expected]["userPrincipalName"] if expected else None
            assert value == expected, f"{preset.name}: {src['userPrincipalName']} {entry['target']}"
            checked[entry["target"]] = checked.get(entry["target"], 0) + (expected is not None)
    assert all(checked.values()), f"mapped attributes never checked with a value: {checked}"

    groups = workspace.groups()
    assert sorted(groups) == sorted(g["displayName"] for g in source["groups"])
    for group in source["groups"]:
        got = groups[group["displayName"]]
        for entry in mapping["groups"]:
            if entry["target"] == "members":
                members = sorted(target_upn[m["value"]] for m in got.get("members") or [])
                wanted = sorted(
                    by_source[m]["userPrincipalName"]
                    for m in group["members"]
                    if by_source[m]["accountEnabled"]
                )
                assert members == wanted, f"{preset.name}: {group['displayName']} members"
            else:
                value = get_value(got, parse_path(entry["target"]))
                assert value == _expected(entry, group), (
                    f"{preset.name}: {group['displayName']} {entry['target']}"
                )
