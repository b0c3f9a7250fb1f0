"""SelectUniqueValue's choice, made just before the create: the first candidate nobody holds.

The plan carries the ordered candidates (the core cannot ask the target). Here each one is
looked up on the target (``filter=<attribute> eq "candidate"``, every hit verified to carry the
value, as matching does) and the first without a holder is sent. Values handed out earlier in
the cycle are reserved, so two new people who would both be ``jsmith`` do not both get it; a
choice is made under a lock per attribute, so with creates sent concurrently the objects still
choose in plan order (the first new jsmith gets the first free value, the second the next).
Only the lookups wait on each other; the creates themselves go out concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from syncer.adapters.scim.client import ScimClient
from syncer.core.matching import matching_key
from syncer.core.outcomes import Reason
from syncer.core.scimpath import get_value, parsed
from syncer.core.targetfilters import filterable
from syncer.types import Candidates, ObjectKind, Status, Step, Value

from .draft import Draft, Refused


class UniqueValues:
    """The values chosen in one cycle, per kind and attribute, compared in any case and in NFC.

    ``filterable`` is the target profile's filter rules (``None``: any attribute): a candidate
    of an attribute the target cannot filter on is checked against one listing of the target
    (read once a cycle per attribute), not sent as a filter the target refuses.
    """

    def __init__(
        self,
        client: ScimClient,
        filterable: Mapping[ObjectKind, frozenset[str]] | None = None,
        page_size: int = 1000,
    ) -> None:
        self.client = client
        self.filterable = filterable
        self.page_size = page_size
        self._reserved: dict[tuple[ObjectKind, str], set[object]] = {}
        self._locks: dict[tuple[ObjectKind, str], asyncio.Lock] = {}
        self._held: dict[tuple[ObjectKind, str], dict[object, str]] = {}

    async def resolve(
        self, kind: ObjectKind, attributes: Mapping[str, Value], draft: Draft
    ) -> dict[str, Value]:
        """The attributes with each candidate list replaced by the value chosen for it."""
        resolved = dict(attributes)
        for path, value in attributes.items():
            if isinstance(value, Candidates):
                resolved[path] = await self.choose(kind, path, value, draft)
        return resolved

    async def choose(self, kind: ObjectKind, path: str, candidates: Candidates, draft: Draft) -> str:
        """The first free candidate; refuses the object naming every candidate when none is."""
        async with self._locks.setdefault((kind, path), asyncio.Lock()):
            return await self._choose(kind, path, candidates, draft)

    async def _choose(self, kind: ObjectKind, path: str, candidates: Candidates, draft: Draft) -> str:
        reserved = self._reserved.setdefault((kind, path), set())
        passed: list[str] = []
        for value in candidates.values:
            key = matching_key(value)
            if key in reserved:
                passed.append(f"{value} (given to another object in this cycle)")
                continue
            hits = await self._holders(kind, path, value)
            if not hits:
                reserved.add(key)
                detail = f"{path}: SelectUniqueValue chose {value}"
                if passed:
                    detail += f" (taken: {', '.join(passed)})"
                draft.steps.append(Step("processing", Status.SUCCESS, detail))
                return value
            passed.append(f"{value} (held by {hits[0].get('id', 'a target object')})")
        raise Refused(
            Reason.NO_UNIQUE_VALUE,
            f"{path}: no SelectUniqueValue candidate is free, every one is taken: {', '.join(passed)}",
        )

    async def _holders(self, kind: ObjectKind, path: str, value: str) -> list[dict[str, Any]]:
        """The target objects holding ``value`` at ``path``: by a filter, or from a listing."""
        if filterable(path, self.filterable.get(kind) if self.filterable is not None else None):
            return await self.client.lookup(kind, path, value)
        held = self._held.get((kind, path))
        if held is None:
            held = {}
            scim_path = parsed(path)
            async for resource in self.client.list(kind, page_size=self.page_size):
                found = get_value(resource, scim_path)
                if isinstance(found, str):
                    held.setdefault(matching_key(found), str(resource.get("id")))
            self._held[(kind, path)] = held
        holder = held.get(matching_key(value))
        return [{"id": holder}] if holder is not None else []
