"""Guards that stop a cycle from taking access away by mistake.

A source that suddenly returns nobody is far more often a broken export than a company that
let everyone go; syncer refuses to act on it and says so in numbers.
"""

from __future__ import annotations

from syncer.types import JobState, SourceSnapshot


def empty_source_refusal(snapshot: SourceSnapshot, state: JobState) -> str | None:
    """Why the cycle must not run on this snapshot, or ``None`` when it may."""
    if snapshot.users or snapshot.groups or not state.links:
        return None
    return (
        f"the source returned no users and no groups while {len(state.links)} objects are provisioned: "
        "nothing was changed; an empty source is treated as a failed read, never as everyone leaving"
    )
