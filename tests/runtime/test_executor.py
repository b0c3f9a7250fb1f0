"""The executor in process: a fake SCIM target behind httpx.MockTransport and a real SQLite state.

Each test takes milliseconds; the end-to-end suite keeps what only a real server shows.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.state.store import StateStore
from syncer.core.changes import (
    Change,
    CreateObject,
    DeleteObject,
    DisableUser,
    Phase,
    Plan,
    PlanInputs,
    UpdateObject,
)
from syncer.core.mapping import CompiledMapping, compile_mapping
from syncer.core.scimpath import ENTERPRISE_USER
from syncer.errors import TargetUnreachable
from syncer.runtime.executor import ApplyReport, Executor
from syncer.settings import MappingFileSettings
from syncer.types import Action, AttributeChange, Desired, Link, ObjectKind, Reference, Status, Value
from tests.support.fake_target import FakeTarget, html, scim_error

JOB = "j"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MANAGER = f"{ENTERPRISE_USER}:manager"
U = ObjectKind.USER


def mapping() -> CompiledMapping:
    settings = MappingFileSettings.model_validate(
        {
            "users": [
                {"target": "userName", "source": "userPrincipalName", "match": 1},
                {"target": "displayName", "source": "displayName"},
                {"target": "active", "expression": "Not([IsSoftDeleted])"},
                {"target": MANAGER, "source": "manager"},
            ],
            "groups": [{"target": "displayName", "source": "displayName", "match": 1}],
        }
    )
    return compile_mapping(settings, file="m.yaml")


def desired(sid: str, name: str | None = None, manager: str | None = None) -> Desired:
    name = name or f"{sid}@example.com"
    attrs: dict[str, Value] = {"userName": name, "displayName": sid.title(), "active": True}
    if manager:
        attrs[MANAGER] = Reference(manager)
    return Desired(U, sid, sid.title(), MappingProxyType(attrs), (("userName", name),))


def create(d: Desired, wave: int = 0) -> CreateObject:
    return CreateObject(U, d.source_id, d.display, d.attributes, wave=wave)


def link(sid: str, target_id: str, name: str | None = None) -> Link:
    name = name or f"{sid}@example.com"
    exported = MappingProxyType({"userName": name, "displayName": sid.title(), "active": True})
    return Link(U, sid, target_id, sid.title(), exported)


def plan(*changes: Change) -> Plan:
    return Plan(JOB, False, tuple(changes), (), PlanInputs("c", "s", "t"))


class Rig:
    """One job's state, a fake target, and an executor to run a plan against them."""

    def __init__(self, tmp: Path) -> None:
        self.target = FakeTarget()
        self.store = StateStore(f"sqlite:///{tmp / 'state.db'}")

    def seed(self, *links: tuple[Link, dict[str, Any]]) -> None:
        for lk, resource in links:
            self.target.store["Users"][lk.target_id] = {**resource, "id": lk.target_id}
            self.store.save_link(JOB, lk)

    def run(
        self,
        the_plan: Plan,
        wanted: Sequence[Desired],
        *,
        stop: Callable[[], str | None] | None = None,
        concurrency: int = 1,
        escrowed: frozenset[tuple[ObjectKind, str]] = frozenset(),
    ) -> ApplyReport:
        async def go() -> ApplyReport:
            async with ScimClient(
                "https://t.example/scim/v2",
                "tok",
                transport=self.target.transport(),
                retries=2,
                backoff_initial=0.001,
                concurrency=concurrency,
            ) as client:
                executor = Executor(
                    job=JOB,
                    run_id="r1",
                    client=client,
                    store=self.store,
                    state=self.store.load(JOB),
                    desired={(d.kind, d.source_id): d for d in wanted},
                    mapping=mapping(),
                    concurrency=concurrency,
                    clock=lambda: NOW,
                    should_stop=stop,
                    escrowed=escrowed,
                )
                return await executor.apply(the_plan)

        return asyncio.run(go())

    def links(self) -> dict[str, str]:
        return {sid: lk.target_id for (_, sid), lk in self.store.load(JOB).links.items()}

    def records(self) -> dict[str, Any]:
        return {e.source_id: e for e in self.store.search_log(job=JOB)}

    def escrowed(self) -> set[str]:
        return {e.source_id for e in self.store.escrowed(JOB)}


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.store.close()


