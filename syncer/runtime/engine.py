"""``run_cycle``: the one function that wires the core and the adapters.

``syncer plan``, ``syncer sync``, ``syncer apply`` and the daemon all come through here, so a
dry run computes exactly the plan a real run would send. A dry run reads the source, the state
and (for unlinked objects) the target, and writes nothing anywhere.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import structlog

from syncer.adapters.scim.client import RequestStats, ScimClient
from syncer.adapters.sources.base import Source
from syncer.adapters.sources.files import FileSource
from syncer.adapters.sources.scim import ScimSource
from syncer.adapters.state.store import StateStore
from syncer.core.changes import Plan, PlanInputs, Skip
from syncer.core.expressions import EvaluationContext
from syncer.core.mapping import CompiledMapping, MappingEvaluationError, compile_mapping, map_object
from syncer.core.matching import Match, duplicate_sources, needs_lookup
from syncer.core.planning import IMPORT_SKIPPED, PlanRequest, plan_cycle
from syncer.core.rendering import fingerprint
from syncer.core.safety import empty_source_refusal, hold_deprovisioning
from syncer.core.scimpath import equality_filter, flatten
from syncer.errors import ConfigError, PlanRefused, SourceError
from syncer.runtime.configfile import LoadedConfig, read_secret, read_token
from syncer.runtime.executor import ApplyReport, Executor
from syncer.settings import JobSettings, LdapSourceSettings, ScimSourceSettings
from syncer.types import Desired, JobState, ObjectKind, SourceSnapshot, Status, TargetObject

log = structlog.get_logger("syncer.engine")
Mode = Literal["plan", "sync"]


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did: its plan, and for a real run the run id and the apply report."""

    plan: Plan
    requests: RequestStats
    run_id: str | None = None
    report: ApplyReport | None = None


def state_url(config: LoadedConfig) -> str:
    """The state URL, with a relative SQLite path taken from the config file's folder, not the CWD."""
    url = config.settings.state
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(config.resolve(Path(url[len(prefix) :])))
    return url


def compiled_mapping(config: LoadedConfig, job: JobSettings) -> CompiledMapping:
    loaded = config.mappings[job.name]
    return compile_mapping(loaded.settings, file=str(loaded.document.path), lines=loaded.document.lines)


def config_fingerprint(config: LoadedConfig, job: JobSettings) -> str:
    digest = hashlib.sha256(config.path.read_bytes())
    digest.update(config.mappings[job.name].document.path.read_bytes())
    return "sha256:" + digest.hexdigest()


def check_supported(job: JobSettings) -> None:
    """Refuse settings whose behaviour is not built yet, rather than silently ignoring them."""
    if job.scope.assigned_groups or job.scope.users or job.scope.groups:
        raise ConfigError(
            f"job {job.name}: scope (assigned_groups and scoping filters) is not supported by this "
            "version; remove it to provision every user and group of the source"
        )


def open_source(config: LoadedConfig, job: JobSettings) -> Source:
    """The job's source, by its ``type``; connects to nothing, so ``syncer validate`` stays offline."""
    source = job.source
    if isinstance(source, LdapSourceSettings):
        from syncer.adapters.sources.ldap import LdapSource  # ldap3 loads only for jobs that use it

        where = ("source", "password_file")
        password = read_secret(config, job, source.password, source.password_file, where)
        ca_file = config.resolve(source.ca_file) if source.ca_file else None
        return LdapSource(source, password=password, ca_file=ca_file)
    if isinstance(source, ScimSourceSettings):
        return _scim_source(config, job, source)
    groups = config.resolve(source.groups_path) if source.groups_path else None
    return FileSource(config.resolve(source.path), groups, csv_delimiter=source.csv_delimiter)


