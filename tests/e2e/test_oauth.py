"""OAuth 2.0 client credentials against a real authorization server (Authlib's) guarding a real SCIM server.

The token endpoint is :class:`~tests.support.oauth_server.OAuthTestServer`; scim2-server sits
behind its guard, which lets through only live tokens that server issued. The client secret is a
canary: the session fails if any output or file holds it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Workspace
from tests.support import canary
from tests.support.oauth_server import Client, OAuthTestServer
from tests.support.scim_server import ScimTestServer

CLIENT_ID = "syncer-e2e"
ENV = {"E2E_CLIENT_SECRET": canary.CLIENT_SECRET}
ENTITLED = 59  # the sample directory's users but the one disabled


@pytest.fixture
def oauth() -> Iterator[OAuthTestServer]:
    with OAuthTestServer([Client(CLIENT_ID, canary.CLIENT_SECRET, scope="scim")]) as server:
        yield server


@pytest.fixture
def guarded(oauth: OAuthTestServer) -> Iterator[ScimTestServer]:
    with ScimTestServer(wrap=oauth.guard) as server:
        yield server


def _auth_line(oauth: OAuthTestServer, extra: str = "") -> str:
    return (
        f"auth: {{type: oauth2_client_credentials, token_url: '{oauth.token_url}', "
        f"client_id: {CLIENT_ID}, client_secret: '${{E2E_CLIENT_SECRET}}'{extra}}}"
    )


@pytest.fixture
def ws(tmp_path: Path, guarded: ScimTestServer, oauth: OAuthTestServer) -> Workspace:
    shutil.copy(ROOT / "examples" / "directory.json", tmp_path / "directory.json")
    workspace = Workspace(root=tmp_path, server=guarded)
    workspace.write_config(token_line=_auth_line(oauth, ", scope: scim, audience: 'https://scim.test'"))
    return workspace


def _run(ws: Workspace, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
    return ws.run("--log-level", "debug", *args, expect=expect, env=ENV)


def _no_secret_in(result: subprocess.CompletedProcess[str], oauth: OAuthTestServer) -> None:
    """Neither the client secret nor any token the server issued is in what syncer printed."""
    issued = [t.access_token for t in oauth.issued]
    for text in (result.stdout, result.stderr):
        assert canary.CLIENT_SECRET not in text
        assert not [token for token in issued if token in text]


def test_sync_with_client_credentials_uses_one_token_the_server_issued(
    ws: Workspace, oauth: OAuthTestServer
) -> None:
    result = _run(ws, "sync")
    assert len(ws.users()) == ENTITLED and ws.groups()
    assert len(oauth.issued) == 1, "one token, fetched before the first request and kept"
    assert oauth.issued[0].form == {
        "grant_type": "client_credentials",
        "scope": "scim",
        "audience": "https://scim.test",
    }
    assert oauth.guarded["accepted"] > 10 and oauth.guarded["rejected"] == 0
    _no_secret_in(result, oauth)


def test_a_cycle_longer_than_the_token_lifetime_gets_new_tokens(
    ws: Workspace, oauth: OAuthTestServer
) -> None:
    """Tokens of 2 s, a cycle the rate limit stretches past 4 s (70 requests at 15/s): every write lands."""
    oauth.lifetime = 2
    ws.write_config(token_line=_auth_line(oauth) + "\n      rate_limit: 15/s")
    result = _run(ws, "sync")
    assert len(ws.users()) == ENTITLED
    first = oauth.issued[0]
    assert oauth.expired(first), "the server's clock says the first token has expired by now"
    assert len(oauth.issued) >= 2
    # every request the target served carried a token live by the server's clock (the guard
    # refuses any other), so the later tokens were obtained by syncer, not waited out
    assert oauth.guarded["accepted"] >= 60
    _no_secret_in(result, oauth)


def test_a_token_revoked_early_is_renewed_once_on_the_401(ws: Workspace, oauth: OAuthTestServer) -> None:
    oauth.max_uses = 25  # each token is revoked after 25 requests: the next one gets 401
    result = _run(ws, "sync")
    assert len(ws.users()) == ENTITLED
    rejected = oauth.guarded["rejected"]
    assert rejected >= 1 and len(oauth.issued) >= 2
    # each 401 cost one renewal at most: concurrent requests refused with the same token share it
    assert len(oauth.issued) <= rejected + 1
    assert "Synced" in result.stdout or "synced" in result.stdout.lower()
    _no_secret_in(result, oauth)


def test_a_second_401_fails_naming_the_token_url_and_client(ws: Workspace, oauth: OAuthTestServer) -> None:
    oauth.refuse_every_token = True
    result = _run(ws, "sync", expect=1)
    text = result.stdout + result.stderr
    assert "refused a token just issued by" in text and oauth.token_url in text
    assert f"client_id '{CLIENT_ID}'" in text
    assert 2 <= len(oauth.issued) <= 3, "the first token and one renewal, not a loop of fetches"
    assert ws.server.resources("Users") == []
    _no_secret_in(result, oauth)


def test_a_wrong_client_secret_fails_naming_the_token_url_and_client_id(
    tmp_path: Path, guarded: ScimTestServer, oauth: OAuthTestServer
) -> None:
    oauth.clients = {CLIENT_ID: Client(CLIENT_ID, "the-right-secret-not-the-canary")}
    shutil.copy(ROOT / "examples" / "directory.json", tmp_path / "directory.json")
    ws = Workspace(root=tmp_path, server=guarded)
    ws.write_config(token_line=_auth_line(oauth))
    for command in ("sync", "test-connection"):
        result = _run(ws, command, expect=1)
        assert f"cannot get a token from {oauth.token_url} for client_id '{CLIENT_ID}'" in result.stderr
        assert "401 invalid_client" in result.stderr and "check client_id and client_secret" in result.stderr
        assert "Traceback" not in result.stderr
        _no_secret_in(result, oauth)
    assert oauth.issued == [] and oauth.answers[401] >= 2
    assert sum(oauth.guarded.values()) == 0, "no request reached the target without a token"


def test_test_connection_reports_the_auth_method_and_the_token(ws: Workspace, oauth: OAuthTestServer) -> None:
    result = _run(ws, "test-connection")
    assert "succeeded" in result.stdout
    method = f"auth: OAuth 2.0 client credentials (client_id '{CLIENT_ID}' at {oauth.token_url})"
    assert method in result.stdout
    assert "token obtained" in result.stdout and "expires in 3600 s" in result.stdout
    _no_secret_in(result, oauth)


def test_a_scim_source_reads_with_client_credentials_from_a_file(
    tmp_path: Path, scim: ScimTestServer, guarded: ScimTestServer, oauth: OAuthTestServer
) -> None:
    """The SCIM source is the guarded server here; the secret comes from ``client_secret_file``."""
    guarded.seed_user(userName="ada@example.org", externalId="e-ada")
    guarded.seed_user(userName="alan@example.org", externalId="e-alan")
    secret_file = canary.declare_input(tmp_path / "client-secret")
    secret_file.write_text(canary.CLIENT_SECRET + "\n", encoding="utf-8")
    ws = Workspace(root=tmp_path, server=scim)
    ws.config.write_text(
        f"""state: sqlite:///state.db
jobs:
  - name: migrate
    source:
      type: scim
      url: {guarded.base_url}
      auth:
        type: oauth2_client_credentials
        token_url: {oauth.token_url}
        client_id: {CLIENT_ID}
        client_secret_file: client-secret
        client_auth_method: client_secret_post
    target:
      url: {scim.base_url}
    mapping: {ROOT / "mappings" / "scim-to-scim.yaml"}
""",
        encoding="utf-8",
    )
    result = _run(ws, "sync")
    assert sorted(ws.users()) == ["ada@example.org", "alan@example.org"]
    assert len(oauth.issued) == 1 and oauth.guarded["accepted"] >= 1 and oauth.guarded["rejected"] == 0
    _no_secret_in(result, oauth)
