"""A target that says ``filter.supported: false`` (and ignores filters) is matched by listing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.discovery import FilterFeature, TargetCapabilities, discover
from syncer.core.mapping import compile_mapping
from syncer.runtime.configfile import load_mapping
from syncer.runtime.lookups import Answers, Failures, fit_to_target, match_unlinked
from syncer.settings import MatchingSettings
from syncer.types import Desired, ObjectKind
from tests.support.hostile import HostileTarget
from tests.support.scim_server import ScimTestServer

ASANA = Path(__file__).resolve().parents[2] / "mappings" / "asana.yaml"


@pytest.fixture
def filterless(scim: ScimTestServer) -> Iterator[HostileTarget]:
    for name in ("first@example.org", "second@example.org", "third@example.org"):
        scim.seed_user(userName=name)
    with HostileTarget(scim.base_url, mode="no_filter") as target:
        yield target


def _match(base_url: str, strategy: str, discovered: bool) -> tuple[Answers, Failures]:
    loaded = load_mapping(ASANA)
    mapping = compile_mapping(loaded.settings, file=str(ASANA))
    wanted = Desired(
        ObjectKind.USER,
        "s-2",
        "second",
        {"userName": "second@example.org"},
        (("userName", "second@example.org"),),
    )

    async def run() -> tuple[Answers, Failures]:
        async with ScimClient(base_url, None, retries=1) as client:
            capabilities = await discover(client) if discovered else None
            settings = MatchingSettings(strategy=strategy)  # type: ignore[arg-type]
            return await match_unlinked(client, mapping, [wanted], settings, 2, capabilities)

    return asyncio.run(run())


def test_without_capabilities_a_filterless_target_fails_the_lookup(filterless: HostileTarget) -> None:
    """The query answers the first user; verification refuses it, so the object fails every cycle."""
    answers, failures = _match(filterless.base_url, "query", discovered=False)
    assert not answers and (ObjectKind.USER, "s-2") in failures


def test_with_capabilities_it_is_matched_by_listing(filterless: HostileTarget, scim: ScimTestServer) -> None:
    answers, failures = _match(filterless.base_url, "query", discovered=True)
    assert not failures
    match = answers[(ObjectKind.USER, "s-2")]
    second = next(u for u in scim.resources("Users") if u["userName"] == "second@example.org")
    assert [(hit.id, hit.values["userName"]) for hit in match.hits] == [(second["id"], "second@example.org")]


def test_fit_to_target_keeps_settings_unless_the_target_says_otherwise() -> None:
    configured = MatchingSettings(strategy="query", page_size=1000)
    assert fit_to_target(configured, None) is configured
    assert fit_to_target(configured, TargetCapabilities()) is configured
    cannot = TargetCapabilities(filter=FilterFeature(supported=False))
    assert fit_to_target(configured, cannot).strategy == "list"
    capped = fit_to_target(configured, TargetCapabilities(filter=FilterFeature(True, max_results=200)))
    assert (capped.strategy, capped.page_size) == ("query", 200)
