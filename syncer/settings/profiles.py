"""Target profiles: the documented quirks of the SaaS targets people provision, as named presets.

RFC 7644 leaves a target room (filters, pagination, members in a GET) and real targets use it in
ways a generic client only learns from a 400 per user, every cycle. ``target.profile: slack``
says which target it is; the profile then sets what the target is known to need (one writer at
a time, a write budget, cursor pages, which attributes it filters on) and each quirk carries
where it is documented, so the README's table and ``test-connection`` say why syncer behaves as
it does. A setting written in the config wins over the profile's default (the admin may know
about a raised limit); ``validate`` warns when it goes past what the target documents.

A profile is data, not code: the adapters and the runtime read :class:`TargetQuirks` and never
ask which target this is, so a quirk two targets share is handled once.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from syncer.types import ObjectKind


class TargetProfile(enum.StrEnum):
    """The targets syncer knows the quirks of; ``generic`` assumes only what RFC 7644 says."""

    GENERIC = "generic"
    AWS_IDENTITY_CENTER = "aws-identity-center"
    GITHUB_EMU = "github-emu"
    SLACK = "slack"
    ASANA = "asana"
    ENTRA = "entra"
    ZOOM = "zoom"
    DATABRICKS = "databricks"


@dataclass(frozen=True, slots=True)
class Quirk:
    """One documented behaviour of a target, where it is documented, and what syncer does about it."""

    behaviour: str
    source: str
    handling: str


@dataclass(frozen=True, slots=True)
class TargetQuirks:
    """What one target is known to need; every ``None`` or default means "as RFC 7644 says".

    The limits are the target's documented ones; the defaults they imply for a job's settings
    (``concurrency``, ``member_batch_size``, ``rate_limit``, ``write_rate_limit``,
    ``user_write_rate_limit``) are applied by
    :class:`~syncer.settings.target.TargetSettings` when the config leaves those keys out.
    """

    profile: TargetProfile
    title: str
    quirks: tuple[Quirk, ...] = ()
    max_concurrency: int | None = None
    """Requests in flight at most (GitHub EMU: one writer at a time)."""
    rate_limit: float | None = None
    """Requests per second at most, over every request."""
    write_rate: float | None = None
    """Writes (POST, PUT, PATCH, DELETE) per second at most."""
    user_write_rate: float | None = None
    """Writes of ``/Users`` per second at most (GitHub EMU: 1,000 an hour; Slack: 180 a minute)."""
    shared_rate_budget: bool = False
    """The target's limits are per organisation, shared by every job (and app) writing to it."""
    max_member_changes: int | None = None
    """Member values per PATCH and per create at most (AWS: 100)."""
    cursor_pagination: bool = False
    """Listings page by cursor (draft-ietf-scim-cursor-pagination); ``startIndex`` is refused."""
    max_page_size: int | None = None
    """Resources per page at most, whatever ``count`` asks."""
    filter_attributes: Mapping[ObjectKind, frozenset[str]] | None = None
    """The attributes an ``eq`` filter may name, lower case, per kind (``None``: any). Matching on
    another attribute goes by listing."""
    max_filter_nodes: int | None = None
    """Comparisons and logical operators in one filter at most (Databricks: 200)."""
    group_members_in_get: bool = True
    """A group's GET (and listing) shows its ``members``; AWS answers an empty list always."""
    single_email: bool = False
    """One email only: a user body carries the primary email (or the first), never more."""
    required_user_attributes: tuple[str, ...] = ()
    """SCIM paths every user create must carry (AWS: ``name.givenName``, ``name.familyName``,
    ``displayName``): a user without them is skipped with the reason, not sent for a 400."""
    delete_deactivates: bool = False
    """``DELETE /Users/{id}`` deactivates (the account stays, inactive) rather than removing it."""
    plural_discovery: bool = False
    """Serves SCIM 1.1's ``/ServiceProviderConfigs`` (plural) rather than RFC 7644's singular."""


def _kinds(users: set[str], groups: set[str]) -> Mapping[ObjectKind, frozenset[str]]:
    return MappingProxyType({ObjectKind.USER: frozenset(users), ObjectKind.GROUP: frozenset(groups)})


