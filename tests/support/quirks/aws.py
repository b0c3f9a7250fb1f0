"""AWS IAM Identity Center's SCIM endpoint, as its developer guide documents it.

Sources (docs.aws.amazon.com/singlesignon/latest/developerguide): limitations.html (filters:
``eq`` and ``and`` only; one value of emails, addresses and phone numbers), listusers.html /
listgroups.html (the filterable attributes; ``members`` always empty in an answer; membership
asked with ``id eq "G" and members eq "U"``), patchgroup.html / creategroup.html (at most 100
membership changes per request; no ``replace`` of ``members``), createuser.html (``givenName``,
``familyName`` and ``displayName`` required). Listings page by cursor (:mod:`.cursor`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from tests.support.quirk_target import (
    LIST_RESPONSE,
    Behaviour,
    QuirkTarget,
    Request,
    Response,
    scim_error,
)
from tests.support.quirks.cursor import CursorOnly
from tests.support.quirks.filters import EqFilterOn

QUOTED = r'("(?:[^"\\]|\\.)*")'
MEMBERSHIP = re.compile(rf"^\s*id\s+eq\s+{QUOTED}\s+and\s+members\s+eq\s+{QUOTED}\s*$", re.I)
SINGLE_VALUED = ("emails", "phoneNumbers", "addresses")
MAX_MEMBER_CHANGES = 100


def _key(data: dict[str, Any], name: str) -> str | None:
    return next((k for k in data if k.lower() == name.lower()), None)


class MembersNotInAnswers(Behaviour):
    """``members`` is empty in every group answer; ``id eq "G" and members eq "U"`` says if U is in G."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        text = request.param("filter")
        if request.method != "GET" or request.resource != "Groups" or text is None:
            return None
        found = MEMBERSHIP.match(text)
        if found is None:
            return None
        group_id, member_id = json.loads(found.group(1)), json.loads(found.group(2))
        group = target.upstream("GET", f"/Groups/{group_id}", headers=request.headers)
        held = group.json().get("members") or [] if group.status == 200 else []
        hits = (
            [{"id": group_id, "displayName": group.json().get("displayName")}]
            if any(m.get("value") == member_id for m in held)
            else []
        )
        body = {"schemas": [LIST_RESPONSE], "totalResults": len(hits), "Resources": hits}
        return Response(200).with_json(body)

    def bend(self, request: Request, response: Response, target: QuirkTarget) -> Response:
        if request.resource != "Groups" or not response.body or response.status >= 300:
            return response
        data = response.json()
        resources = data.get("Resources") if LIST_RESPONSE in data.get("schemas", []) else [data]
        for resource in resources or []:
            key = _key(resource, "members") or "members"
            resource[key] = []
        return response.with_json(data)


def _member_values(op: dict[str, Any]) -> list[Any] | None:
    """The member values an operation changes, or ``None`` when it does not touch ``members``."""
    path = str(op.get("path") or "")
    value = op.get("value")
    if path.lower().startswith("members"):
        if isinstance(value, list):
            return value
        return [value] if value is not None else [path]
    if not path and isinstance(value, dict):
        key = _key(value, "members")
        if key is not None:
            return list(value[key] or [])
    return None


