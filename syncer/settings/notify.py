"""Where a job says that it entered quarantine or had failures: webhook, email, command."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr

from syncer.settings.values import Duration, Strict


class WebhookSettings(Strict):
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=10)


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
