"""The ``auth`` block of a target or SCIM source: checked when the config loads, its secret never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.adapters.scim.oauth import IssuedToken, due
from syncer.errors import ConfigError
from syncer.runtime.configfile import load_config
from syncer.runtime.jobcontext import client_credentials

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-value-9d41"


def _config(tmp_path: Path, auth: str, token: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""jobs:
  - name: j
    source: {{type: file, path: d.json}}
    target:
      url: "https://app.example/scim/v2"
{token}      auth:
{auth}
    mapping: {ROOT / "mappings" / "asana.yaml"}
""",
        encoding="utf-8",
    )
    return path


def _auth(*lines: str) -> str:
    return "\n".join(f"        {line}" for line in lines)


BASE = (
    "type: oauth2_client_credentials",
    "token_url: https://login.example/oauth2/token",
    "client_id: app-1",
)


def _refused(path: Path) -> str:
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    return str(failed.value)


def test_client_credentials_load_with_the_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_SECRET", SECRET)
    path = _config(tmp_path, _auth(*BASE, "client_secret: ${APP_SECRET}", "scope: scim.write", "audience: x"))
    config = load_config(path)
    job = config.settings.jobs[0]
    credentials = client_credentials(config, job, job.target.auth, "target", 30.0)
    assert credentials is not None
    assert (credentials.client_id, credentials.client_secret) == ("app-1", SECRET)
    assert (credentials.scope, credentials.audience, credentials.auth_method) == (
        "scim.write",
        "x",
        "client_secret_basic",
    )
    assert SECRET not in repr(credentials) and SECRET not in repr(job)


def test_a_client_secret_file_is_read_and_checked_at_load(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("two\nlines\n", encoding="utf-8")
    message = _refused(_config(tmp_path, _auth(*BASE, "client_secret_file: secret")))
    assert "client_secret_file" in message and "one line" in message and "two" not in message
    (tmp_path / "secret").write_text(f"{SECRET}\n", encoding="utf-8")
    config = load_config(_config(tmp_path, _auth(*BASE, "client_secret_file: secret")))
    job = config.settings.jobs[0]
    credentials = client_credentials(config, job, job.target.auth, "target", 30.0)
    assert credentials is not None and credentials.client_secret == SECRET


def test_an_inline_secret_with_a_space_is_refused_without_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_SECRET", "half one")
    message = _refused(_config(tmp_path, _auth(*BASE, "client_secret: ${APP_SECRET}")))
    assert "jobs.0.target.auth.client_secret (from $APP_SECRET)" in message
    assert "client secret must be one line without spaces" in message and "half one" not in message


@pytest.mark.parametrize(
    ("auth", "token", "says"),
    [
        (_auth(*BASE), "", "client_secret (${VAR}) or client_secret_file"),
        (
            _auth(*BASE, "client_secret: a", "client_secret_file: f"),
            "",
            "give client_secret or client_secret_file",
        ),
        (
            _auth(*BASE, "client_secret: a"),
            "      token: t\n",
            "give token (or token_file) or auth, not both",
        ),
        (
            _auth(
                "type: oauth2_client_credentials",
                "token_url: http://login.example/token",
                "client_id: a",
                "client_secret: a",
            ),
            "",
            "plain http:// to login.example sends credentials in clear",
        ),
        (_auth(*BASE, "client_secret: a", "scopes: x"), "", "scopes"),
        (
            _auth(
                "type: oauth2_client_credentials",
                "token_url: login/token",
                "client_id: a",
                "client_secret: a",
            ),
            "",
            "URL",
        ),
    ],
)
def test_a_bad_auth_block_is_refused_at_its_line(tmp_path: Path, auth: str, token: str, says: str) -> None:
    message = _refused(_config(tmp_path, auth, token))
    assert "config.yaml:" in message and says in message


def test_plain_http_to_a_token_url_elsewhere_loads_when_allowed(tmp_path: Path) -> None:
    auth = _auth(
        "type: oauth2_client_credentials",
        "token_url: http://login.example/token",
        "client_id: a",
        "client_secret: a",
        "allow_insecure_http: true",
    )
    assert load_config(_config(tmp_path, auth)).settings.jobs[0].target.auth is not None


def test_a_token_is_replaced_shortly_before_it_expires() -> None:
    hour = IssuedToken("t", obtained_at=100.0, expires_at=3700.0)
    assert not due(hour, 100.0) and not due(hour, 3639.0)
    assert due(hour, 3641.0)  # a minute ahead
    short = IssuedToken("t", obtained_at=0.0, expires_at=2.0)
    assert not due(short, 1.4) and due(short, 1.6)  # a quarter of its life ahead
    assert due(None, 0.0)
    assert not due(IssuedToken("t", obtained_at=0.0, expires_at=None), 10**9)  # no expires_in: until a 401
