"""Incremental cycles: nothing changed (0 writes), then one attribute changed on 1% of the users.

For each size: a synthetic directory, a fresh scim2-server and an initial ``syncer sync``; then

1. ``syncer sync`` again with no source change: it must send no write request at all;
2. ``jobTitle`` changed on every 100th user, and ``syncer sync``: exactly that many PATCHes.

Each cycle is the CLI in its own process: wall time, requests, CPU seconds and peak RSS.
Goals (issue 7): a no-change cycle over 100k users under 5 s with 0 writes.

Run: ``make bench`` or ``.venv/bin/python -m benchmarks.bench_incremental --users 1000 10000``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.generate import write_directory
from benchmarks.harness import ROOT, machine, print_table, run_syncer, save_results, scim_server, write_config


def change_titles(directory: Path) -> int:
    """Change ``jobTitle`` on every 100th user (all of them enabled); return how many."""
    data = json.loads(directory.read_text())
    changed = 0
    for n, user in enumerate(data["users"]):
        if n % 100 == 0:
            user["jobTitle"] = f"{user['jobTitle']} (changed)"
            changed += 1
    directory.write_text(json.dumps(data, separators=(",", ":")))
    return changed


def bench(users: int, concurrency: int, strategy: str | None, workdir: Path) -> dict[str, Any]:
    directory = write_directory(workdir / f"directory-{users}.json", users)
    load_before = os.getloadavg()
    work = workdir / f"incremental-{users}"
    work.mkdir()
    with scim_server(workdir) as url:
        config = write_config(work, url, directory, concurrency=concurrency, strategy=strategy)
        initial = run_syncer("initial", config)
        unchanged = run_syncer("no change", config)
        changed = change_titles(directory)
        one_percent = run_syncer(f"1% changed ({changed})", config)
    print_table(
        f"incremental cycles, {users} users, concurrency {concurrency}", [initial, unchanged, one_percent]
    )
    checks = {
        "no_change_writes": unchanged.writes,
        "no_change_ok": unchanged.writes == 0,
        "changed": changed,
        "changed_patches": one_percent.requests.get("PATCH", 0),
        "changed_writes": one_percent.writes,
        "changed_ok": one_percent.writes == changed and one_percent.requests.get("PATCH", 0) == changed,
    }
    print(f"checks: {checks}; load average before {load_before}, after {os.getloadavg()}")
    return {
        "users": users,
        "concurrency": concurrency,
        "strategy": strategy or "default",
        "runs": [m.row() for m in (initial, unchanged, one_percent)],
        "checks": checks,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--strategy", choices=("auto", "query", "list"), default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "incremental.json")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "benchmarks": []}
    with tempfile.TemporaryDirectory(prefix="syncer-bench-") as tmp:
        for users in args.users:
            results["benchmarks"].append(bench(users, args.concurrency, args.strategy, Path(tmp)))
    results["machine"]["loadavg_end"] = os.getloadavg()
    save_results(args.out, results)
    failed = [
        b["users"]
        for b in results["benchmarks"]
        if not (b["checks"]["no_change_ok"] and b["checks"]["changed_ok"])
    ]
    if failed:
        raise SystemExit(f"request-count checks failed at {failed} users")


if __name__ == "__main__":
    main()
