"""Slack's write budget is the organisation's: two jobs of one process writing to it share one bucket.

Two jobs' clients, made as a cycle makes them (``open_client``), each in its own thread and event
loop as the daemon runs its jobs, create users at once through an emulated Slack that counts user
writes in sliding two seconds and answers 429 past 30. Each job's budget is 12/s: shared, the two
together send 24 in two seconds; apart, 48 (numbers a loaded test machine still reaches, with room
for its jitter).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.adapters.scim.client import ScimClient
from syncer.runtime.configfile import LoadedConfig, load_config
from syncer.runtime.jobcontext import open_client
from syncer.types import ObjectKind
from tests.support import canary
from tests.support.quirk_target import QuirkTarget
from tests.support.quirks.budgets import WriteWindow
from tests.support.scim_server import ScimTestServer

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # seconds each: 40 writes at the budget's pace


@pytest.fixture
def counted(scim: ScimTestServer) -> Iterator[QuirkTarget]:
    with QuirkTarget(scim.base_url, [WriteWindow(30, 2.0, users_only=True)]) as target:
        yield target


def _config(tmp_path: Path, url: str, profile: str) -> LoadedConfig:
    token = tmp_path / "token"
    token.write_text(canary.TARGET_TOKEN)
    token.chmod(0o600)
    canary.declare_input(token)
    jobs = "".join(
        f"""  - name: {name}
    source: {{type: file, path: directory.json}}
    target:
      url: {url}
      token_file: token
      profile: {profile}
      concurrency: 8
      user_write_rate_limit: 12/s
    mapping: {ROOT / "mappings" / "asana.yaml"}
"""
        for name in ("first", "second")
    )
    (tmp_path / "config.yaml").write_text(f"state: sqlite:///state.db\njobs:\n{jobs}")
    return load_config(tmp_path / "config.yaml")


def _create_users(client: ScimClient, prefix: str, count: int) -> None:
    async def main() -> None:
        async with client:
            await asyncio.gather(
                *(
                    client.create(ObjectKind.USER, {"schemas": [USER], "userName": f"{prefix}{i}@x.example"})
                    for i in range(count)
                )
            )

    asyncio.run(main())


def _both_jobs(config: LoadedConfig) -> None:
    clients = [open_client(config, job) for job in config.settings.jobs]
    threads = [
        threading.Thread(target=_create_users, args=(client, f"{job.name}-", 20))
        for client, job in zip(clients, config.settings.jobs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_two_slack_jobs_share_one_write_budget(tmp_path: Path, counted: QuirkTarget) -> None:
    _both_jobs(_config(tmp_path, counted.base_url, "slack"))
    assert len([r for r in counted.seen() if r.method == "POST"]) == 40
    assert counted.refused() == []


def test_jobs_of_a_target_without_a_shared_budget_each_spend_their_own(
    tmp_path: Path, counted: QuirkTarget
) -> None:
    """The counter-proof: the same two jobs on a generic target pass the emulated count."""
    _both_jobs(_config(tmp_path, counted.base_url, "generic"))
    assert counted.refused() != []
