"""``target.pagination``: one small choice from the setting and what discovery said (RFC 9865 §4)."""

from __future__ import annotations

import pytest

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.discovery import FilterFeature, PaginationFeature, TargetCapabilities
from syncer.runtime.capabilities import page_as_announced, pagination
from syncer.runtime.lookups import fit_to_target
from syncer.runtime.targetcheck import describe
from syncer.settings import MatchingSettings, TargetSettings
from syncer.types import Pagination

CURSOR_ONLY = PaginationFeature(cursor=True, index=False, max_page_size=100)


def _target(**settings: object) -> TargetSettings:
    return TargetSettings.model_validate({"url": "https://t.example/scim/v2", "token": "t", **settings})


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        pytest.param(None, Pagination.INDEX, id="nothing-discovered"),
        pytest.param(PaginationFeature(), Pagination.INDEX, id="no-pagination-section"),
        pytest.param(PaginationFeature(cursor=True, index=True), Pagination.INDEX, id="both-offered"),
        pytest.param(
            PaginationFeature(cursor=True, index=True, default_method=Pagination.CURSOR),
            Pagination.INDEX,
            id="both-cursor-default",
        ),
        pytest.param(CURSOR_ONLY, Pagination.CURSOR, id="cursor-only"),
        pytest.param(
            PaginationFeature(index=False, default_method=Pagination.CURSOR),
            Pagination.CURSOR,
            id="cursor-default",
        ),
        pytest.param(PaginationFeature(cursor=False, index=False), Pagination.INDEX, id="says-neither"),
    ],
)
def test_auto_pages_by_cursor_only_where_index_paging_is_not_offered(
    offered: PaginationFeature | None, chosen: Pagination
) -> None:
    capabilities = None if offered is None else TargetCapabilities(pagination=offered)
    assert pagination(_target(), capabilities) is chosen


def test_a_configured_pagination_wins_over_discovery() -> None:
    assert (
        pagination(_target(pagination="index"), TargetCapabilities(pagination=CURSOR_ONLY))
        is Pagination.INDEX
    )
    assert pagination(_target(pagination="cursor"), None) is Pagination.CURSOR
    with pytest.raises(ValueError, match="pagination"):
        _target(pagination="offset")


def test_max_page_size_caps_the_matching_page_size_as_filter_max_results_does() -> None:
    configured = MatchingSettings(strategy="list", page_size=1000)
    assert fit_to_target(configured, TargetCapabilities(pagination=CURSOR_ONLY)).page_size == 100
    both = TargetCapabilities(filter=FilterFeature(True, max_results=50), pagination=CURSOR_ONLY)
    assert fit_to_target(configured, both).page_size == 50


def test_test_connection_prints_the_pagination_section_when_there_is_one() -> None:
    assert not [line for line in describe(TargetCapabilities()) if line.startswith("pagination")]
    offered = PaginationFeature(cursor=True, index=False, default_method=Pagination.CURSOR, max_page_size=100)
    assert "pagination: cursor: yes; index: no; default: cursor; maxPageSize: 100" in describe(
        TargetCapabilities(pagination=offered)
    )


@pytest.mark.parametrize("profile", ["aws-identity-center", "entra"])
def test_a_cursor_profile_pages_by_cursor_even_when_discovery_is_silent(profile: str) -> None:
    """AWS and Entra document cursor pages; not every one of them announces it in discovery."""
    assert pagination(_target(profile=profile), None) is Pagination.CURSOR
    assert pagination(_target(profile=profile), TargetCapabilities()) is Pagination.CURSOR
    assert pagination(_target(profile=profile, pagination="index"), None) is Pagination.INDEX
    assert pagination(_target(profile="slack"), None) is Pagination.INDEX


def test_a_profiles_page_size_caps_the_client_pages() -> None:
    client = ScimClient("https://t.example/scim/v2", "t")
    page_as_announced(client, _target(profile="aws-identity-center"), TargetCapabilities())
    assert (client.pagination, client.max_page_size) == (Pagination.CURSOR, 100)
    page_as_announced(client, _target(), TargetCapabilities())
    assert client.max_page_size is None
