"""What a person sees when something is wrong: validate, test-connection, a refused token; no token leaks."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, TOKEN, Workspace
from tests.support.scim_server import ScimTestServer

Edit = Callable[[str], str]


def _line_of(text: str, needle: str) -> int:
    """The 1-based number of the first line of ``text`` holding ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _drop_line(startswith: str) -> Edit:
    def edit(text: str) -> str:
        return "".join(line for line in text.splitlines(True) if not line.lstrip().startswith(startswith))

    return edit


def _replace(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


@pytest.fixture(scope="module")
def token_server() -> Iterator[ScimTestServer]:
    """A second real scim2-server that accepts only ``Bearer right``."""
    with ScimTestServer(token="right") as server:
        yield server


@pytest.fixture
def guarded(token_server: ScimTestServer) -> ScimTestServer:
    token_server.reset()
    return token_server


@pytest.fixture
def small(workspace: Workspace) -> Workspace:
    """The workspace cut to its first 16 users: enough for what these tests look at, and quicker."""
    data = workspace.load()
    data["users"] = data["users"][:16]
    kept = {u["id"] for u in data["users"]}
    for user in data["users"]:
        if user["manager"] not in kept:
            user["manager"] = None
    for group in data["groups"]:
        group["members"] = [m for m in group["members"] if m in kept]
    workspace.save(data)
    return workspace


# --- validate ---------------------------------------------------------------------------------

CONFIG_ERRORS = {
    # id: (edit, text of the line the error must cite, fragments of the message)
    "unknown-top-level-key": (
        _replace("jobs:\n", "targt: {url: x}\njobs:\n"),
        "targt:",
        ["targt: unknown key"],
    ),
    "unknown-target-key": (
        _replace("concurrency: 4", "concurrancy: 3"),
        "concurrancy: 3",
        ["jobs.0.target.concurrancy: unknown key"],
    ),
    "missing-required-key": (_drop_line("url:"), "target:", ["jobs.0.target.url: required key is missing"]),
    "bad-duration": (
        _replace("timeout: 10s", "timeout: 10 parsecs"),
        "timeout:",
        ["jobs.0.target.timeout", "expected a duration", "10 parsecs"],
    ),
    "unset-env-variable": (
        _replace("${E2E_TOKEN}", "${E2E_NEVER_SET_TOKEN}"),
        "token:",
        ["environment variable E2E_NEVER_SET_TOKEN is not set"],
    ),
    "invalid-yaml": (
        _replace("      retries: 2\n", "      retries: 2\n     mapping: [unclosed\n"),
        "mapping: [unclosed",
        ["invalid YAML", "column"],
    ),
}

MAPPING_ERRORS = {
    "unknown-key": (
        _replace("    match: 1\n", "    match: 1\n    matchh: 2\n"),
        "matchh: 2",
        ["users.0.matchh: unknown key"],
    ),
    "bad-expression": (
        _replace('Join(" ", [givenName], [surname])', 'Join(" ", [givenName], [surname]'),
        "- target: name.formatted",
        ["name.formatted", "expected ',' or ')'", "at column 33"],
    ),
    "bad-target-path": (
        _replace("  - target: title\n", "  - target: title[[x\n"),
        "- target: title[[x",
        ["invalid target path", "title[[x", "column"],
    ),
}


@dataclass(frozen=True)
class Validation:
    """One `syncer validate` run on a config (or mapping) broken one way, and the broken text."""

    ws: Workspace
    broken: Path
    text: str
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def validations(
    tmp_path_factory: pytest.TempPathFactory, scim_server: ScimTestServer
) -> dict[str, Validation]:
    """Every broken config and mapping validated once, side by side (validate never calls the target)."""

    def one(case: str) -> Validation:
        root = tmp_path_factory.mktemp(case)
        shutil.copy(ROOT / "examples" / "directory.json", root / "directory.json")
        shutil.copy(ROOT / "mappings" / "asana.yaml", root / "mapping.yaml")
        ws = Workspace(root=root, server=scim_server, mapping=root / "mapping.yaml")
        ws.write_config()
        broken = ws.mapping if case.startswith("mapping:") else ws.config
        edits = {f"mapping:{k}": v[0] for k, v in MAPPING_ERRORS.items()}
        edits.update({k: v[0] for k, v in CONFIG_ERRORS.items()})
        text = edits[case](broken.read_text(encoding="utf-8")) if case in edits else broken.read_text()
        broken.write_text(text, encoding="utf-8")
        return Validation(ws, broken, text, ws.run("validate", expect=None))

    cases = ["good", *CONFIG_ERRORS, *(f"mapping:{k}" for k in MAPPING_ERRORS)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(cases, pool.map(one, cases), strict=True))


def _invalid(validation: Validation) -> str:
    result = validation.result
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert TOKEN not in result.stderr
    return result.stderr


def test_validate_accepts_the_sample_config(validations: dict[str, Validation]) -> None:
    """`syncer validate` exits 0 on a good config and names its job."""
    good = validations["good"]
    assert good.result.returncode == 0, good.result.stderr
    assert f"{good.ws.config}: valid (1 job(s): e2e)" in good.result.stdout
    assert good.result.stderr == ""


@pytest.mark.parametrize("case", list(CONFIG_ERRORS))
def test_validate_cites_the_config_line(validations: dict[str, Validation], case: str) -> None:
    """An invalid config.yaml exits 1 with `config.yaml:<line>` of the offending key and no traceback."""
    _, cited, fragments = CONFIG_ERRORS[case]
    validation = validations[case]
    stderr = _invalid(validation)
    # `FILE:LINE: ...`, or for an expression the issue's `FILE:LINE users.title: EXPR — ... at column N`
    where = f"error: {validation.broken}:{_line_of(validation.text, cited)}"
    assert f"{where}: " in stderr or f"{where} " in stderr, stderr
    for fragment in fragments:
        assert fragment in stderr


@pytest.mark.parametrize("case", list(MAPPING_ERRORS))
def test_validate_cites_the_mapping_line(validations: dict[str, Validation], case: str) -> None:
    """An invalid mapping exits 1 citing `mapping.yaml:<line>` of its entry, the attribute and the column."""
    _, cited, fragments = MAPPING_ERRORS[case]
    validation = validations[f"mapping:{case}"]
    stderr = _invalid(validation)
    assert validation.broken.name == "mapping.yaml"
    # `FILE:LINE: ...`, or for an expression the issue's `FILE:LINE users.title: EXPR — ... at column N`
    where = f"error: {validation.broken}:{_line_of(validation.text, cited)}"
    assert f"{where}: " in stderr or f"{where} " in stderr, stderr
    for fragment in fragments:
        assert fragment in stderr


# --- test-connection ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_succeeds(workspace: Workspace) -> None:
    """`syncer test-connection` exits 0 after one filtered GET and the three discovery reads."""
    result = workspace.run("test-connection")
    assert f"Test connection to {workspace.server.base_url} succeeded." in result.stdout
    assert workspace.server.counts() == {"GET": 4}  # nothing written


def test_connection_with_a_wrong_token_blames_the_credentials(
    workspace: Workspace, guarded: ScimTestServer
) -> None:
    """A server that refuses the token makes test-connection exit 1 about credentials."""
    workspace.write_config(url=guarded.base_url)
    result = workspace.run("test-connection", expect=1)
    assert "refused the credentials (401)" in result.stderr
    assert "Traceback" not in result.stderr
    # /ServiceProviderConfig answers without a token (scim2-server, as RFC 7644 §4 allows), the
    # next discovery read gets the 401, and a 401 is never retried
    assert guarded.counts() == {"GET": 2}


def test_connection_to_a_wrong_base_path_reports_404(workspace: Workspace) -> None:
    """A URL whose base path is not the SCIM root makes test-connection exit 1 with 404."""
    url = workspace.server.base_url.replace("/v2", "/nope")
    workspace.write_config(url=url)
    result = workspace.run("test-connection", expect=1)
    assert f"404 from {url}: the URL is not a SCIM endpoint" in result.stderr
    assert "Traceback" not in result.stderr


def test_connection_to_a_closed_port_cannot_reach(workspace: Workspace) -> None:
    """Nothing listening on the port makes test-connection exit 1 with "cannot reach" and the URL."""
    url = f"http://127.0.0.1:{_free_port()}/v2"
    workspace.write_config(url=url)
    result = workspace.run("test-connection", expect=1)
    assert f"error: cannot reach {url}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """An HTTPS listener on 127.0.0.1 with a self-signed certificate; yields its URL and a handshake count."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    handshakes: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            handshakes.append(1)
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass  # the client refuses the certificate: exactly what is being tested
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}/v2", handshakes
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_connection_refuses_an_untrusted_certificate(
    workspace: Workspace, self_signed: tuple[str, list[int]]
) -> None:
    """A self-signed certificate fails test-connection with a TLS verification error, not retried."""
    url, handshakes = self_signed
    workspace.write_config(url=url)
    result = workspace.run("test-connection", expect=1)
    assert "TLS verification failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(handshakes) == 1  # a certificate that will not verify is not worth a retry


