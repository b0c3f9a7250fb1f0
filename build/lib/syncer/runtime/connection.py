"""Entra's Test Connection, run against a job's target, and what the target says it can do."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from syncer.adapters.scim.discovery import TargetCapabilities, discover
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import compiled_mapping, open_client
from syncer.runtime.targetcheck import Finding, Severity, mapping_findings
from syncer.settings import JobSettings


@dataclass(frozen=True, slots=True)
class TargetReport:
    """The discovered capabilities and what they say about the job's mapping."""

    capabilities: TargetCapabilities
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)


def test_connection(config: LoadedConfig, job: JobSettings) -> TargetReport:
    """Discovery, then ``GET /Users?filter=userName eq "<random guid>"`` (200 and an empty list, or
    a typed error), and the capabilities held against the job's mapping.

    A target that says ``filter.supported: false`` skips the filter probe: it would answer users,
    and such a target is matched by listing (:func:`syncer.runtime.lookups.fit_to_target`).
    """

    async def run() -> TargetCapabilities:
        async with open_client(config, job) as client:
            capabilities = await discover(client)
            if capabilities.filter.supported is not False:
                await client.test_connection()
            return capabilities

    capabilities = asyncio.run(run())
    return TargetReport(capabilities, mapping_findings(compiled_mapping(config, job), capabilities))
