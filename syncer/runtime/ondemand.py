"""Provision on demand: one object (or one group with up to 5 members) through every step, now.

Entra's "Provision on demand" page, client side: import the object from the source, evaluate
its scope, match it on the target, and perform the action, reporting each step with its
outcome. The plan is the full cycle's plan (same intake, same matching, same planner) cut down
to the chosen objects, so the result is exactly what the next cycle would have done for them,
and that cycle then finds nothing left to send. Records go to the provisioning log with a run
id starting ``ondemand-``; no run is recorded, so the job's cycles are not affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from syncer.adapters.state.store import StateStore
from syncer.core.changes import PlanInputs
from syncer.core.expressions import EvaluationContext
from syncer.core.intake import take_in
from syncer.core.mapping import source_view
from syncer.core.matching import Match, duplicate_sources, needs_lookup
from syncer.core.planning import PlanRequest, plan_cycle
from syncer.errors import SyncerError, TargetError
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import (
    _names,
    assigned_scope,
    compiled_mapping,
    compiled_scope,
    config_fingerprint,
    open_client,
    open_source,
    state_url,
    utc_now,
)
from syncer.runtime.executor import Executor
from syncer.runtime.lookups import query_each
from syncer.types import JobState, ObjectKind, ProvisioningLogEntry, SourceObject

MAX_GROUP_MEMBERS = 5
Key = tuple[ObjectKind, str]


@dataclass(frozen=True)
class DemandStep:
    """One step of the on-demand page: its name, outcome and what it found."""

    name: str
    status: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class DemandResult:
    steps: tuple[DemandStep, ...]
    records: tuple[ProvisioningLogEntry, ...]

    @property
    def ok(self) -> bool:
        return all(step.status != "Failure" for step in self.steps)


class _Stop(Exception):
    """A step failed: the remaining steps are not run."""


def provision_on_demand(
    config: LoadedConfig, job_name: str, source_id: str, *, clock: Callable[[], datetime] = utc_now
) -> DemandResult:
    """Run one source object (a user, or a group with up to 5 members) through a cycle now."""
    steps: list[DemandStep] = []
    records: list[ProvisioningLogEntry] = []
    with contextlib.suppress(_Stop):
        asyncio.run(_provision(config, job_name, source_id, clock, steps, records))
    return DemandResult(tuple(steps), tuple(records))


def _find(objects: tuple[SourceObject, ...], source_id: str) -> SourceObject | None:
    return next((o for o in objects if o.id == source_id), None)


async def _provision(
    config: LoadedConfig,
    job_name: str,
    source_id: str,
    clock: Callable[[], datetime],
    steps: list[DemandStep],
    records: list[ProvisioningLogEntry],
) -> None:
    job = config.settings.job(job_name)
    mapping = compiled_mapping(config, job)
    scope = compiled_scope(config, job)

    def step(name: str, status: str, *lines: str) -> None:
        steps.append(DemandStep(name, status, tuple(lines)))
        if status == "Failure":
            raise _Stop

    # 1. import
    try:
        snapshot = open_source(config, job).read()
    except SyncerError as exc:
        step("Import", "Failure", str(exc))
    obj = _find(snapshot.users, source_id) or _find(snapshot.groups, source_id)
    if obj is None:
        skipped = [s for s in snapshot.skipped if s.id == source_id]
        why = f"not imported: {skipped[0].location}: {skipped[0].reason}" if skipped else "not in the source"
        step("Import", "Failure", f"no user or group with id {source_id!r}: {why}")
    assert obj is not None
    attributes = source_view(obj)
    members: tuple[str, ...] = ()
    if obj.kind is ObjectKind.GROUP:
        members = obj.members
        if len(members) > MAX_GROUP_MEMBERS:
            step(
                "Import",
                "Failure",
                f"group {obj.id} has {len(members)} members; provision on demand takes a group with up to "
                f"{MAX_GROUP_MEMBERS} (run a cycle instead: `syncer sync --job {job.name}`)",
            )
    filled = sum(1 for v in attributes.values() if v not in (None, "", ()))
    step(
        "Import",
        "Success",
        f"retrieved {obj.kind.value} {obj.id} from the source ({filled} attributes with a value)",
        *([f"members: {', '.join(members) or 'none'}"] if obj.kind is ObjectKind.GROUP else []),
    )

    # 2. scoping
    assigned = assigned_scope(job, scope, snapshot)
    now = clock()
    intake = take_in(
        snapshot, mapping, scope, assigned, EvaluationContext(now=now), provision_groups=job.provision_groups
    )
    chosen: set[Key] = {(obj.kind, obj.id)} | {(ObjectKind.USER, m) for m in members}
    found = next(
        (d for d in (*intake.users, *intake.groups) if (d.kind, d.source_id) == (obj.kind, obj.id)), None
    )
    active = found is None or not found.soft_deleted
    explained = scope.explain(obj, attributes, assigned)
    if obj.kind is ObjectKind.USER:
        explained.insert(0, f"active in the source: {'yes' if active else 'no (IsSoftDeleted)'}")
    entitled = found is not None and active
    step("Determine if in scope", "Success" if entitled else "Skipped", *explained)

    with StateStore(state_url(config)) as store:
        state = store.load(job.name)
        async with open_client(config, job) as client:
            # 3. matching: the chosen objects only; the rest of the plan is cut away below
            failed = set(duplicate_sources(intake.users)) | set(duplicate_sources(intake.groups))
            unlinked = needs_lookup([*intake.users, *intake.groups], state, failed)
            wanted = [d for d in unlinked if (d.kind, d.source_id) in chosen]
            try:
                matches, _failed = await query_each(client, mapping, wanted, job.target.concurrency)
            except TargetError as exc:
                step("Match on the target", "Failure", f"the target refused the lookup: {exc}")
            for other in unlinked:
                matches.setdefault((other.kind, other.source_id), Match(other.source_id, None, ()))
            keys = [(obj.kind, obj.id), *((ObjectKind.USER, m) for m in members)]
            looked_up = {(d.kind, d.source_id) for d in wanted}
            duplicate = any(len(matches[k].hits) > 1 for k in looked_up)
            step(
                "Match on the target",
                "Failure" if duplicate else "Success",
                *_match_lines(keys, state, matches, looked_up),
            )

            # 4. action
            plan = plan_cycle(
                PlanRequest(
                    job=job.name,
                    initial=False,
                    users=intake.users,
                    groups=intake.groups,
                    state=state,
                    matches=matches,
                    inputs=PlanInputs(
                        config=config_fingerprint(config, job),
                        source=snapshot.fingerprint,
                        state=state.fingerprint,
                    ),
                    skips=intake.skips,
                    protected=intake.protected,
                    manage_members=mapping.groups.members,
                    member_batch_size=job.target.member_batch_size,
                    group_deletes=job.deprovision.group_deletes and job.provision_groups,
                    names=_names(intake.users, state),
                    out_of_scope=intake.out_of_scope,
                    out_of_scope_policy=job.deprovision.out_of_scope,
                    now=now,
                    hard_delete_after=job.deprovision.hard_delete_after if job.deprovision.deletes else None,
                )
            )
            plan = dataclasses.replace(
                plan,
                changes=tuple(c for c in plan.changes if (c.kind, c.source_id) in chosen),
                skips=tuple(s for s in plan.skips if (s.kind, s.source_id) in chosen),
                held=(),
                held_reason=None,
            )
            run_id = f"ondemand-{uuid.uuid4().hex}"
            desired = {(d.kind, d.source_id): d for d in (*intake.users, *intake.groups)}
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
            )
            await executor.apply(plan)
            written = store.search_log(job=job.name, run_id=run_id)
    records.extend(written)
    order = {key: i for i, key in enumerate([(obj.kind, obj.id), *((ObjectKind.USER, m) for m in members)])}
    written.sort(key=lambda e: order.get((e.kind, e.source_id), len(order)))
    lines = []
    for entry in written:
        name = entry.display or entry.source_id
        line = f"{entry.action.value} {entry.kind.value} {name}: {entry.status.value}"
        if entry.reason:
            line += f" ({entry.reason}{': ' + entry.detail if entry.detail else ''})"
        lines.append(line)
        lines.extend(f"  {m.name}: {m.old!r} -> {m.new!r}" for m in entry.modified)
    if not lines:
        lines.append("nothing to do: the object is out of scope and was never provisioned")
    worst = next(
        (s for s in ("Failure", "Warning", "Skipped") if any(e.status.value == s for e in written)), "Success"
    )
    steps.append(DemandStep("Perform action", worst, tuple(lines)))


def _match_lines(
    keys: list[Key], state: JobState, matches: dict[Key, Match], looked_up: set[Key]
) -> list[str]:
    lines = []
    for kind, source_id in keys:
        link = state.link(kind, source_id)
        label = f"{kind.value} {source_id}"
        if link is not None:
            lines.append(f"{label}: linked to target id {link.target_id} ({link.origin}; from the state)")
        elif (kind, source_id) not in looked_up:
            lines.append(f"{label}: not looked up (not in scope, or failed before matching)")
        else:
            match = matches[(kind, source_id)]
            if not match.hits:
                lines.append(f"{label}: no target object matches: it will be created")
            else:
                ids = ", ".join(h.id for h in match.hits)
                lines.append(f"{label}: {len(match.hits)} target object(s) match on {match.path}: {ids}")
    return lines