# --- credentials ---------------------------------------------------------------------------------


def test_initial_sync_with_a_refused_token_stops_at_once(
    workspace: Workspace, guarded: ScimTestServer
) -> None:
    """A sync whose token is refused exits 1 about credentials after a few requests, not one per user."""
    workspace.write_config(url=guarded.base_url)
    result = workspace.run("sync", expect=1)
    assert "refused the credentials" in result.stderr
    assert "Traceback" not in result.stderr
    assert sum(guarded.counts().values()) < 10, guarded.counts()
    assert guarded.writes() == 0
    assert workspace.sql("select count(*) from links") == [(0,)]


def test_incremental_sync_with_a_refused_token_stops_the_cycle(
    small: Workspace, guarded: ScimTestServer
) -> None:
    """When the token is refused mid-cycle, the executor stops instead of sending every other change."""
    small.run("sync")
    data = small.load()
    for i, user in enumerate(data["users"]):
        user["jobTitle"] = f"Retitled {i}"
    small.save(data)
    # every title changes on purpose: the change threshold would hold them all before any request
    no_guard = "    safety: {change_threshold: none}\n"
    # the target's discovery read with the right token and cached: the cycle's first write is refused
    (small.root / "right").write_text("right\n", encoding="utf-8")
    (small.root / "right").chmod(0o600)
    small.write_config(url=guarded.base_url, extra_job=no_guard, token_line="token_file: right")
    small.run("test-connection")
    small.write_config(url=guarded.base_url, extra_job=no_guard)
    guarded.reset()
    result = small.run("sync", expect=1)
    assert "cycle stopped: the target refused the credentials" in result.stderr
    assert sum(guarded.counts().values()) < 10, guarded.counts()
    assert small.sql("select status from runs order by started_at desc limit 1") == [("stopped",)]


