"""Entra's Test Connection, run against a job's target, and what the target says it can do."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from syncer.adapters.scim.client import ScimClient
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
    auth: str = "bearer token"
    """How syncer authenticated, and for OAuth that a token was obtained (never the token)."""

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

    async def run() -> tuple[TargetCapabilities, str]:
        async with open_client(config, job) as client:
            found = await discovery.refresh(None, job.name, job.target, client)
            if save:
                _remember(config, job, found)
            if found.capabilities.filter.supported is not False:
                await client.test_connection()
            return found.capabilities, auth_text(client, job)

    capabilities, auth = asyncio.run(run())
    return TargetReport(capabilities, mapping_findings(compiled_mapping(config, job), capabilities), auth)


def _remember(config: LoadedConfig, job: JobSettings, found: discovery.Discovered) -> None:
    try:
        with StateStore.open(state_url(config)) as store:
            discovery.remember(store, job.name, job.target, found)
    except StateError as exc:
        log.warning("capabilities_not_cached", job=job.name, error=str(exc))


def auth_text(client: ScimClient, job: JobSettings) -> str:
    """``bearer token``, ``none``, or the OAuth client and the token obtained (its lifetime, scope)."""
    auth = client.auth
    if auth is None:
        given = job.target.token is not None or job.target.token_file is not None
        return "bearer token" if given else "none (no token configured)"
    token = auth.token
    if token is None:
        return f"{auth.describe()}: no token obtained"
    text = f"{auth.describe()}: token obtained"
    details = [f"expires in {token.lifetime:g} s"] if token.lifetime is not None else []
    details += [f"scope {token.scope}"] if token.scope else []
    return f"{text} ({', '.join(details)})" if details else text
