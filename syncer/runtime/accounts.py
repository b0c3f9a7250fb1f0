"""``syncer discover``: list the target and say what each object on it is to the job; write nothing.

The source is read, scoped and mapped as a cycle does it (the same name check refuses a typo),
the target is listed once per kind the job provisions, and :mod:`syncer.core.accounts` decides.
Neither the state nor the target is written: the discovery cache is read when fresh and a refresh
is not kept, as in ``plan``.
"""

from __future__ import annotations

from datetime import datetime

from syncer.core.accounts import Inventory, TargetAccount, classify
from syncer.runtime import capabilities as discovery
from syncer.runtime import cycle
from syncer.runtime.jobcontext import JobContext
from syncer.runtime.lookups import fit_to_target
from syncer.types import ObjectKind


async def discover(context: JobContext, now: datetime) -> Inventory:
    """The inventory of the target for the job in ``context``."""
    with context.open_store() as store:
        state = store.load(context.name)
        snapshot = await cycle.read(context)
        initial = not store.has_state(context.name)
        imported = cycle.import_(context, snapshot, state, initial=initial, now=now, quiet=True)
        del snapshot
        objects = [*imported.intake.users, *imported.intake.groups]
        kinds = [ObjectKind.USER] + ([ObjectKind.GROUP] if context.job.provision_groups else [])
        accounts: list[TargetAccount] = []
        to_create: dict[ObjectKind, int] = {}
        missing: dict[ObjectKind, int] = {}
        async with context.open_client() as client:
            found = await discovery.for_cycle(store, context.name, context.job.target, client, save=False)
            page_size = fit_to_target(context.job.matching, found.capabilities).page_size
            for kind in kinds:
                excluded = ["members"] if kind is ObjectKind.GROUP else None
                listed = [
                    r async for r in client.list(kind, page_size=page_size, excluded_attributes=excluded)
                ]
                of_kind, to_create[kind], missing[kind] = classify(
                    kind, listed, objects, state, context.mapping.of(kind).paths
                )
                accounts += of_kind
    return Inventory(tuple(accounts), to_create, missing)
