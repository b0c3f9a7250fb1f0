"""A small in-memory SCIM target behind ``httpx.MockTransport``, for in-process executor tests.

It keeps users and groups by id, answers POST (409 on a taken userName/displayName), GET by id,
filtered GET (``attr eq "value"``), PATCH/PUT and DELETE with SCIM error bodies, and counts the
requests it saw. ``quirk`` is the seam for misbehaviour: a function of the request that returns a
response to send instead (or ``None`` to answer normally); ``after`` runs after a normal answer.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
FILTER = re.compile(r'^(\S+) eq "(.*)"$')
Quirk = Callable[[httpx.Request], httpx.Response | None]


def scim_error(status: int, detail: str = "", scim_type: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return httpx.Response(status, json=body, headers={"Content-Type": "application/scim+json"})


def html(status: int) -> httpx.Response:
    page = f"<html><head><title>{status}</title></head><body><h1>{status}</h1><hr>nginx</body></html>"
    return httpx.Response(status, text=page, headers={"Content-Type": "text/html"})


class FakeTarget:
    def __init__(self) -> None:
        self.store: dict[str, dict[str, dict[str, Any]]] = {"Users": {}, "Groups": {}}
        self.seen: Counter[str] = Counter()
        self.quirk: Quirk | None = None
        self.log: list[str] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def users(self) -> list[dict[str, Any]]:
        return list(self.store["Users"].values())

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen[request.method] += 1
        self.log.append(f"{request.method} {request.url.path}")
        if self.quirk is not None:
            forced = self.quirk(request)
            if forced is not None:
                return forced
        parts = [p for p in request.url.path.split("/") if p]
        endpoint = parts[-2] if len(parts) >= 2 and parts[-2] in self.store else parts[-1]
        rid = parts[-1] if endpoint != parts[-1] else None
        if endpoint not in self.store:
            return html(404)
        if rid is None:
            return self._collection(request, endpoint)
        return self._resource(request, endpoint, rid)

    def _collection(self, request: httpx.Request, endpoint: str) -> httpx.Response:
        table = self.store[endpoint]
        if request.method == "POST":
            body = json.loads(request.content)
            unique = "userName" if endpoint == "Users" else "displayName"
            if any(r.get(unique) == body.get(unique) for r in table.values()):
                return scim_error(409, f"{unique} is taken", "uniqueness")
            rid = uuid.uuid4().hex
            table[rid] = {**body, "id": rid}
            return httpx.Response(201, json=table[rid])
        hits = list(table.values())
        text = request.url.params.get("filter")
        if text:
            m = FILTER.match(text)
            assert m, text
            hits = [r for r in hits if str(r.get(m.group(1))) == m.group(2)]
        return httpx.Response(
            200,
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": len(hits),
                "Resources": hits,
            },
        )

    def _resource(self, request: httpx.Request, endpoint: str, rid: str) -> httpx.Response:
        table = self.store[endpoint]
        if rid not in table:
            return scim_error(404, f"{rid} not found")
        if request.method == "GET":
            return httpx.Response(200, json=table[rid])
        if request.method == "DELETE":
            del table[rid]
            return httpx.Response(204)
        body = json.loads(request.content)
        if request.method == "PUT":
            table[rid] = {**body, "id": rid}
            return httpx.Response(200, json=table[rid])
        for op in body["Operations"]:
            if op.get("path") and op["op"].lower() == "replace":
                table[rid][op["path"]] = op["value"]
            elif op["op"].lower() == "replace" and isinstance(op.get("value"), dict):
                table[rid].update(op["value"])
            elif op.get("path") == "members" and op["op"].lower() == "add":
                table[rid].setdefault("members", []).extend(op["value"])
        return httpx.Response(200, json=table[rid])
