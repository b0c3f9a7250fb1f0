"""Pydantic models of ``config.yaml`` and of mapping files.

Every model forbids unknown keys: a typo in a key must refuse to start, not silently fall back
to a default that provisions the wrong people. Defaults are Entra's unless the README says why.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> timedelta:
    """Durations are written one way everywhere: ``3s``, ``40m``, ``6h``, ``30d`` (or bare seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as 30s, 40m, 6h or 30d, got {value!r}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- mapping files -------------------------------------------------------------------------


class AttributeMappingSettings(_Strict):
    """One attribute mapping: a SCIM target path fed by a source attribute, a constant or an expression."""

    target: str
    source: str | None = None
    constant: Any = None
    expression: str | None = None
    default: Any = None
    apply: Literal["always", "on_create"] = "always"
    match: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_source(self) -> AttributeMappingSettings:
        given = [k for k in ("source", "constant", "expression") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of source, constant or expression"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class ScopingClauseSettings(_Strict):
    """One scoping clause: ``{attribute, operator, value}`` with Entra's operator names."""

    attribute: str
    operator: str
    value: Any = None


FilterGroups = list[list[ScopingClauseSettings]]


class ScopingFiltersSettings(_Strict):
    """Scoping filters a mapping file carries with it (ANDed with the config's)."""

    users: FilterGroups = Field(default_factory=list)
    groups: FilterGroups = Field(default_factory=list)


class MappingFileSettings(_Strict):
    """A mapping file: one object mapping per kind."""

    description: str | None = None
    scoping: ScopingFiltersSettings = ScopingFiltersSettings()
    users: list[AttributeMappingSettings] = Field(default_factory=list)
    groups: list[AttributeMappingSettings] = Field(default_factory=list)


# --- config.yaml ---------------------------------------------------------------------------


class FileSourceSettings(_Strict):
    """A directory kept in files: JSON/YAML ``{users, groups}``, or CSV users plus a groups file."""

    type: Literal["file"]
    path: Path
    groups_path: Path | None = None
    csv_delimiter: str = ","


SourceSettings = FileSourceSettings


class TargetSettings(_Strict):
    """The SCIM 2.0 endpoint of the app, and how hard syncer may push it."""

    url: str
    token: SecretStr | None = None
    token_file: Path | None = None
    concurrency: int = Field(default=8, ge=1, le=64)
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=4, ge=1, le=20)
    member_batch_size: int = Field(default=100, ge=1, le=10000)
    verify_tls: bool = True
    ca_file: Path | None = None
    dialect: Literal["rfc"] = "rfc"

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_token(self) -> TargetSettings:
        if self.token is not None and self.token_file is not None:
            raise ValueError("give token or token_file, not both")
        return self


class ScopeSettings(_Strict):
    """Who is in scope. Empty lists mean every user and group of the source."""

    assigned_groups: list[str] = Field(default_factory=list)
    nested: bool = False
    users: FilterGroups = Field(default_factory=list)
    groups: FilterGroups = Field(default_factory=list)


class DeprovisionSettings(_Strict):
    """What happens to a user who leaves: disable first, delete only when told."""

    out_of_scope: Literal["disable", "delete", "skip"] = "disable"
    hard_delete_after: Duration = timedelta(days=30)
    deletes: bool = True
    group_deletes: bool = True
    deletion_threshold: int | str = 500
    max_source_shrink: str = "50%"

    @field_validator("max_source_shrink")
    @classmethod
    def _shrink(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?%", value.strip()) or float(value.strip()[:-1]) > 100:
            raise ValueError(f"expected a percentage such as '50%', got {value!r}")
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


class ScheduleSettings(_Strict):
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


class JobSettings(_Strict):
    """One job: one source into one SCIM target through one mapping."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    source: SourceSettings
    target: TargetSettings
    mapping: Path
    schedule: ScheduleSettings = ScheduleSettings()
    scope: ScopeSettings = ScopeSettings()
    deprovision: DeprovisionSettings = DeprovisionSettings()
    provision_groups: bool = True
    hold_on_config_change: bool = False
    """The daemon holds the first cycle after a mapping or scope change until ``syncer approve-config``."""


HealthCondition = Literal["quarantined", "disabled", "paused", "held"]


class MetricsSettings(_Strict):
    """The daemon's HTTP endpoint: Prometheus ``/metrics`` and ``/healthz``."""

    listen: str = "127.0.0.1:9464"
    unhealthy_when: tuple[HealthCondition, ...] = ("quarantined", "disabled")
    """Job states that turn ``/healthz`` into a 503 (with the reason)."""

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"expected HOST:PORT such as 127.0.0.1:9464, got {value!r}")
        return value

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class DaemonSettings(_Strict):
    """``syncer run``: stopping, the single-runner lease, progress events."""

    stop_timeout: Duration = timedelta(seconds=30)
    """After SIGTERM/SIGINT: how long in-flight requests may take before the daemon exits anyway."""
    lease_ttl: Duration = timedelta(minutes=2)
    """A job's lease (one runner per job across processes) expires this long after its last renewal."""
    progress_every: Duration = timedelta(seconds=30)
    """How often a running cycle logs a ``cycle_progress`` event."""


class ProvisioningLogSettings(_Strict):
    """How long provisioning-log records are kept (Entra: 30 days), and how often the daemon prunes."""

    retention: Duration = timedelta(days=30)
    prune_every: Duration = timedelta(hours=1)


class ConfigSettings(_Strict):
    """The whole ``config.yaml``."""

    state: str = "sqlite:///syncer-state.db"
    metrics: MetricsSettings | None = None
    daemon: DaemonSettings = DaemonSettings()
    provisioning_log: ProvisioningLogSettings = ProvisioningLogSettings()
    jobs: list[JobSettings] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_job_names(self) -> ConfigSettings:
        names = [job.name for job in self.jobs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"job names must be unique: {', '.join(duplicates)}")
        return self

    def job(self, name: str | None) -> JobSettings:
        """The named job, or the only one when the config holds a single job."""
        if name is None:
            if len(self.jobs) == 1:
                return self.jobs[0]
            raise KeyError(f"the config holds {len(self.jobs)} jobs; choose one with --job")
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(f"no job named {name!r}; jobs: {', '.join(j.name for j in self.jobs)}")
