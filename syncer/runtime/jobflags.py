"""``JobFlags``: a job's standing facts, typed, over the state store's per-job flag API.

The cycle writes the health, held deletions and a refused shrink; ``standing`` reads them and
the admin's levers (pause, approvals, restart) write theirs. This is the one owner of the keys
and their JSON shapes; nothing else calls ``get_flag``/``set_flag``. The keys' values are the
ones stored since the first release, so an existing state reads the same.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from syncer.adapters.state.store import StateStore
from syncer.core.policy import JobHealth, Quarantine


class Flag(enum.StrEnum):
    """The per-job flag keys in the state."""

    HEALTH = "health"
    HELD_DELETIONS = "held_deletions"
    APPROVED_DELETIONS = "approved_deletions"
    APPROVED_SHRINK = "approved_shrink"
    SHRINK_REFUSED = "shrink_refused"
    PAUSED = "paused"
    CONFIG_APPROVED = "config_fingerprint"
    CONFIG_HELD = "config_held"
    NEXT_CYCLE = "next_cycle"
    CLOCK_WITNESS = "clock_witness"
    """When the last cycle whose clock was trusted ran (``runtime.clocktrust``)."""
    CLOCK_DISTRUSTED = "clock_distrusted"
    APPROVED_CLOCK = "approved_clock"
    HELD_CHANGES = "held_changes"
    """Attribute changes the change threshold held (``core.changeguard``), per attribute."""
    APPROVED_CHANGES = "approved_changes"


RESTART_CLEARS = (
    Flag.HEALTH,
    Flag.HELD_DELETIONS,
    Flag.SHRINK_REFUSED,
    Flag.CONFIG_HELD,
    Flag.HELD_CHANGES,
)
"""What ``syncer restart`` forgets; the admin's approvals are kept."""


def when(text: Any) -> datetime | None:
    """A stored ISO time, or ``None`` when absent or unreadable."""
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


