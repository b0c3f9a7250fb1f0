"""The daemon's Prometheus metrics and its ``/metrics`` and ``/healthz`` HTTP endpoint.

A registry of its own (not prometheus_client's global one), so a test or a second daemon in one
process never sees another's series. Job gauges (state, escrow, last success) are refreshed from
the state at scrape time, so ``syncer pause`` in another shell shows at the next scrape.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from syncer.adapters.scim.client import RequestObserver
from syncer.runtime.standing import JOB_STATES, JobOverview

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Every series the daemon exports; label values are job names, Entra's actions and statuses."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.cycles = Counter(
            "syncer_cycles",
            "Cycles by job and outcome (succeeded, failed, stopped, crashed, skipped).",
            ["job", "outcome"],
            registry=r,
        )
        self.objects = Counter(
            "syncer_objects",
            "Objects processed by job, provisioning action and status.",
            ["job", "action", "status"],
            registry=r,
        )
        self.requests = Counter(
            "syncer_requests",
            "SCIM requests (each attempt) by job, method and HTTP status ('error': no response).",
            ["job", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "syncer_request_duration_seconds",
            "SCIM request latency by method.",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.cycle_seconds = Histogram(
            "syncer_cycle_duration_seconds",
            "Cycle duration by job.",
            ["job"],
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200),
            registry=r,
        )
        self.escrow = Gauge(
            "syncer_escrow_objects", "Objects in escrow (retried in later cycles).", ["job"], registry=r
        )
        self.quarantined = Gauge(
            "syncer_job_quarantined", "1 while the job is quarantined.", ["job"], registry=r
        )
        self.state = Gauge("syncer_job_state", "1 for the job's current state.", ["job", "state"], registry=r)
        self.last_success = Gauge(
            "syncer_last_successful_cycle_timestamp_seconds",
            "When the job's last successful cycle finished.",
            ["job"],
            registry=r,
        )
        self.running = Gauge("syncer_cycle_running", "1 while a cycle of the job runs.", ["job"], registry=r)
        self.up = Gauge("syncer_scheduler_running", "1 while the scheduler runs.", registry=r)
        self.reloads = Counter(
            "syncer_config_reloads", "Config reloads (SIGHUP) by result.", ["result"], registry=r
        )

    def observer(self, job: str) -> RequestObserver:
        """The SCIM client's request observer for one job's cycle."""

        def observe(method: str, status: int | None, seconds: float) -> None:
            self.requests.labels(job, method, str(status) if status is not None else "error").inc()
            self.latency.labels(method).observe(seconds)

        return observe

    def cycle(self, job: str, outcome: str, counts: Mapping[str, int], seconds: float | None) -> None:
        """Count a cycle and its objects (``counts`` keyed ``Action.Status``, as a run records them)."""
        self.cycles.labels(job, outcome).inc()
        for key, n in counts.items():
            action, sep, status = key.partition(".")
            if sep and action[:1].isupper() and n:
                self.objects.labels(job, action, status).inc(n)
        if seconds is not None:
            self.cycle_seconds.labels(job).observe(seconds)

    def job(self, view: JobOverview) -> None:
        """Refresh a job's gauges from its overview."""
        self.escrow.labels(view.job).set(view.escrow)
        self.quarantined.labels(view.job).set(1 if view.health.quarantine is not None else 0)
        for state in JOB_STATES:
            self.state.labels(view.job, state).set(1 if view.state == state else 0)
        if view.last_success is not None:
            self.last_success.labels(view.job).set(view.last_success.timestamp())

    def render(self) -> bytes:
        return generate_latest(self.registry)


Health = Callable[[], tuple[bool, dict[str, Any]]]


class MetricsServer:
    """``GET /metrics`` (Prometheus text) and ``GET /healthz`` (200 or 503 with the reasons, JSON)."""

    def __init__(
        self, address: tuple[str, int], metrics: Metrics, refresh: Callable[[], None], health: Health
    ):
        handler = _handler(metrics, refresh, health)
        self.httpd = ThreadingHTTPServer(address, handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="metrics", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(metrics: Metrics, refresh: Callable[[], None], health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                with contextlib.suppress(Exception):  # a failing state read must not hide the counters
                    refresh()
                self._send(200, metrics.render(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok, body = health()
                self._send(200 if ok else 503, json.dumps(body).encode() + b"\n", "application/json")
            else:
                self._send(404, b"not found: try /metrics or /healthz\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # scrapes are not worth a log line
            pass

    return Handler
