"""How :mod:`tests.support.hostile` makes a target that does not de-duplicate a member ``add``.

``duplicate_member_add``
    RFC 7644 §3.5.2.1 says adding a member a group already has SHOULD NOT change it; some
    targets list the member twice instead. scim2-server de-duplicates, so the proxy keeps the
    duplicates itself: before forwarding a PATCH of ``/Groups/{id}`` it reads the group's members
    from the real server, and every added value already there is remembered as a duplicate and
    shown again in every later answer holding that group (by id or in a listing).
    :attr:`Duplicates.adds` records every member value sent in an ``add``, for the test to check.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import defaultdict
from typing import Any

MODE = "duplicate_member_add"


class Duplicates:
    """The member values each group would list twice, and every value ever added to each group."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.twice: dict[str, list[str]] = defaultdict(list)
        self.adds: dict[str, list[str]] = defaultdict(list)

    def clear(self) -> None:
        with self._lock:
            self.twice.clear()
            self.adds.clear()

    def before_patch(
        self, upstream: tuple[str, int], prefix: str, path: str, body: bytes, headers: dict[str, str]
    ) -> None:
        """Note the adds of a group PATCH, and which of them the group already holds (read upstream)."""
        group_id = _group_id(path)
        if group_id is None:
            return
        added = added_members(body)
        if not added:
            return
        present = _members_upstream(upstream, f"{prefix}/Groups/{group_id}", headers)
        with self._lock:
            self.adds[group_id].extend(added)
            self.twice[group_id].extend(v for v in added if v in present)

    def bend(self, content: bytes) -> bytes:
        """A group (or a listing of groups) with the duplicated members shown once more."""
        with self._lock:
            twice = {k: list(v) for k, v in self.twice.items() if v}
        if not twice:
            return content
        try:
            data = json.loads(content)
        except ValueError:
            return content
        resources = data.get("Resources") if isinstance(data, dict) and "Resources" in data else [data]
        for resource in resources:
            if isinstance(resource, dict) and resource.get("id") in twice and "members" in resource:
                resource["members"] = [*resource["members"], *({"value": v} for v in twice[resource["id"]])]
        return json.dumps(data).encode()


def added_members(body: bytes) -> list[str]:
    """The member values a PatchOp body adds (``add`` with ``path: members``, or without a path)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return []
    values: list[str] = []
    for op in data.get("Operations", []) if isinstance(data, dict) else []:
        if str(op.get("op", "")).lower() != "add":
            continue
        value = op.get("value")
        if op.get("path") is None and isinstance(value, dict):
            value = value.get("members")
        elif str(op.get("path", "")).lower() != "members":
            continue
        values.extend(str(m["value"]) for m in value or [] if isinstance(m, dict) and "value" in m)
    return values


def _group_id(path: str) -> str | None:
    parts = path.split("?", 1)[0].rstrip("/").split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "Groups" else None


def _members_upstream(upstream: tuple[str, int], path: str, headers: dict[str, str]) -> set[str]:
    sent = {"Accept": "application/scim+json"}
    sent.update({k: v for k, v in headers.items() if k.lower() == "authorization"})
    conn = http.client.HTTPConnection(*upstream, timeout=30)
    try:
        conn.request("GET", path + "?attributes=members", headers=sent)
        response = conn.getresponse()
        data = json.loads(response.read() or b"{}")
    finally:
        conn.close()
    return {str(m["value"]) for m in data.get("members") or []}
