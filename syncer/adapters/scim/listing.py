"""Keeps a paginated listing honest: every id once, and exactly ``totalResults`` of them.

A listing is read to learn who exists, and a short or padded one is worse than none: a source
that repeated a page or under-reported ``totalResults`` once passed 485 of 1,500 people off as
leavers, and a target that served its first page forever was read 5,074 times in 90 s. So a
page that repeats an id, a ``totalResults`` that changes between pages, more resources than it
announced, or a resource past its end (checked with one extra one-item page) fails the listing,
whole. Resources without an ``id`` cannot be checked for repeats; they still count.

A cursor listing (RFC 9865) ends when a page carries no ``nextCursor``, and may not say
``totalResults`` at all. The same rules hold where they can: a repeated id fails it, and so does a
``totalResults`` that changes, or one the listing ends short of or runs past; and a ``nextCursor``
handed out before (the same page asked for again, forever) fails it rather than looping.
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
        self.cursors: set[str] = set()
        self.pages = 0

    @property
    def seen(self) -> int:
        return len(self.ids) + self.without_id

    @property
    def complete(self) -> bool:
        """Every announced resource has arrived (an empty first page of an empty listing too)."""
        return self.total is not None and self.seen >= self.total

    def page(self, start: int, resources: Sequence[Mapping[str, Any]], total: int) -> None:
        """Take one page, or raise :class:`MalformedResponseError` saying how the listing lies."""
        at = f"at startIndex {start}"
        self._no_repeats(at, resources)
        self._same_total(at, total)
        if not resources and self.seen < total:
            # Stopping here would pass a truncated listing off as the whole of it.
            self._fail(f"empty page at startIndex {start}, but totalResults is {total}")
        if self.seen > total:
            self._fail(f"{self.seen} distinct resources listed, more than its totalResults of {total}")

    def end(self, start: int, resources: Sequence[Mapping[str, Any]], total: int) -> None:
        """The page just past the end must be empty: otherwise ``totalResults`` under-reports."""
        self._same_total(f"at startIndex {start}", total)
        if resources:
            self._fail(
                f"resources past its totalResults of {total} (at startIndex {start}): it under-reports"
            )

    def cursor_page(
        self, resources: Sequence[Mapping[str, Any]], total: int | None, next_cursor: str | None
    ) -> None:
        """Take one cursor page, or raise :class:`MalformedResponseError` saying how the listing lies."""
        self.pages += 1
        at = f"on cursor page {self.pages}"
        self._no_repeats(at, resources)
        if total is not None:
            self._same_total(at, total)
        if self.total is not None and self.seen > self.total:
            self._fail(f"{self.seen} distinct resources listed, more than its totalResults of {self.total}")
        if next_cursor is None:
            if self.total is not None and self.seen < self.total:
                # the last page came before every announced resource did
                self._fail(f"it ended after {self.seen} resources, but totalResults is {self.total}")
            return
        if next_cursor in self.cursors:
            self._fail(
                f"page {self.pages} answered a nextCursor it had answered before: "
                "the same pages would be asked for again, without end"
            )
        if not resources:
            # a page of nothing that points at another: nothing says the next one will hold more
            self._fail(f"page {self.pages} is empty, yet it answered a nextCursor")
        self.cursors.add(next_cursor)

    def _same_total(self, at: str, total: int) -> None:
        if self.total is None:
            self.total = total
        elif total != self.total:
            self._fail(f"totalResults changed from {self.total} to {total} {at}")

    def _no_repeats(self, at: str, resources: Sequence[Mapping[str, Any]]) -> None:
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
                f"the page {at} lists {len(repeated)} resource(s) again "
                f"(id {repeated[0]!r} first): a repeated page or id"
            )

    def _fail(self, what: str) -> None:
        raise MalformedResponseError(f"{self.where}: the listing does not add up: {what}", status=200)
