"""The SCIM target of a job, and how hard syncer may push it."""

from __future__ import annotations

import enum
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from syncer.settings.auth import ServiceAuth, one_credential
from syncer.settings.profiles import ProfileOverride, TargetProfile, TargetQuirks, quirks_of
from syncer.settings.values import (
    Duration,
    Strict,
    http_url,
    one_secret,
    parse_rate,
    rate_text,
    require_tls,
)


class TargetPagination(enum.StrEnum):
    """``target.pagination``: how the target's listings page; ``auto`` follows its discovery."""

    AUTO = "auto"
    INDEX = "index"
    CURSOR = "cursor"


class TargetSettings(Strict):
    """The SCIM 2.0 endpoint of the app, and how hard syncer may push it."""

    url: str
    profile: TargetProfile = TargetProfile.GENERIC
    """Which target this is (``slack``, ``aws-identity-center`` ...): its documented quirks, as defaults."""
    token: SecretStr | None = None
    token_file: Path | None = None
    auth: ServiceAuth | None = None
    """OAuth 2.0 client credentials instead of a fixed ``token``."""
    concurrency: int = Field(default=8, ge=1, le=64)
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=4, ge=1, le=20)
    member_batch_size: int = Field(default=100, ge=1, le=10000)
    verify_tls: bool = True
    ca_file: Path | None = None
    dialect: Literal["rfc", "entra"] = "rfc"
    update_method: Literal["patch", "put"] = "patch"
    """``put`` for targets without PATCH: read the resource, apply the changes, PUT it back."""
    rate_limit: Annotated[float | None, BeforeValidator(lambda v: parse_rate(v))] = None
    """Requests per second at most (``25/s``, ``1500/m``), so a known target limit is never hit."""
    write_rate_limit: Annotated[float | None, BeforeValidator(lambda v: parse_rate(v))] = None
    """Writes (POST, PUT, PATCH, DELETE) per second at most (``600/m``), spent evenly; reads go free."""
    user_write_rate_limit: Annotated[float | None, BeforeValidator(lambda v: parse_rate(v))] = None
    """Writes to ``/Users`` per second at most (``1000/h``), spent evenly, on top of ``write_rate_limit``."""
    allow_insecure_http: bool = False
    """Allow plain ``http://`` to a host other than this machine (the token then crosses in clear)."""
    pagination: TargetPagination = TargetPagination.AUTO
    """``cursor`` for targets that page only by cursor (AWS IAM Identity Center, Entra as a SCIM
    server); ``auto`` takes cursors only when ``/ServiceProviderConfig`` says index paging is not
    offered (:func:`syncer.runtime.capabilities.pagination`)."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @model_validator(mode="after")
    def _one_token(self) -> TargetSettings:
        one_secret(self.token, self.token_file, "token")
        one_credential(self.token, self.token_file, self.auth)
        require_tls(self.url, self.allow_insecure_http)
        return self

    @model_validator(mode="after")
    def _put_keeps_members(self) -> TargetSettings:
        """A PUT of a group read with an empty ``members`` (AWS) would replace every member."""
        quirks = self.quirks
        if self.update_method == "put" and not quirks.group_members_in_get:
            raise ValueError(
                f"update_method: put cannot be used with profile {self.profile.value}: "
                f"{quirks.title} answers a group with empty members, so a PUT would remove every "
                "member; use update_method: patch"
            )
        return self

    @model_validator(mode="after")
    def _profile_defaults(self) -> TargetSettings:
        """The profile's limits as the defaults of the keys the config leaves out."""
        for key, limit in self._profile_limits().items():
            if limit is None or key in self.model_fields_set:
                continue
            default = getattr(self, key)
            self.__dict__[key] = limit if default is None else min(default, limit)  # frozen: set once
        return self

    def _profile_limits(self) -> dict[str, float | None]:
        """Each setting the profile bounds, and the target's documented limit of it."""
        quirks = self.quirks
        return {
            "concurrency": quirks.max_concurrency,
            "member_batch_size": quirks.max_member_changes,
            "rate_limit": quirks.rate_limit,
            "write_rate_limit": quirks.write_rate,
            "user_write_rate_limit": quirks.user_write_rate,
        }

    @property
    def quirks(self) -> TargetQuirks:
        return quirks_of(self.profile)

    def profile_overrides(self) -> tuple[ProfileOverride, ...]:
        """The settings written past the profile's documented limits (``validate`` warns of each)."""
        found: list[ProfileOverride] = []
        for key, limit in self._profile_limits().items():
            value = getattr(self, key)
            if limit is not None and value is not None and key in self.model_fields_set and value > limit:
                rate = key.endswith("rate_limit")  # said as the config writes it: 1000/h, not 0.28
                shown: object = rate_text(value) if rate else value
                documented: object = rate_text(limit) if rate else limit
                found.append(ProfileOverride(key, shown, documented, self.profile))
        return tuple(found)
