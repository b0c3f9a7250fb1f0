"""The flow types: frozen values that cross every layer of a cycle.

Values are JSON-like: ``str``, ``int``, ``float``, ``bool``, ``None``, and ``tuple`` for a
multi-valued attribute (never ``list``, so values hash and compare the same after a round trip
through the state store).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

Value: TypeAlias = "str | int | float | bool | datetime.datetime | Reference | Candidates | tuple[Value, ...] | Mapping[str, Value] | None"  # noqa: E501
"""A JSON-like attribute value (see the module docstring): recursive, frozen (tuples, read-only maps)."""


def freeze(value: Any) -> Any:
    """Turn JSON-like data into its immutable form: lists become tuples, dicts read-only maps."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`, for JSON encoding."""
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    return value


class ObjectKind(enum.StrEnum):
    """The two kinds of object a job provisions."""

    USER = "user"
    GROUP = "group"

    @property
    def endpoint(self) -> str:
        return "/Users" if self is ObjectKind.USER else "/Groups"


# here, below settings and adapters, because the settings name it and the client pages by it
class Pagination(enum.StrEnum):
    """How a SCIM listing pages: by ``startIndex`` (RFC 7644 §3.4.2.4) or by ``cursor`` (RFC 9865)."""

    INDEX = "index"
    CURSOR = "cursor"


ObjectKey = tuple[ObjectKind, str]
"""An object of a job: its kind and its source id (the key of links, escrow and plans)."""


