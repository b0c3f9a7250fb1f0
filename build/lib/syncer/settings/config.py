"""The whole ``config.yaml``: the jobs and the process-wide blocks (state, metrics, daemon, log)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from syncer.errors import UnknownJob
from syncer.settings.job import JobSettings
from syncer.settings.values import Duration, Strict

HealthCondition = Literal["quarantined", "disabled", "paused", "held"]


class MetricsSettings(Strict):
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


class DaemonSettings(Strict):
    """``syncer run``: stopping, the single-runner lease, progress events."""

    stop_timeout: Duration = timedelta(seconds=30)
    """After SIGTERM/SIGINT: how long in-flight requests may take before the daemon exits anyway."""
    lease_ttl: Duration = timedelta(minutes=2)
    """A job's lease (one runner per job across processes) expires this long after its last renewal."""
    progress_every: Duration = timedelta(seconds=30)
    """How often a running cycle logs a ``cycle_progress`` event."""
    cycle_timeout: Duration = timedelta(minutes=30)
    """A cycle still running this long stops sending (in-flight requests finish, the run ends
    ``stopped``) and gives its lease back; ``stop_timeout`` later it is cancelled outright."""


class ProvisioningLogSettings(Strict):
    """How long provisioning-log records are kept (Entra: 30 days), and how often the daemon prunes."""

    retention: Duration = timedelta(days=30)
    prune_every: Duration = timedelta(hours=1)


class ConfigSettings(Strict):
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
        """The named job, or the only one when the config holds a single job; else :class:`UnknownJob`."""
        if name is None:
            if len(self.jobs) == 1:
                return self.jobs[0]
            raise UnknownJob(f"the config holds {len(self.jobs)} jobs; choose one with --job")
        for job in self.jobs:
            if job.name == name:
                return job
        raise UnknownJob(f"no job named {name!r}; jobs: {', '.join(j.name for j in self.jobs)}")
