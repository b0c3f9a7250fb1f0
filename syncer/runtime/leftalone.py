"""The escrowed objects a cycle leaves alone, and the skips that say why.

Escrow holds two kinds of failure (``core.refusals`` decides which is which): one still in its
backoff waits (``Escrowed``), and one whose last request the target refused for good is held
while it would send the same again (``HeldRefused``). Both are decided before matching, so
neither costs a request; every other escrowed object is planned and sent like any object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from syncer.core import refusals
from syncer.core.changes import Skip
from syncer.types import Desired, EscrowEntry, JobState, ObjectKey, SkipReason, Status

Key = ObjectKey


@dataclass(frozen=True, slots=True)
class LeftAlone:
    """The escrowed objects this cycle leaves alone: in their backoff, or held after a refusal."""

    waiting: tuple[EscrowEntry, ...] = ()
    held: tuple[EscrowEntry, ...] = ()

    @property
    def keys(self) -> frozenset[Key]:
        return frozenset((e.kind, e.source_id) for e in (*self.waiting, *self.held))


def sort_escrow(
    escrow: Sequence[EscrowEntry],
    desired: Callable[[], Mapping[Key, Desired]],
    state: JobState,
    grounds: refusals.Grounds,
) -> LeftAlone:
    """``desired`` gives the cycle's desired objects (built only when some entry is a refusal)."""
    waiting, held = [], []
    wanted = desired() if any(e.refused is not None for e in escrow) else {}
    for entry in escrow:
        current = None
        if entry.refused is not None:
            key = (entry.kind, entry.source_id)
            current = refusals.fingerprint(wanted.get(key), state.link(entry.kind, entry.source_id), grounds)
        decision = refusals.retry(entry, current)
        if decision is refusals.Retry.WAIT:
            waiting.append(entry)
        elif decision is refusals.Retry.HOLD:
            held.append(entry)
    return LeftAlone(tuple(waiting), tuple(held))


def held_skip(entry: EscrowEntry) -> Skip:
    detail = refusals.held_detail(entry)
    return Skip(entry.kind, entry.source_id, entry.display, SkipReason.HELD_REFUSED, Status.SKIPPED, detail)


def escrow_skip(entry: EscrowEntry) -> Skip:
    detail = (
        f"escrowed: retried in {entry.skip_cycles} cycle(s); {entry.attempts} failed attempt(s), "
        f"last {entry.error_code}: {entry.error}"
    )
    return Skip(entry.kind, entry.source_id, entry.display, SkipReason.ESCROWED, Status.SKIPPED, detail)
