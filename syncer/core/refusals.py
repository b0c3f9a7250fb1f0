"""A change the target refused for good is not sent again unchanged: the pure decision.

A 400 that says the request itself is wrong (``invalidValue``, ``invalidSyntax``, ``noTarget``,
``mutability``, ``invalidPath``, or no ``scimType`` at all) gets the same 400 every time the
same body is sent. Escrow's backoff would still resend it every 1, 2, 4 ... cycles, capped at a
day, for ever: one refused request per object per day, one failure per object in every count,
and the quarantine thresholds creeping towards a job that is fine. So such an object is
*held*: its escrow row keeps a fingerprint of what was refused, and while what would be sent now
has the same fingerprint it is not sent, not looked up and not counted as failed again. When
the fingerprint differs it is sent at once, whatever the backoff says: the change, the mapping or
the target moved, and the new request may well be taken. Transient failures (5xx, 429, a lost
answer, ``uniqueness``, an ETag's ``invalidVers``) keep escrow's backoff
(:func:`syncer.core.policy.escrow_delay`): waiting is what cures them.

What is fingerprinted (the seam): not the wire bytes, but what every request for the object is
built from, known before the cycle sends or even looks up anything:

* the object's **desired** state, the mapping's output for its source record (attributes,
  create defaults, ``apply: on_create`` paths, members, soft-deletion), or its absence when it
  left the source;
* its **link** (target id, the values and members last exported, disabled): a PATCH is the
  difference between the two, and a link only moves when a request succeeds;
* the **mapping** (the mapping file's digest): a mapping edit may send other paths or values;
* the target's **schemas** (a digest of the cached ``/ResourceTypes`` and ``/Schemas``): an
  extension enabled on the target is what lets a refused request through.

Fingerprinting these rather than the body lets the hold be decided before matching, so a held
object costs no request at all. What it cannot see is the target changing under an object
that is not linked (an account created there by hand for a refused create): ``syncer provision
--id`` (sent now, whatever escrow says) or ``syncer restart`` (escrow cleared) resend it at once.

A refusal is only ever resent in a later cycle: within its cycle a 400 is not retried
(:mod:`syncer.adapters.scim.client`), and the next cycle is the first to compare fingerprints.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass

from syncer.core.planrequest import values_hash
from syncer.types import Desired, EscrowEntry, Link, ScimError

TRANSIENT_SCIM_TYPES = frozenset({"uniqueness", "invalidvers", "toomany"})
"""``scimType`` values (casefolded) of a 400 that another moment may cure: a value another object
holds, a stale ETag, a target too busy. Every other 400 refuses the request itself."""


def permanent_refusal(error: ScimError | None) -> bool:
    """The target refused the request itself: a 400 whose ``scimType`` no retry can change."""
    if error is None or error.status != 400:
        return False
    return (error.scim_type or "").casefold() not in TRANSIENT_SCIM_TYPES


@dataclass(frozen=True, slots=True)
class Grounds:
    """What, besides the object, decides the body: digests of the mapping and the target's schemas."""

    mapping: str
    schemas: str


def fingerprint(desired: Desired | None, link: Link | None, grounds: Grounds) -> str | None:
    """The digest of what would be sent for one object (see the module docstring); ``None`` when
    a value has no canonical form (then nothing is held: an unknowable body is sent)."""
    parts: dict[str, object] = {"mapping": grounds.mapping, "schemas": grounds.schemas}
    if desired is not None:
        attributes = values_hash(desired.attributes)
        defaults = values_hash(desired.defaults)
        if not attributes or not defaults:
            return None
        parts["desired"] = {
            "kind": desired.kind.value,
            "attributes": attributes,
            "defaults": defaults,
            "on_create_only": sorted(desired.on_create_only),
            "members": sorted(desired.members),
            "soft_deleted": desired.soft_deleted,
        }
    if link is not None:
        exported = values_hash(link.exported)
        if not exported:
            return None
        parts["link"] = {
            "target_id": link.target_id,
            "exported": exported,
            "members": sorted(link.members),
            "disabled": link.disabled,
        }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class Retry(enum.Enum):
    """What a cycle does with an escrowed object."""

    SEND = "send"
    """Plan and send it like any object."""
    WAIT = "wait"
    """A transient failure still in its backoff: left alone this cycle (``Escrowed``)."""
    HOLD = "hold"
    """The target refused exactly this change: not sent until something changes (``HeldRefused``)."""


def retry(entry: EscrowEntry, current: str | None) -> Retry:
    """``current`` is the fingerprint of what would be sent now (:func:`fingerprint`)."""
    if entry.refused is not None:
        # a refusal ignores the backoff both ways: held however long, resent as soon as it moved
        return Retry.HOLD if current is not None and current == entry.refused.fingerprint else Retry.SEND
    return Retry.WAIT if entry.skip_cycles > 0 else Retry.SEND


def held_detail(entry: EscrowEntry) -> str:
    """The words of a held object, in the plan, the provisioning log and ``syncer status``."""
    answer = entry.refused.answer if entry.refused is not None else ""
    said = f" ({answer})" if answer else ""
    return (
        f"held: the target refused this exact change{said}; it is sent again when the change, "
        "the mapping or the target's schemas change"
    )
