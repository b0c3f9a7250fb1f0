"""OAuth 2.0 client credentials for a SCIM service: tokens asked for as Authlib words the request.

Authlib builds the token request (RFC 6749 §4.4.2) and the client authentication (§2.3.1, HTTP
Basic or the form body); syncer's own httpx client sends it, so its errors are httpx's, whichever
HTTP library Authlib's own clients pick, and an httpx ``Auth`` puts the token on each request.

A token is asked for before the first request, kept, asked for again shortly before it expires
(:func:`due`), and once more when the service answers 401 to it: a token revoked or rotated
early costs one retry, not the cycle. A second 401 with a token just issued is the service's
answer, and the error says whose tokens it refused. The client secret goes only to the token
endpoint; neither it nor a token is in any message, log event or ``repr``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import structlog
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from syncer import __version__
from syncer.core.display import redact_url
from syncer.errors import (
    MalformedResponseError,
    TargetError,
    TlsError,
    TokenRefused,
    TransientTargetError,
    UnauthorizedError,
)

from .wire import cert_error

log = structlog.get_logger("syncer.scim")

REFRESH_AHEAD = 60.0
"""Seconds before expiry a token is replaced, at most a quarter of its lifetime (a 2 s token: 0.5 s)."""


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """Who syncer is to the authorization server; the secret is left out of ``repr``."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    audience: str | None = None
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    verify: bool | str = True
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token and when (``time.monotonic()``) it expires; ``None``: the server did not say."""

    value: str = field(repr=False)
    obtained_at: float
    expires_at: float | None
    scope: str | None = None

    @property
    def lifetime(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - self.obtained_at


def due(token: IssuedToken | None, now: float) -> bool:
    """Whether to ask for a new token before the next request: none yet, or expiring soon."""
    if token is None:
        return True
    if token.expires_at is None or token.lifetime is None:
        return False  # no expires_in: kept until the service refuses it (401)
    return token.expires_at - now <= min(REFRESH_AHEAD, token.lifetime / 4)


class ClientCredentialsAuth(httpx.Auth):
    """Bearer tokens from ``credentials.token_url`` (RFC 6749 §4.4), one fetch for concurrent requests."""

    def __init__(
        self, credentials: ClientCredentials, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.credentials = credentials
        self.endpoint = redact_url(credentials.token_url, keep_path=True)
        self._clock = clock
        self._token: IssuedToken | None = None
        self._lock = asyncio.Lock()
        self.fetched = 0
        """Tokens obtained so far (``test-connection`` reports that one was)."""
        c = credentials
        self._client_auth = ClientAuth(c.client_id, c.client_secret, c.auth_method)
        self._http = httpx.AsyncClient(
            verify=credentials.verify,
            timeout=credentials.timeout,
            follow_redirects=False,  # a token endpoint that redirects is misconfigured: say so
            headers={"User-Agent": f"syncer/{__version__}", "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        c = self.credentials
        return f"ClientCredentialsAuth(token_url={self.endpoint!r}, client_id={c.client_id!r})"

    @property
    def token(self) -> IssuedToken | None:
        return self._token

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no error text may hold: the client secret and the token in use."""
        return (self.credentials.client_secret, *((self._token.value,) if self._token else ()))

    def describe(self) -> str:
        return f"OAuth 2.0 client credentials (client_id {self.credentials.client_id!r} at {self.endpoint})"

    async def aclose(self) -> None:
        await self._http.aclose()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("ClientCredentialsAuth works with httpx.AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.fresh()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            token = await self.renewed(token)
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    async def fresh(self) -> IssuedToken:
        """The token to send now: the one held, or a new one when none is held or it expires soon."""
        async with self._lock:
            if self._token is None or due(self._token, self._clock()):
                self._token = await self._fetch()
            return self._token

    async def renewed(self, refused: IssuedToken) -> IssuedToken:
        """A token other than ``refused``: a new one, unless a concurrent request already got it."""
        async with self._lock:
            if self._token is None or self._token is refused:
                log.info("oauth.renew", endpoint=self.endpoint, reason="the service answered 401")
                self._token = await self._fetch()
            return self._token

    def refused(self, exc: UnauthorizedError) -> UnauthorizedError:
        """The service's 401 to a token just renewed, saying whose tokens it refuses."""
        note = (
            f"; it refused a token just issued by {self.endpoint} to client_id "
            f"{self.credentials.client_id!r} (check the scope, audience and the app's permissions)"
        )
        fields: dict[str, Any] = {"status": exc.status, "scim_type": exc.scim_type, "detail": exc.detail}
        return UnauthorizedError(f"{exc}{note}", scim_error=exc.scim_error, **fields)

    async def _fetch(self) -> IssuedToken:
        c = self.credentials
        body = prepare_token_request("client_credentials", scope=c.scope, audience=c.audience)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        url, headers, body = self._client_auth.prepare("POST", c.token_url, form, body)
        error: TargetError
        try:
            async with asyncio.timeout(c.timeout):
                response = await self._http.post(url, content=body.encode(), headers=headers)
        except TimeoutError:
            error = TransientTargetError(f"{self._cannot}: no answer within {c.timeout:g} s")
        except httpx.HTTPError as exc:
            error = self._network_error(exc)
        else:
            return self._answer(response.status_code, response.content)
        raise error  # outside the except blocks: nothing of the exchange is chained

    def _answer(self, status: int, content: bytes) -> IssuedToken:
        """The token of a 200, or the error the endpoint's answer means (RFC 6749 §5.1, §5.2)."""
        try:
            data = json.loads(content)
        except (UnicodeDecodeError, ValueError):
            data = None
        if status == 200 and isinstance(data, dict) and "error" not in data:
            return self._issued(data)
        said = f"{self._cannot}: the token endpoint answered {status}"
        if isinstance(data, dict):
            description = data.get("error_description")
            text = description if isinstance(description, str) else None
            raise self._oauth_error(status, str(data.get("error") or "without an error code"), text)
        if status >= 500 or status == 429:
            raise TransientTargetError(said, status=status)
        if status == 200:
            raise MalformedResponseError(f"{self._cannot}: the answer is not a JSON token response")
        raise TokenRefused(said, status=status)

    @property
    def _cannot(self) -> str:
        return f"cannot get a token from {self.endpoint} for client_id {self.credentials.client_id!r}"

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[Redact]")
        return text

    def _oauth_error(self, status: int, code: str, description: str | None) -> TargetError:
        """The endpoint's RFC 6749 §5.2 error: ``invalid_client`` and friends refuse the job."""
        said = f"{status} {code}"
        if description:
            said += f": {self._scrub(description)}"
        if status >= 500 or status == 429:
            return TransientTargetError(f"{self._cannot}: {said}", status=status)
        hint = {
            "invalid_client": "check client_id and client_secret",
            "invalid_scope": "check scope",
            "unauthorized_client": "the app may not use the client credentials grant",
        }.get(code, "check the auth block")
        return TokenRefused(f"{self._cannot}: the token endpoint answered {said} ({hint})", status=status)

    def _network_error(self, exc: httpx.HTTPError) -> TargetError:
        cert = cert_error(exc) if isinstance(exc, httpx.ConnectError) else None
        if cert is not None:
            reason = getattr(cert, "verify_message", "") or "the certificate did not verify"
            return TlsError(f"{self._cannot}: TLS verification failed: {reason}", detail=str(cert))
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            return TokenRefused(f"{self._cannot}: {type(exc).__name__}")
        return TransientTargetError(f"{self._cannot}: {type(exc).__name__}: {self._scrub(str(exc))}")

    def _issued(self, data: dict[str, Any]) -> IssuedToken:
        value = data.get("access_token")
        kind = str(data.get("token_type", "")).lower()
        if not isinstance(value, str) or not value or kind not in ("bearer", ""):
            raise MalformedResponseError(f"{self._cannot}: the answer holds no bearer access_token")
        if not (value.isascii() and value.isprintable()) or " " in value:
            raise MalformedResponseError(f"{self._cannot}: the access_token is not one line of ASCII")
        now = self._clock()
        lifetime = _seconds(data.get("expires_in"))
        token = IssuedToken(
            value, now, None if lifetime is None else now + lifetime, data.get("scope") or None
        )
        self.fetched += 1
        log.debug(
            "oauth.token_obtained",
            endpoint=self.endpoint,
            client_id=self.credentials.client_id,
            expires_in_s=lifetime,
        )
        return token


def _seconds(value: object) -> float | None:
    """``expires_in`` as a positive number of seconds (some servers send it as a string)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 and seconds != float("inf") else None
