"""Secrets have the shape of a secret, checked when the config loads; their content is never echoed.

A ``token_file`` pointing at the wrong file (``/etc/shadow``, a PEM key, a two-line note) used to
reach httpx, whose ``Illegal header value b'Bearer …'`` printed the whole file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog.testing

from syncer.errors import ConfigError
from syncer.runtime.configfile import load_config, read_token

ROOT = Path(__file__).resolve().parents[2]
SHADOW = "sroot:$6$saltsalt$hashhashhash:19000:0:99999:7:::\nsdaemon:*:19000:0:99999:7:::\n"
LEAKS = ("sroot", "saltsalt", "hashhash", "sdaemon", "19000")


def _config(tmp_path: Path, target: str, source: str = "{type: file, path: d.json}", extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""jobs:
  - name: j
    source: {source}
    target:
      url: "https://app.example/scim/v2"
{target}
    mapping: {ROOT / "mappings" / "asana.yaml"}
{extra}""",
        encoding="utf-8",
    )
    return path


def _refused(path: Path) -> str:
    with pytest.raises(ConfigError) as failed:
        load_config(path)
    return str(failed.value)


def test_a_token_file_of_several_lines_is_refused_at_load_without_its_content(tmp_path: Path) -> None:
    (tmp_path / "shadow").write_text(SHADOW, encoding="utf-8")
    message = _refused(_config(tmp_path, "      token_file: shadow"))
    assert "config.yaml:6" in message and str(tmp_path / "shadow") in message
    assert "one line" in message
    assert not [leak for leak in LEAKS if leak in message]


def test_a_token_file_with_inner_whitespace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("Bearer abc.def\n", encoding="utf-8")
    message = _refused(_config(tmp_path, "      token_file: token"))
    assert str(tmp_path / "token") in message and "abc.def" not in message


def test_a_token_file_with_one_line_and_a_final_newline_loads(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("abc.def-ghi\n", encoding="utf-8")
    config = load_config(_config(tmp_path, "      token_file: token"))
    assert read_token(config, config.settings.jobs[0]) == "abc.def-ghi"


def test_a_token_file_changed_after_load_is_refused_when_read(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("abc\n", encoding="utf-8")
    config = load_config(_config(tmp_path, "      token_file: token"))
    (tmp_path / "token").write_text(SHADOW, encoding="utf-8")
    with pytest.raises(ConfigError) as failed:
        read_token(config, config.settings.jobs[0])
    assert "one line" in str(failed.value) and not [leak for leak in LEAKS if leak in str(failed.value)]


def test_a_token_from_the_environment_with_a_line_break_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_TOKEN", "first-line\nsecond-line")
    message = _refused(_config(tmp_path, "      token: ${APP_TOKEN}"))
    assert "config.yaml:6" in message and "APP_TOKEN" in message and "one line" in message
    assert "first-line" not in message and "second-line" not in message


def test_a_scim_source_token_file_is_checked_too(tmp_path: Path) -> None:
    (tmp_path / "shadow").write_text(SHADOW, encoding="utf-8")
    source = '{type: scim, url: "https://old.example/scim/v2", token_file: shadow}'
    message = _refused(_config(tmp_path, "      token: t", source=source))
    assert "config.yaml:3" in message and str(tmp_path / "shadow") in message
    assert not [leak for leak in LEAKS if leak in message]


def test_an_ldap_password_file_of_several_lines_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shadow").write_text(SHADOW, encoding="utf-8")
    source = (
        '{type: ldap, url: "ldaps://dc.example", bind_dn: "cn=s", password_file: shadow, '
        'users: {base: "o=x"}}'
    )
    path = _config(tmp_path, "      token: t", source=source)
    path.write_text(path.read_text().replace("asana.yaml", "ldap.yaml"), encoding="utf-8")
    message = _refused(path)
    assert str(tmp_path / "shadow") in message and not [leak for leak in LEAKS if leak in message]


def test_a_webhook_header_with_a_line_break_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_KEY", "k1\nX-Injected: yes")
    notify = (
        "    notify:\n      webhook:\n        url: https://hooks.example/x\n"
        "        headers: {X-Api-Key: '${HOOK_KEY}'}\n"
    )
    message = _refused(_config(tmp_path, "      token: t", extra=notify))
    assert "X-Api-Key" in message and "HOOK_KEY" in message
    assert "k1" not in message and "Injected" not in message


def test_a_plain_token_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_TOKEN", "eyJhbGciOi.abc_def-123")
    config = load_config(_config(tmp_path, "      token: ${APP_TOKEN}"))
    assert read_token(config, config.settings.jobs[0]) == "eyJhbGciOi.abc_def-123"


def test_a_non_ascii_token_or_header_value_is_refused_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HTTP header is ASCII: ``tökén`` could never be sent; a password may be UTF-8."""
    monkeypatch.setenv("APP_TOKEN", "tök-CANARY")
    message = _refused(_config(tmp_path, "      token: ${APP_TOKEN}"))
    assert "ASCII" in message and "APP_TOKEN" in message and "CANARY" not in message
    monkeypatch.setenv("HOOK_KEY", "schlüssel-CANARY")
    notify = "    notify:\n      webhook: {url: https://h.example/x, headers: {X-Key: '${HOOK_KEY}'}}\n"
    message = _refused(_config(tmp_path, "      token: t", extra=notify))
    assert "ASCII" in message and "X-Key" in message and "CANARY" not in message


def test_an_empty_token_key_is_refused_at_its_line_not_a_yaml_traceback(tmp_path: Path) -> None:
    message = _refused(_config(tmp_path, "      token:"))
    assert "config.yaml:6" in message and "jobs.0.target.token" in message and "empty" in message


def test_a_target_without_a_token_key_still_loads(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, ""))
    assert read_token(config, config.settings.jobs[0]) is None


def test_a_variable_without_braces_is_refused_with_the_braced_form(tmp_path: Path) -> None:
    message = _refused(_config(tmp_path, "      token: $APP_TOKEN"))
    assert "config.yaml:6" in message and "${APP_TOKEN}" in message and "without braces" in message


def test_a_password_variable_without_braces_is_refused(tmp_path: Path) -> None:
    source = (
        "{type: ldap, url: 'ldaps://ldap.example', bind_dn: 'cn=a', password: $LDAP_PW, "
        "users: {base: 'dc=x'}}"
    )
    message = _refused(_config(tmp_path, "      token: abc", source=source))
    assert "${LDAP_PW}" in message


def test_a_token_file_others_can_read_is_warned_about_without_its_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "token"
    secret.write_text("abc.def-ghi\n", encoding="utf-8")
    secret.chmod(0o644)
    with structlog.testing.capture_logs() as logs:
        config = load_config(_config(tmp_path, "      token_file: token"))
        assert read_token(config, config.settings.jobs[0]) == "abc.def-ghi"
    warned = [entry for entry in logs if entry["event"] == "secret_file_readable_by_others"]
    assert warned and warned[0]["mode"] == "0o644" and "abc.def" not in str(warned)
    secret.chmod(0o600)
    with structlog.testing.capture_logs() as logs:
        read_token(config, config.settings.jobs[0])
    assert not [entry for entry in logs if entry["event"] == "secret_file_readable_by_others"]
