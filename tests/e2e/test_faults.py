"""Delivery under faults: the real CLI through a fault-injection proxy in front of the real scim2-server.

Each fault class is injected into about 30% of the requests of an initial sync of 200 users
(``FAULT_USERS=500`` for the issue's 500) and 20 groups. After at most two ``syncer sync`` runs
the REAL server (read from its store, never through the proxy) must hold every enabled user
exactly once and every group once with exactly its members, and one more sync with the faults
off must send no write.

The six classes run at the same time, each with its own scim2-server, proxy and workspace (a
module fixture; only the classes selected with ``-k`` run): a class alone takes 20 to 40 s,
nearly all of it waiting (backoff, held requests, SQLite commits), so one after the other would
not fit in a minute. Run with ``-s`` for the figures: faults injected by kind, objects lost,
duplicates, per class and in a table at the end of the module.

The first sync meets the raw faults, so some objects exhaust their retries and are left to the
second. The second meets the same rates with the proxy's ``cap``: no identical request is faulted
``RETRIES`` times, so what it proves is syncer's handling of each fault, not the odds of four in a
row. Where a class is not at a plain 30% of every request, the rule says why (timeouts cost 2 s
of a connection each; a 1 s ``Retry-After`` pauses the whole client).
"""

from __future__ import annotations

import dataclasses
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Workspace
from tests.support.fault_proxy import FaultProxy, ProxyStats, Rule
from tests.support.scim_server import ScimTestServer

USERS, GROUPS, MEMBERS, MANAGERS, DISABLED = 500, 20, 20, 10, 5
TIMEOUT_S, RETRIES, CONCURRENCY, HOLD_S = 2, 4, 8, 3.0
SEED = 20240612
WRITES = ("POST", "PUT", "PATCH", "DELETE")
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "Support")
OFFICES = (("Redmond", "WA", "US"), ("Berlin", "Berlin", "DE"), ("London", "England", "GB"))

# --- the directory -----------------------------------------------------------------------------------


def _id(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "https://fabrikam.example/" + "/".join(map(str, parts))))


def make_directory(users: int = USERS, groups: int = GROUPS, seed: int = SEED) -> dict[str, Any]:
    """A deterministic directory in the file source's JSON form.

    User 0 is the CEO, users 1..``MANAGERS`` report to the CEO and everyone else to one of them
    (three manager waves on an initial sync); the last ``DISABLED`` users are disabled. Each group
    has ``MEMBERS`` ± 3 members drawn from all users, so some disabled ones too, which must not
    become members on the target.
    """
    rng = random.Random(seed)
    people: list[dict[str, Any]] = []
    for n in range(users):
        city, state, country = OFFICES[n % len(OFFICES)]
        dept = DEPARTMENTS[n % len(DEPARTMENTS)]
        upn = f"user{n:04d}.{rng.choice('abc')}@fabrikam.example"
        manager = None if n == 0 else people[0 if n <= MANAGERS else rng.randint(1, MANAGERS)]["id"]
        people.append(
            {
                "id": _id("user", n),
                "userPrincipalName": upn,
                "mail": upn,
                "givenName": f"Given{n}",
                "surname": f"Surname{n}",
                "displayName": f"Given{n} Surname{n}",
                "jobTitle": "Manager" if 0 < n <= MANAGERS else rng.choice(("Engineer", "Analyst", "Rep")),
                "department": dept,
                "employeeId": f"E{10000 + n}",
                "companyName": "Fabrikam",
                "division": "Corporate",
                "costCenter": f"CC-{1000 + DEPARTMENTS.index(dept)}",
                "city": city,
                "state": state,
                "country": country,
                "telephoneNumber": f"+1 425 555 {n:04d}",
                "manager": manager,
                "accountEnabled": n < users - DISABLED,
            }
        )
    ids = [p["id"] for p in people]
    teams = [
        {
            "id": _id("group", g),
            "displayName": f"Team {g:02d}",
            "mailNickname": f"team{g:02d}",
            "description": f"Team number {g}",
            "members": sorted(rng.sample(ids, MEMBERS + rng.randint(-3, 3))),
        }
        for g in range(groups)
    ]
    return {"users": people, "groups": teams}


@dataclass
class FaultWorkspace(Workspace):
    """A Workspace whose config has the fault suite's short timeout, 4 attempts and concurrency 8."""

    url: str = ""
    state_dir: Path | None = None

    @property
    def state(self) -> Path:
        return (self.state_dir or self.root) / "state.db"

    def write_config(
        self, extra_job: str = "", url: str | None = None, token_line: str | None = None
    ) -> None:
        self.config.write_text(
            f"""state: sqlite:///{self.state}
jobs:
  - name: e2e
    source: {{type: file, path: directory.json}}
    target:
      url: {url or self.url or self.server.base_url}
      token: ${{E2E_TOKEN}}
      concurrency: {CONCURRENCY}
      timeout: {TIMEOUT_S}s
      retries: {RETRIES}
    mapping: {ROOT / "mappings" / "asana.yaml"}
{extra_job}""",
            encoding="utf-8",
        )


