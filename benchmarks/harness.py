"""What the benchmarks share: a fresh scim2-server per run, the syncer CLI as a measured child, tables.

Every measured party runs in its own process: the SCIM server (tests/support/scim_server.py, the
backlog-1024 launcher), the syncer CLI and the raw loop. A child's CPU seconds and peak RSS come
from ``os.wait4`` (the kernel's rusage of that process alone), so the server's work is never
counted as the client's. The box is shared: each result carries the load average before and after.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SYNCER = str(Path(PYTHON).with_name("syncer"))
TOKEN = "bench-token"


@dataclass
class Measured:
    """One child process: its wall time, CPU seconds (user + system), peak RSS and what it reported."""

    name: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    requests: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def writes(self) -> int:
        return sum(n for m, n in self.requests.items() if m in ("POST", "PUT", "PATCH", "DELETE"))

    @property
    def rps(self) -> float:
        return self.total / self.wall_s if self.wall_s else 0.0

    def row(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "total": self.total,
            "writes": self.writes,
            "rps": round(self.rps, 1),
        }


def machine() -> dict[str, Any]:
    """Where the figures come from: CPU model, cores, Python, and the load when asked."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": os.getloadavg(),
    }


@contextmanager
def scim_server(workdir: Path) -> Iterator[str]:
    """A fresh, empty scim2-server in its own process; yields its base URL and stops it afterwards."""
    url_file = workdir / f"server-{time.monotonic_ns()}.url"
    env = {**os.environ, "BENCH_SCIM_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [PYTHON, "-m", "tests.support.scim_server", "--port-file", str(url_file), "--token-env",
         "BENCH_SCIM_TOKEN"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(300):
            if url_file.exists():
                break
            if proc.poll() is not None:
                raise RuntimeError("the SCIM server exited at start")
            time.sleep(0.05)
        else:
            raise RuntimeError("the SCIM server did not start in 15 s")
        yield url_file.read_text().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def write_config(
    workdir: Path, url: str, directory: Path, *, concurrency: int, strategy: str | None = None
) -> Path:
    """A one-job config: the file source, the scim-default mapping, the state next to the config."""
    matching = f"\n    matching: {{strategy: {strategy}}}" if strategy else ""
    config = workdir / "config.yaml"
    config.write_text(
        f"""state: sqlite:///state.db
jobs:
  - name: bench
    source: {{type: file, path: {directory}}}
    target:
      url: {url}
      token: {TOKEN}
      concurrency: {concurrency}
    mapping: {ROOT / "mappings" / "scim-default.yaml"}{matching}
"""
    )
    return config


def run_measured(name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Measured:
    """Run a child to completion and measure it with ``wait4``; its stdout's last line may be JSON."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=ROOT, stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode not in (0,):
        tail = "\n".join(stderr.splitlines()[-15:])
        raise RuntimeError(f"{name}: exit {proc.returncode}\n{stdout[-2000:]}\n{tail}")
    extra: dict[str, Any] = {}
    lines = stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        extra = json.loads(lines[-1])
    return Measured(
        name=name,
        wall_s=round(wall, 2),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
        requests=extra.pop("requests", {}),
        extra=extra,
    )


def run_syncer(name: str, config: Path) -> Measured:
    """``syncer sync`` as users run it, in its own process; the requests come from the run record."""
    measured = run_measured(name, [SYNCER, "-c", str(config), "sync"], env={"NO_COLOR": "1"})
    sys.path.insert(0, str(ROOT))
    from syncer.adapters.state.store import StateStore

    with StateStore(f"sqlite:///{config.parent / 'state.db'}") as store:
        run = store.runs("bench", limit=1)[0]
    measured.requests = {
        key.split(".", 1)[1]: int(n) for key, n in run.counts.items() if key.startswith("requests.")
    }
    measured.extra = {
        "status": run.status,
        "cycle_s": round((run.finished_at - run.started_at).total_seconds(), 2) if run.finished_at else None,
        "counts": {k: v for k, v in run.counts.items() if not k.startswith("requests.")},
    }
    return measured


def print_table(title: str, rows: Sequence[Measured], ratio_of: tuple[str, str] | None = None) -> None:
    print(f"\n{title}")
    header = f"{'run':<28}{'wall s':>9}{'cycle s':>9}{'GET':>7}{'POST':>7}{'PATCH':>7}{'total':>8}"
    header += f"{'rps':>8}{'CPU s':>8}{'RSS MB':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        cycle = r.extra.get("cycle_s")
        print(
            f"{r.name:<28}{r.wall_s:>9.2f}{(f'{cycle:.2f}' if cycle is not None else '-'):>9}"
            f"{r.requests.get('GET', 0):>7}{r.requests.get('POST', 0):>7}{r.requests.get('PATCH', 0):>7}"
            f"{r.total:>8}{r.rps:>8.1f}{r.cpu_s:>8.2f}{r.peak_rss_mb:>8.1f}"
        )
    if ratio_of:
        a, b = (next(r for r in rows if r.name == n) for n in ratio_of)
        print(
            f"ratio {a.name}/{b.name}: wall {a.wall_s / b.wall_s:.2f}x, requests {a.total / b.total:.3f}x, "
            f"CPU {a.cpu_s / max(b.cpu_s, 0.01):.2f}x"
        )


def save_results(path: Path, payload: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    print(f"\nresults written to {path}")
