"""Initial sync: ``syncer sync`` against a fresh scim2-server, next to the raw loop against another.

For each size: a synthetic directory (benchmarks/generate.py), then

1. a fresh server and ``syncer sync`` (the CLI, in its own process): wall time, requests by
   method, requests per second, CPU seconds and peak RSS of the syncer process;
2. a fresh server and the raw loop (benchmarks/rawloop.py): bare httpx at the same concurrency,
   sending the minimal request set (one POST per user and group, the member PATCH batches);
3. the ratio syncer/raw, and what each server then holds (the two must agree).

Goals (issue 7): wall time within 1.1x of the raw loop, requests within 1.05x of the minimum.
The box is shared: the load average is printed and saved, and figures are upper bounds.

Run: ``make bench`` or ``.venv/bin/python -m benchmarks.bench_initial --users 1000 10000``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.generate import write_directory
from benchmarks.harness import (
    PYTHON,
    ROOT,
    TOKEN,
    Measured,
    machine,
    print_table,
    run_measured,
    run_syncer,
    save_results,
    scim_server,
    write_config,
)


def held(url: str) -> dict[str, int]:
    """How many users and groups the server holds (one uncounted-by-syncer GET each)."""
    totals = {}
    for kind in ("Users", "Groups"):
        request = urllib.request.Request(
            f"{url}/{kind}?count=0", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            totals[kind] = int(json.load(answer)["totalResults"])
    return totals


def bench(users: int, concurrency: int, strategy: str | None, workdir: Path) -> dict[str, Any]:
    directory = write_directory(workdir / f"directory-{users}.json", users)
    load_before = os.getloadavg()
    runs: list[Measured] = []
    held_by: dict[str, dict[str, int]] = {}
    syncer_dir = workdir / f"syncer-{users}"
    syncer_dir.mkdir()
    with scim_server(workdir) as url:
        config = write_config(syncer_dir, url, directory, concurrency=concurrency, strategy=strategy)
        runs.append(run_syncer("syncer sync", config))
        held_by["syncer sync"] = held(url)
    raw_dir = workdir / f"raw-{users}"
    raw_dir.mkdir()
    with scim_server(workdir) as url:
        config = write_config(raw_dir, url, directory, concurrency=concurrency)
        raw = run_measured("raw loop", [PYTHON, "-m", "benchmarks.rawloop", str(config)])
        # the raw child's figures are the timed loop's; its set-up (planning the bodies) is not counted
        raw.wall_s, raw.cpu_s = raw.extra.pop("loop_s"), raw.extra.pop("loop_cpu_s")
        runs.append(raw)
        held_by["raw loop"] = held(url)
    title = f"initial sync, {users} users, {max(1, users // 20)} groups, concurrency {concurrency}"
    print_table(title, runs, ratio_of=("syncer sync", "raw loop"))
    print(
        f"held by the server afterwards: {held_by}; "
        f"load average before {load_before}, after {os.getloadavg()}"
    )
    s, r = runs
    return {
        "users": users,
        "groups": max(1, users // 20),
        "concurrency": concurrency,
        "strategy": strategy or "default",
        "runs": [m.row() for m in runs],
        "ratio": {
            "wall": round(s.wall_s / r.wall_s, 3),
            "requests": round(s.total / r.total, 3),
            "cpu": round(s.cpu_s / max(r.cpu_s, 0.01), 3),
        },
        "held": held_by,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--strategy", choices=("auto", "query", "list"), default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "initial.json")
    args = parser.parse_args()
    results = {"machine": machine(), "benchmarks": []}
    with tempfile.TemporaryDirectory(prefix="syncer-bench-") as tmp:
        for users in args.users:
            results["benchmarks"].append(bench(users, args.concurrency, args.strategy, Path(tmp)))
    results["machine"]["loadavg_end"] = os.getloadavg()
    save_results(args.out, results)


if __name__ == "__main__":
    main()
