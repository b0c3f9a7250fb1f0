"""The value types every settings model shares: durations, rates, URLs, secrets, strict models."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> timedelta:
    """Durations are written one way everywhere: ``3s``, ``40m``, ``6h``, ``30d`` (or bare seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as 30s, 40m, 6h or 30d, got {value!r}")


def format_duration(value: timedelta) -> str:
    """A duration the way config files write it (``30s``, ``40m``, ``6h``, ``30d``), for JSON and schemas."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m", "s"):
        if seconds >= _UNITS[unit] and (seconds / _UNITS[unit]).is_integer():
            return f"{int(seconds / _UNITS[unit])}{unit}"
    return f"{round(seconds * 1000)}ms"


def http_url(value: str) -> str:
    """A SCIM base URL: http(s), a host, no trailing slash."""
    if not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def web_url(value: str) -> str:
    """An http(s) URL with a host, kept exactly as written (a webhook's path may end in ``/``)."""
    if not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


def is_loopback(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1``: traffic that never leaves this machine."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_tls(url: str, allow_insecure_http: bool) -> None:
    """Plain ``http://`` only to this machine, or when ``allow_insecure_http: true`` says so.

    Over http:// a bearer token, a password or a secret in a webhook's path crosses the network in
    clear; the error names the host, never the URL's path or query (they may be the secret).
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or allow_insecure_http or is_loopback(parts.hostname):
        return
    raise ValueError(
        f"plain http:// to {parts.hostname} sends credentials in clear: use https://, "
        "or set allow_insecure_http: true on this block"
    )


def one_secret(inline: object, from_file: object, name: str) -> None:
    """A secret comes from the config (``${ENV}``) or from a file, never both."""
    if inline is not None and from_file is not None:
        raise ValueError(f"give {name} or {name}_file, not both")


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _DURATION.pattern},
                {"type": "number", "minimum": 0, "description": "seconds"},
            ],
            "description": "A duration: 3s, 40m, 6h, 30d (or a number of seconds).",
        }
    ),
]

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h)\s*$")


def parse_rate(value: Any) -> float | None:
    """A request rate: ``25/s``, ``1500/m`` or ``90000/h`` (or a number per second)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str):
        match = _RATE.match(value)
        if match and float(match.group(1)) > 0:
            return float(match.group(1)) / {"s": 1.0, "m": 60.0, "h": 3600.0}[match.group(2)]
    raise ValueError(f"expected a rate such as 25/s or 1500/m, got {value!r}")


def rate_text(per_second: float) -> str:
    """A rate as the config writes it, in the unit that makes it a whole number (``1000/h``, not 0.28/s)."""
    for unit, seconds in (("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        count = per_second * seconds
        if abs(count - round(count)) < 1e-6 and round(count) >= 1:
            return f"{round(count)}/{unit}"
    return f"{per_second * 3600:.2f}/h"


class Strict(BaseModel):
    """Unknown keys refuse to load: a typo must not fall back to a default that provisions the wrong ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)
