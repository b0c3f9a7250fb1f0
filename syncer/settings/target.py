"""The SCIM target of a job, and how hard syncer may push it."""

from __future__ import annotations

import enum
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from syncer.settings.auth import ServiceAuth, one_credential
from syncer.settings.values import Duration, Strict, http_url, one_secret, parse_rate, require_tls


class TargetPagination(enum.StrEnum):
    """``target.pagination``: how the target's listings page; ``auto`` follows its discovery."""

    AUTO = "auto"
    INDEX = "index"
    CURSOR = "cursor"


class TargetSettings(Strict):
    """The SCIM 2.0 endpoint of the app, and how hard syncer may push it."""

    url: str
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
