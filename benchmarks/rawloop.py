"""The raw loop: bare httpx sending the minimal request set of an initial sync, and nothing else.

The request set is what an initial sync into an empty target must send at least: one POST per
user (managers first, so each POST carries its manager's id), one POST per group, and the member
PATCH batches. Its bodies are prepared before the clock starts with syncer's own pure core (the
same mapping, the same planner, the same body builders), so both runs send identical requests;
what is timed is only the HTTP loop: N workers pulling from a queue, one httpx client, JSON
encoded once per request. Prints one JSON line: wall time, CPU seconds of the loop, requests.

Run by bench_initial.py: ``python -m benchmarks.rawloop CONFIG``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from syncer.core.changes import ChangeMembers, CreateObject, Phase, Plan, PlanInputs, UpdateObject
from syncer.core.expressions import EvaluationContext
from syncer.core.intake import take_in
from syncer.core.matching import Match
from syncer.core.planning import PlanRequest, plan_cycle
from syncer.core.scimpath import (
    CORE_GROUP,
    CORE_USER,
    build_patch_operations,
    build_resource,
    member_operations,
    patch_body,
)
from syncer.runtime.configfile import load_config
from syncer.runtime.engine import assigned_scope, compiled_mapping, compiled_scope, open_source
from syncer.types import AttributeChange, JobState, ObjectKind, Reference

Send = Callable[[dict[tuple[ObjectKind, str], str]], tuple[str, str, bytes, tuple[ObjectKind, str] | None]]


def minimal_plan(config_path: Path) -> Plan:
    """The initial plan of the job against an empty target, computed offline (no request sent)."""
    config = load_config(config_path)
    job = config.settings.jobs[0]
    mapping, scope = compiled_mapping(config, job), compiled_scope(config, job)
    snapshot = open_source(config, job).read()
    intake = take_in(
        snapshot,
        mapping,
        scope,
        assigned_scope(job, scope, snapshot),
        EvaluationContext(now=datetime.now(UTC)),
    )
    state = JobState(links={}, fingerprint="")
    matches = {
        (o.kind, o.source_id): Match(o.source_id, None, ())
        for o in (*intake.users, *intake.groups)
        if not o.soft_deleted
    }
    return plan_cycle(
        PlanRequest(
            job=job.name,
            initial=True,
            users=intake.users,
            groups=intake.groups,
            state=state,
            matches=matches,
            inputs=PlanInputs("", "", ""),
            manage_members=mapping.groups.members,
            member_batch_size=job.target.member_batch_size,
            out_of_scope=intake.out_of_scope,
        )
    )


def _resolve(value: Any, ids: dict[tuple[ObjectKind, str], str]) -> Any:
    return ids[(ObjectKind.USER, value.source_id)] if isinstance(value, Reference) else value


def steps(plan: Plan) -> list[list[Send]]:
    """The plan as batches of requests; a batch starts only when the one before it is done."""
    batches: list[list[Send]] = []
    for phase in Phase:
        changes = plan.of_phase(phase)
        waves = sorted({c.wave for c in changes if isinstance(c, CreateObject)}) or [0]
        for wave in waves:
            batch: list[Send] = []
            for c in changes:
                if isinstance(c, CreateObject) and c.wave != wave:
                    continue
                batch.append(_request(c))
            if batch:
                batches.append(batch)
    return batches


def _request(change: Any) -> Send:
    if isinstance(change, CreateObject):
        core = CORE_USER if change.kind is ObjectKind.USER else CORE_GROUP
        endpoint = "/Users" if change.kind is ObjectKind.USER else "/Groups"
        key = (change.kind, change.source_id)

        def create(ids: dict[tuple[ObjectKind, str], str]) -> tuple[str, str, bytes, Any]:
            values = {p: _resolve(v, ids) for p, v in change.attributes.items()}
            return "POST", endpoint, json.dumps(build_resource(core, values)).encode(), key

        return create
    if isinstance(change, ChangeMembers):

        def members(ids: dict[tuple[ObjectKind, str], str]) -> tuple[str, str, bytes, Any]:
            users = [ids[(ObjectKind.USER, m)] for m in change.add]
            body = patch_body(member_operations(users, []))
            group = ids[(ObjectKind.GROUP, change.group_source_id)]
            return "PATCH", f"/Groups/{group}", json.dumps(body).encode(), None

        return members
    if isinstance(change, UpdateObject):

        def update(ids: dict[tuple[ObjectKind, str], str]) -> tuple[str, str, bytes, Any]:
            ops = build_patch_operations(
                [AttributeChange(c.path, None, _resolve(c.new, ids)) for c in change.changes]
            )
            target = ids[(change.kind, change.source_id)]
            endpoint = "Users" if change.kind is ObjectKind.USER else "Groups"
            return "PATCH", f"/{endpoint}/{target}", json.dumps(patch_body(ops)).encode(), None

        return update
    raise TypeError(f"an initial sync into an empty target has no {type(change).__name__}")


async def run(url: str, token: str, concurrency: int, batches: Sequence[list[Send]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    ids: dict[tuple[ObjectKind, str], str] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:

        async def worker(queue: list[Send]) -> None:
            while queue:
                method, path, body, key = queue.pop()(ids)
                response = await http.request(method, path, content=body)
                counts[method] += 1
                if response.status_code >= 300:
                    raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
                if key is not None:
                    ids[key] = response.json()["id"]

        for batch in batches:
            queue = list(reversed(batch))
            await asyncio.gather(*(worker(queue) for _ in range(min(concurrency, len(queue)))))
    return counts


def main() -> None:
    config_path = Path(sys.argv[1])
    config = load_config(config_path)
    target = config.settings.jobs[0].target
    batches = steps(minimal_plan(config_path))
    started, cpu = time.perf_counter(), time.process_time()
    counts = asyncio.run(
        run(target.url, target.token.get_secret_value() if target.token else "", target.concurrency, batches)
    )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"loop_s": round(wall, 2), "loop_cpu_s": round(cpu, 2), "requests": dict(counts)}))


if __name__ == "__main__":
    main()
