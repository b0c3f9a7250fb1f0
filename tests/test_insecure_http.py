"""Plain http:// to a host that is not this machine is refused unless ``allow_insecure_http: true``.

Over http:// the bearer token (and a webhook URL's secret) crosses the network in clear.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from syncer.settings import ScimSourceSettings, TargetSettings, WebhookSettings

REMOTE = [
    "http://app.example/scim/v2",
    "http://10.0.0.5:8080/scim",
    "http://localhost.evil.example/scim",
    "http://127.0.0.1.nip.io/scim",
    "HTTP://APP.EXAMPLE/scim",
]
LOOPBACK = [
    "http://127.0.0.1:8080/scim/v2",
    "http://127.8.9.10/scim",
    "http://localhost:9000/scim",
    "http://LOCALHOST/scim",
    "http://[::1]:8080/scim",
]


def _blocks(url: str) -> list[tuple[type[BaseModel], dict[str, Any]]]:
    return [
        (TargetSettings, {"url": url}),
        (ScimSourceSettings, {"type": "scim", "url": url}),
        (WebhookSettings, {"url": url}),
    ]


@pytest.mark.parametrize("url", REMOTE)
def test_plain_http_to_another_host_is_refused(url: str) -> None:
    for model, data in _blocks(url):
        with pytest.raises(ValidationError, match="allow_insecure_http: true"):
            model.model_validate(data)


@pytest.mark.parametrize("url", REMOTE)
def test_allow_insecure_http_lets_it_through(url: str) -> None:
    for model, data in _blocks(url):
        assert model.model_validate({**data, "allow_insecure_http": True})


@pytest.mark.parametrize("url", [*LOOPBACK, "https://app.example/scim/v2"])
def test_loopback_and_https_need_nothing(url: str) -> None:
    for model, data in _blocks(url):
        settings = model.model_validate(data)
        assert settings.model_dump()["allow_insecure_http"] is False


def test_a_webhook_url_must_be_http_or_https() -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        WebhookSettings.model_validate({"url": "ftp://hooks.example/x"})
