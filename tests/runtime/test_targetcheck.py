"""The mapping held against the target's announcements, without a server: names, checks, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.adapters.scim.discovery import ResourceType, SchemaExtension, TargetCapabilities
from syncer.core.mapping import compile_mapping
from syncer.errors import ConfigError
from syncer.runtime.capabilities import refuse_missing_extensions
from syncer.runtime.configfile import load_mapping
from syncer.runtime.targetcheck import Check, did_you_mean, mapping_findings

ASANA = Path(__file__).resolve().parents[2] / "mappings" / "asana.yaml"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _capabilities(*extensions: str) -> TargetCapabilities:
    users = ResourceType("User", "/Users", CORE, tuple(SchemaExtension(e) for e in extensions))
    groups = ResourceType("Group", "/Groups", "urn:ietf:params:scim:schemas:core:2.0:Group")
    return TargetCapabilities(resource_types=(users, groups))


def test_did_you_mean_names_the_nearest_attribute_case_insensitively() -> None:
    names = ["userName", "title", "displayName", "emails"]
    assert did_you_mean("titel", names) == " (did you mean 'title'?)"
    assert did_you_mean("USERNAM", names) == " (did you mean 'userName'?)"
    assert did_you_mean("favouriteColour", names) == ""


def test_a_missing_extension_is_one_refusal_naming_every_line() -> None:
    loaded = load_mapping(ASANA)
    mapping = compile_mapping(loaded.settings, file=str(ASANA), lines=loaded.document.lines)
    missing = [
        f for f in mapping_findings(mapping, _capabilities()) if f.check is Check.EXTENSION_NOT_OFFERED
    ]
    assert len(missing) == 6 and {f.urn for f in missing} == {ENTERPRISE}
    with pytest.raises(ConfigError) as refused:
        refuse_missing_extensions("hr", mapping, _capabilities())
    text = str(refused.value)
    assert text.count(ENTERPRISE) == 1 and all(f"{f.where} (" in text for f in missing)
    assert f"{ASANA}:15 (department)" in text
    refuse_missing_extensions("hr", mapping, _capabilities(ENTERPRISE))  # offered: nothing to say
    refuse_missing_extensions("hr", mapping, TargetCapabilities())  # nothing discovered: nothing known
