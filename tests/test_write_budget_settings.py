"""``write_rate_limit`` / ``user_write_rate_limit``: parsed as ``rate_limit``, defaulted by the profile."""

from __future__ import annotations

import pytest

from syncer.settings.profiles import TargetProfile
from syncer.settings.target import TargetSettings

URL = "https://scim.example.com/scim/v2"


def test_the_profile_supplies_the_write_budgets_the_config_leaves_out() -> None:
    slack = TargetSettings(url=URL, profile=TargetProfile.SLACK)
    github = TargetSettings(url=URL, profile=TargetProfile.GITHUB_EMU)
    generic = TargetSettings(url=URL)
    assert (slack.write_rate_limit, slack.user_write_rate_limit) == (pytest.approx(10.0), pytest.approx(3.0))
    assert (github.write_rate_limit, github.user_write_rate_limit) == (None, pytest.approx(1000 / 3600))
    assert (generic.write_rate_limit, generic.user_write_rate_limit) == (None, None)


def test_a_written_budget_wins_and_one_past_the_documented_limit_is_named() -> None:
    target = TargetSettings.model_validate(
        {"url": URL, "profile": "slack", "write_rate_limit": "300/m", "user_write_rate_limit": "20/s"}
    )
    assert target.write_rate_limit == pytest.approx(5.0)
    assert target.user_write_rate_limit == pytest.approx(20.0)
    assert [o.key for o in target.profile_overrides()] == ["user_write_rate_limit"]


def test_a_budget_that_is_not_a_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="25/s"):
        TargetSettings.model_validate({"url": URL, "user_write_rate_limit": "lots"})


def test_validate_names_a_budget_past_the_profiles_in_the_configs_own_words() -> None:
    target = TargetSettings.model_validate(
        {"url": URL, "profile": "github-emu", "user_write_rate_limit": "2000/h"}
    )
    (override,) = target.profile_overrides()
    assert (
        "target.user_write_rate_limit: 2000/h is more than GitHub Enterprise Managed Users documents (1000/h)"
        in str(override)
    )