def _workspace(
    root: Path, server: ScimTestServer, url: str, source: dict[str, Any], state_dir: Path | None = None
) -> FaultWorkspace:
    root.mkdir(parents=True, exist_ok=True)
    ws = FaultWorkspace(root=root, server=server, url=url, state_dir=state_dir)
    ws.save(source)
    ws.write_config()
    return ws


# --- what the real server holds ----------------------------------------------------------------------


@dataclass
class Outcome:
    """The REAL server's store compared with the source."""

    missing_users: list[str] = field(default_factory=list)
    unexpected_users: list[str] = field(default_factory=list)
    duplicate_users: dict[str, int] = field(default_factory=dict)
    missing_groups: list[str] = field(default_factory=list)
    duplicate_groups: dict[str, int] = field(default_factory=dict)
    wrong_members: dict[str, str] = field(default_factory=dict)
    missing_members: int = 0
    extra_members: int = 0

    @property
    def lost(self) -> int:
        """Objects the source has and the target lacks: users and groups."""
        return len(self.missing_users) + len(self.missing_groups)

    @property
    def duplicates(self) -> int:
        """Surplus copies on the target: a userName (any case) or a group name held n times counts n-1."""
        return sum(n - 1 for n in (*self.duplicate_users.values(), *self.duplicate_groups.values()))

    @property
    def clean(self) -> bool:
        return not (
            self.missing_users
            or self.unexpected_users
            or self.duplicate_users
            or self.missing_groups
            or self.duplicate_groups
            or self.wrong_members
        )

    def describe(self) -> str:
        return (
            f"lost {self.lost} (users {self.missing_users[:5]}, groups {self.missing_groups}), "
            f"duplicates {self.duplicates} (users {self.duplicate_users}, groups {self.duplicate_groups}), "
            f"memberships missing {self.missing_members} extra {self.extra_members} {self.wrong_members}"
        )


def check_server(server: ScimTestServer, source: dict[str, Any]) -> Outcome:
    out = Outcome()
    users = server.resources("Users")
    names = Counter(u["userName"].lower() for u in users)
    enabled = {u["userPrincipalName"].lower() for u in source["users"] if u["accountEnabled"]}
    out.missing_users = sorted(enabled - set(names))
    out.unexpected_users = sorted(set(names) - enabled)
    out.duplicate_users = {n: c for n, c in names.items() if c > 1}
    by_target = {u["id"]: u["userName"].lower() for u in users}
    by_source = {u["id"]: u for u in source["users"]}
    groups = server.resources("Groups")
    group_names = Counter(g["displayName"] for g in groups)
    out.duplicate_groups = {n: c for n, c in group_names.items() if c > 1}
    held: dict[str, list[dict[str, Any]]] = {}
    for g in groups:
        held.setdefault(g["displayName"], []).append(g)
    for group in source["groups"]:
        name = group["displayName"]
        if name not in held:
            out.missing_groups.append(name)
            continue
        want = {
            by_source[m]["userPrincipalName"].lower()
            for m in group["members"]
            if by_source[m]["accountEnabled"]
        }
        for copy in held[name]:  # each copy of a duplicated group is checked too
            got = [by_target.get(m["value"], f"unknown:{m['value']}") for m in copy.get("members") or []]
            missing, extra = len(want - set(got)), len(set(got) - want) + len(got) - len(set(got))
            if missing or extra:
                out.missing_members += missing
                out.extra_members += extra
                out.wrong_members[name] = f"{missing} members missing, {extra} extra"
    return out


# --- the fault classes -------------------------------------------------------------------------------

