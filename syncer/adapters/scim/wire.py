"""One HTTP exchange with a SCIM service, bounded in time and size, and its errors in our words.

httpx's timeouts are per operation: a target dripping one byte a second never trips a 5 s read
timeout (one ran 33–43 s past it), so the whole exchange, connect to last byte, runs under one
deadline. The answer is streamed and refused once it passes ``max_bytes`` (a 400 MB answer read
whole took 1.35 GB of memory), decoded bytes counted, so a compressed bomb is cut too.

Errors never carry a header value: h11 refuses a token holding a newline with
``Illegal header value b'Bearer …'``, so such an error is replaced by one naming the header,
and raised without the original in its chain.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Collection, Iterator

import httpx

from syncer.errors import (
    MalformedResponseError,
    PermanentTargetError,
    TargetError,
    TlsError,
    TransientTargetError,
)

from .protocol import ScimRequest

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""Largest answer read: a page of 1,000 full users is a few MB; anything past this is hostile."""


class TooLarge(Exception):
    """The answer passed the size cap; carries its status for the error."""

    def __init__(self, status: int) -> None:
        self.status = status


async def exchange(
    http: httpx.AsyncClient,
    request: ScimRequest,
    *,
    deadline: float,
    max_bytes: int,
    headers: dict[str, str] | None = None,
) -> tuple[int, httpx.Headers, bytes]:
    """``(status, headers, body)`` of one request, all of it within ``deadline`` seconds.

    Raises ``TimeoutError`` past the deadline, :class:`TooLarge` past ``max_bytes``, and httpx's
    own errors for the caller to translate.
    """
    async with asyncio.timeout(deadline):
        async with http.stream(
            request.method, request.path, params=request.params, content=request.content(), headers=headers
        ) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(response.status_code)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise TooLarge(response.status_code)
            return response.status_code, response.headers, bytes(body)


def size_text(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size % (1024 * 1024) == 0 else f"{size} bytes"


def too_large(request: ScimRequest, exc: TooLarge, max_bytes: int) -> TargetError:
    return PermanentTargetError(
        f"{request}: the answer is larger than the {size_text(max_bytes)} a response may take; not read on",
        status=exc.status,
    )


def past_deadline(request: ScimRequest, deadline: float) -> TargetError:
    """A write may have been acted on before the answer stalled, so it is ``maybe_processed``."""
    return TransientTargetError(
        f"{request}: timed out: no complete answer within {deadline:g} s (timeout bounds it whole)",
        maybe_processed=True,
    )


def translate(
    request: ScimRequest, exc: httpx.HTTPError, secrets: Collection[str]
) -> tuple[TargetError, bool]:
    """Our error for an httpx one, and whether the original may be chained (it holds no secret).

    Network trouble is transient, a refused certificate is not. A message holding one of
    ``secrets`` (header values) is never passed on.
    """
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.LocalProtocolError) or any(s and s in repr(exc) for s in secrets):
        return (
            PermanentTargetError(
                f"{request}: a request header is not valid HTTP ({type(exc).__name__}); the Authorization "
                "token must be one line of printable ASCII without spaces (its value is not shown)"
            ),
            False,
        )
    if isinstance(exc, httpx.ConnectError) and (cert := cert_error(exc)) is not None:
        message = f"{request}: TLS verification failed: {getattr(cert, 'verify_message', '') or cert}"
        return TlsError(message, detail=str(cert)), True
    if isinstance(exc, httpx.ConnectError) and _plain_http(exc):
        message = (
            f"{request}: TLS handshake failed: the server speaks plain HTTP on this port "
            "(use its https:// port, or http:// for a server on this machine)"
        )
        return TlsError(message, detail=reason), True
    if isinstance(exc, httpx.UnsupportedProtocol):
        return PermanentTargetError(f"{request}: {reason}"), True
    # not sent at all (no connection): safe to send again; anything later may have been acted on
    unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if isinstance(exc, httpx.TimeoutException):
        message = f"{request}: timed out ({type(exc).__name__})"
        return TransientTargetError(message, maybe_processed=not unsent), True
    if isinstance(exc, httpx.TransportError):
        message = f"{request}: {type(exc).__name__}: {reason}"
        return TransientTargetError(message, maybe_processed=not unsent), True
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponseError(f"{request}: the response could not be decoded: {reason}"), True
    return PermanentTargetError(f"{request}: {type(exc).__name__}: {reason}"), True


_PLAIN_HTTP_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST")


def _plain_http(exc: BaseException) -> bool:
    """An https:// handshake answered in plain HTTP: OpenSSL's "wrong version number" (3.0) or
    "record layer failure" (3.2+), raised as an ``ssl.SSLError`` somewhere in the chain."""
    for current in _chain(exc):
        if isinstance(current, ssl.SSLError) and not isinstance(current, ssl.SSLCertVerificationError):
            text = f"{getattr(current, 'reason', '') or ''} {current}".upper().replace(" ", "_")
            if any(reason in text for reason in _PLAIN_HTTP_REASONS):
                return True
    return False


def cert_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    return next((c for c in _chain(exc) if isinstance(c, ssl.SSLCertVerificationError)), None)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes (or contexts), each once: httpx wraps the ssl error a few deep."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
