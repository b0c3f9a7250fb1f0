"""How syncer authenticates to a SCIM service other than with a fixed bearer token."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from syncer.settings.values import Strict, one_secret, require_tls, web_url


class OAuth2ClientCredentialsSettings(Strict):
    """OAuth 2.0 client credentials (RFC 6749 §4.4): syncer gets its own short-lived bearer tokens.

    Entra ID and several SaaS targets issue tokens only this way: a fixed ``token`` there expires
    within the hour. syncer asks ``token_url`` for a token before its first request, keeps it, asks
    again shortly before it expires and once when the target answers 401 with it. The secret goes
    only to ``token_url``, never to the SCIM service.
    """

    type: Literal["oauth2_client_credentials"]
    token_url: str
    """The authorization server's token endpoint (``https://login.example.com/oauth2/token``)."""
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    scope: str | None = None
    """Space-separated scopes to ask for (Entra: ``api://<app id>/.default``); none: the server's default."""
    audience: str | None = None
    """Sent as the ``audience`` parameter, for servers that issue tokens per API (Auth0, Okta)."""
    client_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    """How the secret is sent: HTTP Basic (RFC 6749 §2.3.1, every server takes it) or in the form body."""
    ca_file: Path | None = None
    """A CA bundle for the token endpoint (default: the system's; the service's ``ca_file`` is not used)."""
    allow_insecure_http: bool = False
    """Allow plain ``http://`` to a token_url off this machine (the secret then crosses in clear)."""

    @field_validator("token_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        return web_url(value)

    @model_validator(mode="after")
    def _one_secret(self) -> OAuth2ClientCredentialsSettings:
        one_secret(self.client_secret, self.client_secret_file, "client_secret")
        if self.client_secret is None and self.client_secret_file is None:
            raise ValueError("client credentials need client_secret (${VAR}) or client_secret_file")
        require_tls(self.token_url, self.allow_insecure_http)
        return self


ServiceAuth = OAuth2ClientCredentialsSettings
"""The ``auth`` block of a target or SCIM source (one kind today; a union, keyed by ``type``, later)."""


def one_credential(token: object, token_file: object, auth: object) -> None:
    """A SCIM service takes a fixed ``token`` (or ``token_file``) or an ``auth`` block, not both."""
    if auth is not None and (token is not None or token_file is not None):
        raise ValueError("give token (or token_file) or auth, not both")
