"""The state store against a real SQLite file: links, runs, the provisioning log, restart."""

from __future__ import annotations

import dataclasses
import datetime
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer.adapters.state import StateStore
from syncer.errors import StateError
from syncer.types import (
    Action,
    Link,
    ModifiedProperty,
    ObjectKind,
    ProvisioningLogEntry,
    Reference,
    Status,
    Step,
)

UTC = datetime.UTC
T0 = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
USER, GROUP = ObjectKind.USER, ObjectKind.GROUP


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def store(url: str) -> Iterator[StateStore]:
    opened = StateStore.open(url)
    yield opened
    opened.close()


def a_link(source_id: str = "u1", target_id: str = "t1", kind: ObjectKind = USER, **kw: Any) -> Link:
    fields: dict[str, Any] = {"display": f"name of {source_id}", "exported": {"userName": source_id}}
    return Link(kind=kind, source_id=source_id, target_id=target_id, **{**fields, **kw})


def an_entry(job: str = "j", run_id: str = "r1", minute: int = 0, **kw: Any) -> ProvisioningLogEntry:
    fields: dict[str, Any] = {
        "job": job,
        "run_id": run_id,
        "change_id": f"c{minute}",
        "time": T0 + datetime.timedelta(minutes=minute),
        "kind": USER,
        "source_id": "u1",
        "display": "Ada",
        "target_id": "t1",
        "action": Action.UPDATE,
        "status": Status.SUCCESS,
    }
    return ProvisioningLogEntry(**{**fields, **kw})


def test_link_round_trips_tuples_references_and_members_exactly(store: StateStore) -> None:
    """A saved link loads back equal, with multi-valued values as tuples and references as Reference."""
    exported = {
        "userName": "ada@example.com",
        "emails": ({"type": "work", "value": "ada@example.com", "primary": True},),
        "phoneNumbers": (),
        "manager": Reference("u0"),
        "roles": (Reference("r1"), "plain", 3, 1.5, None),
        "nested": ((1, 2), ()),
        "odd": {"$ref": "not a reference", "$map": 1},
        "title": None,
    }
    link = a_link(exported=exported, exported_hash="h1", members=frozenset({"b", "a"}), origin="matched")
    link = dataclasses.replace(link, disabled=True, gone_since="2025-03-01T09:00:00+00:00")
    store.save_link("j", link)

    loaded = store.load("j").link(USER, "u1")

    assert loaded == link
    assert loaded is not None
    assert loaded.exported["emails"] == exported["emails"] and isinstance(loaded.exported["emails"], tuple)
    assert isinstance(loaded.exported["manager"], Reference)
    assert isinstance(loaded.exported["nested"][0], tuple)
    assert dict(loaded.exported["odd"]) == {"$ref": "not a reference", "$map": 1}
    assert loaded.members == frozenset({"a", "b"})


def test_save_link_upserts_by_job_kind_and_source_id(store: StateStore) -> None:
    """Saving a link twice replaces it rather than adding a second one."""
    replacement = a_link(target_id="t2", exported_hash="h2", exported={"userName": "renamed"})
    store.save_link("j", a_link(exported_hash="h1"))
    store.save_link("j", replacement)

    state = store.load("j")

    assert list(state.links) == [(USER, "u1")]
    assert state.links[(USER, "u1")] == replacement


def test_drop_link_forgets_only_that_link(store: StateStore) -> None:
    """Dropping a link removes it alone, and dropping one that is not there is harmless."""
    store.save_link("j", a_link("u1", "t1"))
    store.save_link("j", a_link("u2", "t2"))
    store.save_link("j", a_link("u1", "g1", kind=GROUP))

    store.drop_link("j", USER, "u1")
    store.drop_link("j", USER, "missing")

    assert sorted(store.load("j").links) == [(GROUP, "u1"), (USER, "u2")]


def test_target_id_is_unique_per_job_and_kind(store: StateStore) -> None:
    """A second source object cannot link to a target id its job already links, in the same kind."""
    store.save_link("j", a_link("u1", "t1"))

    with pytest.raises(StateError, match=r"save_link.*'t1'.*already linked"):
        store.save_link("j", a_link("u2", "t1"))
    store.save_link("j", a_link("g1", "t1", kind=GROUP))
    store.save_link("other", a_link("u2", "t1"))

    assert store.load("j").link(USER, "u2") is None
    assert store.find_link_by_target("j", USER, "t1") == a_link("u1", "t1")
    assert store.find_link_by_target("j", GROUP, "t1") == a_link("g1", "t1", kind=GROUP)
    assert store.find_link_by_target("j", USER, "nobody") is None


