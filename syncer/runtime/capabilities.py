"""What the job's target can do, for a cycle: discovery cached in the state, refreshed daily.

RFC 7644 §4's ``/ServiceProviderConfig``, ``/ResourceTypes`` and ``/Schemas`` change when the
target is upgraded, not between two cycles, so a cycle reads them from the state
(:meth:`~syncer.adapters.state.StateStore.target_capabilities`) while they are less than a day
old and only then asks the target again (three GETs a day, not three a cycle). Age is measured
on the real clock, never on ``$SYNCER_NOW``, and a cache fetched "in the future" (the clock went
back) is stale. ``test-connection`` always refreshes: it is what an admin runs after changing
the target.

A target whose discovery fails (a 500 after the retries, an answer that is not SCIM) is not a
reason to fail the cycle: RFC defaults are assumed (*unknown* everywhere, so the job's settings
stand) and that is remembered for an hour, so a target that fails discovery is not asked three
more times every cycle. Credentials, TLS and an unreachable target are not swallowed: the cycle
would fail on them anyway, and it must say so the same way it always did.

What the cycle does with the answers: :func:`update_method` (PUT when the target says
``patch.supported: false``, unless the config says otherwise), :func:`pagination` (cursors when
it says index paging is not offered, unless the config says otherwise), :func:`refuse_missing_extensions`,
and :func:`syncer.runtime.lookups.fit_to_target` (listing when it cannot filter, pages within
``filter.maxResults`` and ``pagination.maxPageSize``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.discovery import UNKNOWN, DiscoveryAnswers, TargetCapabilities, read_answers
from syncer.adapters.state.store import StateStore, StoredDiscovery
from syncer.core.display import redact_url
from syncer.core.mapping import CompiledMapping
from syncer.errors import ConfigError, TargetError, TargetUnreachable, TlsError, UnauthorizedError
from syncer.runtime.targetcheck import Check, mapping_findings
from syncer.settings import TargetPagination, TargetSettings
from syncer.types import Pagination

log = structlog.get_logger("syncer.capabilities")
FRESH_FOR = timedelta(days=1)
"""How long discovery answers are used before the target is asked again."""
FAILED_FRESH_FOR = timedelta(hours=1)
"""How long a failed discovery (RFC defaults assumed) stands before it is tried again."""
FAILED = "failed"
"""The cached row's key for why discovery failed (then no answers are kept)."""
NOT_SWALLOWED = (UnauthorizedError, TlsError, TargetUnreachable)


def real_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Discovered:
    """The capabilities a cycle acts on, and where they came from."""

    capabilities: TargetCapabilities
    fetched_at: datetime
    from_cache: bool = False
    failed: str | None = None
    """Why discovery failed (RFC defaults assumed), or ``None``."""
    answers: DiscoveryAnswers | None = None
    """What the target answered (what :func:`remember` caches), just asked or read from the cache."""

    @property
    def schemas_digest(self) -> str:
        """A digest of the target's ``/ResourceTypes`` and ``/Schemas`` (``""`` when not known).

        Part of a refusal's fingerprint (:mod:`syncer.core.refusals`): an extension or attribute
        the target gained may be what lets a refused change through, so a change there resends.
        """
        if self.answers is None:
            return ""
        body = {"ResourceTypes": self.answers.resource_types, "Schemas": self.answers.schemas}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def cache_key(target: TargetSettings) -> str:
    """The target URL as the cache keys it: no userinfo, query or fragment (they may be secrets)."""
    return redact_url(target.url, keep_path=True)


def cached(store: StateStore, job: str, target: TargetSettings) -> Discovered | None:
    """The cached discovery of the job's target, fresh or not; ``None`` when never fetched."""
    stored = store.target_capabilities(job, cache_key(target))
    if stored is None:
        return None
    failed = stored.answers.get(FAILED) if isinstance(stored.answers, dict) else None
    if isinstance(failed, str):
        return Discovered(UNKNOWN, stored.fetched_at, from_cache=True, failed=failed)
    answers = DiscoveryAnswers.from_json(stored.answers)
    return Discovered(answers.capabilities, stored.fetched_at, from_cache=True, answers=answers)


def is_fresh(discovered: Discovered, now: datetime) -> bool:
    age = now - discovered.fetched_at
    return timedelta(0) <= age < (FAILED_FRESH_FOR if discovered.failed else FRESH_FOR)


async def refresh(
    store: StateStore | None,
    job: str,
    target: TargetSettings,
    client: ScimClient,
    clock: Callable[[], datetime] = real_now,
) -> Discovered:
    """Ask the target now, and cache what it answered (``store`` ``None``: a dry run, cache nothing).

    Errors are raised as the client raises them (``test-connection`` reports each); a missing
    endpoint is not an error (:func:`~syncer.adapters.scim.discovery.read_answers`).
    """
    answers = await read_answers(client, plural_first=target.quirks.plural_discovery)
    discovered = Discovered(answers.capabilities, clock(), answers=answers)
    if store is not None:
        remember(store, job, target, discovered)
    return discovered