AWS_DOCS = "docs.aws.amazon.com/singlesignon/latest/developerguide"
GITHUB_DOCS = (
    "docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/provisioning-user-accounts-with-scim"
)
SLACK_DOCS = "docs.slack.dev/reference/scim-api"
ENTRA_DOCS = "learn.microsoft.com/en-us/entra/identity/app-provisioning"

PROFILES: Mapping[TargetProfile, TargetQuirks] = MappingProxyType(
    {
        TargetProfile.GENERIC: TargetQuirks(TargetProfile.GENERIC, "any RFC 7644 target"),
        TargetProfile.AWS_IDENTITY_CENTER: TargetQuirks(
            TargetProfile.AWS_IDENTITY_CENTER,
            "AWS IAM Identity Center",
            quirks=(
                Quirk(
                    "filters: `eq` and `and` only; users on `userName`/`externalId`, groups on "
                    "`displayName`/`externalId`/`id`",
                    f"{AWS_DOCS}/limitations.html, listusers.html, listgroups.html",
                    "a kind matched on any other attribute (an email, say) is matched by listing the "
                    "target, after a 409 too, and SelectUniqueValue on one checks a listing; the "
                    "connection probe filters on `userName`",
                ),
                Quirk(
                    "ListUsers/ListGroups page by cursor, 100 a page; no `startIndex`",
                    f"{AWS_DOCS}/listusers.html",
                    "listings page by cursor, 100 at a time",
                ),
                Quirk(
                    "GetGroup/ListGroups answer an empty `members`",
                    f"{AWS_DOCS}/listgroups.html",
                    "a matched group's members are not read from a GET: each source member is "
                    'checked with `id eq "G" and members eq "U"`, so only missing ones are added and '
                    "none removed; `update_method: put` is refused",
                ),
                Quirk(
                    "at most 100 membership changes per PatchGroup and per CreateGroup; no "
                    "`replace` of all members",
                    f"{AWS_DOCS}/patchgroup.html, creategroup.html",
                    "member changes go out at most 100 per PATCH (`member_batch_size` 100) and a "
                    "group is created without members, always as `add`/`remove`, never `replace`",
                ),
                Quirk(
                    "one email per user (no multi-valued emails, addresses or phone numbers)",
                    f"{AWS_DOCS}/limitations.html",
                    "each user keeps one email, phone number and address: the `primary` one, else "
                    "the first mapped with a value; the others are cleared (removes go first in a "
                    "PATCH)",
                ),
                Quirk(
                    "`givenName`, `familyName` and `displayName` are required on CreateUser",
                    f"{AWS_DOCS}/createuser.html",
                    "a user without one is skipped with the reason (neither sent nor deprovisioned); "
                    "`validate` warns when the mapping maps none of them",
                ),
            ),
            max_member_changes=100,
            cursor_pagination=True,
            max_page_size=100,
            filter_attributes=_kinds({"username", "externalid"}, {"displayname", "externalid", "id"}),
            group_members_in_get=False,
            single_email=True,
            required_user_attributes=("name.givenName", "name.familyName", "displayName"),
        ),
        TargetProfile.GITHUB_EMU: TargetQuirks(
            TargetProfile.GITHUB_EMU,
            "GitHub Enterprise Managed Users",
            quirks=(
                Quirk(
                    "one writer at a time: parallel provisioning requests are refused",
                    f"{GITHUB_DOCS}/provisioning-users-and-groups-with-scim-using-the-rest-api",
                    "one request in flight (`concurrency: 1`): discovery, lookups and writes all go "
                    "through the one client's limit",
                ),
                Quirk(
                    "at most 1,000 user writes an hour",
                    f"{GITHUB_DOCS}/provisioning-users-and-groups-with-scim-using-the-rest-api",
                    "user writes are paced to 1,000 an hour, evenly (`user_write_rate_limit: 1000/h`)",
                ),
                Quirk(
                    "a `User-Agent` header is required",
                    f"{GITHUB_DOCS}/provisioning-users-and-groups-with-scim-using-the-rest-api",
                    "every request carries `User-Agent: syncer/<version>`",
                ),
            ),
            max_concurrency=1,
            user_write_rate=1000 / 3600,
        ),
        TargetProfile.SLACK: TargetQuirks(
            TargetProfile.SLACK,
            "Slack",
            quirks=(
                Quirk(
                    "rate limits per organisation, shared by every SCIM app: 600 writes a minute, "
                    "180 user writes a minute",
                    f"{SLACK_DOCS}/rate-limits",
                    "writes are paced to those budgets, evenly (`write_rate_limit: 600/m`, "
                    "`user_write_rate_limit: 180/m`), one budget for every job of the process "
                    "writing to the same host",
                ),
                Quirk(
                    "`DELETE /Users/{id}` deactivates the account; it is not removed",
                    f"{SLACK_DOCS}",
                    "a deleted user's link is kept, disabled (the plan says `the target keeps it "
                    "deactivated`), so a returner is reactivated by PATCH on the same id, not "
                    "created again",
                ),
                Quirk(
                    "serves SCIM 1.1's `/ServiceProviderConfigs` (plural)",
                    "goauthentik.io/docs/add-secure-apps/providers/scim (Slack compatibility mode)",
                    "discovery asks the plural endpoint first (any target: the plural when the "
                    "singular one is missing)",
                ),
            ),
            write_rate=600 / 60,
            user_write_rate=180 / 60,
            shared_rate_budget=True,
            delete_deactivates=True,
            plural_discovery=True,
        ),
        TargetProfile.ASANA: TargetQuirks(
            TargetProfile.ASANA,
            "Asana",
            quirks=(
                Quirk(
                    "`GET /Users` filters on `userName` only",
                    "developers.asana.com/docs/scim",
                    "groups, and users matched on any other attribute, are matched by listing the "
                    "target (after a 409 too)",
                ),
                Quirk(
                    "`DELETE` and `active: false` both deprovision the user",
                    "developers.asana.com/docs/scim",
                    "a deleted user's link is kept, disabled, so a returner is reactivated by PATCH "
                    "on the same id",
                ),
            ),
            filter_attributes=_kinds({"username"}, set()),
            delete_deactivates=True,
        ),
        TargetProfile.ENTRA: TargetQuirks(
            TargetProfile.ENTRA,
            "Microsoft Entra ID as a SCIM target",
            quirks=(
                Quirk(
                    "filters: `eq` on `userName`, `externalId`, `id`, `mailNickname` (users) and "
                    "`displayName`, `externalId`, `id` (groups); `and` only",
                    f"{ENTRA_DOCS}/entra-id-scim-api-reference",
                    "a kind matched on any other attribute is matched by listing the target, after a 409 too",
                ),
                Quirk(
                    "listings page by cursor (draft-ietf-scim-cursor-pagination), at most 100 a page",
                    f"{ENTRA_DOCS}/entra-id-scim-api-reference",
                    "listings page by cursor, 100 at a time",
                ),
            ),
            cursor_pagination=True,
            max_page_size=100,
            filter_attributes=_kinds(
                {"username", "externalid", "id", "mailnickname"}, {"displayname", "externalid", "id"}
            ),
        ),
        TargetProfile.ZOOM: TargetQuirks(
            TargetProfile.ZOOM,
            "Zoom",
            quirks=(
                Quirk(
                    "requests without `Accept: application/scim+json` are refused",
                    "developers.zoom.us/docs/api/rest/reference/scim-api",
                    "every request carries `Accept: application/scim+json`",
                ),
            ),
        ),
        TargetProfile.DATABRICKS: TargetQuirks(
            TargetProfile.DATABRICKS,
            "Databricks",
            quirks=(
                Quirk(
                    "a filter expression has at most 200 nodes",
                    "docs.databricks.com/api/workspace/users/list",
                    "every filter is counted before it is sent and one past 200 nodes is refused "
                    "unsent; syncer's own have at most 3",
                ),
            ),
            max_filter_nodes=200,
        ),
    }
)


def quirks_of(profile: TargetProfile) -> TargetQuirks:
    return PROFILES[profile]


@dataclass(frozen=True, slots=True)
class ProfileOverride:
    """A setting written in the config that goes past what the profile's target documents."""

    key: str
    value: object
    limit: object
    profile: TargetProfile = field(default=TargetProfile.GENERIC)

    def __str__(self) -> str:
        return (
            f"target.{self.key}: {self.value} is more than {quirks_of(self.profile).title} documents "
            f"({self.limit}); the config's value is used"
        )