class MemberChangeLimit(Behaviour):
    """400 to a PATCH of more than 100 member values, a ``replace`` of ``members``, a POST of >100."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if request.resource != "Groups" or not request.body:
            return None
        body = request.json()
        members = body.get(_key(body, "members") or "members") or []
        if request.method == "POST" and len(members) > MAX_MEMBER_CHANGES:
            return scim_error(400, "CreateGroup takes at most 100 members", "invalidValue")
        if request.method != "PATCH":
            return None
        changed = 0
        for op in body.get("Operations", []):
            values = _member_values(op)
            if values is None:
                continue
            if str(op.get("op", "")).lower() == "replace":
                return scim_error(400, "replacing members is not supported", "invalidValue")
            changed += len(values)
        if changed > MAX_MEMBER_CHANGES:
            return scim_error(400, "PatchGroup takes at most 100 membership changes", "invalidValue")
        return None


def _entries_named(path: str) -> tuple[str, str | None] | None:
    """``("emails", "work")`` for ``emails[type eq "work"].value``, ``("emails", None)`` for ``emails``."""
    for name in SINGLE_VALUED:
        if path.lower().startswith(name.lower()):
            found = re.search(r'\[\s*type\s+eq\s+"([^"]*)"', path, re.I)
            return name, found.group(1) if found else None
    return None


def _too_many(name: str) -> Response:
    return scim_error(400, f"only one value of {name} is supported", "invalidValue")


def _many(body: dict[str, Any]) -> Response | None:
    for name in SINGLE_VALUED:
        key = _key(body, name)
        if key is not None and len(body[key] or []) > 1:
            return _too_many(name)
    return None


def _held_types(target: QuirkTarget, request: Request) -> dict[str, set[str]]:
    """The ``type`` of each entry the user holds now, per single-valued attribute."""
    current = target.upstream("GET", f"/Users/{request.id}", headers=request.headers)
    data = current.json() if current.status == 200 else {}
    held: dict[str, set[str]] = {}
    for name in SINGLE_VALUED:
        key = _key(data, name)
        held[name] = {str(e.get("type")) for e in data.get(key) or []} if key else set()
    return held


class SingleValued(Behaviour):
    """400 to a user body with more than one email, phone number or address, or a PATCH adding a second."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if request.resource != "Users" or not request.body or request.method not in ("POST", "PUT", "PATCH"):
            return None
        body = request.json()
        if request.method != "PATCH":
            return _many(body)
        held = _held_types(target, request) if request.id else {}
        for op in body.get("Operations", []):
            refusal = self._op(op, held)
            if refusal is not None:
                return refusal
        return None

    @staticmethod
    def _op(op: dict[str, Any], held: dict[str, set[str]]) -> Response | None:
        """Apply one operation to ``held``; the refusal when it leaves a second value."""
        path, value, kind = str(op.get("path") or ""), op.get("value"), str(op.get("op", "")).lower()
        if not path:
            return _many(value) if isinstance(value, dict) else None
        named = _entries_named(path)
        if named is None:
            return None
        name, type_ = named
        types = held.setdefault(name, set())
        if kind == "remove":
            types.difference_update(types if type_ is None else {type_})
            return None
        if isinstance(value, list):
            if len(value) > 1:
                return _too_many(name)
            if type_ is None and value and isinstance(value[0], dict):
                type_ = str(value[0].get("type"))
        if type_ is not None and types - {type_}:
            return _too_many(name)
        if type_ is not None:
            types.add(type_)
        return None


REQUIRED = (("name", "givenName"), ("name", "familyName"), ("displayName", None))


class RequiredUserAttributes(Behaviour):
    """400 to a ``POST /Users`` without ``name.givenName``, ``name.familyName`` or ``displayName``."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if request.method != "POST" or request.resource != "Users" or not request.body:
            return None
        body = request.json()
        for attribute, sub in REQUIRED:
            key = _key(body, attribute)
            value = body.get(key) if key else None
            if sub is not None:
                inner = _key(value, sub) if isinstance(value, dict) else None
                value = value.get(inner) if inner and isinstance(value, dict) else None
            if value in (None, ""):
                shown = f"{attribute}.{sub}" if sub else attribute
                return scim_error(400, f"{shown} is required", "invalidValue")
        return None


FILTERABLE = {
    "Users": frozenset({"username", "externalid"}),
    "Groups": frozenset({"displayname", "externalid", "id"}),
}


def emulation() -> Sequence[Behaviour]:
    """AWS IAM Identity Center: every documented quirk, cursor pages included."""
    return [
        CursorOnly(),
        MembersNotInAnswers(),  # first: it answers the membership filter the filter rule refuses
        EqFilterOn(FILTERABLE),
        MemberChangeLimit(),
        SingleValued(),
        RequiredUserAttributes(),
    ]
