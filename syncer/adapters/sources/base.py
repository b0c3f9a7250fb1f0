"""The seam between a cycle and the directory it provisions from."""

from __future__ import annotations

from typing import Protocol

from syncer.types import SourceSnapshot


class Source(Protocol):
    """A source directory that a cycle reads in full, once, before it plans anything."""

    def read(self) -> SourceSnapshot:
        """Return the whole directory, or raise :class:`syncer.errors.SourceError`.

        Never a partial directory: a planner handed half of it would take the missing half for
        leavers and disable or delete them. Records that are bad one by one are not a failed read;
        they come back in ``SourceSnapshot.skipped`` and the cycle goes on without them.
        """
        ...