@pytest.mark.parametrize(
    "change",
    [
        {"target_id": "t9"},
        {"exported_hash": "h2"},
        {"members": frozenset({"m1", "m3"})},
        {"disabled": True},
    ],
)
def test_fingerprint_moves_when_a_link_changes(store: StateStore, change: dict[str, Any]) -> None:
    """The state fingerprint changes when a link's target, exported hash, members or disabled flag does."""
    base = a_link(exported_hash="h1", members=frozenset({"m1", "m2"}))
    store.save_link("j", base)
    before = store.load("j").fingerprint

    store.save_link("j", dataclasses.replace(base, **change))

    assert store.load("j").fingerprint != before


def test_fingerprint_is_stable_when_nothing_changes(url: str) -> None:
    """Loading twice, re-saving the same links in another order, or reopening gives the same fingerprint."""
    links = [a_link("u1", "t1", exported_hash="h1"), a_link("u2", "t2", members=frozenset({"x", "y"}))]
    with StateStore(url) as store:
        assert store.load("j").fingerprint == store.load("empty").fingerprint != ""
        for link in links:
            store.save_link("j", link)
        first = store.load("j").fingerprint
        for link in reversed(links):
            store.save_link("j", link)
        assert store.load("j").fingerprint == first
    with StateStore(url) as reopened:
        assert reopened.load("j").fingerprint == first


def test_runs_are_listed_newest_first_and_finish_with_counts(store: StateStore) -> None:
    """Runs come back newest first, limited, per job, with aware UTC times and the counts they ended with."""
    hour = datetime.timedelta(hours=1)
    at_two_local = datetime.datetime(2025, 3, 1, 13, 0, tzinfo=datetime.timezone(2 * hour))
    first = store.begin_run("j", initial=True, dry_run=False, started_at=T0)
    second = store.begin_run("j", initial=False, dry_run=True, started_at=T0 + hour)
    third = store.begin_run("j", initial=False, dry_run=False, started_at=at_two_local)
    store.begin_run("other", initial=True, dry_run=False, started_at=T0 + 24 * hour)
    store.finish_run(first, finished_at=T0 + hour / 12, status="succeeded", counts={"Create": 3})

    runs = store.runs("j")

    assert [run.id for run in runs] == [third, second, first]
    assert [run.id for run in store.runs("j", limit=2)] == [third, second]
    assert len(store.runs()) == 4
    assert runs[0].started_at == datetime.datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    assert runs[0].started_at.tzinfo is UTC
    assert (runs[0].status, runs[0].finished_at, dict(runs[0].counts)) == ("running", None, {})
    assert (runs[1].initial, runs[1].dry_run) == (False, True)
    done = runs[2]
    assert (done.initial, done.dry_run, done.status) == (True, False, "succeeded")
    assert dict(done.counts) == {"Create": 3}
    assert done.finished_at == T0 + datetime.timedelta(minutes=5)
    assert store.last_run("j") == runs[0]
    assert store.last_run("never") is None


def test_finish_run_refuses_an_unknown_run(store: StateStore) -> None:
    """Finishing a run that was never begun is an error rather than a silent no-op."""
    with pytest.raises(StateError, match="no run with id 'nope'"):
        store.finish_run("nope", finished_at=T0, status="succeeded", counts={})


def test_provisioning_log_round_trips_and_filters(store: StateStore) -> None:
    """Log entries come back equal, oldest first, filtered by job and run, and a limit keeps the newest."""
    detailed = an_entry(
        minute=2,
        action=Action.CREATE,
        status=Status.FAILURE,
        target_id=None,
        reason="Conflict",
        detail="409 from the target",
        modified=(
            ModifiedProperty("emails", None, ("a@example.com", "b@example.com")),
            ModifiedProperty("manager", Reference("u0"), Reference("u7")),
            ModifiedProperty("password", "[Redact]", "[Redact]"),
        ),
        steps=(Step("import", Status.SUCCESS), Step("export", Status.FAILURE, "409 Conflict")),
    )
    store.record(an_entry(minute=1))
    store.record_many([detailed, an_entry(minute=3, run_id="r2"), an_entry(job="other", minute=0)])
    store.record_many([])

    entries = store.log_entries("j")

    assert entries == [an_entry(minute=1), detailed, an_entry(minute=3, run_id="r2")]
    assert entries[1].time.tzinfo is UTC
    assert store.log_entries("j", run_id="r1") == [an_entry(minute=1), detailed]
    assert store.log_entries("j", limit=2) == [detailed, an_entry(minute=3, run_id="r2")]
    assert len(store.log_entries()) == 4
    assert store.log_entries(run_id="r2") == [an_entry(minute=3, run_id="r2")]