class JobFlags:
    """One job's flags in one store."""

    def __init__(self, store: StateStore, job: str) -> None:
        self.store = store
        self.job = job

    def _get(self, flag: Flag) -> Any:
        return self.store.get_flag(self.job, flag.value)

    def _set(self, flag: Flag, value: Any) -> None:
        self.store.set_flag(self.job, flag.value, value)

    # --- health: quarantine and disabled ------------------------------------------------------

    def health(self) -> JobHealth:
        """The job's quarantine standing as the cycle recorded it."""
        raw = self._get(Flag.HEALTH)
        if not raw:
            return JobHealth()
        q = raw.get("quarantine")
        quarantine = (
            Quarantine(
                q["reason"],
                datetime.fromisoformat(q["since"]),
                q.get("detail", ""),
                int(q.get("attempts", 0)),
            )
            if q
            else None
        )
        return JobHealth(quarantine=quarantine, disabled_reason=raw.get("disabled_reason"))

    def set_health(self, health: JobHealth) -> None:
        if health.healthy:
            self._set(Flag.HEALTH, None)
            return
        q = health.quarantine
        quarantine = (
            {"reason": q.reason, "since": q.since.isoformat(), "detail": q.detail, "attempts": q.attempts}
            if q
            else None
        )
        self._set(Flag.HEALTH, {"quarantine": quarantine, "disabled_reason": health.disabled_reason})

    # --- deletions held by the threshold, and a refused source shrink ------------------------

    def held_deletions(self) -> dict[str, Any] | None:
        held: dict[str, Any] | None = self._get(Flag.HELD_DELETIONS)
        return held

    def hold_deletions(self, reason: str | None, keys: Sequence[str], threshold: str, at: datetime) -> None:
        self._set(
            Flag.HELD_DELETIONS,
            {"reason": reason, "keys": sorted(keys), "threshold": threshold, "at": at.isoformat()},
        )

    def clear_held_deletions(self) -> None:
        self._set(Flag.HELD_DELETIONS, None)

    def approved_deletions(self) -> list[str]:
        return list(self._get(Flag.APPROVED_DELETIONS) or [])

    def approve_deletions(self, keys: Sequence[str] | None) -> None:
        self._set(Flag.APPROVED_DELETIONS, list(keys) if keys is not None else None)

    def shrink_refused(self) -> dict[str, Any] | None:
        refused: dict[str, Any] | None = self._get(Flag.SHRINK_REFUSED)
        return refused

    def refuse_shrink(self, reason: str, at: datetime) -> None:
        self._set(Flag.SHRINK_REFUSED, {"reason": reason, "at": at.isoformat()})

    def shrink_approved(self) -> bool:
        return self._get(Flag.APPROVED_SHRINK) is not None

    def approve_shrink(self, refused: dict[str, Any] | None) -> None:
        self._set(Flag.APPROVED_SHRINK, refused)
        if refused is not None:
            self._set(Flag.SHRINK_REFUSED, None)

    # --- attribute changes held by the change threshold ----------------------------------------

    def held_changes(self) -> dict[str, Any] | None:
        held: dict[str, Any] | None = self._get(Flag.HELD_CHANGES)
        return held

    def hold_changes(self, attributes: Sequence[dict[str, Any]], keys: Sequence[str], at: datetime) -> None:
        """``attributes``: per held attribute its path, users, linked, threshold and reason."""
        self._set(
            Flag.HELD_CHANGES, {"attributes": list(attributes), "keys": sorted(keys), "at": at.isoformat()}
        )

    def clear_held_changes(self) -> None:
        self._set(Flag.HELD_CHANGES, None)

    def approved_changes(self) -> list[str]:
        return list(self._get(Flag.APPROVED_CHANGES) or [])

    def approve_changes(self, keys: Sequence[str] | None) -> None:
        self._set(Flag.APPROVED_CHANGES, list(keys) if keys is not None else None)

    # --- the admin's levers -------------------------------------------------------------------

    def paused_since(self) -> str | None:
        """When the job was paused (as stored), or ``None`` when it runs."""
        paused = self._get(Flag.PAUSED)
        return str(paused.get("since")) if paused else None

    def set_paused(self, since: datetime | None) -> None:
        self._set(Flag.PAUSED, {"since": since.isoformat()} if since else None)

    def approved_config(self) -> str | None:
        value = self._get(Flag.CONFIG_APPROVED)
        return str(value) if value is not None else None

    def approve_config(self, fingerprint: str) -> None:
        self._set(Flag.CONFIG_APPROVED, fingerprint)
        self._set(Flag.CONFIG_HELD, None)

    def config_held(self) -> dict[str, Any] | None:
        held: dict[str, Any] | None = self._get(Flag.CONFIG_HELD)
        return held

    def hold_config(self, fingerprint: str, since: datetime) -> None:
        self._set(Flag.CONFIG_HELD, {"fingerprint": fingerprint, "since": since.isoformat()})

    def clear_config_hold(self) -> None:
        self._set(Flag.CONFIG_HELD, None)

    def next_cycle(self) -> datetime | None:
        scheduled = self._get(Flag.NEXT_CYCLE)
        return when(scheduled.get("at")) if isinstance(scheduled, dict) else None

    def set_next_cycle(self, at: datetime | None, owner: str) -> None:
        self._set(Flag.NEXT_CYCLE, {"at": at.isoformat(), "by": owner} if at else None)

    # --- the clock guard (runtime.clocktrust): trusted witness, refusal, approval ---------------

    def clock_witness(self) -> datetime | None:
        return when(self._get(Flag.CLOCK_WITNESS))

    def trust_clock(self, at: datetime) -> None:
        """This cycle's clock was trusted: it is the witness now; a refusal and an approval are spent."""
        self._set(Flag.CLOCK_WITNESS, at.isoformat())
        self._set(Flag.CLOCK_DISTRUSTED, None)
        self._set(Flag.APPROVED_CLOCK, None)

    def clock_distrusted(self) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._get(Flag.CLOCK_DISTRUSTED)
        return value

    def distrust_clock(self, reason: str, at: datetime) -> None:
        self._set(Flag.CLOCK_DISTRUSTED, {"reason": reason, "at": at.isoformat()})

    def clock_approved(self) -> bool:
        return self._get(Flag.APPROVED_CLOCK) is not None

    def approve_clock(self, refused: dict[str, Any]) -> None:
        self._set(Flag.APPROVED_CLOCK, refused)
        self._set(Flag.CLOCK_DISTRUSTED, None)

    def clear_for_restart(self) -> None:
        for flag in RESTART_CLEARS:
            self._set(flag, None)
