"""ListingCheck: a paginated listing must add up, or it fails whole (no server needed: pages as data)."""

from __future__ import annotations

import pytest

from syncer.adapters.scim.listing import ListingCheck
from syncer.errors import MalformedResponseError


def _page(*ids: str) -> list[dict[str, str]]:
    return [{"id": i} for i in ids]


def test_an_honest_listing_completes() -> None:
    check = ListingCheck("GET /Users")
    check.page(1, _page("a", "b"), 3)
    assert not check.complete
    check.page(3, _page("c"), 3)
    assert check.complete
    check.end(4, [], 3)


@pytest.mark.parametrize(
    ("pages", "error"),
    [
        pytest.param([(_page("a", "b"), 4), (_page("a", "b"), 4)], "again", id="repeated-page"),
        pytest.param([(_page("a", "a"), 2)], "again", id="repeated-id-in-a-page"),
        pytest.param([(_page("a", "b"), 4), (_page("c"), 5)], "changed from 4 to 5", id="total-changes"),
        pytest.param([(_page("a", "b", "c"), 2)], "more than its totalResults", id="outruns-total"),
        pytest.param([(_page("a"), 3), ([], 3)], "empty page", id="stops-short"),
    ],
)
def test_a_listing_that_does_not_add_up_fails(
    pages: list[tuple[list[dict[str, str]], int]], error: str
) -> None:
    check = ListingCheck("GET /Users")
    start = 1
    with pytest.raises(MalformedResponseError, match=error) as info:
        for resources, total in pages:
            check.page(start, resources, total)
            start += len(resources)
    assert str(info.value).startswith("GET /Users: the listing does not add up")


def test_a_resource_past_the_end_means_totalresults_under_reports() -> None:
    check = ListingCheck("GET /Users")
    check.page(1, _page("a", "b"), 2)
    with pytest.raises(MalformedResponseError, match="under-reports"):
        check.end(3, _page("c"), 2)
