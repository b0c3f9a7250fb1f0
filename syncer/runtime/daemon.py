"""``syncer run``: every job on its own schedule until SIGTERM/SIGINT.

APScheduler 3.x with the memory job store: the schedule is configuration, not state. Each job is
an interval trigger with jitter whose first tick is at start-up; ``max_instances=1`` means a
cycle never overlaps the previous one of its job, and ``coalesce`` turns ticks missed while it
ran into one. At each tick the job's standing decides whether a cycle runs: paused, disabled,
not yet due on the quarantine backoff (``core.policy.next_run``), a config change held for
approval, or a lease held by another process all skip the tick and say why.

Single active runner: a cycle first takes the job's lease row in the state (a conditional
UPDATE), renews it while running and gives it back at the end, so two daemons on one state
never run one job at once (APScheduler 3 job stores must not be shared; the lease is ours).

Signals: SIGTERM/SIGINT stop sending new changes, let requests in flight finish and be
recorded, and exit within ``daemon.stop_timeout``; a second signal exits at once. SIGHUP
reloads the config: it is validated first, and an invalid one is logged and the old one kept.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syncer.adapters.state.store import StateStore
from syncer.errors import LeaseHeld, SyncerError
from syncer.runtime.configfile import LoadedConfig, load_config
from syncer.runtime.engine import check_job, run_cycle, state_url
from syncer.runtime.jobflags import JobFlags
from syncer.runtime.lease import HeldLease, job_lease
from syncer.runtime.metrics import Metrics, MetricsServer
from syncer.runtime.progress import ProgressTracker, ProgressView, Throttle
from syncer.runtime.standing import health_report, overview, record_next_cycle, tick_skip_reason
from syncer.settings import DaemonSettings, JobSettings, ScheduleSettings
from syncer.types import RunStatus

log = structlog.get_logger("syncer.daemon")
PRUNE_ID = "prune-provisioning-log"


def _job_id(name: str) -> str:
    return f"job:{name}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Daemon:
    """One process running every job of a config on its schedule."""

    def __init__(self, config_path: Path, config: LoadedConfig, *, clock: Callable[[], datetime] = _utc_now):
        self.config_path = config_path
        self.config = config
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.metrics = Metrics()
        self.store = StateStore(state_url(config))
        self.stop_reason: str | None = None
        self._stopping = threading.Event()
        self._reload = threading.Event()
        self._forced = False
        self._active: dict[str, float] = {}
        self._active_lock = threading.Condition()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=max(4, len(config.settings.jobs) + 2))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(self._overlapped, EVENT_JOB_MAX_INSTANCES)
        self.server: MetricsServer | None = None
        self._schedules: dict[str, ScheduleSettings] = {}
        # APScheduler logs through the stdlib: its job-level chatter would break the JSON lines
        aps = logging.getLogger("apscheduler")
        aps.addHandler(logging.NullHandler())
        aps.propagate = False

    # --- life cycle -------------------------------------------------------------------------

    def run(self) -> int:
        """Run until a stop signal; 0 on a clean stop, 1 when cycles outlived ``stop_timeout``."""
        self._install_signals()
        metrics = self.config.settings.metrics
        if metrics is not None:
            self.server = MetricsServer(metrics.address, self.metrics, self._refresh, self._health)
            self.server.start()
            host, port = self.server.address
            log.info("metrics_listening", url=f"http://{host}:{port}/metrics")
        self.scheduler.start()
        self.metrics.up.set(1)
        self._schedule(self.config, first=True)
        log.info(
            "daemon_started",
            owner=self.owner,
            config=str(self.config_path),
            jobs=[j.name for j in self.config.settings.jobs],
        )
        while not self._stopping.is_set():
            self._stopping.wait(0.2)
            if self._reload.is_set():
                self._reload.clear()
                self.reload()
        return self._shutdown()

    def request_stop(self, reason: str) -> None:
        if self._stopping.is_set():
            self._forced = True
            log.error("daemon_stop_forced", reason=reason)
            os._exit(130)
        self.stop_reason = f"the daemon is stopping ({reason})"
        log.info("daemon_stopping", reason=reason)
        self._stopping.set()

    def _install_signals(self) -> None:
        def stop(signum: int, _: FrameType | None) -> None:
            self.request_stop(signal.Signals(signum).name)

        def hup(_signum: int, _frame: FrameType | None) -> None:
            self._reload.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, hup)

    def _shutdown(self) -> int:
        self.scheduler.shutdown(wait=False)
        self.metrics.up.set(0)
        deadline = time.monotonic() + self.config.settings.daemon.stop_timeout.total_seconds()
        with self._active_lock:
            while self._active and time.monotonic() < deadline:
                self._active_lock.wait(min(0.2, max(0.0, deadline - time.monotonic())))
            still = sorted(self._active)
        if self.server is not None:
            self.server.stop()
        if still:
            log.error(
                "daemon_stop_timeout",
                running=still,
                timeout_s=self.config.settings.daemon.stop_timeout.total_seconds(),
                hint="the requests in flight are lost; the next cycle repairs them by matching",
            )
            for name in still:  # give the leases back, so a new daemon does not wait for them to expire
                self.store.release_lease(_job_id(name), self.owner)
            os._exit(1)
        self.store.close()
        log.info("daemon_stopped")
        return 0

    # --- scheduling ---------------------------------------------------------------------------

    def _schedule(self, config: LoadedConfig, first: bool = False) -> None:
        """Add, re-time or remove the scheduler's jobs to match ``config``."""
        wanted = {job.name: job for job in config.settings.jobs}
        for existing in self.scheduler.get_jobs():
            name = existing.id.removeprefix("job:")
            if existing.id.startswith("job:") and name not in wanted:
                existing.remove()
                self._schedules.pop(name, None)
                log.info("job_unscheduled", job=name)
        now = self.clock()
        for name, job in wanted.items():
            trigger = IntervalTrigger(
                seconds=job.schedule.interval.total_seconds(),
                jitter=int(job.schedule.effective_jitter.total_seconds()) or None,
                timezone=UTC,
            )
            current = self.scheduler.get_job(_job_id(name))
            if current is not None and self._schedules.get(name) == job.schedule:
                continue
            self.scheduler.add_job(
                self._tick,
                trigger,
                args=[name],
                id=_job_id(name),
                name=name,
                replace_existing=True,
                next_run_time=now,
            )
            self._schedules[name] = job.schedule
            log.info("job_scheduled", job=name, interval_s=job.schedule.interval.total_seconds())
        retention = config.settings.provisioning_log
        if first or self.scheduler.get_job(PRUNE_ID) is None:
            self.scheduler.add_job(
                self._prune,
                IntervalTrigger(seconds=retention.prune_every.total_seconds(), timezone=UTC),
                id=PRUNE_ID,
                replace_existing=True,
                next_run_time=now + timedelta(seconds=1),
            )

    def reload(self) -> bool:
        """SIGHUP: load and validate the config again; keep the running one when it is invalid."""
        try:
            new = load_config(self.config_path)
            for job in new.settings.jobs:
                check_job(new, job)
            if state_url(new) != state_url(self.config):
                raise SyncerError("the state URL cannot change while the daemon runs; restart the daemon")
        except (SyncerError, KeyError) as exc:
            self.metrics.reloads.labels("invalid").inc()
            log.error("config_reload_failed", error=str(exc), kept="the running config")
            return False
        self.config = new
        self._schedule(new)
        self.metrics.reloads.labels("applied").inc()
        log.info("config_reloaded", jobs=[j.name for j in new.settings.jobs])
        return True

    def _overlapped(self, event: JobSubmissionEvent) -> None:
        if event.job_id.startswith("job:"):
            name = event.job_id.removeprefix("job:")
            self.metrics.cycles.labels(name, "skipped").inc()
            log.info("cycle_skipped", job=name, reason="the previous cycle is still running (coalesced)")

    # --- one tick -------------------------------------------------------------------------------

    def _tick(self, name: str) -> None:
        config = self.config
        try:
            job = config.settings.job(name)
        except KeyError:
            return
        with structlog.contextvars.bound_contextvars(job=name):
            try:
                self._cycle(config, job)
            except Exception:  # the daemon goes on: a broken cycle must not stop the others
                self.metrics.cycles.labels(name, RunStatus.CRASHED.value).inc()
                log.exception("cycle_crashed")
            finally:
                self._record_next(name)

    def _record_next(self, name: str) -> None:
        scheduled = self.scheduler.get_job(_job_id(name)) if self.scheduler.running else None
        at = getattr(scheduled, "next_run_time", None)
        try:
            due = JobFlags(self.store, name).next_cycle()
            if due is None or at is None or due < at or due <= self.clock():
                record_next_cycle(self.store, name, at, self.owner)
        except (SyncerError, ValueError, KeyError):
            log.warning("next_cycle_not_recorded")

    def _cycle(self, config: LoadedConfig, job: JobSettings) -> None:
        # checked and claimed at once: a stop either waits for this tick or the tick never starts,
        # so the daemon never exits while a tick is taking the job's lease (it would outlive us)
        with self._active_lock:
            if self._stopping.is_set():
                return
            self._active[job.name] = time.monotonic()
        try:
            self._attend(config, job)
        finally:
            with self._active_lock:
                self._active.pop(job.name, None)
                self._active_lock.notify_all()

    def _attend(self, config: LoadedConfig, job: JobSettings) -> None:
        skip = tick_skip_reason(self.store, config, job, self.clock(), self.owner)
        if skip is not None:
            self.metrics.cycles.labels(job.name, "skipped").inc()
            log.info("cycle_skipped", reason=skip)
            return
        ttl = config.settings.daemon.lease_ttl
        try:
            with job_lease(self.store, job.name, command="run", ttl=ttl, owner=self.owner) as held:
                self._run_leased(config, job, held)
        except LeaseHeld as exc:  # taking the lease; the cycle's own errors end in _run_leased
            self.metrics.cycles.labels(job.name, "skipped").inc()
            log.info("cycle_skipped", reason=f"another process runs this job (lease held): {exc}")

    def _tracker(self, job: str, settings: DaemonSettings) -> ProgressTracker:
        def emit(view: ProgressView) -> None:
            log.info(
                "cycle_progress",
                phase=view.phase,
                done=view.done,
                total=view.total,
                requests=view.requests,
                requests_per_s=round(view.rate, 1),
                errors=view.errors,
            )

        return ProgressTracker(
            Throttle(settings.progress_every.total_seconds(), emit), also=self.metrics.observer(job)
        )

    def _run_leased(self, config: LoadedConfig, job: JobSettings, held: HeldLease) -> None:
        settings = config.settings.daemon
        tracker = self._tracker(job.name, settings)
        with self._active_lock:
            self._active[job.name] = time.monotonic()
        self.metrics.running.labels(job.name).set(1)
        started = time.monotonic()
        outcome, counts, run_id = RunStatus.CRASHED.value, {}, None
        try:
            log.info("cycle_due")  # before the source read: the run (and its id) begins later
            with tracker.observing():
                result = run_cycle(
                    config,
                    job.name,
                    mode="sync",
                    on_progress=tracker.on_progress,
                    stop=self._stopper(settings, held),
                    deadline=started + (settings.cycle_timeout + settings.stop_timeout).total_seconds(),
                )
            outcome, run_id = result.outcome, result.run_id
            if result.report is not None and result.report.stopped:
                log.warning("cycle_stopped", reason=result.report.stopped)
            counts = dict(result.report.counts) if result.report else {}
        except SyncerError as exc:
            outcome = RunStatus.FAILED.value
            log.error("cycle_failed", error=str(exc))
        finally:
            self.metrics.running.labels(job.name).set(0)
            self.metrics.cycle(job.name, outcome, counts, time.monotonic() - started)
            with self._active_lock:
                self._active.pop(job.name, None)
                self._active_lock.notify_all()
        log.info("cycle_done", cycle=run_id, outcome=outcome, seconds=round(time.monotonic() - started, 3))

    def _stopper(self, settings: DaemonSettings, held: HeldLease) -> Callable[[], str | None]:
        """Why the running cycle must stop sending: the daemon stops, the lease is lost, or it overran."""
        overdue = time.monotonic() + settings.cycle_timeout.total_seconds()
        limit = settings.cycle_timeout.total_seconds()

        def stop() -> str | None:
            if self.stop_reason or held.lost:
                return self.stop_reason or held.lost
            if time.monotonic() > overdue:
                return f"the cycle ran past daemon.cycle_timeout ({limit:g} s); the next cycle goes on"
            return None

        return stop

    def _prune(self) -> None:
        retention = self.config.settings.provisioning_log.retention
        try:
            removed = self.store.prune_log(self.clock() - retention)
        except SyncerError as exc:
            log.warning("log_prune_failed", error=str(exc))
            return
        if removed:
            log.info(
                "log_pruned", removed=removed, retention_days=round(retention.total_seconds() / 86400, 2)
            )

    # --- observability --------------------------------------------------------------------------

    def _refresh(self) -> None:
        now = self.clock()
        for job in self.config.settings.jobs:
            self.metrics.job(overview(self.store, job, now))

    def _health(self) -> tuple[bool, dict[str, Any]]:
        metrics = self.config.settings.metrics
        unhealthy = set(metrics.unhealthy_when) if metrics is not None else set()
        running = self.scheduler.running and not self._stopping.is_set()
        return health_report(self.store, self.config.settings.jobs, unhealthy, running, self.clock())
