"""A desired user as the target's profile takes it: one email/phone/address, the required attributes."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from syncer.core.targetfit import fit_user, missing_required, one_value_each, unmapped_required
from syncer.settings.profiles import PROFILES, TargetProfile
from syncer.types import Desired, ObjectKind

AWS = PROFILES[TargetProfile.AWS_IDENTITY_CENTER]
WORK, OTHER = 'emails[type eq "work"]', 'emails[type eq "other"]'


def desired(defaults: dict[str, Any] | None = None, **attributes: Any) -> Desired:
    return Desired(
        kind=ObjectKind.USER,
        source_id="u1",
        display="u1",
        attributes=MappingProxyType(attributes),
        matching=(("userName", attributes.get("userName")),),
        defaults=MappingProxyType(defaults or {}),
    )


def values(d: Desired) -> dict[str, Any]:
    return {k: v for k, v in d.attributes.items() if v is not None}


def test_the_first_mapped_email_is_kept_and_the_others_cleared() -> None:
    d = desired(**{"userName": "a", f"{WORK}.value": "a@work", f"{OTHER}.value": "a@home"})
    fitted = one_value_each(d)
    assert values(fitted) == {"userName": "a", f"{WORK}.value": "a@work"}
    assert f"{OTHER}.value" in fitted.attributes  # None: one the target held before is removed


def test_the_primary_email_wins_over_the_first() -> None:
    d = desired(**{f"{WORK}.value": "a@work", f"{OTHER}.value": "a@home", f"{OTHER}.primary": True})
    assert values(one_value_each(d)) == {f"{OTHER}.value": "a@home", f"{OTHER}.primary": True}


def test_a_user_without_the_first_email_keeps_the_next_and_its_default_goes() -> None:
    d = desired(
        {f"{OTHER}.value": "fallback@x"},
        **{
            f"{WORK}.value": "a@work",
            f"{OTHER}.value": None,
            'phoneNumbers[type eq "work"].value': None,
            'phoneNumbers[type eq "mobile"].value': "+1",
            'phoneNumbers[type eq "fax"].value': "+2",
        },
    )
    fitted = one_value_each(d)
    assert values(fitted) == {f"{WORK}.value": "a@work", 'phoneNumbers[type eq "mobile"].value': "+1"}
    assert dict(fitted.defaults) == {}


def test_a_whole_list_of_emails_keeps_its_primary_entry() -> None:
    entries = ({"value": "a", "type": "work"}, {"value": "b", "type": "home", "primary": True})
    assert one_value_each(desired(emails=entries)).attributes["emails"] == (entries[1],)


def test_one_email_is_left_as_it_is() -> None:
    d = desired(**{f"{WORK}.value": "a@work", "userName": "a"})
    assert one_value_each(d) is d


def test_a_user_without_a_required_attribute_is_refused_with_the_reason() -> None:
    ok = {"displayName": "A B", "name.givenName": "A", "name.familyName": "B", "userName": "a"}
    assert fit_user(desired(**ok), AWS)[1] is None
    without = {**ok, "name.familyName": None}
    assert fit_user(desired(**without), AWS)[1] == (
        "AWS IAM Identity Center requires name.familyName; the source has none"
    )
    assert (
        missing_required(desired({"name.familyName": "X"}, **without), AWS.required_user_attributes) is None
    )
    assert fit_user(desired(**without), PROFILES[TargetProfile.GENERIC])[1] is None


def test_the_required_paths_the_mapping_never_maps() -> None:
    assert unmapped_required(["userName", "displayName", "name.givenName"], AWS) == ("name.familyName",)
