"""The change threshold in a cycle: read the approvals, hold, and remember what was held.

The decision is ``core.changeguard``'s; this is its wiring to the job's ``safety:`` settings and
to the state's flags, so ``syncer status`` and ``syncer approve-changes`` see what the last
real cycle held, and an approval is used up by the cycle that sends it.
"""

from __future__ import annotations

from datetime import datetime

from syncer.adapters.state.store import StateStore
from syncer.core.changeguard import ChangeGuard, held_keys, held_summary, hold_changes
from syncer.core.changes import Plan
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.jobcontext import state_url
from syncer.runtime.jobflags import JobFlags
from syncer.settings import SafetySettings
from syncer.types import JobState, ObjectKind


def hold_mass_changes(
    safety: SafetySettings, flags: JobFlags, plan: Plan, state: JobState, release: bool = False
) -> tuple[Plan, bool]:
    """The plan with mass attribute changes held; True when an approval was used."""
    approved = flags.approved_changes()
    guard = ChangeGuard(safety.change_threshold, safety.change_threshold_min_users)
    linked = len(state.of_kind(ObjectKind.USER))
    return hold_changes(plan, guard, linked, True if release else frozenset(approved)), bool(approved)


def record_held_changes(flags: JobFlags, plan: Plan, approved: bool, now: datetime) -> None:
    """After a real cycle: the approval is spent; what this cycle held replaces what was held."""
    if approved:
        flags.approve_changes(None)
    if plan.held_updates:
        flags.hold_changes([held_summary(a) for a in plan.held_updates], held_keys(plan), now)
    else:
        flags.clear_held_changes()


def approve_changes(config: LoadedConfig, job_name: str) -> list[str]:
    """Release exactly the attribute changes the last cycle held; one line per attribute released."""
    with StateStore(state_url(config)) as store:
        flags = JobFlags(store, job_name)
        held = flags.held_changes()
        if not held:
            return []
        flags.approve_changes(list(held.get("keys") or []))
        flags.clear_held_changes()
    return [str(a.get("reason")) for a in held.get("attributes") or []]
