"""Print the cost of mapping one user through the Asana preset, over 100k synthetic users.

The mapping is compiled once (as at config load) and then applied to each user, exactly as a cycle
does: ``map_object`` over a ``SourceObject``, expressions included. Goal: under 50 µs per user.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_mapping.py [USERS]``.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from syncer.core.expressions import EvaluationContext
from syncer.core.mapping import compile_mapping, map_object
from syncer.runtime.configfile import load_mapping
from syncer.types import ObjectKind, SourceObject

ROOT = Path(__file__).resolve().parents[1]


def synthetic_users(count: int) -> list[SourceObject]:
    """Users shaped like examples/directory.json, every attribute the preset reads filled in."""
    users = []
    for n in range(count):
        attributes = {
            "id": f"u{n}",
            "userPrincipalName": f"user{n}@contoso.com",
            "givenName": f"Given{n % 97}",
            "surname": f"Surname{n % 89}",
            "jobTitle": "Software Engineer",
            "department": "Engineering",
            "manager": f"u{n // 10}" if n else None,
            "country": "US",
            "state": "WA",
            "city": "Redmond",
            "telephoneNumber": f"+1 425 555 {n % 10000:04d}",
            "employeeId": f"E{n}",
            "costCenter": "CC-2000",
            "companyName": "Contoso",
            "division": "Product & Technology",
            "accountEnabled": n % 50 != 0,
        }
        users.append(SourceObject(ObjectKind.USER, f"u{n}", MappingProxyType(attributes)))
    return users


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    loaded = load_mapping(ROOT / "mappings" / "asana.yaml")
    mapping = compile_mapping(loaded.settings, file=str(loaded.document.path)).users
    users = synthetic_users(count)
    context = EvaluationContext(now=datetime.now(UTC))
    for user in users[:1000]:  # warm up caches before timing
        map_object(mapping, user, context)
    started = time.perf_counter()
    for user in users:
        map_object(mapping, user, context)
    elapsed = time.perf_counter() - started
    per_user = elapsed / count * 1e6
    print(
        f"mapping {count} users through mappings/asana.yaml ({len(mapping.attributes)} attributes): "
        f"{elapsed:.2f} s, {per_user:.1f} µs per user (goal < 50 µs)"
    )


if __name__ == "__main__":
    main()