def test_record_many_stores_all_or_nothing(store: StateStore) -> None:
    """A batch with one value that cannot be stored is refused whole, and nothing of it is written."""
    bad = an_entry(minute=2, modified=(ModifiedProperty("when", None, T0),))

    with pytest.raises(StateError, match="record"):
        store.record_many([an_entry(minute=1), bad])

    assert store.log_entries("j") == []


def test_has_state_counts_links_and_finished_real_runs_only(store: StateStore) -> None:
    """Only a link or a finished non-dry run means the next cycle is not the initial one."""
    assert not store.has_state("j")
    dry = store.begin_run("j", initial=True, dry_run=True, started_at=T0)
    store.finish_run(dry, finished_at=T0, status="succeeded", counts={})
    store.begin_run("j", initial=True, dry_run=False, started_at=T0)
    assert not store.has_state("j")

    real = store.begin_run("j", initial=True, dry_run=False, started_at=T0)
    store.finish_run(real, finished_at=T0, status="succeeded", counts={})
    assert store.has_state("j")

    store.save_link("linked", a_link())
    assert store.has_state("linked")


def test_reset_clears_change_tracking_but_keeps_links(store: StateStore) -> None:
    """A restart without links forgets exported values, hash and members, and keeps each link's target."""
    group = a_link("g1", "tg", kind=GROUP, exported_hash="h", members=frozenset({"u1"}))
    store.save_link("j", a_link(exported_hash="h1", exported={"manager": Reference("u0")}))
    store.save_link("j", dataclasses.replace(group, disabled=True, origin="matched"))
    before = store.load("j").fingerprint

    store.reset("j", links=False)

    state = store.load("j")
    assert state.link(USER, "u1") == a_link(exported={}, exported_hash="")
    assert state.link(GROUP, "g1") == dataclasses.replace(
        group, exported={}, exported_hash="", members=frozenset(), disabled=True, origin="matched"
    )
    assert state.fingerprint != before
    assert not store.has_state("j")  # the next cycle is the initial one, over the kept links
    run = store.begin_run("j", initial=True, dry_run=False, started_at=T0)
    store.finish_run(run, finished_at=T0, status="succeeded", counts={})
    assert store.has_state("j")


def test_full_reset_drops_links_and_makes_the_next_cycle_initial(store: StateStore) -> None:
    """A full restart drops every link, and earlier runs stay listed but no longer count as history."""
    run = store.begin_run("j", initial=True, dry_run=False, started_at=T0)
    store.finish_run(run, finished_at=T0, status="succeeded", counts={})
    store.save_link("j", a_link())

    store.reset("j", links=True)

    assert store.load("j").links == {}
    assert not store.has_state("j")
    assert [r.id for r in store.runs("j")] == [run]
    later = store.begin_run("j", initial=True, dry_run=False, started_at=T0 + datetime.timedelta(hours=1))
    store.finish_run(later, finished_at=T0 + datetime.timedelta(hours=1), status="succeeded", counts={})
    assert store.has_state("j")


def test_jobs_do_not_see_each_other(store: StateStore) -> None:
    """The same ids in two jobs make two links, and restarting one job leaves the other alone."""
    store.save_link("a", a_link(exported_hash="ha"))
    store.save_link("b", a_link(exported_hash="hb"))
    run = store.begin_run("b", initial=True, dry_run=False, started_at=T0)
    store.finish_run(run, finished_at=T0, status="succeeded", counts={})
    store.record(an_entry(job="b"))

    store.reset("a", links=True)

    assert store.load("a").links == {}
    assert store.load("b").link(USER, "u1") == a_link(exported_hash="hb")
    assert store.has_state("b") and not store.has_state("a")
    assert store.log_entries("a") == [] and len(store.log_entries("b")) == 1
    assert store.runs("a") == [] and store.last_run("b") is not None


