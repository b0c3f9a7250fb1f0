"""Keeps a paginated listing honest: every id once, and exactly ``totalResults`` of them.

A listing is read to learn who exists, and a short or padded one is worse than none: a source
that repeated a page or under-reported ``totalResults`` once passed 485 of 1,500 people off as
leavers, and a target that served its first page forever was read 5,074 times in 90 s. So a
page that repeats an id, a ``totalResults`` that changes between pages, more resources than it
announced, or a resource past its end (checked with one extra one-item page) fails the listing,
whole. Resources without an ``id`` cannot be checked for repeats; they still count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from syncer.errors import MalformedResponseError


class ListingCheck:
    """The pages of one listing, checked as they arrive; ``where`` names it (``GET /Users``)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.total: int | None = None
        self.ids: set[str] = set()
        self.without_id = 0

    @property
    def seen(self) -> int:
        return len(self.ids) + self.without_id

    @property
    def complete(self) -> bool:
        """Every announced resource has arrived (an empty first page of an empty listing too)."""
        return self.total is not None and self.seen >= self.total

    def page(self, start: int, resources: Sequence[Mapping[str, Any]], total: int) -> None:
        """Take one page, or raise :class:`MalformedResponseError` saying how the listing lies."""
        self._no_repeats(start, resources)
        self._same_total(start, total)
        if not resources and self.seen < total:
            # Stopping here would pass a truncated listing off as the whole of it.
            self._fail(f"empty page at startIndex {start}, but totalResults is {total}")
        if self.seen > total:
            self._fail(f"{self.seen} distinct resources listed, more than its totalResults of {total}")

    def end(self, start: int, resources: Sequence[Mapping[str, Any]], total: int) -> None:
        """The page just past the end must be empty: otherwise ``totalResults`` under-reports."""
        self._same_total(start, total)
        if resources:
            self._fail(
                f"resources past its totalResults of {total} (at startIndex {start}): it under-reports"
            )

    def _same_total(self, start: int, total: int) -> None:
        if self.total is None:
            self.total = total
        elif total != self.total:
            self._fail(f"totalResults changed from {self.total} to {total} at startIndex {start}")

    def _no_repeats(self, start: int, resources: Sequence[Mapping[str, Any]]) -> None:
        repeated: list[str] = []
        for resource in resources:
            id = resource.get("id")
            if not isinstance(id, str | int) or isinstance(id, bool):
                self.without_id += 1
                continue
            if str(id) in self.ids:
                repeated.append(str(id))
            self.ids.add(str(id))
        if repeated:
            self._fail(
                f"the page at startIndex {start} lists {len(repeated)} resource(s) again "
                f"(id {repeated[0]!r} first): a repeated page or id"
            )

    def _fail(self, what: str) -> None:
        raise MalformedResponseError(f"{self.where}: the listing does not add up: {what}", status=200)
