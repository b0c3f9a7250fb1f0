"""Where a job says that it entered quarantine or had failures: webhook, email, command."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from syncer.settings.values import Duration, Strict, require_tls, web_url


class WebhookSettings(Strict):
    """A JSON POST per event; its URL often carries a secret (in the path), its headers too."""

    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=10)
    allow_insecure_http: bool = False
    """Allow plain ``http://`` to a host other than this machine (the URL then crosses in clear)."""

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        return web_url(value)

    @model_validator(mode="after")
    def _tls(self) -> WebhookSettings:
        require_tls(self.url, self.allow_insecure_http)
        return self


class EmailSettings(Strict):
    smtp_host: str
    smtp_port: int = 25
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    timeout: Duration = timedelta(seconds=10)


NotifyEvent = Literal["quarantine", "failures"]


def _every_event() -> list[NotifyEvent]:
    return ["quarantine", "failures"]


class NotifySettings(Strict):
    """Where to say that a job entered quarantine, changed its reason, or had failures."""

    events: list[NotifyEvent] = Field(default_factory=_every_event)
    """(Not ``on``: YAML 1.1 reads a bare ``on`` key as the boolean true.)"""
    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None
    command: list[str] | None = None
