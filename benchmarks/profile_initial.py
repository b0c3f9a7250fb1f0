"""Profile an initial ``syncer sync`` of N synthetic users against a fresh scim2-server.

Needs pyinstrument in the venv (``.venv/bin/pip install pyinstrument``; not a dependency).
Writes the text profile to ``--out`` and prints its top.

Run: ``.venv/bin/python -m benchmarks.profile_initial --users 10000 --out /tmp/profile.txt``.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from benchmarks.generate import write_directory
from benchmarks.harness import PYTHON, ROOT, scim_server, write_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--strategy", choices=("auto", "query", "list"), default=None)
    parser.add_argument("--out", type=Path, default=Path("profile-initial.txt"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syncer-profile-") as tmp:
        work = Path(tmp)
        directory = write_directory(work / "directory.json", args.users)
        with scim_server(work) as url:
            config = write_config(work, url, directory, concurrency=args.concurrency, strategy=args.strategy)
            subprocess.run(
                [PYTHON, "-m", "pyinstrument", "-r", "text", "--show-all", "-o", str(args.out.resolve()),
                 "-m", "syncer", "-c", str(config), "sync"],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
    print("\n".join(args.out.read_text().splitlines()[:60]))


if __name__ == "__main__":
    main()
