"""Write the example Contoso directory that the demo and the tests provision from.

Deterministic (a fixed seed, stdlib only), so running it again gives byte-identical files and a
diff only when this script changes. Writes, next to itself:

- ``directory.json``: 60 users and 5 groups, the file source's JSON form;
- ``directory.csv`` + ``groups.yaml``: the first 10 of those users and 2 groups, the CSV form.

Run: ``python examples/make_directory.py``.
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
import uuid
from pathlib import Path
from typing import Any

SEED = 20240601
DOMAIN = "contoso.com"
USERS = 60
HERE = Path(__file__).resolve().parent

# department: (division, cost center, head's title, staff titles)
DEPARTMENTS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "Executive": ("Corporate", "CC-1000", "Chief Executive Officer", ("Chief of Staff", "Executive Aide")),
    "Engineering": (
        "Product & Technology",
        "CC-2000",
        "VP of Engineering",
        ("Software Engineer", "Senior Software Engineer", "Site Reliability Engineer", "QA Engineer"),
    ),
    "Sales": ("Go-to-Market", "CC-3000", "VP of Sales", ("Account Executive", "Sales Development Rep")),
    "Marketing": ("Go-to-Market", "CC-3100", "VP of Marketing", ("Marketing Manager", "Content Strategist")),
    "Finance": ("Corporate", "CC-4000", "Chief Financial Officer", ("Accountant", "Financial Analyst")),
    "Human Resources": ("Corporate", "CC-4100", "VP of People", ("HR Business Partner", "Recruiter")),
}
# how many of the 60 work in each department, head included (the CEO heads Executive)
HEADCOUNT = {
    "Executive": 3,
    "Engineering": 21,
    "Sales": 14,
    "Marketing": 8,
    "Finance": 7,
    "Human Resources": 7,
}
GROUPED_DEPARTMENTS = ("Engineering", "Sales", "Finance")

# city, state, ISO-2 country, phone prefix (numbers in ranges reserved for fiction where one exists)
OFFICES = (
    ("Redmond", "WA", "US", "+1 425 555 01"),
    ("New York", "NY", "US", "+1 212 555 01"),
    ("Berlin", "Berlin", "DE", "+49 30 5550 01"),
    ("Munich", "Bavaria", "DE", "+49 89 5550 01"),
    ("London", "England", "GB", "+44 20 7946 00"),
)
# city: street address, postal code (the office building's, invented)
STREETS = {
    "Redmond": ("1 Contoso Way", "98052"),
    "New York": ("350 Example Avenue", "10001"),
    "Berlin": ("Beispielstraße 12", "10117"),
    "Munich": ("Musterweg 5", "80331"),
    "London": ("22 Sample Lane", "EC1A 1BB"),
}

GIVEN_NAMES = (
    "Adele", "Alex", "Allan", "Ben", "Chloe", "Christie", "Debra", "Diego", "Emily", "Grady", "Henrietta",
    "Isaiah", "Jorge", "José", "Joni", "Lee", "Lidia", "Lynne", "Megan", "Miriam", "Nestor", "Patti",
    "Pradeep", "Raul", "Søren", "Zoë", "Frances", "Ingrid", "Kenji", "Amara",
)  # fmt: skip
SURNAMES = (
    "Vance", "Wilber", "Deyoung", "Gray", "Lambert", "Miller", "Núñez", "Archer", "Braun", "Cole",
    "Dubois", "Eriksson", "Fischer", "Garcia", "Holt", "Ibanez", "Jensen", "Kowalski", "Larsen", "Moreau",
    "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schafer", "Tanaka", "Underwood", "Weiß", "Young",
)  # fmt: skip
_ASCII = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "ł": "l"})


def ascii_name(name: str) -> str:
    """Fold a name to lowercase ASCII for a login, since many SCIM targets reject non-ASCII userNames."""
    folded = unicodedata.normalize("NFKD", name.translate(_ASCII))
    return "".join(c for c in folded if c.isascii() and c.isalnum()).lower()


def stable_id(*parts: object) -> str:
    """A uuid derived from the seed and a name, so ids survive re-running the script."""
    name = "/".join(map(str, parts))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://{DOMAIN}/directory/{SEED}/{name}"))


def make_users(rng: random.Random) -> list[dict[str, Any]]:
    """The CEO first, then the department heads, then staff in shuffled order."""
    people: list[tuple[str, str]] = []
    logins: set[str] = set()
    while len(people) < USERS:
        given, surname = rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)
        login = f"{ascii_name(given)}.{ascii_name(surname)}"
        if login not in logins:
            logins.add(login)
            people.append((given, surname))

    departments = [dept for dept, count in HEADCOUNT.items() for _ in range(count - 1)]
    rng.shuffle(departments)
    roles = [(dept, True) for dept in HEADCOUNT] + [(dept, False) for dept in departments]

    users: list[dict[str, Any]] = []
    heads: dict[str, str] = {}
    for n, ((given, surname), (dept, is_head)) in enumerate(zip(people, roles, strict=True), start=1):
        division, cost_center, head_title, titles = DEPARTMENTS[dept]
        city, state, country, phone = rng.choice(OFFICES)
        upn = f"{ascii_name(given)}.{ascii_name(surname)}@{DOMAIN}"
        user_id = stable_id("user", n)
        heads.setdefault(dept, user_id)
        # the CEO (head of Executive) reports to no one, the other heads to the CEO, staff to their head
        manager = heads[dept] if not is_head else None if dept == "Executive" else heads["Executive"]
        users.append(
            {
                "id": user_id,
                "userPrincipalName": upn,
                "mail": upn,
                "givenName": given,
                "surname": surname,
                "displayName": f"{given} {surname}",
                "jobTitle": head_title if is_head else rng.choice(titles),
                "department": dept,
                "employeeId": f"E{1000 + n}",
                "companyName": "Contoso",
                "division": division,
                "costCenter": cost_center,
                "city": city,
                "state": state,
                "country": country,
                "telephoneNumber": f"{phone}{n:02d}",
                # mobile and fax numbers in the same fictional block, so no extra random draws are made
                "mobile": f"{phone[:-2]}{int(phone[-2:]) + 1:02d}{n:02d}",
                "facsimileTelephoneNumber": f"{phone[:-2]}{int(phone[-2:]) + 2:02d}{n:02d}",
                "streetAddress": STREETS[city][0],
                "postalCode": STREETS[city][1],
                "physicalDeliveryOfficeName": f"{city} {n % 4 + 1}.{n:02d}",
                "mailNickname": upn.split("@")[0],
                "manager": manager,
                "accountEnabled": True,
            }
        )
    # exactly one leaver-in-waiting: a staff member, not a manager others report to
    rng.choice([u for u in users if u["id"] not in heads.values()])["accountEnabled"] = False
    return users


def make_groups(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Three department groups, the managers, and everyone: all non-empty, members in user order."""

    def group(name: str, description: str, members: list[dict[str, Any]]) -> dict[str, Any]:
        nickname = ascii_name(name.replace(" ", ""))
        return {
            "id": stable_id("group", nickname),
            "displayName": name,
            "mailNickname": nickname,
            "description": description,
            "members": [u["id"] for u in members],
        }

    managers = {u["manager"] for u in users}
    return [
        *(group(d, f"All of {d}", [u for u in users if u["department"] == d]) for d in GROUPED_DEPARTMENTS),
        group("All Managers", "The CEO and the department heads", [u for u in users if u["id"] in managers]),
        group("Contoso Everyone", "Every Contoso employee", users),
    ]


