"""Filters as a target's profile takes them: the node limit, and AWS's membership question.

Sans-I/O, beside :mod:`.protocol`: the client calls these before sending, so a filter the target
is known to refuse never leaves the machine, and the one filter that says who is in a group on
a target whose group answers leave ``members`` empty is built in one place.
"""

from __future__ import annotations

from syncer.core.targetfilters import FilterTooLarge, check_filter
from syncer.errors import FilterNotSent
from syncer.types import ObjectKind

from .protocol import ScimRequest, eq_filter, prepare_find


def refuse_oversized(request: ScimRequest, max_nodes: int | None) -> None:
    """Raise :class:`~syncer.errors.FilterNotSent` for a filter with more nodes than the target takes."""
    for name, value in request.params:
        if name == "filter":
            try:
                check_filter(value, max_nodes)
            except FilterTooLarge as exc:
                raise FilterNotSent(f"{request}: {exc}; not sent") from None


def membership_request(group_id: str, member_id: str) -> ScimRequest:
    """``GET /Groups?filter=id eq "G" and members eq "U"``: the group if it holds the member (AWS)."""
    return prepare_find(
        ObjectKind.GROUP, f"{eq_filter('id', group_id)} and {eq_filter('members', member_id)}", 1
    )
