"""Print what a SCIM target holds, for ``make demo``: ``python -m tests.support.show_target BASE_URL``.

Reads through the SCIM API (not the store) so it shows what any client would see. The token,
when the server wants one, comes from ``$SYNCER_DEMO_TOKEN`` and never from argv.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import httpx

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PAGE = 500


def fetch_all(http: httpx.Client, endpoint: str) -> Iterator[dict[str, Any]]:
    """Every resource of an endpoint, advancing by what each page returned (the server caps count)."""
    start = 1
    while True:
        response = http.get(endpoint, params={"startIndex": start, "count": PAGE})
        response.raise_for_status()
        data = response.json()
        resources = data.get("Resources", [])
        yield from resources
        start += len(resources)
        if not resources or start > data.get("totalResults", 0):
            return


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def summary(users: list[dict[str, Any]], groups: list[dict[str, Any]]) -> str:
    """A readable report: users with their manager's userName, groups with their members' userNames."""
    names = {u["id"]: u.get("userName", u["id"]) for u in users}
    rows = []
    for user in sorted(users, key=lambda u: str(u.get("userName", "")).lower()):
        enterprise = user.get(ENTERPRISE) or {}
        manager = (enterprise.get("manager") or {}).get("value")
        rows.append(
            [
                _text(user.get("userName")),
                _text(user.get("active")),
                _text(user.get("title")),
                _text(enterprise.get("department")),
                names.get(manager, f"<unknown {manager}>") if manager else "-",
            ]
        )
    out = [f"Users: {len(users)}"]
    if rows:
        out.append(_table(["userName", "active", "title", "department", "manager"], rows))
    out.append("")
    out.append(f"Groups: {len(groups)}")
    for group in sorted(groups, key=lambda g: str(g.get("displayName", "")).lower()):
        # scim2-server keeps deleted users in members, so an id may name no user.
        members = sorted(
            names.get(m.get("value"), f"<unknown {m.get('value')}>") for m in group.get("members", [])
        )
        out.append(f"  {group.get('displayName', group['id'])} ({len(members)}): {', '.join(members) or '-'}")
    return "\n".join(out)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.support.show_target BASE_URL")
    headers = {"Accept": "application/scim+json"}
    token = os.environ.get("SYNCER_DEMO_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    base_url = sys.argv[1].rstrip("/")
    try:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            users = list(fetch_all(http, "/Users"))
            groups = list(fetch_all(http, "/Groups"))
    except httpx.HTTPStatusError as exc:
        sys.exit(f"{base_url}: {exc.response.status_code} {exc.response.reason_phrase}")
    except httpx.HTTPError as exc:
        sys.exit(f"{base_url}: {type(exc).__name__}: {exc}")
    print(summary(users, groups))


if __name__ == "__main__":
    main()
