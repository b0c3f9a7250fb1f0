"""How :mod:`tests.support.hostile` bends the discovery endpoints, as real targets answer them.

``no_enterprise``
    ``/ResourceTypes`` lists no ``schemaExtensions`` and ``/Schemas`` lacks the enterprise schema
    (it also answers a bare JSON array there, as several targets do); a POST or PUT carrying the
    enterprise extension gets 400 ``invalidValue``, as such targets answer.
``no_filter``
    ``/ServiceProviderConfig`` says ``filter.supported: false`` and ``patch.supported: false``, and
    the proxy drops ``filter`` from every query, as such a target ignores it.
``no_discovery``
    All three discovery endpoints answer 404.
``small_pages``
    ``/ServiceProviderConfig`` says ``filter.maxResults: 7``; nothing else is bent.
``broken_discovery``
    All three discovery endpoints answer 500, as a target whose discovery is broken does.
"""

from __future__ import annotations

import json
from typing import Any

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DISCOVERY_MODES = ("no_enterprise", "no_filter", "no_discovery", "broken_discovery", "small_pages")
ENDPOINTS = ("ServiceProviderConfig", "ResourceTypes", "Schemas")
SMALL_PAGE = 7


def endpoint_of(path: str) -> str | None:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last if last in ENDPOINTS else None


def refuse_write(mode: str, method: str, body: bytes) -> bytes | None:
    """The 400 body a target without the extension answers to a write carrying it, else ``None``."""
    if mode != "no_enterprise" or method not in ("POST", "PUT") or ENTERPRISE.encode() not in body:
        return None
    return json.dumps(
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400",
            "scimType": "invalidValue",
            "detail": f"unknown schema {ENTERPRISE}",
        }
    ).encode()


def bend(mode: str, endpoint: str, content: bytes) -> tuple[int, bytes]:
    """The status and body the bent target answers for a discovery endpoint."""
    if mode == "no_discovery":
        return 404, b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404"}'
    if mode == "broken_discovery":
        return 500, b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500"}'
    data: Any = json.loads(content)
    if mode == "no_filter" and endpoint == "ServiceProviderConfig":
        data["filter"] = {"supported": False, "maxResults": 0}
        data["patch"] = {"supported": False}
    elif mode == "small_pages" and endpoint == "ServiceProviderConfig":
        data["filter"] = {"supported": True, "maxResults": SMALL_PAGE}
    elif mode == "no_enterprise" and endpoint == "ResourceTypes":
        for resource_type in data.get("Resources", []):
            resource_type.pop("schemaExtensions", None)
    elif mode == "no_enterprise" and endpoint == "Schemas":
        data = [s for s in data.get("Resources", []) if s.get("id") != ENTERPRISE]
    return 200, json.dumps(data).encode()
