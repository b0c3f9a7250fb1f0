"""The seam between a cycle and the directory it provisions from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Protocol

from syncer.types import SourceObject, SourceSnapshot, thaw


class Source(Protocol):
    """A source directory that a cycle reads in full, once, before it plans anything."""

    def read(self) -> SourceSnapshot:
        """Return the whole directory, or raise :class:`syncer.errors.SourceError`.

        Never a partial directory: a planner handed half of it would take the missing half for
        leavers and disable or delete them. Records that are bad one by one are not a failed read;
        they come back in ``SourceSnapshot.skipped`` and the cycle goes on without them.

        It may block (network reads): the engine calls it in a worker thread.
        """
        ...


def snapshot_fingerprint(users: Sequence[SourceObject], groups: Sequence[SourceObject]) -> str:
    """A hash of what was read, independent of the order the server sent it in.

    Sources without a file to hash (LDAP, SCIM) use it so that ``syncer apply`` can tell the
    directory moved since a plan was saved.
    """
    digest = hashlib.sha256()
    for obj in sorted((*users, *groups), key=lambda o: (o.kind.value, o.id)):
        record = [obj.kind.value, obj.id, thaw(obj.attributes), list(obj.members)]
        digest.update(json.dumps(record, sort_keys=True, separators=(",", ":"), default=str).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def record_names(objects: Sequence[SourceObject]) -> frozenset[str] | None:
    """Every attribute name the objects carry, for sources that declare none (JSON, YAML, SCIM).

    ``None`` without objects: nothing is known of that kind, so no mapping name is held against it.
    """
    if not objects:
        return None
    return frozenset(name for obj in objects for name in obj.attributes)