FAULT_CLASSES: dict[str, tuple[Rule, ...]] = {
    # 500 and 502 singly, 503 in bursts of three requests in a row: about 30% of requests in all
    "5xx_burst": (
        Rule("500", probability=0.06),
        Rule("502", probability=0.06),
        Rule("503", probability=0.08, burst=3),
    ),
    # 30% are 429s; a 1 s Retry-After pauses the whole client, so only ~0.5% of requests carry
    # one (each would cost the run a second) and the others say Retry-After: 0
    "429_retry_after": (
        Rule("429", probability=0.005, retry_after=1),
        Rule("429", probability=0.3, retry_after=0),
    ),
    # a timeout holds a connection 2 s, so 30% of every request would take minutes: 30% of the
    # group writes (creates and member PATCHes) and 2% of everything else
    "timeout": (
        Rule("timeout", probability=0.3, hold=HOLD_S, methods={"POST", "PATCH"}, path=r"/Groups"),
        Rule("timeout", probability=0.02, hold=HOLD_S),
    ),
    "reset": (Rule("reset", probability=0.3),),
    "malformed_html": (
        Rule("malformed_json", probability=0.1),
        Rule("html", probability=0.1, status=502),
        Rule("html", probability=0.1, status=200),
    ),
    # the write happens and the answer is lost: mostly dropped at once, some held past the
    # client's timeout (a 201 the client never sees)
    "lost_response": (
        Rule("lost_response", probability=0.03, hold=HOLD_S, methods={"POST"}),
        Rule("lost_response", probability=0.27),
    ),
}
FULL_SIZE = int(os.environ.get("FAULT_USERS", "200"))
"""Users per class: 200 by default, so the file stays near a minute on 2 cores (six classes at
once: about 45 s at 200 users, 60 s at 500); ``FAULT_USERS=500`` for the issue's full size."""
DIRECTORY_SIZE = dict.fromkeys(FAULT_CLASSES, FULL_SIZE)


@dataclass
class Run:
    returncode: int
    seconds: float
    stats: ProxyStats
    summary: str


