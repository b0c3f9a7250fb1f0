"""The discovery cache: three GETs a day, not three a cycle; a broken discovery never fails a cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.discovery import Feature, TargetCapabilities
from syncer.adapters.state.store import StateStore, StoredDiscovery
from syncer.errors import UnauthorizedError
from syncer.runtime import capabilities
from syncer.runtime.capabilities import Discovered
from syncer.settings import TargetSettings
from tests.support.hostile import HostileTarget
from tests.support.scim_server import ScimTestServer

JOB = "hr-to-asana"


@pytest.fixture
def hostile(scim: ScimTestServer) -> Iterator[HostileTarget]:
    with HostileTarget(scim.base_url) as target:
        yield target


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


def _target(hostile: HostileTarget) -> TargetSettings:
    return TargetSettings(url=hostile.base_url)


def _for_cycle(store: StateStore, hostile: HostileTarget, *, save: bool = True) -> Discovered:
    async def run() -> Discovered:
        async with ScimClient(hostile.base_url, None, retries=1) as client:
            return await capabilities.for_cycle(store, JOB, _target(hostile), client, save=save)

    return asyncio.run(run())


def test_a_fresh_cache_is_used_and_a_day_old_one_is_refreshed(
    store: StateStore, hostile: HostileTarget
) -> None:
    first = _for_cycle(store, hostile)
    assert hostile.requests() == 3 and not first.from_cache
    assert first.capabilities.patch.supported is True
    hostile.set_mode("honest")  # counters from zero
    again = _for_cycle(store, hostile)
    assert hostile.requests() == 0 and again.from_cache
    assert again.capabilities == first.capabilities
    key = capabilities.cache_key(_target(hostile))
    stored = store.target_capabilities(JOB, key)
    assert stored is not None
    day_old = datetime.now(UTC) - timedelta(days=1, minutes=1)
    store.save_target_capabilities(JOB, key, StoredDiscovery(stored.answers, day_old))
    hostile.set_mode("no_filter")  # the target was upgraded (downgraded) since
    refreshed = _for_cycle(store, hostile)
    assert hostile.requests() == 3 and not refreshed.from_cache
    assert refreshed.capabilities.patch.supported is False
    cached = capabilities.cached(store, JOB, _target(hostile))
    assert cached == Discovered(
        refreshed.capabilities, refreshed.fetched_at, from_cache=True, answers=refreshed.answers
    )
    # a held refusal is compared with this digest: the same from the cache as just asked, and
    # untouched by a ServiceProviderConfig change (only /ResourceTypes and /Schemas shape a body)
    assert cached.schemas_digest == refreshed.schemas_digest == first.schemas_digest != ""


def test_a_cache_from_the_future_is_stale(store: StateStore, hostile: HostileTarget) -> None:
    """The clock went back (or the state came from another machine): ask again rather than trust it."""
    _for_cycle(store, hostile)
    key = capabilities.cache_key(_target(hostile))
    stored = store.target_capabilities(JOB, key)
    assert stored is not None
    ahead = datetime.now(UTC) + timedelta(hours=2)
    store.save_target_capabilities(JOB, key, StoredDiscovery(stored.answers, ahead))
    hostile.set_mode("honest")
    assert not _for_cycle(store, hostile).from_cache and hostile.requests() == 3


def test_a_dry_run_reads_the_cache_but_writes_none(store: StateStore, hostile: HostileTarget) -> None:
    _for_cycle(store, hostile, save=False)
    assert store.target_capabilities(JOB, capabilities.cache_key(_target(hostile))) is None
    _for_cycle(store, hostile)
    hostile.set_mode("honest")
    assert _for_cycle(store, hostile, save=False).from_cache and hostile.requests() == 0


def test_endpoints_the_target_lacks_are_cached_as_unknown(store: StateStore, hostile: HostileTarget) -> None:
    hostile.set_mode("no_discovery")
    found = _for_cycle(store, hostile)
    assert found.failed is None and found.capabilities.patch.supported is None
    assert "/Schemas is not offered (404)" in found.capabilities.notes
    hostile.set_mode("no_discovery")
    assert _for_cycle(store, hostile).from_cache and hostile.requests() == 0


def test_a_broken_discovery_falls_back_to_rfc_defaults_and_is_remembered(
    store: StateStore, hostile: HostileTarget
) -> None:
    hostile.set_mode("broken_discovery")
    found = _for_cycle(store, hostile)
    assert found.failed is not None and "RFC defaults assumed" in found.failed
    assert found.capabilities == capabilities.UNKNOWN
    hostile.set_mode("broken_discovery")
    again = _for_cycle(store, hostile)
    assert again.from_cache and again.failed == found.failed and hostile.requests() == 0
    key = capabilities.cache_key(_target(hostile))
    stored = store.target_capabilities(JOB, key)
    assert stored is not None
    store.save_target_capabilities(
        JOB, key, StoredDiscovery(stored.answers, datetime.now(UTC) - timedelta(hours=1, minutes=1))
    )
    hostile.set_mode("honest")
    assert _for_cycle(store, hostile).failed is None and hostile.requests() == 3  # tried again after an hour


def test_refused_credentials_are_not_swallowed(tmp_path: Path) -> None:
    with ScimTestServer(token="right") as server, StateStore.open(f"sqlite:///{tmp_path / 's.db'}") as store:

        async def run() -> Discovered:
            async with ScimClient(server.base_url, "wrong", retries=1) as client:
                target = TargetSettings(url=server.base_url)
                return await capabilities.for_cycle(store, JOB, target, client)

        with pytest.raises(UnauthorizedError):
            asyncio.run(run())
        assert (
            store.target_capabilities(JOB, capabilities.cache_key(TargetSettings(url=server.base_url)))
            is None
        )


def test_the_cache_key_holds_no_secret() -> None:
    target = TargetSettings(url="https://user:pw@scim.example.com/scim/v2?sig=abc")
    key = capabilities.cache_key(target)
    assert key.startswith("https://scim.example.com/scim/v2")
    assert "pw" not in key and "sig" not in key and "abc" not in key


def test_update_method_follows_patch_unless_configured() -> None:
    cannot = TargetCapabilities(patch=Feature(False))
    assert capabilities.update_method(TargetSettings(url="https://x.example/scim"), cannot) == "put"
    assert (
        capabilities.update_method(TargetSettings(url="https://x.example/scim"), capabilities.UNKNOWN)
        == "patch"
    )
    explicit = TargetSettings(url="https://x.example/scim", update_method="patch")
    assert capabilities.update_method(explicit, cannot) == "patch"
