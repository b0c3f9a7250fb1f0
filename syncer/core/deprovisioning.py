"""A linked user gone from the source: disabled first, deleted once it has been gone long enough.

The hard-delete clock is where a cycle's own clock decides a removal: ``gone_since`` is stamped
by the disable and compared with ``now`` later. A clock that the run history cannot vouch for
(``core.policy.clock_distrust``) therefore ages nothing: no delete falls due, and a disable
stamps no time (the stamp would be the lie), until an admin approves the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from syncer.core.changes import Change, DeleteObject, DisableUser, Skip
from syncer.types import Link, ObjectKind, Status

CLOCK_UNTRUSTED = "ClockUntrusted"
GONE = "gone from the source"


def gone_user(
    source_id: str,
    link: Link,
    *,
    now: datetime | None,
    hard_delete_after: timedelta | None,
    aging: bool = True,
    deactivates: bool = False,
) -> Change | Skip | None:
    """The change for a linked user gone from the source, a skip saying why a due delete waits, or none.

    ``deactivates``: the target keeps a deleted user, deactivated; the delete says so, and a link
    it left (``deleted_at``) has nothing more to do.
    """
    if link.deleted_at is not None:
        return None
    if hard_delete_after is None or now is None:
        if link.disabled:
            return None
        return DisableUser(source_id, link.display, link.target_id, GONE, gone=aging)
    if hard_delete_after <= timedelta(0):
        return DeleteObject(ObjectKind.USER, source_id, link.display, link.target_id, GONE, deactivates)
    if link.gone_since is not None:
        since = datetime.fromisoformat(link.gone_since)
        if now - since >= hard_delete_after:
            if not aging:
                return Skip(
                    ObjectKind.USER,
                    source_id,
                    link.display,
                    CLOCK_UNTRUSTED,
                    Status.SKIPPED,
                    f"the hard delete due after {hard_delete_after} waits: this cycle's clock cannot be "
                    "trusted; run `syncer approve-deletions` if it is right",
                    target_id=link.target_id,
                )
            return DeleteObject(
                ObjectKind.USER,
                source_id,
                link.display,
                link.target_id,
                f"{GONE} since {since:%Y-%m-%d %H:%M} UTC (hard_delete_after {hard_delete_after})",
                deactivates,
            )
        if link.disabled:
            return None
    if link.disabled and not aging:
        return None  # already disabled; the clock starts on a cycle that can be trusted
    # a disable (again, if needed) that starts the hard-delete clock
    return DisableUser(source_id, link.display, link.target_id, GONE, gone=aging)
