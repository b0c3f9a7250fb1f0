"""Pair unlinked objects with the target's objects: one query each, or one listing of the target.

The strategy is the job's ``matching.strategy``. ``query`` sends a filtered GET per unlinked
object, matching attributes in precedence order. ``list`` reads the target once, page by page
(groups with ``excludedAttributes=members``), and answers every object from that in memory.
``auto`` first asks for the count of the kind (``count=1``): an empty target needs no lookup at
all (the usual initial cycle), and the target is listed when it holds at most ``list_ratio``
objects per unlinked object; otherwise each object is queried. Linked objects need none of this.

A target whose ``/ServiceProviderConfig`` says ``filter.supported: false`` is listed whatever the
strategy (:func:`fit_to_target`): its queries would answer the first users for every lookup. So
is a kind whose matching attributes the target's profile cannot all filter on
(:func:`must_list`: Asana's groups, AWS users matched on an email): its queries would be 400s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.discovery import TargetCapabilities
from syncer.core.mapping import CompiledMapping
from syncer.core.matching import ListingMatcher, Match, nothing_to_match, should_list
from syncer.core.scimpath import flatten
from syncer.core.targetfilters import listed_kinds
from syncer.errors import NotFoundError, TargetError, TlsError, UnauthorizedError
from syncer.settings import MatchingSettings
from syncer.settings.profiles import PROFILES, TargetProfile, TargetQuirks
from syncer.types import Desired, ObjectKind, TargetObject

log = structlog.get_logger("syncer.matching")
Answers = dict[tuple[ObjectKind, str], Match]
Failures = dict[tuple[ObjectKind, str], TargetError]
FATAL = (UnauthorizedError, TlsError, NotFoundError)


class _TargetDown(Exception):
    """Every lookup so far failed: the target is not answering, so the cycle stops."""


async def query_each(
    client: ScimClient, mapping: CompiledMapping, objects: Sequence[Desired], concurrency: int
) -> tuple[dict[tuple[ObjectKind, str], Match], dict[tuple[ObjectKind, str], TargetError]]:
    """Query the target for each unlinked object, matching attributes in precedence order.

    A lookup that still fails after its retries fails that object only. Credential, endpoint
    and TLS errors stop the cycle at once; so does a run of failures with no success at all,
    which means the target is down rather than one object being unlucky.
    """
    results: dict[tuple[ObjectKind, str], Match] = {}
    failures: dict[tuple[ObjectKind, str], TargetError] = {}
    semaphore = asyncio.Semaphore(concurrency)
    streak = {"failed": 0, "succeeded": 0}
    give_up = max(10, 2 * concurrency)

    async def one(obj: Desired) -> None:
        paths = mapping.of(obj.kind).paths
        key = (obj.kind, obj.source_id)
        async with semaphore:
            try:
                for path, value in obj.matching:
                    # verified: only resources that carry the value, or an error if the filter was ignored
                    found = await client.lookup(obj.kind, path, value)
                    if found:
                        hits = tuple(TargetObject(obj.kind, str(r["id"]), flatten(r, paths)) for r in found)
                        results[key] = Match(obj.source_id, path, hits)
                        break
                else:
                    results[key] = Match(obj.source_id, None, ())
                streak["succeeded"] += 1
            except (UnauthorizedError, TlsError, NotFoundError):
                raise
            except TargetError as exc:
                failures[key] = exc
                streak["failed"] += 1
                if not streak["succeeded"] and streak["failed"] >= give_up:
                    raise _TargetDown(str(exc)) from exc

    # a TaskGroup cancels the other lookups at the first fatal error: one unreachable target, one error
    try:
        async with asyncio.TaskGroup() as group:
            for obj in objects:
                group.create_task(one(obj))
    except ExceptionGroup as failed:
        first = failed.exceptions[0]
        if isinstance(first, _TargetDown) and isinstance(first.__cause__, TargetError):
            raise first.__cause__ from None
        raise first from None
    return results, failures


def fit_to_target(settings: MatchingSettings, capabilities: TargetCapabilities | None) -> MatchingSettings:
    """The matching settings as the target allows: listing when it cannot filter, pages within its limits.

    The limits are ``filter.maxResults`` and (RFC 9865) ``pagination.maxPageSize``.

    ``None`` (nothing discovered) and unknown features leave the settings as configured.
    """
    if capabilities is None:
        return settings
    update: dict[str, object] = {}
    if capabilities.filter.supported is False and settings.strategy != "list":
        log.info(
            "matching_by_listing",
            reason="the target says filter.supported: false",
            configured=settings.strategy,
        )
        update["strategy"] = "list"
    limits = [n for n in (capabilities.filter.max_results, capabilities.pagination.max_page_size) if n]
    if limits and min(limits) < settings.page_size:
        update["page_size"] = min(limits)
    return settings.model_copy(update=update) if update else settings


def must_list(mapping: CompiledMapping, quirks: TargetQuirks) -> frozenset[ObjectKind]:
    """The kinds the target's profile cannot filter on by every matching attribute: matched by listing."""
    matching = {kind: [a.path for a in mapping.of(kind).matching] for kind in ObjectKind}
    return listed_kinds(matching, quirks)


GENERIC = PROFILES[TargetProfile.GENERIC]


