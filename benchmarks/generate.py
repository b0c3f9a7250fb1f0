"""Write a synthetic source directory of N users and 5% as many groups, deterministically.

Users look like examples/directory.json (every attribute mappings/scim-default.yaml reads), with a
management tree (each manager has up to 8 reports, so 10k users are 5 levels deep) and 1 in 100
accounts disabled. Groups have 20 members on average (5 to 35), drawn from all users. The same
``--users`` and ``--seed`` always give byte-identical files.

Run: ``.venv/bin/python benchmarks/generate.py 10000 /tmp/directory.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from pathlib import Path
from typing import Any

SEED = 7
DOMAIN = "contoso.com"
REPORTS = 8
GIVEN = ("Adele", "Alex", "Ben", "Chloe", "Debra", "Diego", "Emily", "Grady", "Isaiah", "Jorge", "Lee")
SURNAMES = ("Vance", "Wilber", "Gray", "Lambert", "Miller", "Archer", "Braun", "Cole", "Dubois", "Holt")
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "Human Resources", "Support", "Legal")
TITLES = ("Engineer", "Senior Engineer", "Account Executive", "Analyst", "Manager", "Specialist")
OFFICES = (
    ("Redmond", "WA", "US", "+1 425 555 ", "1 Contoso Way", "98052"),
    ("New York", "NY", "US", "+1 212 555 ", "350 Example Avenue", "10001"),
    ("Berlin", "Berlin", "DE", "+49 30 5550 ", "Beispielstrasse 12", "10117"),
    ("London", "England", "GB", "+44 20 7946 ", "22 Sample Lane", "EC1A 1BB"),
)


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_directory(users: int, seed: int = SEED) -> dict[str, list[dict[str, Any]]]:
    """``users`` users and ``users // 20`` groups (at least one), as the file source reads them."""
    rng = random.Random(seed)
    ids = [_id(rng) for _ in range(users)]
    records = []
    for n, user_id in enumerate(ids):
        given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
        login = f"{given}.{surname}.{n}".lower()
        city, state, country, phone, street, postal = rng.choice(OFFICES)
        records.append(
            {
                "id": user_id,
                "userPrincipalName": f"{login}@{DOMAIN}",
                "mail": f"{login}@{DOMAIN}",
                "givenName": given,
                "surname": surname,
                "displayName": f"{given} {surname} {n}",
                "jobTitle": rng.choice(TITLES),
                "department": rng.choice(DEPARTMENTS),
                "employeeId": f"E{100000 + n}",
                "companyName": "Contoso",
                "division": "Product & Technology",
                "costCenter": f"CC-{1000 + n % 50}",
                "city": city,
                "state": state,
                "country": country,
                "telephoneNumber": f"{phone}{n % 10000:04d}",
                "mobile": f"{phone}{(n + 1) % 10000:04d}",
                "facsimileTelephoneNumber": f"{phone}{(n + 2) % 10000:04d}",
                "streetAddress": street,
                "postalCode": postal,
                "physicalDeliveryOfficeName": f"{city} {n % 4 + 1}.{n % 100:02d}",
                "mailNickname": login,
                # user n reports to user (n - 1) // REPORTS: a tree, the first user at its root
                "manager": ids[(n - 1) // REPORTS] if n else None,
                "accountEnabled": n % 100 != 99,
            }
        )
    groups = []
    for g in range(max(1, users // 20)):
        size = min(users, rng.randint(5, 35))
        members = sorted(rng.sample(range(users), size))
        groups.append(
            {
                "id": _id(rng),
                "displayName": f"Team {g:05d}",
                "mailNickname": f"team{g:05d}",
                "description": f"Synthetic team {g}",
                "members": [ids[m] for m in members],
            }
        )
    return {"users": records, "groups": groups}


def write_directory(path: Path, users: int, seed: int = SEED) -> Path:
    """Write the directory as JSON (one line per record, so a diff stays readable) and return the path."""
    directory = make_directory(users, seed)
    lines = ['{"users": [']
    lines.append(",\n".join(json.dumps(u, separators=(",", ":")) for u in directory["users"]))
    lines.append('], "groups": [')
    lines.append(",\n".join(json.dumps(g, separators=(",", ":")) for g in directory["groups"]))
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    write_directory(args.out, args.users, args.seed)
    print(f"wrote {args.users} users and {max(1, args.users // 20)} groups to {args.out}")


if __name__ == "__main__":
    main()