# --- waves, references, counts -------------------------------------------------------------------


def test_a_manager_created_in_an_earlier_wave_goes_into_the_reports_post(rig: Rig) -> None:
    boss, report = desired("boss"), desired("ann", manager="boss")
    result = rig.run(plan(create(boss), create(report, wave=1)), [boss, report])
    users = {u["userName"]: u for u in rig.target.users()}
    assert users["ann@example.com"][ENTERPRISE_USER]["manager"] == {"value": rig.links()["boss"]}
    assert rig.target.seen["PATCH"] == 0
    assert result.run_counts is not None and result.run_counts.of(Action.CREATE, Status.SUCCESS) == 2
    assert result.counts["Create.Success"] == 2 and result.failures == 0


def test_a_reference_to_an_object_not_provisioned_is_deferred_with_a_warning(rig: Rig) -> None:
    report = desired("ann", manager="ghost")
    ref = UpdateObject(
        U, "ann", "Ann", None, (AttributeChange(MANAGER, None, Reference("ghost")),), phase_=Phase.REFERENCES
    )
    result = rig.run(plan(create(report), ref), [report])
    (user,) = rig.target.users()
    assert "manager" not in user.get(ENTERPRISE_USER, {})
    record = rig.records()["ann"]
    assert (record.status, record.reason) == (Status.WARNING, "ReferenceNotResolved")
    assert "ann" in rig.links() and result.failures == 0


# --- creates whose answer is in doubt -------------------------------------------------------------


def test_a_409_on_create_links_the_account_the_lookup_finds(rig: Rig) -> None:
    rig.target.store["Users"]["x1"] = {"id": "x1", "userName": "ann@example.com"}
    ann = desired("ann")
    rig.run(plan(create(ann)), [ann])
    assert rig.links() == {"ann": "x1"}
    assert rig.target.seen["POST"] == 1


