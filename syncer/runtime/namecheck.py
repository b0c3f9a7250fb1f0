"""The start of every cycle, and ``syncer validate``: the mapping's names held against the source read.

``core.sourcenames`` judges; this module picks what to judge against (the admin's
``source.attributes`` where given, else what the source declares or shows) and acts: an error
stops the cycle before anything is planned, so a typo never reaches the target; a warning is
logged once per process, since the daemon would otherwise repeat it every cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from syncer.adapters.state.store import StateStore
from syncer.core.sourcenames import NameFinding, Problem, check_names, errors, mapping_references, warnings
from syncer.errors import SourceNamesError
from syncer.runtime.jobcontext import JobContext
from syncer.settings import JobSettings
from syncer.types import DeclaredNames, ObjectKind, RunStatus, SourceSnapshot

log = structlog.get_logger("syncer.engine")

_warned: set[tuple[str, str]] = set()
"""(job, finding) already logged: a daemon says it once, not every cycle."""


def declared_in_config(job: JobSettings) -> DeclaredNames | None:
    """The names the admin declared (``source.attributes``, file sources): strict, where given."""
    declared = getattr(job.source, "attributes", None)
    if declared is None:
        return None
    users = frozenset(declared.users) if declared.users is not None else None
    groups = frozenset(declared.groups) if declared.groups is not None else None
    return DeclaredNames(users=users, groups=groups, origin="source.attributes", strict=True)


def findings(context: JobContext, snapshot: SourceSnapshot) -> tuple[NameFinding, ...]:
    """Every mapped or scoping name the source does not have, errors and warnings."""
    references = mapping_references(context.mapping, context.scope)
    strict = declared_in_config(context.job)
    found: list[NameFinding] = []
    for kind in ObjectKind:
        if kind is ObjectKind.GROUP and not context.job.provision_groups:
            continue  # groups are read for assignment only; their mapping never runs
        declared = strict if strict is not None and strict.of(kind) is not None else snapshot.declared
        if declared is not None:
            found.extend(check_names((r for r in references if r.kind is kind), declared))
    return tuple(found)


def refusal(job: str, found: tuple[NameFinding, ...]) -> str:
    lines = "\n".join(f"  {finding}" for finding in found)
    return (
        f"job {job}: the mapping reads {len(found)} source attribute name(s) the source does not have; "
        f"nothing was planned or sent:\n{lines}\nFix the names (see `syncer validate`) and run again"
    )


def check(context: JobContext, snapshot: SourceSnapshot, *, quiet: bool = False) -> None:
    """Raise :class:`SourceNamesError` on any error; log each warning once per process."""
    found = findings(context, snapshot)
    refused = errors(found)
    if refused:
        raise SourceNamesError(refusal(context.name, refused))
    for finding in () if quiet else warnings(found):
        key = (context.name, str(finding))
        if key not in _warned:
            _warned.add(key)
            event = (
                "scoping_attribute_multi_valued"
                if finding.problem is Problem.MULTI_VALUED
                else "source_attribute_missing"
            )
            log.warning(event, job=context.name, finding=str(finding))


def record_refused(
    context: JobContext, store: StateStore, objects: int, initial: bool, clock: Callable[[], datetime]
) -> None:
    """A real cycle the name check refused: an ``aborted`` run (nothing was sent), for ``status``.

    Not ``failed``: that means the cycle got through its changes, which makes history and feeds the
    shrink guard. The quarantine is left alone: a mapping to fix is not a target to back off from.
    """
    run_id = store.begin_run(context.name, initial=initial, dry_run=False, started_at=clock())
    store.finish_run(
        run_id, finished_at=clock(), status=RunStatus.ABORTED, counts={"source.objects": objects}
    )
