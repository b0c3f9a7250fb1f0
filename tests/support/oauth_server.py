"""A real OAuth 2.0 authorization server on 127.0.0.1 for the tests: Authlib's own RFC 6749 server.

:class:`OAuthTestServer` serves ``POST /token`` with Authlib's ``AuthorizationServer`` and its
``ClientCredentialsGrant`` (RFC 6749 §4.4), tokens made by Authlib's ``BearerTokenGenerator``
(RFC 6750) and clients authenticated by Authlib (HTTP Basic or the form body, §2.3.1): a wrong
secret gets Authlib's ``401 invalid_client``, as from any conforming server. Tokens live
``lifetime`` seconds by **this server's** clock (``time.monotonic`` here), whatever the client
believes.

:meth:`OAuthTestServer.guard` wraps the SCIM server's WSGI app as a resource server does: a
request passes only with a bearer token this server issued that has not expired or been revoked
(Authlib's ``BearerTokenValidator``); any other gets 401 with ``WWW-Authenticate: Bearer
error="invalid_token"`` (RFC 6750 §3.1) and a SCIM error body. The guard shares the issuing
server's token table, as a resource server shares a signing key with its issuer.

Served over plain HTTP on loopback: Authlib's server refuses that unless
``AUTHLIB_INSECURE_TRANSPORT`` is set, which this module sets for the test process.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Error, OAuth2Request, TokenMixin
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator

from tests.support.serving import ServerThread

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on 127.0.0.1: the tests run no TLS
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@dataclass
class Client(ClientMixin):
    """A registered confidential client: its id, secret and the scopes it may be given."""

    client_id: str
    client_secret: str = field(repr=False)
    scope: str = "scim"

    def get_client_id(self) -> str:
        return self.client_id

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return self.scope
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


@dataclass
class Token(TokenMixin):
    """An issued access token; expired by the issuing server's clock."""

    access_token: str = field(repr=False)
    client_id: str
    scope: str
    issued_at: float
    expires_in: int
    clock: Any = field(repr=False)
    revoked: bool = False
    form: dict[str, str] = field(default_factory=dict)
    """What the client sent besides its credentials (grant_type, scope, audience)."""

    def check_client(self, client: Client) -> bool:
        return bool(client.client_id == self.client_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return bool(self.clock() >= self.issued_at + self.expires_in)

    def is_revoked(self) -> bool:
        return self.revoked


class _Request(OAuth2Request):
    """An Authlib request from a WSGI environ: headers, and the form as its payload."""

    def __init__(self, environ: WSGIEnvironment) -> None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode("utf-8") if length else ""
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        host = environ.get("HTTP_HOST", "127.0.0.1")
        super().__init__(
            environ["REQUEST_METHOD"], f"http://{host}{environ.get('PATH_INFO', '')}", headers=headers
        )
        self._form = dict(parse_qsl(body))
        self.payload = BasicOAuth2Payload(self._form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class _Grant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012


class _Authorization(AuthorizationServer):
    """Authlib's authorization server, its framework hooks filled in for a bare WSGI app."""

    def __init__(self, owner: OAuthTestServer) -> None:
        super().__init__()
        self.owner = owner
        self.register_grant(_Grant)
        generator = BearerTokenGenerator(
            access_token_generator=lambda **_: secrets.token_urlsafe(24),
            expires_generator=lambda client, grant_type: owner.lifetime,
        )
        self.register_token_generator("default", generator)

    def query_client(self, client_id: str) -> Client | None:
        return self.owner.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: _Request) -> None:
        self.owner._save(token, request)

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request if isinstance(request, _Request) else _Request(request)

    def handle_response(self, status: int, body: Any, headers: Iterable[tuple[str, str]]) -> Any:
        return status, body, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


class _Validator(BearerTokenValidator):
    def __init__(self, owner: OAuthTestServer) -> None:
        super().__init__(realm="SCIM")
        self.owner = owner

    def authenticate_token(self, token_string: str) -> Token | None:
        with self.owner._lock:
            return self.owner._tokens.get(token_string)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class OAuthTestServer:
    """Authlib's client-credentials token endpoint on 127.0.0.1 (``token_url``), and a guard for SCIM."""

    def __init__(self, clients: Iterable[Client], *, lifetime: int = 3600, host: str = "127.0.0.1") -> None:
        self.clients = {c.client_id: c for c in clients}
        self.lifetime = lifetime
        """Seconds each new token lives (``expires_in``); may be changed between requests."""
        self.refuse_every_token = False
        """When set, the guard answers 401 to every SCIM request, valid token or not."""
        self.max_uses: int | None = None
        """When set, a token is revoked once it has carried this many SCIM requests (early rotation)."""
        self._uses: Counter[str] = Counter()
        self._host = host
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}
        self.issued: list[Token] = []
        self.answers: Counter[int] = Counter()
        """Token endpoint answers by status."""
        self.guarded: Counter[str] = Counter()
        """SCIM requests the guard let through (``accepted``) or refused (``rejected``)."""
        self._authorization = _Authorization(self)
        self._validator = _Validator(self)
        self._serving: ServerThread | None = None
        self.token_url = ""

    @staticmethod
    def now() -> float:
        """This server's clock: what decides whether a token has expired."""
        return time.monotonic()

    def start(self) -> None:
        server = make_server(self._host, 0, self._app, server_class=_Server, handler_class=_QuietHandler)
        self.token_url = f"http://{self._host}:{server.server_port}/token"
        self._serving = ServerThread(server, "oauth-server")

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
            self._serving = None

    def __enter__(self) -> OAuthTestServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self.issued.clear()
            self.answers.clear()
            self.guarded.clear()
            self._uses.clear()
        self.refuse_every_token = False
        self.max_uses = None

    def revoke_all(self) -> None:
        """Revoke every token issued so far (a key rotation): the next request with one gets 401."""
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True

    def expired(self, token: Token) -> bool:
        return token.is_expired()

    def _save(self, token: dict[str, Any], request: _Request) -> None:
        form = {k: v for k, v in request.form.items() if k not in ("client_id", "client_secret")}
        saved = Token(
            access_token=token["access_token"],
            client_id=request.client.client_id,
            scope=token.get("scope", ""),
            issued_at=self.now(),
            expires_in=int(token["expires_in"]),
            clock=self.now,
            form=form,
        )
        with self._lock:
            self._tokens[saved.access_token] = saved
            self.issued.append(saved)

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/token":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        status, body, headers = self._authorization.create_token_response(_Request(environ))
        with self._lock:
            self.answers[status] += 1
        content = json.dumps(body).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [*headers, ("Content-Length", str(len(content)))],
        )
        return [content]

    def guard(self, app: WSGIApplication) -> WSGIApplication:
        """``app`` behind a resource server's check: only this server's live tokens pass."""

        def guarded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            try:
                if self.refuse_every_token:
                    raise _Refused()
                token = self._validator.authenticate_token(value) if scheme.lower() == "bearer" else None
                self._validator.validate_token(token, [], None)
            except (OAuth2Error, _Refused):
                with self._lock:
                    self.guarded["rejected"] += 1
                return _unauthorized(start_response)
            self._used(token)
            return app(environ, start_response)

        return guarded

    def _used(self, token: Token) -> None:
        with self._lock:
            self.guarded["accepted"] += 1
            self._uses[token.access_token] += 1
            if self.max_uses is not None and self._uses[token.access_token] >= self.max_uses:
                token.revoked = True


class _Refused(Exception):
    pass


def _unauthorized(start_response: StartResponse) -> list[bytes]:
    error = {"schemas": [SCIM_ERROR], "status": "401", "detail": "the access token is invalid or has expired"}
    content = json.dumps(error).encode()
    start_response(
        "401 Unauthorized",
        [
            ("Content-Type", "application/scim+json"),
            ("WWW-Authenticate", 'Bearer realm="SCIM", error="invalid_token"'),
            ("Content-Length", str(len(content))),
        ],
    )
    return [content]
