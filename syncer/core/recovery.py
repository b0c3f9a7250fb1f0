"""What an answer that is not plain success means for one change, as pure decisions.

The sender asks, acts and asks again; every judgement sits here so it is tested without a
target: whether a create that was not confirmed is looked up or sent again, whether a target
object found for one source object may be linked to it, whether a 404 proves an object gone,
and when a run of unanswered requests means the target itself is down.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from syncer.errors import (
    ConflictError,
    MalformedResponseError,
    TargetError,
    TlsError,
    TransientTargetError,
)
from syncer.types import ObjectKey, ObjectKind

Key = ObjectKey

UNREACHABLE_AFTER = 5
"""Requests in a row that get no answer at all before the target is taken for down."""


class CreateDoubt(enum.Enum):
    """What to do after a POST that did not come back with a created resource."""

    LOOK_UP = "look up"
    """The create may have happened (409, a lost answer, a malformed 2xx): look before resending."""
    FAIL = "fail"
    """Nothing suggests the object exists, or it was looked up already: the error is the answer."""


def after_create_error(error: TargetError) -> CreateDoubt:
    """A POST failed with ``error``: may the object exist now?

    A transient error the target certainly did not act on was retried by the client already,
    so it is the answer; a 409, a lost answer or a malformed 2xx leave the create in doubt.
    """
    if isinstance(error, ConflictError | MalformedResponseError):
        return CreateDoubt.LOOK_UP
    if isinstance(error, TransientTargetError) and error.maybe_processed:
        return CreateDoubt.LOOK_UP
    return CreateDoubt.FAIL


class Miss(enum.Enum):
    """What to do when the lookup after a doubtful create found nothing."""

    RESEND = "resend"
    """The create may simply not have happened (a lost answer): POST again."""
    LIST = "list"
    """A 409: the target holds the value where its filter does not see it. Find it by listing."""


def after_miss(error: TargetError) -> Miss:
    """The lookup after ``error`` found nothing: POST again, or list the target?

    A 409 is the target's word that something holds the value; its filter missing it means the
    filter compares otherwise than RFC 7643 says (``userName eq`` case-exact, say). Another POST
    would only get another 409, so the holder is looked for by listing, compared as the schema says.
    """
    return Miss.LIST if isinstance(error, ConflictError) else Miss.RESEND


class Claim(enum.Enum):
    """Whether a target object may be linked to a source object."""

    FREE = "free"
    MINE = "mine"
    TAKEN = "taken"


def claim(owners: Mapping[tuple[ObjectKind, str], Key], me: Key, target_id: str) -> Claim:
    """``owners`` maps (kind, target id) to the source object linked to it (state and this cycle).

    One target object is never linked to two source objects: the second would inherit the first
    one's access, and its leaving would disable the first.
    """
    owner = owners.get((me[0], target_id))
    if owner is None:
        return Claim.FREE
    return Claim.MINE if owner == me else Claim.TAKEN


def claimed_text(kind: ObjectKind, target_id: str, owner: Key, me: Key) -> tuple[str, str]:
    """The two failure details of a claim conflict: the newcomer's, and the owner's."""
    mine = (
        f"target {kind.value} {target_id} is already linked to source object {owner[1]}; "
        "two source objects cannot share one target object (check their matching values)"
    )
    theirs = (
        f"source object {me[1]} also matches this {kind.value}'s target object {target_id}; "
        "resolve the duplicate in the source"
    )
    return mine, theirs


class Gone(enum.Enum):
    """What a 404 on a write means once the resource itself was asked for."""

    GONE = "gone"
    """A GET answered with a SCIM error body and status 404: the application says no such object."""
    PRESENT = "present"
    """The GET found the object: the 404 came from something else (a proxy, a wrong route)."""
    UNKNOWN = "unknown"
    """No proof either way (an HTML 404, a bare 404, another error): keep the link, retry later."""


def gone_verdict(probe_error: TargetError | None) -> Gone:
    """``probe_error`` is what the GET of the resource raised, ``None`` when it returned it."""
    if probe_error is None:
        return Gone.PRESENT
    if probe_error.status == 404 and probe_error.scim_error:
        return Gone.GONE
    return Gone.UNKNOWN


def unanswered(error: BaseException) -> bool:
    """No HTTP answer came at all (refused, reset, timed out) or the TLS handshake failed."""
    if isinstance(error, TlsError):
        return True
    return isinstance(error, TransientTargetError) and not error.answered


@dataclass(frozen=True, slots=True)
class Streak:
    """Requests in a row without any answer; one answered request ends the streak."""

    unanswered: int = 0
    last: str = ""

    def after(self, error: BaseException | None) -> Streak:
        """The streak after one change's requests ended in ``error`` (``None``: they were answered)."""
        if error is not None and unanswered(error):
            return Streak(self.unanswered + 1, str(error))
        return Streak()

    def down(self, threshold: int = UNREACHABLE_AFTER) -> bool:
        return self.unanswered >= threshold

    def message(self) -> str:
        return (
            f"the target is unreachable: {self.unanswered} changes in a row got no answer "
            f"(last: {self.last}); the cycle stopped, and what was not sent is planned again next cycle"
        )