def _configured(strategy: str, kind: ObjectKind, must: bool, quirks: TargetQuirks) -> str:
    """The configured strategy, or ``list`` where the profile's target cannot filter the kind."""
    if must and strategy == "query":
        reason = f"{quirks.title} does not filter on every matching attribute"
        log.info("matching_by_listing", kind=kind.value, reason=reason, configured=strategy)
        return "list"
    return strategy


async def match_unlinked(
    client: ScimClient,
    mapping: CompiledMapping,
    objects: Sequence[Desired],
    settings: MatchingSettings,
    concurrency: int,
    capabilities: TargetCapabilities | None = None,
    quirks: TargetQuirks = GENERIC,
) -> tuple[Answers, Failures]:
    """Every unlinked object's match answer (and the objects whose lookup failed), by the strategy.

    ``capabilities`` (from discovery) may force listing: see :func:`fit_to_target`; so may the
    target's profile, per kind (:func:`must_list`). A kind that must be listed never falls back
    to queries when the listing fails: its objects fail this cycle instead.
    """
    settings = fit_to_target(settings, capabilities)
    listed = must_list(mapping, quirks)
    results: Answers = {}
    failures: Failures = {}
    for kind in (ObjectKind.USER, ObjectKind.GROUP):
        of_kind = [o for o in objects if o.kind is kind]
        if not of_kind:
            continue
        strategy = _configured(settings.strategy, kind, kind in listed, quirks)
        try:
            if strategy == "auto":
                total = await client.count(kind)
                if total == 0:
                    log.info("matching", kind=kind.value, strategy="none", unlinked=len(of_kind), target=0)
                    results.update(nothing_to_match(of_kind))
                    continue
                # a cursor page may not say how many there are (None): one query each is always
                # right, unless the target cannot filter on the kind's matching attributes
                listing = kind in listed or (
                    total is not None and should_list(len(of_kind), total, settings.list_ratio)
                )
                strategy = "list" if listing else "query"
                log.info("matching", kind=kind.value, strategy=strategy, unlinked=len(of_kind), target=total)
            if strategy == "list":
                results.update(await list_matches(client, mapping, kind, of_kind, settings.page_size))
                continue
        except FATAL:
            raise
        except TargetError as exc:
            if kind in listed:  # its queries would be refused: the objects wait for the next cycle
                log.warning("matching_list_failed", kind=kind.value, error=str(exc), fallback="none")
                failures.update({(o.kind, o.source_id): exc for o in of_kind})
                continue
            # a listing that fails after its retries costs the fast path, not the cycle
            log.warning("matching_list_failed", kind=kind.value, error=str(exc), fallback="query")
        found, failed = await query_each(client, mapping, of_kind, concurrency)
        results.update(found)
        failures.update(failed)
    return results, failures


async def list_matches(
    client: ScimClient, mapping: CompiledMapping, kind: ObjectKind, objects: Sequence[Desired], page_size: int
) -> Answers:
    """The answers for ``objects`` (all of ``kind``) from one listing of the target, page by page."""
    matcher = ListingMatcher(kind, objects, mapping.of(kind).paths)
    excluded = ["members"] if kind is ObjectKind.GROUP else None
    async for resource in client.list(kind, page_size=page_size, excluded_attributes=excluded):
        matcher.add(resource)
    log.info("matching_listed", kind=kind.value, listed=matcher.seen, unlinked=len(objects))
    return matcher.matches()


class Listings:
    """One listing of each kind per cycle, for the creates a 409 refused and no filter explained.

    A target whose filter compares ``userName`` case-exactly misses ``Alice@x.com`` for
    ``alice@x.com``, and refuses the POST with 409 uniqueness. The listing compares as RFC 7643
    says (case-insensitively, NFC), so it finds the holder. Many such objects in one cycle share
    one listing: it answers for every object ``unlinked`` returned when it was made (its memory is
    the matches, not the target), an object it did not cover lists again, and a listing that
    failed fails the later ones too rather than being sent again for each.
    """

    def __init__(
        self,
        client: ScimClient,
        mapping: CompiledMapping,
        unlinked: Callable[[ObjectKind], Sequence[Desired]],
        page_size: int,
    ) -> None:
        self.client, self.mapping, self.unlinked, self.page_size = client, mapping, unlinked, page_size
        self._answers: dict[ObjectKind, Answers] = {}
        self._failed: dict[ObjectKind, TargetError] = {}
        self._locks = {kind: asyncio.Lock() for kind in ObjectKind}

    async def match(self, desired: Desired) -> Match:
        """What a listing of the target says about ``desired`` (hits by its first matching attribute)."""
        kind, key = desired.kind, (desired.kind, desired.source_id)
        async with self._locks[kind]:
            if kind in self._failed:
                raise self._failed[kind]
            answers = self._answers.get(kind)
            if answers is None or key not in answers:
                objects = {(o.kind, o.source_id): o for o in self.unlinked(kind) if o.matching}
                objects[key] = desired
                try:
                    answers = await list_matches(
                        self.client, self.mapping, kind, list(objects.values()), self.page_size
                    )
                except FATAL:
                    raise
                except TargetError as exc:
                    self._failed[kind] = exc
                    raise
                self._answers[kind] = answers
        return answers[key]