def remember(store: StateStore, job: str, target: TargetSettings, discovered: Discovered) -> None:
    """Cache ``discovered`` (what was just asked, or a failure) for the next cycles."""
    if discovered.failed is not None:
        answers: dict[str, object] = {FAILED: discovered.failed}
    else:
        answers = discovered.answers.to_json() if discovered.answers is not None else {}
    stored = StoredDiscovery(answers, discovered.fetched_at)
    store.save_target_capabilities(job, cache_key(target), stored)


async def for_cycle(
    store: StateStore,
    job: str,
    target: TargetSettings,
    client: ScimClient,
    *,
    save: bool = True,
    clock: Callable[[], datetime] = real_now,
) -> Discovered:
    """The cache while fresh, else a refresh; a discovery that fails falls back to RFC defaults.

    ``save`` is off for a dry run (``plan``), which writes nothing to the state: it reads a fresh
    cache like any cycle, and otherwise asks the target without keeping the answer. The client
    then pages as :func:`pagination` says, so every listing after discovery pages the same way.
    """
    found = await _for_cycle(store, job, target, client, save=save, clock=clock)
    page_as_announced(client, target, found.capabilities)
    return found


def page_as_announced(client: ScimClient, target: TargetSettings, capabilities: TargetCapabilities) -> None:
    """Have every later listing of ``client`` page as :func:`pagination` says, within ``maxPageSize``."""
    limits = [n for n in (capabilities.pagination.max_page_size, target.quirks.max_page_size) if n]
    client.page_like(pagination(target, capabilities), min(limits) if limits else None)


async def _for_cycle(
    store: StateStore,
    job: str,
    target: TargetSettings,
    client: ScimClient,
    *,
    save: bool,
    clock: Callable[[], datetime],
) -> Discovered:
    known = cached(store, job, target)
    if known is not None and is_fresh(known, clock()):
        return known
    try:
        return await refresh(store if save else None, job, target, client, clock)
    except NOT_SWALLOWED:
        raise
    except TargetError as exc:
        reason = f"discovery failed ({exc}); RFC defaults assumed"
        log.warning("discovery_failed", job=job, error=str(exc), assumed="RFC defaults")
        fallback = Discovered(UNKNOWN, clock(), failed=reason)
        if save:
            remember(store, job, target, fallback)
        return fallback


def update_method(target: TargetSettings, capabilities: TargetCapabilities) -> str:
    """``put`` for a target that says ``patch.supported: false``; a configured value always wins."""
    if "update_method" in target.model_fields_set or capabilities.patch.supported is not False:
        return target.update_method
    return "put"


def pagination(target: TargetSettings, capabilities: TargetCapabilities | None) -> Pagination:
    """How the target's listings page: as configured, else by cursor only where index paging is out.

    ``auto`` keeps ``startIndex`` (every RFC 7644 target takes it) unless ``/ServiceProviderConfig``
    says ``pagination.index: false`` and offers cursors (``cursor: true`` or
    ``defaultPaginationMethod: cursor``), as AWS IAM Identity Center does: asking it for an index
    page only gets a 400. A profile whose target documents cursor pages (``aws-identity-center``,
    ``entra``) pages by cursor under ``auto`` whatever discovery says: not every such target says so.
    """
    if target.pagination is not TargetPagination.AUTO:
        return Pagination(target.pagination.value)
    if target.quirks.cursor_pagination:
        return Pagination.CURSOR
    if capabilities is None:
        return Pagination.INDEX
    offered = capabilities.pagination
    if offered.index is False and (offered.cursor or offered.default_method is Pagination.CURSOR):
        return Pagination.CURSOR
    return Pagination.INDEX


def refuse_missing_extensions(job: str, mapping: CompiledMapping, capabilities: TargetCapabilities) -> None:
    """Refuse the cycle, before its first request past discovery, when the mapping writes a schema
    extension the target does not offer: every create and update carrying it would be refused
    (a 400 per object, resent every escrow step), so one error naming each mapping line is better.
    """
    missing = [f for f in mapping_findings(mapping, capabilities) if f.check is Check.EXTENSION_NOT_OFFERED]
    if not missing:
        return
    where = ", ".join(f"{f.where} ({_in_extension(f.subject, f.urn)})" for f in missing)
    urns = ", ".join(sorted({f.urn for f in missing if f.urn}))
    raise ConfigError(
        f"job {job}: the target does not offer the schema extension {urns} (its /ResourceTypes lists "
        f"no such schemaExtensions), yet the mapping writes it at {where}. Nothing was sent: every "
        "write carrying it would be refused. Remove those mappings, or enable the extension on the "
        "target and run `syncer test-connection` to read its capabilities again"
    )


def _in_extension(path: str, urn: str | None) -> str:
    """``department`` for ``urn:…:enterprise:2.0:User:department``: the URN is said once already."""
    prefix = f"{urn}:".lower() if urn else None
    return path[len(prefix) :] if prefix and path.lower().startswith(prefix) else path
