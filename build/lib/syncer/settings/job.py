"""One job: source, target, mapping, and the policy (scope, deprovisioning, quarantine) between them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from syncer.settings.mapping import FilterGroups
from syncer.settings.notify import NotifySettings
from syncer.settings.sources import SourceSettings
from syncer.settings.target import TargetSettings
from syncer.settings.values import Duration, Strict


class ScopeSettings(Strict):
    """Who is in scope. Empty lists mean every user and group of the source."""

    assigned_groups: list[str] = Field(default_factory=list)
    nested: bool = False
    users: FilterGroups = Field(default_factory=list)
    groups: FilterGroups = Field(default_factory=list)


class DeprovisionSettings(Strict):
    """What happens to a user who leaves: disable first, delete only when told."""

    out_of_scope: Literal["disable", "delete", "skip"] = "disable"
    hard_delete_after: Duration = timedelta(days=30)
    deletes: bool = True
    group_deletes: bool = True
    deletion_threshold: int | str = 500
    """Most disables plus deletes one cycle sends without approval (Entra's 500), or "N%" of managed."""
    deletion_threshold_percent: str = "10%"
    """The same as a share of the managed objects (at least one); the lower of the two wins."""
    max_source_shrink: str = "10%"
    """A source that lost this share of last cycle's objects, or more, is refused until approved."""
    max_run_gap: Duration | None = None
    """A cycle this long after the last run ages nothing until approved; ``None``: max(2 × interval, 2d)."""

    @field_validator("max_source_shrink", "deletion_threshold_percent")
    @classmethod
    def _shrink(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?%", value.strip()) or float(value.strip()[:-1]) > 100:
            raise ValueError(f"expected a percentage such as '10%', got {value!r}")
        return value.strip()

    @field_validator("deletion_threshold")
    @classmethod
    def _threshold(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if value < 0:
                raise ValueError("deletion_threshold must be 0 or more")
            return value
        if not re.fullmatch(r"\d+(\.\d+)?%", value.strip()):
            raise ValueError(f"expected a count (500) or a percentage ('10%'), got {value!r}")
        return value.strip()


class SafetySettings(Strict):
    """Guards on what one cycle may change without an admin's approval (besides removals).

    ``change_threshold`` holds a cycle's changes to one target attribute when they reach more
    than that many linked users ("N%" of the linked users, or a count); ``none`` turns it off.
    A mapping typo or a source export that lost a column changes the same attribute on nearly
    everyone at once; a real reorganisation is rare enough to approve. The guard only applies
    when at least ``change_threshold_min_users`` users would be affected, so a tenant of a few
    test users is never held.
    """

    change_threshold: int | str | None = "50%"
    change_threshold_min_users: int = Field(default=10, ge=1)

    @field_validator("change_threshold", mode="before")
    @classmethod
    def _change_threshold(cls, value: object) -> int | str | None:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"expected a percentage ('50%'), a count (200) or none, got {value!r}")
        if isinstance(value, int):
            if value < 0:
                raise ValueError("change_threshold must be 0 or more")
            return value
        text = value.strip()
        if text.isdigit():
            return int(text)
        if not re.fullmatch(r"\d+(\.\d+)?%", text) or float(text[:-1]) > 100:
            raise ValueError(f"expected a percentage ('50%'), a count (200) or none, got {value!r}")
        return text


class QuarantineSettings(Strict):
    """When a cycle's failures quarantine the job (Entra's defaults; lower them for a small tenant)."""

    min_failures: int = Field(default=5000, ge=1)
    proportion: float = Field(default=0.40, gt=0, le=1)
    total: int = Field(default=40000, ge=1)
    absolute: int = Field(default=60000, ge=1)


class ScheduleSettings(Strict):
    """How often the daemon runs the job.

    ``jitter`` spreads cycles (and several jobs, or several syncer instances) apart: each cycle
    starts up to that much later than the interval says. ``None`` is 5% of the interval.
    """

    interval: Duration = timedelta(minutes=40)
    jitter: Duration | None = None

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("the interval must be at least 1s")
        return value

    @property
    def effective_jitter(self) -> timedelta:
        return self.jitter if self.jitter is not None else self.interval * 0.05


class MatchingSettings(Strict):
    """How unlinked source objects are paired with what the target already holds.

    ``query`` sends one filtered GET per unlinked object (``userName eq "..."``); ``list`` reads
    the target once, page by page (groups without their members), and matches in memory; ``auto``
    first asks the target how many objects it holds (one GET with ``count=1``): none means nothing
    to match, and it lists when the target holds at most ``list_ratio`` objects per unlinked
    object, since a page of ``page_size`` costs far less than that many queries.
    """

    strategy: Literal["auto", "query", "list"] = "auto"
    page_size: int = Field(default=1000, ge=1, le=10000)
    list_ratio: float = Field(default=4.0, gt=0)


class JobSettings(Strict):
    """One job: one source into one SCIM target through one mapping."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    source: SourceSettings
    target: TargetSettings
    mapping: Path
    default_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
    schedule: ScheduleSettings = ScheduleSettings()
    scope: ScopeSettings = ScopeSettings()
    deprovision: DeprovisionSettings = DeprovisionSettings()
    matching: MatchingSettings = MatchingSettings()
    quarantine: QuarantineSettings = QuarantineSettings()
    safety: SafetySettings = SafetySettings()
    notify: NotifySettings = NotifySettings()
    provision_groups: bool = True
    hold_on_config_change: bool = False
    """The daemon holds the first cycle after a mapping or scope change until ``syncer approve-config``."""
