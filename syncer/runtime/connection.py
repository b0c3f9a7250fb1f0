"""Entra's Test Connection, run against a job's target, and what the target says it can do."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from syncer.adapters.scim.discovery import TargetCapabilities
from syncer.adapters.state.store import StateStore
from syncer.errors import StateError
from syncer.runtime import capabilities as discovery
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import compiled_mapping, open_client, state_url
from syncer.runtime.targetcheck import Finding, Severity, mapping_findings
from syncer.settings import JobSettings

log = structlog.get_logger("syncer.capabilities")


@dataclass(frozen=True, slots=True)
class TargetReport:
    """The discovered capabilities and what they say about the job's mapping."""

    capabilities: TargetCapabilities
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)


def test_connection(config: LoadedConfig, job: JobSettings, *, save: bool = True) -> TargetReport:
    """Discovery, then ``GET /Users?filter=userName eq "<random guid>"`` (200 and an empty list, or
    a typed error), and the capabilities held against the job's mapping.

    A target that says ``filter.supported: false`` skips the filter probe: it would answer users,
    and such a target is matched by listing (:func:`syncer.runtime.lookups.fit_to_target`).
    With ``save`` (``test-connection``, not ``validate --online``) what the target answered
    replaces the state's cached discovery, so the next cycle acts on it at once; a state that
    cannot be written costs the cache, not the test.
    """

    async def run() -> TargetCapabilities:
        async with open_client(config, job) as client:
            found = await discovery.refresh(None, job.name, job.target, client)
            if save:
                _remember(config, job, found)
            if found.capabilities.filter.supported is not False:
                await client.test_connection()
            return found.capabilities

    capabilities = asyncio.run(run())
    return TargetReport(capabilities, mapping_findings(compiled_mapping(config, job), capabilities))


def _remember(config: LoadedConfig, job: JobSettings, found: discovery.Discovered) -> None:
    try:
        with StateStore.open(state_url(config)) as store:
            discovery.remember(store, job.name, job.target, found)
    except StateError as exc:
        log.warning("capabilities_not_cached", job=job.name, error=str(exc))
