"""Provision on demand: one object (or one group with up to 5 members) through every step, now.

Entra's "Provision on demand" page, client side: import the object from the source, evaluate
its scope, match it on the target, and perform the action, reporting each step with its
outcome. These are the cycle's own steps (``runtime.cycle``) with the job's own wiring
(``JobContext``: update method, dialect, default domain), cut down to the chosen objects, so
the result is exactly what the next cycle would have done for them, and that cycle then finds
nothing left to send. Records go to the provisioning log with a run id starting ``ondemand-``;
no run is recorded, so the job's cycles are not affected.

The cycle's guards, decided here and nowhere else (:func:`refusal` and :func:`cut`):

* a **disabled** job is refused (``syncer restart`` enables it);
* a **paused** or **quarantined** job is refused unless ``--force``: Entra's provision on
  demand refuses a job in quarantine, and a pause means "send nothing" until the admin says so;
* **scope** is respected: an object out of scope is shown with why, and only deprovisioned
  as the cycle would;
* an **escrowed** object is sent now, whatever its backoff, and so is one held after the target
  refused exactly what it sends (``core.refusals``): asking for one object by id is the admin's
  "retry it now", success clears its escrow, and the same refusal holds it again;
* a removal the **deletion threshold** holds stays held (shown as ``StagedDelete``, released by
  ``approve-deletions``) unless ``--force``: one object at a time must not get around the
  guard against a broken source;
* an attribute change the **change threshold** holds (``core.changeguard``) stays held, released
  by ``approve-changes``, unless ``--force``, for the same reason;
* a config change held by ``hold_on_config_change`` does not stop it: on demand is how an admin
  tries the new mapping on one object.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.discovery import UNKNOWN, TargetCapabilities
from syncer.adapters.state.store import StateStore
from syncer.core.changes import Plan
from syncer.core.findsource import AmbiguousSourceName, find_source_object
from syncer.core.mapping import source_view
from syncer.core.matching import Match
from syncer.core.policy import TOO_MANY_DELETES
from syncer.core.refusals import Grounds
from syncer.errors import SyncerError, TargetError
from syncer.runtime import capabilities as discovery
from syncer.runtime import cycle
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import cycle_clock
from syncer.runtime.jobcontext import JobContext, Key
from syncer.runtime.standing import JobStanding, Standing, overview
from syncer.types import JobState, ObjectKind, ProvisioningLogEntry, SourceObject, SourceSnapshot

MAX_GROUP_MEMBERS = 5
FAILURE, SUCCESS, SKIPPED = "Failure", "Success", "Skipped"


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
    held: int = 0
    """Removals of the object the deletion threshold held (not sent: pending, not done)."""

    @property
    def ok(self) -> bool:
        return all(step.status != FAILURE for step in self.steps)


class _Stop(Exception):
    """A step failed: the remaining steps are not run."""


class _Page:
    """The steps reported so far; a failed step stops the rest."""

    def __init__(self) -> None:
        self.steps: list[DemandStep] = []
        self.records: list[ProvisioningLogEntry] = []
        self.held = 0

    def step(self, name: str, status: str, *lines: str) -> None:
        self.steps.append(DemandStep(name, status, tuple(lines)))
        if status == FAILURE:
            raise _Stop


def refusal(standing: JobStanding, force: bool) -> str | None:
    """Why on demand must not run for this job now, or ``None`` (see the module docstring)."""
    name = standing.job
    if standing.state is Standing.DISABLED:
        return f"job {name} is disabled: {standing.reason}; `syncer restart --job {name}` enables it"
    if standing.state in (Standing.PAUSED, Standing.QUARANTINED) and not force:
        quarantine = standing.health.quarantine
        held = quarantine is not None and quarantine.reason == TOO_MANY_DELETES
        release = f"; `syncer approve-deletions --job {name}` releases the held removals" if held else ""
        return (
            f"job {name} is {standing.state.value} ({standing.reason}){release}; provision on demand sends "
            "nothing for it. Add --force to provision this object anyway"
        )
    return None


def cut(plan: Plan, chosen: set[Key], force: bool) -> Plan:
    """The plan cut to the chosen objects; their held removals are sent only when forced."""
    held = tuple(c for c in plan.held if (c.kind, c.source_id) in chosen)
    return dataclasses.replace(
        plan,
        changes=tuple(c for c in plan.changes if (c.kind, c.source_id) in chosen) + (held if force else ()),
        skips=tuple(s for s in plan.skips if (s.kind, s.source_id) in chosen),
        held=() if force else held,
        held_reason=plan.held_reason if held and not force else None,
        held_updates=tuple(
            dataclasses.replace(a, changes=mine)
            for a in plan.held_updates
            if (mine := tuple(c for c in a.changes if (ObjectKind.USER, c.source_id) in chosen))
        ),
    )


def provision_on_demand(
    config: LoadedConfig,
    job_name: str,
    source_id: str,
    *,
    clock: Callable[[], datetime] | None = None,
    force: bool = False,
) -> DemandResult:
    """Run one source object (a user, or a group with up to 5 members) through a cycle now."""
    page = _Page()
    context = JobContext.build(config, job_name)
    with contextlib.suppress(_Stop):
        asyncio.run(_provision(context, source_id, clock or cycle_clock(), force, page))
    return DemandResult(tuple(page.steps), tuple(page.records), page.held)


async def _provision(
    context: JobContext, source_id: str, clock: Callable[[], datetime], force: bool, page: _Page
) -> None:
    with context.open_store() as store:
        standing = overview(store, context.job, clock())
        refused = refusal(standing, force)
        if refused:
            page.step("Check the job", FAILURE, refused)
        state = store.load(context.name)
        try:
            snapshot = await cycle.read(context)
            imported = cycle.import_(context, snapshot, state, initial=False, now=clock(), quiet=True)
        except SyncerError as exc:
            page.step("Import", FAILURE, str(exc))
        forced = standing.state.value if force and standing.state is not Standing.ACTIVE else None
        obj = _import_step(context, snapshot, source_id, forced, page)
        chosen: set[Key] = {(obj.kind, obj.id)} | {(ObjectKind.USER, m) for m in obj.members}
        _scope_step(context, snapshot, imported, obj, page)
        del snapshot
        # what the last cycle or test-connection discovered, if anything: no discovery request here
        known = discovery.cached(store, context.name, context.job.target)
        capabilities = known.capabilities if known is not None else UNKNOWN
        async with context.open_client() as client:
            discovery.page_as_announced(client, context.job.target, capabilities)
            matched = await _match_step(context, client, imported, state, obj, chosen, page, capabilities)
            planned = cycle.plan(context, imported, matched, state)
            held = cycle.hold(context, store, planned, state, approved_shrink=False, release_changes=force)
            update_method = discovery.update_method(context.job.target, capabilities)
            await _action_step(
                context,
                store,
                client,
                state,
                imported,
                cut(held.plan, chosen, force),
                obj,
                clock,
                page,
                update_method=update_method,
                grounds=context.grounds(known.schemas_digest if known is not None else ""),
            )


def _import_step(
    context: JobContext, snapshot: SourceSnapshot, source_id: str, forced: str | None, page: _Page
) -> SourceObject:
    obj: SourceObject | None = None
    try:
        everyone = (*snapshot.users, *snapshot.groups)
        obj = find_source_object(everyone, source_id, context.mapping, context.evaluation(datetime.now(UTC)))
    except AmbiguousSourceName as exc:
        page.step("Import", FAILURE, str(exc))
    if obj is None:
        skipped = [s for s in snapshot.skipped if s.id == source_id]
        why = f"not imported: {skipped[0].location}: {skipped[0].reason}" if skipped else "not in the source"
        page.step("Import", FAILURE, f"no user or group with id or name {source_id!r}: {why}")
    assert obj is not None
    members = obj.members if obj.kind is ObjectKind.GROUP else ()
    if len(members) > MAX_GROUP_MEMBERS:
        page.step(
            "Import",
            FAILURE,
            f"group {obj.id} has {len(members)} members; provision on demand takes a group with up to "
            f"{MAX_GROUP_MEMBERS} (run a cycle instead: `syncer sync --job {context.name}`)",
        )
    filled = sum(1 for v in source_view(obj).values() if v not in (None, "", ()))
    lines = [f"retrieved {obj.kind.value} {obj.id} from the source ({filled} attributes with a value)"]
    if obj.kind is ObjectKind.GROUP:
        lines.append(f"members: {', '.join(members) or 'none'}")
    if forced is not None:
        lines.append(f"the job is {forced}: provisioned anyway (--force)")
    page.step("Import", SUCCESS, *lines)
    return obj


def _scope_step(
    context: JobContext, snapshot: SourceSnapshot, imported: cycle.Imported, obj: SourceObject, page: _Page
) -> None:
    key = (obj.kind, obj.id)
    found = imported.desired.get(key)
    active = found is None or not found.soft_deleted
    explained = context.scope.explain(obj, source_view(obj), context.assigned(snapshot))
    if obj.kind is ObjectKind.USER:
        explained.insert(0, f"active in the source: {'yes' if active else 'no (IsSoftDeleted)'}")
    entitled = found is not None and active
    page.step("Determine if in scope", SUCCESS if entitled else SKIPPED, *explained)


async def _match_step(
    context: JobContext,
    client: ScimClient,
    imported: cycle.Imported,
    state: JobState,
    obj: SourceObject,
    chosen: set[Key],
    page: _Page,
    capabilities: TargetCapabilities,
) -> cycle.Matched:
    try:
        matched = await cycle.match(
            context, client, imported, state, only=frozenset(chosen), capabilities=capabilities
        )
    except TargetError as exc:
        page.step("Match on the target", FAILURE, f"the target refused the lookup: {exc}")
    keys = [(obj.kind, obj.id), *((ObjectKind.USER, m) for m in obj.members)]
    looked_up = {(d.kind, d.source_id) for d in matched.lookups}
    duplicate = any(len(matched.matches[k].hits) > 1 for k in looked_up if k in matched.matches)
    lines = _match_lines(keys, state, matched, looked_up)
    page.step("Match on the target", FAILURE if duplicate else SUCCESS, *lines)
    return matched


async def _action_step(
    context: JobContext,
    store: StateStore,
    client: ScimClient,
    state: JobState,
    imported: cycle.Imported,
    plan: Plan,
    obj: SourceObject,
    clock: Callable[[], datetime],
    page: _Page,
    *,
    update_method: str,
    grounds: Grounds,
) -> None:
    run_id = f"ondemand-{uuid.uuid4().hex}"
    executor = context.executor(
        run_id=run_id,
        client=client,
        store=store,
        state=state,
        desired=imported.desired,
        escrowed=frozenset((e.kind, e.source_id) for e in store.escrowed(context.name)),
        clock=clock,
        update_method=update_method,
        grounds=grounds,
    )
    await executor.apply(plan)
    written = store.search_log(job=context.name, run_id=run_id)
    page.records.extend(written)
    order = {
        key: i for i, key in enumerate([(obj.kind, obj.id), *((ObjectKind.USER, m) for m in obj.members)])
    }
    written.sort(key=lambda e: order.get((e.kind, e.source_id), len(order)))
    lines = []
    for entry in written:
        name = entry.display or entry.source_id
        line = f"{entry.action.value} {entry.kind.value} {name}: {entry.status.value}"
        if entry.reason:
            line += f" ({entry.reason}{': ' + entry.detail if entry.detail else ''})"
        lines.append(line)
        lines.extend(f"  {m.name}: {m.old!r} -> {m.new!r}" for m in entry.modified)
    page.held = len(plan.held)
    if plan.held:
        lines.append(
            "held by the deletion threshold: release it with "
            f"`syncer approve-deletions --job {context.name}`, or provision it with --force"
        )
    lines.extend(
        f"held by the change threshold: {a.reason()}: release it with "
        f"`syncer approve-changes --job {context.name}`, or provision it with --force"
        for a in plan.held_updates
    )
    if not lines:
        lines.append("nothing to do: the object is out of scope and was never provisioned")
    statuses = {e.status.value for e in written}
    worst = next((s for s in (FAILURE, "Warning", SKIPPED) if s in statuses), SUCCESS)
    page.steps.append(DemandStep("Perform action", worst, tuple(lines)))


def _match_lines(keys: list[Key], state: JobState, matched: cycle.Matched, looked_up: set[Key]) -> list[str]:
    lines = []
    for kind, source_id in keys:
        link = state.link(kind, source_id)
        label = f"{kind.value} {source_id}"
        error = matched.failures.get((kind, source_id))
        if link is not None:
            lines.append(f"{label}: linked to target id {link.target_id} ({link.origin}; from the state)")
        elif (kind, source_id) not in looked_up:
            lines.append(f"{label}: not looked up (not in scope, or failed before matching)")
        elif error is not None:
            lines.append(f"{label}: the lookup failed: {error}")
        else:
            match = matched.matches.get((kind, source_id), Match(source_id, None, ()))
            if not match.hits:
                lines.append(f"{label}: no target object matches: it will be created")
            else:
                ids = ", ".join(h.id for h in match.hits)
                lines.append(f"{label}: {len(match.hits)} target object(s) match on {match.path}: {ids}")
    return lines