def test_the_token_never_leaves_the_process(small: Workspace, guarded: ScimTestServer) -> None:
    """The token shows in no output of validate, plan, sync or a failing call, nor in the state file."""
    outputs: dict[str, str] = {}

    def run(name: str, *args: str, expect: int = 0) -> None:
        result = small.run(*args, expect=expect)
        outputs[name] = result.stdout + result.stderr

    run("validate", "validate")
    run("plan-text", "--log-level", "debug", "plan")
    run("plan-json", "--log-level", "debug", "--log-json", "plan", "--format", "json", "--out", "plan.json")
    run("sync", "--log-level", "debug", "sync")
    outputs["plan.json"] = (small.root / "plan.json").read_text(encoding="utf-8")
    small.edit(lambda d: d["users"][0].__setitem__("jobTitle", "Changed"))  # something to send
    small.write_config(url=guarded.base_url)
    run("test-connection-refused", "--log-level", "debug", "test-connection", expect=1)
    run("sync-refused", "--log-level", "debug", "sync", expect=1)
    assert "scim.request" in outputs["sync"]  # the debug log was on and did log requests
    assert "refused the credentials" in outputs["sync-refused"]
    for name, text in outputs.items():
        assert TOKEN not in text, name
    state_files = sorted(small.root.glob("state.db*"))
    source = small.load()
    linked = sum(u["accountEnabled"] for u in source["users"]) + len(source["groups"])
    assert state_files and small.sql("select count(*) from links") == [(linked,)]
    for path in state_files:
        assert TOKEN.encode() not in path.read_bytes(), path.name
    assert re.search(r"authorization['\"]?:\s*['\"]?bearer", "\n".join(outputs.values()), re.I) is None
