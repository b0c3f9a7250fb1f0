"""Entra's Test Connection, run against a job's target."""

from __future__ import annotations

import asyncio

from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import open_client
from syncer.settings import JobSettings


def test_connection(config: LoadedConfig, job: JobSettings) -> None:
    """``GET /Users?filter=userName eq "<random guid>"``: 200 and an empty list, or a typed error."""

    async def run() -> None:
        async with open_client(config, job) as client:
            await client.test_connection()

    asyncio.run(run())