def test_everything_survives_close_and_reopen(url: str) -> None:
    """Links, runs and log entries written before close() are all there when the file is opened again."""
    link = a_link(exported={"emails": ("x@example.com",), "manager": Reference("u0")}, members=frozenset("m"))
    store = StateStore.open(url)
    store.save_link("j", link)
    run_id = store.begin_run("j", initial=True, dry_run=False, started_at=T0)
    store.finish_run(run_id, finished_at=T0, status="succeeded", counts={"Update": 1})
    entry = an_entry(run_id=run_id, modified=(ModifiedProperty("emails", (), ("x@example.com",)),))
    store.record(entry)
    run = store.last_run("j")
    store.close()

    reopened = StateStore.open(url)
    try:
        assert reopened.load("j").link(USER, "u1") == link
        assert reopened.last_run("j") == run
        assert run is not None and run.finished_at == T0 and dict(run.counts) == {"Update": 1}
        assert reopened.log_entries("j") == [entry]
        assert reopened.has_state("j")
    finally:
        reopened.close()


def test_sqlite_file_is_in_wal_mode(url: str, tmp_path: Path) -> None:
    """The SQLite file is switched to WAL so a reader (``syncer logs``) never blocks the daemon's writes."""
    StateStore(url).close()

    with sqlite3.connect(tmp_path / "state.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_two_stores_and_many_threads_share_one_file(url: str) -> None:
    """Links saved from several threads and a second store on the same file are all visible to a reader."""
    writer, reader = StateStore(url), StateStore(url)

    def save(n: int) -> None:
        for i in range(10):
            writer.save_link("j", a_link(f"u{n}-{i}", f"t{n}-{i}"))

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(reader.load("j").links) == 40
    writer.close()
    reader.close()


def test_naive_datetimes_are_refused(store: StateStore) -> None:
    """A naive datetime is refused rather than guessed to be UTC."""
    with pytest.raises(StateError, match="begin_run"):
        store.begin_run("j", initial=True, dry_run=False, started_at=datetime.datetime(2025, 3, 1))


def test_errors_name_the_operation_and_hide_the_password(tmp_path: Path) -> None:
    """A store that cannot open says so and names the URL without its password."""
    with pytest.raises(StateError, match=r"open failed on sqlite:///.*missing/state\.db"):
        StateStore(f"sqlite:///{tmp_path / 'missing' / 'state.db'}")
    with pytest.raises(StateError, match="open failed") as caught:
        StateStore("postgresql+psycopg://syncer:s3cret@127.0.0.1:1/state")
    assert "s3cret" not in str(caught.value) and "syncer:***@127.0.0.1" in str(caught.value)


def test_a_closed_store_refuses_to_work(url: str) -> None:
    """Using a store after close() is an error instead of a silent reconnect."""
    store = StateStore(url)
    store.close()

    with pytest.raises(StateError, match=r"load .* after close"):
        store.load("j")


def test_write_batch_saves_drops_and_logs_in_one_transaction(store: StateStore) -> None:
    """A batch upserts links (created_at kept), drops others and appends log records together."""
    store.save_link("j", a_link("u1", "t1"))
    store.save_link("j", a_link("u2", "t2"))
    store.write_batch(
        "j",
        save=[a_link("u1", "t1", display="renamed"), a_link("u3", "t3")],
        drop=[(USER, "u2")],
        entries=[an_entry(job="j", minute=1)],
    )
    links = store.load("j").links
    assert sorted(s for _, s in links) == ["u1", "u3"]
    assert links[(USER, "u1")].display == "renamed"
    assert len(store.log_entries("j")) == 1


def test_write_batch_names_a_target_id_claimed_twice(store: StateStore) -> None:
    """A batch that links one target id to two source objects fails with the same error as save_link."""
    store.save_link("j", a_link("u1", "t1"))
    with pytest.raises(StateError, match="already linked"):
        store.write_batch("j", save=[a_link("u2", "t1")])


def test_exported_values_round_trip_undecoded(store: StateStore) -> None:
    """Exported values load lazily, read as saved, and save back unchanged when never read."""
    original = a_link("u1", "t1")
    store.save_link("j", original)
    loaded = store.load("j").links[(USER, "u1")]
    store.save_link("j", dataclasses.replace(loaded, display="again"))
    again = store.load("j").links[(USER, "u1")]
    assert dict(again.exported) == dict(original.exported)
    assert again == dataclasses.replace(original, display="again")