@dataclass(frozen=True, slots=True)
class SourceObject:
    """One user or group as the source directory holds it.

    ``id`` is the stable source anchor (never a DN or a login that can be renamed).
    ``attributes`` use the source's own names; for groups ``members`` holds member source ids.
    """

    kind: ObjectKind
    id: str
    attributes: Mapping[str, Value]
    members: tuple[str, ...] = ()

    def get(self, name: str) -> Value:
        return self.attributes.get(name)


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A source record that could not be imported, with the reason, so the cycle goes on without it."""

    kind: ObjectKind
    location: str
    reason: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class DeclaredNames:
    """The attribute names a source declares or shows, per kind, to hold a mapping's names against.

    A CSV's header, an LDAP directory's schema plus the names its entries carry, or the keys seen in
    the records read. ``None`` for a kind: nothing is known (no record of that kind), so nothing is
    checked. ``aliases`` maps a casefolded alternative name (an LDAP schema alias such as
    ``surname``) to the name the objects carry (``sn``). ``strict``: the admin declared the names
    (``source.attributes``), so any other name is an error. ``origin`` says where the names came
    from, for messages. ``multi_valued``: the casefolded names the source declares multi-valued (an
    LDAP schema's types without ``SINGLE-VALUE``), so a scoping clause on one can be pointed out.
    """

    users: frozenset[str] | None = None
    groups: frozenset[str] | None = None
    origin: str = "the records read"
    strict: bool = False
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    multi_valued: frozenset[str] = frozenset()

    def of(self, kind: ObjectKind) -> frozenset[str] | None:
        return self.users if kind is ObjectKind.USER else self.groups


@dataclass(frozen=True, slots=True)
class SourceSnapshot:
    """Everything one full read of the source returned.

    ``fingerprint`` is a hash of the raw records, so a saved plan can tell the source moved.
    ``declared``: the attribute names the source declares or shows (``None``: the source says nothing).
    """

    users: tuple[SourceObject, ...]
    groups: tuple[SourceObject, ...]
    skipped: tuple[SkippedRecord, ...] = ()
    fingerprint: str = ""
    declared: DeclaredNames | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference attribute value (manager, member) that names a *source* id.

    It resolves to the target id of the linked object only when the change is sent, because the
    referenced object may be created earlier in the same cycle.
    """

    source_id: str

    def __str__(self) -> str:
        return f"ref:{self.source_id}"


@dataclass(frozen=True, slots=True)
class Candidates:
    """SelectUniqueValue's value: the values to try, in order, the first one unused on the target wins.

    Which one is free is known only by asking the target, so the pure core plans this and the
    runtime picks the value just before the create is sent (and records the one it sent).
    """

    values: tuple[str, ...]

    def __str__(self) -> str:
        return f"first free of [{', '.join(self.values)}]"


@dataclass(frozen=True, slots=True)
class Desired:
    """What the target should hold for one in-scope source object, after mapping.

    ``attributes`` maps canonical SCIM paths to values (``None`` = no value). ``on_create_only``
    names paths that flow on create and never in updates (``apply: on_create``); ``defaults``
    fill null values on create. ``matching`` lists ``(path, value)`` in precedence order.
    ``members`` (groups) holds member source ids; ``active`` is ``False`` for a soft-deleted user.
    """

    kind: ObjectKind
    source_id: str
    display: str
    attributes: Mapping[str, Value]
    matching: tuple[tuple[str, Value], ...]
    on_create_only: frozenset[str] = frozenset()
    defaults: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    members: frozenset[str] = frozenset()
    soft_deleted: bool = False

    def matching_value(self, path: str) -> Value:
        for candidate, value in self.matching:
            if candidate == path:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Link:
    """What the state remembers of one object syncer manages on the target.

    ``exported`` is what syncer last sent (canonical path -> value, references as source ids);
    ``members`` the member source ids syncer last added; ``origin`` is ``created`` or ``matched``.
    ``deleted_at`` is when syncer sent the user's DELETE to a target where a delete deactivates
    (``delete_deactivates``: Slack, Asana): the account is still there, inactive, so the link
    stays, disabled, and a returner is reactivated on the same id rather than created again.
    """

    kind: ObjectKind
    source_id: str
    target_id: str
    display: str
    exported: Mapping[str, Value]
    exported_hash: str = ""
    members: frozenset[str] = frozenset()
    origin: str = "created"
    disabled: bool = False
    gone_since: str | None = None
    deleted_at: str | None = None


@dataclass(frozen=True, slots=True)
class JobState:
    """The state of one job as the planner sees it: links by kind and source id."""

    links: Mapping[tuple[ObjectKind, str], Link]
    fingerprint: str = ""

    def link(self, kind: ObjectKind, source_id: str) -> Link | None:
        return self.links.get((kind, source_id))

    def of_kind(self, kind: ObjectKind) -> list[Link]:
        return [link for (k, _), link in self.links.items() if k is kind]


@dataclass(frozen=True, slots=True)
class TargetObject:
    """A resource as the target returned it: its id and its flattened values at the mapped paths."""

    kind: ObjectKind
    id: str
    values: Mapping[str, Value]


@dataclass(frozen=True, slots=True)
class AttributeChange:
    """One attribute's move from ``old`` to ``new`` (either may be ``None``)."""

    path: str
    old: Value
    new: Value


class Action(enum.StrEnum):
    """The provisioning log's action names (Entra's)."""

    CREATE = "Create"
    UPDATE = "Update"
    DISABLE = "Disable"
    DELETE = "Delete"
    STAGED_DELETE = "StagedDelete"
    OTHER = "Other"


class Status(enum.StrEnum):
    """The provisioning log's status names (Entra's)."""

    SUCCESS = "Success"
    FAILURE = "Failure"
    SKIPPED = "Skipped"
    WARNING = "Warning"


class RunStatus(enum.StrEnum):
    """How a recorded run (a ``runs`` row) ended; the values are the ones the state has always held."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """The cycle got through its changes, and some objects failed."""
    STOPPED = "stopped"
    CRASHED = "crashed"
    ABORTED = "aborted"
    """The cycle was refused before any change: by the target (credentials, endpoint, TLS), or by
    the check of the mapping's source attribute names (``runtime.namecheck``)."""

    @property
    def got_through(self) -> bool:
        """The cycle reached the end of its changes (its counts describe the whole source)."""
        return self in (RunStatus.SUCCEEDED, RunStatus.FAILED)


class SkipReason(enum.StrEnum):
    """Reasons the runtime itself gives a skipped object (the core's own live beside its rules)."""

    ESCROWED = "Escrowed"
    HELD_REFUSED = "HeldRefused"
    """Escrowed after a permanent refusal, and what it would send is what was refused."""


@dataclass(frozen=True, slots=True)
class ModifiedProperty:
    """One attribute as the provisioning log shows it: name, old and new value (secrets as ``[Redact]``)."""

    name: str
    old: Value
    new: Value


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an object's trip through a cycle (import, scoping, matching, processing, export)."""

    name: str
    status: Status
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ScimError:
    """What the target answered to a refused request (RFC 7644 §3.12): its HTTP status, ``scimType``
    and ``detail`` as sent, kept apart from syncer's own message so an admin reads the target's words.
    """

    status: int | None = None
    scim_type: str | None = None
    detail: str | None = None

    def summary(self) -> str:
        """``400 invalidValue: <detail>``: the target's answer in one line, for the log table."""
        head = " ".join(part for part in (str(self.status or ""), self.scim_type or "") if part)
        if self.detail:
            return f"{head}: {self.detail}" if head else self.detail
        return head


@dataclass(frozen=True, slots=True)
class ProvisioningLogEntry:
    """One record of the provisioning log: what happened to one object in one cycle.

    ``reason`` is the skip reason or error code (``RedundantExport``, ``DuplicateTargetEntries``,
    ``Conflict``, ...); ``detail`` the human-readable error, never a secret.
    """

    job: str
    run_id: str
    change_id: str
    time: datetime.datetime
    kind: ObjectKind
    source_id: str
    display: str
    target_id: str | None
    action: Action
    status: Status
    reason: str | None = None
    detail: str | None = None
    modified: tuple[ModifiedProperty, ...] = ()
    steps: tuple[Step, ...] = ()
    scim_error: ScimError | None = None
    """The target's own error answer when it refused the object's request; ``None`` otherwise."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One cycle of a job as the state remembers it."""

    id: str
    job: str
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    initial: bool
    dry_run: bool
    status: str
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Refusal:
    """What the target refused for good (:mod:`syncer.core.refusals`): the fingerprint of what was
    sent, and the target's answer in one line (``400 invalidValue: ...``)."""

    fingerprint: str
    answer: str = ""


@dataclass(frozen=True, slots=True)
class EscrowEntry:
    """An object whose change kept failing: retried by later cycles after ``skip_cycles`` more.

    ``refused`` is set when the last failure was a permanent refusal: the object is then held
    while what it would send is unchanged, whatever ``skip_cycles`` says.
    """

    kind: ObjectKind
    source_id: str
    display: str
    attempts: int
    skip_cycles: int
    error_code: str
    error: str
    first_failed_at: datetime.datetime
    last_failed_at: datetime.datetime
    refused: Refusal | None = None