def test_a_lost_post_answer_is_looked_up_not_created_twice(rig: Rig) -> None:
    def lose_first_post(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and rig.target.seen["POST"] == 1:
            rig.target.handle_plain(request)
            raise httpx.ReadError("connection reset", request=request)
        return None

    rig.target.handle_plain = _plain(rig.target)  # type: ignore[attr-defined]
    rig.target.quirk = lose_first_post
    ann = desired("ann")
    rig.run(plan(create(ann)), [ann])
    assert len(rig.target.users()) == 1
    assert rig.links() == {"ann": rig.target.users()[0]["id"]}


def _plain(target: FakeTarget) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        quirk, target.quirk = target.quirk, None
        try:
            return target.handle(request)
        finally:
            target.quirk = quirk

    return handle


# --- finding: one target object, one source object -----------------------------------------------


def test_a_409_whose_lookup_finds_an_account_linked_to_another_object_fails_both(rig: Rig) -> None:
    rig.seed((link("cfo", "x1", "boss@example.com"), {"userName": "boss@example.com", "active": True}))
    twin = desired("contractor", "boss@example.com")
    result = rig.run(plan(create(twin)), [twin])
    assert rig.links() == {"cfo": "x1"}
    records = rig.records()
    assert records["contractor"].status is Status.FAILURE
    assert records["contractor"].reason == "TargetObjectAlreadyLinked"
    assert "cfo" in (records["contractor"].detail or "")
    assert records["cfo"].status is Status.FAILURE and "contractor" in (records["cfo"].detail or "")
    assert result.failures == 1


def test_unicode_twins_created_in_one_cycle_are_never_linked_to_one_account(rig: Rig) -> None:
    nfc = unicodedata.normalize("NFC", "zoë@example.com")
    nfd = unicodedata.normalize("NFD", nfc)
    original = rig.target.handle

    def normalising(request: httpx.Request) -> httpx.Response:
        # a target that compares userNames after NFC, as many directories do
        if request.content:
            text = unicodedata.normalize("NFC", request.content.decode())
            request = httpx.Request(
                request.method, request.url, headers=request.headers, content=text.encode()
            )
        if "filter" in request.url.params:
            flt = unicodedata.normalize("NFC", request.url.params["filter"])
            request = httpx.Request(request.method, request.url.copy_set_param("filter", flt))
        return original(request)

    rig.target.handle = normalising  # type: ignore[method-assign]
    cfo, contractor = desired("cfo", nfc), desired("contractor", nfd)
    rig.run(plan(create(cfo), create(contractor)), [cfo, contractor])
    assert rig.links() == {"cfo": rig.target.users()[0]["id"]}
    assert rig.records()["contractor"].reason == "TargetObjectAlreadyLinked"


def test_a_post_answered_with_an_id_linked_elsewhere_fails_that_object_only(rig: Rig) -> None:
    rig.seed((link("cfo", "x1", "boss@example.com"), {"userName": "boss@example.com"}))

    def reuse(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and b"bob@" in request.content:
            return httpx.Response(201, json={"id": "x1", "userName": "bob@example.com"})
        return None

    rig.target.quirk = reuse
    people = [desired(n) for n in ("ann", "bob", "cid")]
    result = rig.run(plan(*(create(d) for d in people)), people)
    links = rig.links()
    assert set(links) == {"cfo", "ann", "cid"} and links["cfo"] == "x1"
    records = rig.records()
    assert records["bob"].status is Status.FAILURE and records["bob"].reason == "TargetObjectAlreadyLinked"
    assert records["ann"].status is Status.SUCCESS and records["cid"].status is Status.SUCCESS
    assert result.failures == 1
    assert result.run_counts is not None and result.run_counts.done("create") == 2


# --- finding: a 404 proves nothing until a GET says so --------------------------------------------


def _disable(sid: str, target_id: str) -> DisableUser:
    return DisableUser(sid, sid.title(), target_id, "gone from the source", gone=True)


@pytest.mark.parametrize(
    "answer", [lambda: scim_error(404, "no such user"), lambda: html(404)], ids=["scim-404", "html-404"]
)
def test_a_404_on_the_disable_patch_of_a_user_still_there_keeps_the_link_and_escrows(
    rig: Rig, answer: Callable[[], httpx.Response]
) -> None:
    rig.seed((link("leaver", "x1"), {"userName": "leaver@example.com", "active": True}))
    rig.target.quirk = lambda r: answer() if r.method == "PATCH" else None
    rig.run(plan(_disable("leaver", "x1")), [])
    assert rig.links() == {"leaver": "x1"}
    assert rig.records()["leaver"].status is Status.FAILURE
    assert rig.escrowed() == {"leaver"}


def test_an_html_404_on_every_request_never_concludes_gone(rig: Rig) -> None:
    rig.seed((link("leaver", "x1"), {"userName": "leaver@example.com", "active": True}))
    rig.target.quirk = lambda r: html(404) if "/Users/" in r.url.path else None
    rig.run(plan(_disable("leaver", "x1")), [])
    assert rig.links() == {"leaver": "x1"} and rig.escrowed() == {"leaver"}


def test_a_user_really_gone_drops_the_link(rig: Rig) -> None:
    rig.store.save_link(JOB, link("leaver", "x1"))
    rig.run(plan(_disable("leaver", "x1")), [])
    assert rig.links() == {}
    assert rig.records()["leaver"].status is Status.SUCCESS and rig.escrowed() == set()


def test_a_gateway_404_on_delete_or_update_keeps_the_link(rig: Rig) -> None:
    rig.seed(
        (link("old", "x1"), {"userName": "old@example.com"}),
        (link("ann", "x2"), {"userName": "ann@example.com"}),
    )
    rig.target.quirk = lambda r: html(404) if r.method in ("PATCH", "DELETE") else None
    ann = desired("ann")
    update = UpdateObject(U, "ann", "Ann", "x2", (AttributeChange("displayName", "Ann", "Ann B"),))
    rig.run(plan(update, DeleteObject(U, "old", "Old", "x1", "gone")), [ann])
    assert rig.links() == {"old": "x1", "ann": "x2"}
    assert rig.target.seen["POST"] == 0  # no re-match, no second account
    assert rig.escrowed() == {"old", "ann"}


# --- finding: a dead target stops the cycle -------------------------------------------------------


def test_a_dead_target_stops_the_cycle_and_escrows_nothing(rig: Rig) -> None:
    people = [desired(f"u{i:03}") for i in range(100)]

    def dead_after_ten(request: httpx.Request) -> httpx.Response | None:
        if rig.target.seen["POST"] > 10:
            raise httpx.ConnectError("connection refused", request=request)
        return None

    rig.target.quirk = dead_after_ten
    with pytest.raises(TargetUnreachable, match="unreachable"):
        rig.run(plan(*(create(d) for d in people)), people, concurrency=4)
    assert len(rig.links()) == 10
    assert sum(rig.target.seen.values()) < 40
    assert rig.escrowed() == set()


# --- stops ---------------------------------------------------------------------------------------


def test_a_stop_mid_phase_sends_nothing_new_and_keeps_what_landed(rig: Rig) -> None:
    people = [desired(f"u{i}") for i in range(6)]
    result = rig.run(
        plan(*(create(d) for d in people)),
        people,
        stop=lambda: "stopping" if rig.target.seen["POST"] >= 2 else None,
    )
    assert len(rig.links()) == 2 and rig.target.seen["POST"] == 2
    assert result.stopped == "stopping"
    records = rig.records()
    assert sum(r.reason == "CycleStopped" for r in records.values()) == 4
    assert rig.escrowed() == set()
    # never sent: skipped with the reason, neither a failure nor a success
    stopped = [r for r in records.values() if r.reason == "CycleStopped"]
    assert {(r.status, r.detail) for r in stopped} == {
        (Status.SKIPPED, "not sent, the cycle stopped: stopping")
    }
    assert result.failures == 0 and result.run_counts is not None and result.run_counts.not_sent == 4


def test_an_escrowed_object_a_stop_never_sent_stays_escrowed(rig: Rig) -> None:
    """Only a change that went out and worked proves an escrowed object fixed."""
    people = [desired(f"u{i}") for i in range(3)]
    for d in people:
        rig.store.escrow_failure(
            JOB, U, d.source_id, display=d.source_id, code="E", error="e", now=NOW, skip_cycles=lambda a: 0
        )
    rig.run(
        plan(*(create(d) for d in people)),
        people,
        stop=lambda: "stopping" if rig.target.seen["POST"] >= 1 else None,
        escrowed=frozenset((U, d.source_id) for d in people),
    )
    assert rig.escrowed() == {"u1", "u2"}


def test_a_refused_token_stops_the_cycle(rig: Rig) -> None:
    rig.target.quirk = lambda r: scim_error(401, "bad token")
    people = [desired(f"u{i}") for i in range(5)]
    result = rig.run(plan(*(create(d) for d in people)), people)
    assert result.refused and rig.target.seen["POST"] == 1


def test_completed_changes_are_committed_in_batches(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    from syncer.runtime.apply import journal

    monkeypatch.setattr(journal, "FLUSH_EVERY", 4)
    batches: list[int] = []
    write_batch = rig.store.write_batch

    def counting(job: str, **kw: Any) -> None:
        batches.append(len(kw.get("save", ())) + len(kw.get("entries", ())))
        write_batch(job, **kw)

    monkeypatch.setattr(rig.store, "write_batch", counting)
    people = [desired(f"u{i}") for i in range(10)]
    rig.run(plan(*(create(d) for d in people)), people)
    # a link and a record per object: every 4 writes, then the phase's end commits the rest
    assert batches == [4, 4, 4, 4, 4] and len(rig.links()) == 10