def _scim_source(config: LoadedConfig, job: JobSettings, source: ScimSourceSettings) -> ScimSource:
    """A SCIM source reading through the SCIM client: the runtime wires the two adapters together.

    ``adapters.sources`` may not import ``adapters.scim``; the source takes any reader with
    ``list()`` and ``aclose()``, and this is where the real client is handed to it.
    """
    token = read_secret(config, job, source.token, source.token_file, ("source", "token_file"))
    verify: bool | str = str(config.resolve(source.ca_file)) if source.ca_file else source.verify_tls

    def reader() -> ScimClient:
        return ScimClient(
            source.url,
            token,
            timeout=source.timeout.total_seconds(),
            concurrency=1,  # pages are read one after the other
            verify=verify,
            retries=source.retries,
            user_agent="syncer/0.1 (source)",
        )

    return ScimSource(reader, url=source.url, page_size=source.page_size, groups=source.groups)


def open_client(config: LoadedConfig, job: JobSettings) -> ScimClient:
    target = job.target
    verify: bool | str = str(config.resolve(target.ca_file)) if target.ca_file else target.verify_tls
    return ScimClient(
        target.url,
        read_token(config, job),
        timeout=target.timeout.total_seconds(),
        concurrency=target.concurrency,
        verify=verify,
        retries=target.retries,
    )


def _map_all(
    mapping: CompiledMapping, snapshot: SourceSnapshot, context: EvaluationContext
) -> tuple[list[Desired], list[Desired], list[Skip], set[tuple[ObjectKind, str]]]:
    users: list[Desired] = []
    groups: list[Desired] = []
    skips: list[Skip] = []
    protected: set[tuple[ObjectKind, str]] = set()
    for record in snapshot.skipped:
        if record.id is not None:
            protected.add((record.kind, record.id))
            skips.append(
                Skip(
                    record.kind,
                    record.id,
                    record.id,
                    IMPORT_SKIPPED,
                    Status.SKIPPED,
                    f"{record.location}: {record.reason}",
                )
            )
    for kind, objects, out in (
        (ObjectKind.USER, snapshot.users, users),
        (ObjectKind.GROUP, snapshot.groups, groups),
    ):
        object_mapping = mapping.of(kind)
        if not object_mapping.enabled:
            continue
        for obj in objects:
            try:
                out.append(map_object(object_mapping, obj, context))
            except MappingEvaluationError as exc:
                protected.add((kind, obj.id))
                skips.append(Skip(kind, obj.id, obj.id, "AttributeMappingFailure", Status.FAILURE, str(exc)))
                log.warning("mapping_failed", kind=kind.value, source_id=obj.id, error=str(exc))
    return users, groups, skips, protected


async def _lookup(
    client: ScimClient, mapping: CompiledMapping, objects: Sequence[Desired], concurrency: int
) -> dict[tuple[ObjectKind, str], Match]:
    """Query the target for each unlinked object, matching attributes in precedence order."""
    results: dict[tuple[ObjectKind, str], Match] = {}
    semaphore = asyncio.Semaphore(concurrency)

    async def one(obj: Desired) -> None:
        paths = mapping.of(obj.kind).paths
        async with semaphore:
            for path, value in obj.matching:
                found = await client.find(obj.kind, equality_filter(path, value))
                if found:
                    hits = tuple(TargetObject(obj.kind, str(r["id"]), flatten(r, paths)) for r in found)
                    results[(obj.kind, obj.source_id)] = Match(obj.source_id, path, hits)
                    return
        results[(obj.kind, obj.source_id)] = Match(obj.source_id, None, ())

    # a TaskGroup cancels the other lookups at the first failure: one unreachable target, one error
    try:
        async with asyncio.TaskGroup() as group:
            for obj in objects:
                group.create_task(one(obj))
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return results


def _names(users: Sequence[Desired], state: JobState) -> dict[str, str]:
    names = {link.source_id: link.display for link in state.of_kind(ObjectKind.USER)}
    names.update({u.source_id: u.display for u in users})
    return names