def to_csv(users: list[dict[str, Any]]) -> str:
    """Booleans as true/false and null as an empty cell: what the CSV reader types back."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(users[0]), lineterminator="\n")
    writer.writeheader()
    for user in users:
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in user.items()})
    return out.getvalue()


def to_yaml(groups: list[dict[str, Any]]) -> str:
    """Hand-written YAML (stdlib only); JSON strings are valid YAML double-quoted scalars."""
    lines = ["# The groups for directory.csv: written by make_directory.py, do not edit.", "groups:"]
    for g in groups:
        lines.append(f"  - id: {json.dumps(g['id'])}")
        lines += [f"    {k}: {json.dumps(g[k])}" for k in ("displayName", "mailNickname", "description")]
        lines.append("    members:")
        lines += [f"      - {json.dumps(member)}" for member in g["members"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    rng = random.Random(SEED)
    users = make_users(rng)
    groups = make_groups(users)
    directory = {"users": users, "groups": groups}
    (HERE / "directory.json").write_text(json.dumps(directory, indent=2, ensure_ascii=False) + "\n", "utf-8")

    first = users[:10]
    ids = {u["id"] for u in first}
    small = [
        {**g, "members": [m for m in g["members"] if m in ids]}
        for g in groups
        if g["displayName"] in ("Engineering", "All Managers")
    ]
    (HERE / "directory.csv").write_text(to_csv(first), "utf-8")
    (HERE / "groups.yaml").write_text(to_yaml(small), "utf-8")


if __name__ == "__main__":
    main()