@dataclass
class ClassResult:
    name: str
    users: int
    runs: list[Run]
    outcome: Outcome
    final_rc: int
    final_writes: dict[str, int]
    seconds: float

    @property
    def injected(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for run in self.runs:
            total.update(run.stats.injected)
        return total

    @property
    def requests(self) -> int:
        return sum(run.stats.requests for run in self.runs)

    def line(self) -> str:
        injected = self.injected
        rate = sum(injected.values()) / max(1, self.requests)
        cycles = ", ".join(f"rc {r.returncode} in {r.seconds:.1f}s" for r in self.runs)
        return (
            f"{self.name:16} {self.users} users | {sum(injected.values()):4} faults in {self.requests:5} "
            f"requests ({rate:.0%}) {dict(sorted(injected.items()))} | lost {self.outcome.lost} "
            f"duplicates {self.outcome.duplicates} memberships wrong {len(self.outcome.wrong_members)} | "
            f"cycles: {cycles}; faults off: rc {self.final_rc}, writes {sum(self.final_writes.values())} | "
            f"{self.seconds:.0f}s"
        )


def _summary(stdout: str, stderr: str) -> str:
    lines = [ln for ln in stdout.splitlines() if ln.startswith(("Synced", "Cycle failed"))]
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    return " / ".join(lines + errors)[:400]


def run_fault_class(name: str, root: Path, state_dir: Path | None = None) -> ClassResult:
    """An initial sync through the proxy with the class's faults, a second if the first failed,
    then a sync with the faults off; each with its own server, proxy and workspace."""
    source = make_directory(DIRECTORY_SIZE[name])
    started = time.monotonic()
    with (
        ScimTestServer() as server,
        FaultProxy(server.base_url, seed=SEED) as proxy,
    ):
        ws = _workspace(root, server, proxy.base_url, source, state_dir)
        runs: list[Run] = []
        for cycle in range(2):
            # the second sync: the same faults, but no identical request faulted RETRIES times
            rules = [dataclasses.replace(rule) for rule in FAULT_CLASSES[name]]
            proxy.set_rules(*rules, seed=SEED + cycle, cap=None if cycle == 0 else RETRIES - 1)
            proxy.reset_counters()
            t = time.monotonic()
            result = ws.run("sync", expect=None)
            runs.append(
                Run(
                    result.returncode,
                    time.monotonic() - t,
                    proxy.stats(),
                    _summary(result.stdout, result.stderr),
                )
            )
            if result.returncode == 0:
                break
        outcome = check_server(server, source)
        proxy.set_rules()
        proxy.reset_counters()
        final = ws.run("sync", expect=None)
        writes = {m: n for m, n in proxy.stats().received.items() if m in WRITES}
    return ClassResult(
        name, len(source["users"]), runs, outcome, final.returncode, writes, time.monotonic() - started
    )


SUMMARY: dict[str, ClassResult] = {}
"""The figures of the classes run so far in this session (the table printed at the end)."""


@pytest.fixture(scope="module")
def campaign(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Runs the selected fault classes concurrently; the parametrized test asserts on each."""
    selected = [
        item.callspec.params["fault_class"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_initial_sync_converges_under_faults"
        and item.module is request.module
    ]
    root = tmp_path_factory.mktemp("faults")
    results: dict[str, Any] = {}
    started = time.monotonic()
    # The state on tmpfs where there is one: six syncers each committing after every request
    # queue on the disk's fsync (a class alone takes 23 s, with five others on disk over 60 s).
    shm = Path("/dev/shm")
    with (
        tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as states,
        ThreadPoolExecutor(max(1, len(selected))) as pool,
    ):
        for name in selected:
            (Path(states) / name).mkdir()
        futures = {
            name: pool.submit(run_fault_class, name, root / name, Path(states) / name) for name in selected
        }
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as exc:  # reported by that class's test, not by all of them
                results[name] = exc
    elapsed = time.monotonic() - started
    SUMMARY.update({n: r for n, r in results.items() if isinstance(r, ClassResult)})
    yield results
    print(f"\n\nFault suite ({len(selected)} classes concurrently in {elapsed:.0f}s; seed {SEED}):")
    for result in SUMMARY.values():
        print("  " + result.line())
    print(
        f"  total: {sum(sum(r.injected.values()) for r in SUMMARY.values())} faults injected, "
        f"{sum(r.outcome.lost for r in SUMMARY.values())} objects lost, "
        f"{sum(r.outcome.duplicates for r in SUMMARY.values())} duplicates"
    )


@pytest.mark.parametrize("fault_class", list(FAULT_CLASSES))
def test_initial_sync_converges_under_faults(fault_class: str, campaign: dict[str, Any]) -> None:
    result = campaign[fault_class]
    if isinstance(result, BaseException):
        raise result
    print(f"\n{result.line()}")
    for n, run in enumerate(result.runs, start=1):
        print(f"  sync {n}: rc {run.returncode}: {run.summary}")
    assert sum(result.injected.values()) > 0
    assert result.outcome.clean, f"{fault_class} after {len(result.runs)} syncs: {result.outcome.describe()}"
    assert result.final_rc == 0
    assert result.final_writes == {}, f"a sync with the faults off still sent {result.final_writes}"


# --- 429 and 401 -----------------------------------------------------------------------------------------


@pytest.fixture
def proxy(scim: ScimTestServer) -> Iterator[FaultProxy]:
    with FaultProxy(scim.base_url, seed=SEED) as p:
        yield p


def _timed_sync(ws: Workspace, expect: int | None = 0) -> tuple[float, int]:
    started = time.monotonic()
    result = ws.run("sync", expect=expect)
    return time.monotonic() - started, result.returncode


def test_429_with_retry_after_slows_the_sync_and_does_not_fail_it(
    tmp_path: Path, scim: ScimTestServer, proxy: FaultProxy
) -> None:
    """The first 16 requests answered 429 with Retry-After: 1 (two rounds of the 8 in flight):
    the sync waits them out, exits 0, and takes at least a second longer than without them."""
    source = make_directory(100, 5)
    ws = _workspace(tmp_path / "throttled", scim, proxy.base_url, source)
    proxy.set_rules(Rule("429", first=2 * CONCURRENCY, retry_after=1))
    throttled, _ = _timed_sync(ws)
    stats = proxy.stats()
    assert stats.injected == {"429": 2 * CONCURRENCY}
    assert check_server(scim, source).clean

    scim.reset()
    proxy.set_rules()
    ws = _workspace(tmp_path / "baseline", scim, proxy.base_url, source)
    baseline, _ = _timed_sync(ws)
    print(f"\n429 x{2 * CONCURRENCY} with Retry-After: 1: {throttled:.1f}s, without: {baseline:.1f}s")
    assert throttled >= baseline + 1.0


def test_persistent_401_stops_at_once(tmp_path: Path, scim: ScimTestServer, proxy: FaultProxy) -> None:
    """Every request answered 401: the sync exits 1 after a handful of requests and writes nothing."""
    ws = _workspace(tmp_path, scim, proxy.base_url, make_directory(100, 5))
    proxy.set_rules(Rule("401", probability=1.0))
    result = ws.run("sync", expect=1)
    stats = proxy.stats()
    print(f"\npersistent 401: {stats.received} received, {stats.injected}; {result.stderr.strip()[-200:]}")
    assert stats.requests <= CONCURRENCY + 2
    assert scim.counts() == {}
    assert "401" in result.stderr


def test_401_on_writes_stops_the_cycle(tmp_path: Path, scim: ScimTestServer, proxy: FaultProxy) -> None:
    """The lookups pass and every write is answered 401: the cycle stops after the writes in flight."""
    source = make_directory(100, 5)
    ws = _workspace(tmp_path, scim, proxy.base_url, source)
    proxy.set_rules(Rule("401", probability=1.0, methods=set(WRITES)))
    result = ws.run("sync", expect=1)
    stats = proxy.stats()
    print(f"\n401 on writes: {stats.received} received, {stats.injected}; {result.stdout.strip()[-300:]}")
    # discovery (ServiceProviderConfig, ResourceTypes, Schemas); then matching asks the empty
    # target how many users and groups it holds, and looks up nothing more
    assert stats.received.get("GET", 0) == 3 + 2
    assert sum(stats.received.get(m, 0) for m in WRITES) <= CONCURRENCY
    assert scim.writes() == 0
    assert scim.resources("Users") == []