async def _run(
    config: LoadedConfig,
    job: JobSettings,
    *,
    mode: Mode,
    saved: Mapping[str, Any] | None,
    clock: Callable[[], datetime],
    on_progress: Callable[[int, int], None] | None,
) -> CycleResult:
    check_supported(job)
    mapping = compiled_mapping(config, job)
    # a blocking read (LDAP, a SCIM source with its own event loop) runs off this loop
    snapshot = await asyncio.to_thread(open_source(config, job).read)
    store = StateStore(state_url(config))
    try:
        state = store.load(job.name)
        refusal = empty_source_refusal(snapshot, state)
        if refusal:
            raise SourceError(f"job {job.name}: {refusal}")
        initial = not store.has_state(job.name)
        context = EvaluationContext(now=clock())
        users, groups, skips, protected = _map_all(mapping, snapshot, context)
        failed = set(duplicate_sources(users)) | set(duplicate_sources(groups))
        inputs = PlanInputs(
            config=config_fingerprint(config, job), source=snapshot.fingerprint, state=state.fingerprint
        )
        if saved is not None:
            _check_inputs(saved, inputs)
        async with open_client(config, job) as client:
            lookups = needs_lookup([*users, *groups], state, failed)
            matches = await _lookup(client, mapping, lookups, job.target.concurrency)
            plan = plan_cycle(
                PlanRequest(
                    job=job.name,
                    initial=initial,
                    users=tuple(users),
                    groups=tuple(groups),
                    state=state,
                    matches=matches,
                    inputs=inputs,
                    skips=tuple(skips),
                    protected=frozenset(protected),
                    manage_members=mapping.groups.members,
                    member_batch_size=job.target.member_batch_size,
                    group_deletes=job.deprovision.group_deletes,
                    names=_names(users, state),
                )
            )
            plan = hold_deprovisioning(plan, job.deprovision.deletion_threshold, managed=len(state.links))
            if saved is not None and fingerprint(plan) != saved.get("fingerprint"):
                raise PlanRefused(
                    "the target changed since the plan was made (matching now finds different objects); "
                    "run `syncer plan` again and review the new plan"
                )
            if mode == "plan":
                return CycleResult(plan=plan, requests=client.stats)
            run_id = store.begin_run(job.name, initial=initial, dry_run=False, started_at=clock())
            structlog.contextvars.bind_contextvars(job=job.name, cycle=run_id)
            try:
                desired = {(d.kind, d.source_id): d for d in (*users, *groups)}
                executor = Executor(
                    job=job.name,
                    run_id=run_id,
                    client=client,
                    store=store,
                    state=state,
                    desired=desired,
                    mapping=mapping,
                    concurrency=job.target.concurrency,
                    clock=clock,
                    on_progress=on_progress,
                )
                try:
                    report = await executor.apply(plan)
                except BaseException:
                    store.finish_run(run_id, finished_at=clock(), status="crashed", counts={})
                    raise
                status = "stopped" if report.stopped else ("failed" if report.failures else "succeeded")
                counts = dict(report.counts)
                counts.update({f"requests.{m}": n for m, n in client.stats.by_method.items()})
                store.finish_run(run_id, finished_at=clock(), status=status, counts=counts)
                log.info(
                    "cycle_finished",
                    status=status,
                    changes=len(plan.changes),
                    failures=report.failures,
                    requests=client.stats.total,
                    writes=client.stats.writes,
                )
                return CycleResult(plan=plan, requests=client.stats, run_id=run_id, report=report)
            finally:
                structlog.contextvars.unbind_contextvars("job", "cycle")
    finally:
        store.close()


def _check_inputs(saved: Mapping[str, Any], inputs: PlanInputs) -> None:
    was = saved.get("inputs") or {}
    moved = [
        what
        for what, key, now in (
            ("the config or its mapping file", "config", inputs.config),
            ("the source directory", "source", inputs.source),
            ("the state (another cycle ran since)", "state", inputs.state),
        )
        if was.get(key) != now
    ]
    if moved:
        raise PlanRefused(
            f"refusing the saved plan: {' and '.join(moved)} changed since it was made; "
            "nothing was sent. Run `syncer plan` again and review the new plan"
        )


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_cycle(
    config: LoadedConfig,
    job_name: str | None,
    *,
    mode: Mode = "sync",
    saved_plan: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] = utc_now,
    on_progress: Callable[[int, int], None] | None = None,
) -> CycleResult:
    """Run one cycle of a job: ``plan`` stops after planning, ``sync`` applies the plan."""
    job = config.settings.job(job_name)
    return asyncio.run(_run(config, job, mode=mode, saved=saved_plan, clock=clock, on_progress=on_progress))
