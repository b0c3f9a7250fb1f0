"""Provisioning-log export: filters as typed, Entra's JSON record, the three-file CSV download."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import pytest

from syncer.runtime import provlog
from syncer.runtime.metrics import Metrics
from syncer.runtime.progress import ProgressTracker, Throttle
from syncer.types import Action, ModifiedProperty, Status, Step
from tests.adapters.test_state_store import T0, an_entry


@pytest.mark.parametrize(
    ("given", "expected"),
    [(["success"], ("Success",)), (["FAILURE,skipped"], ("Failure", "Skipped")), ([], ())],
)
def test_statuses_are_case_insensitive_and_comma_separated(
    given: list[str], expected: tuple[str, ...]
) -> None:
    """`--status failure,skipped` means Entra's Failure or Skipped."""
    assert provlog.parse_statuses(given) == expected


def test_an_unknown_action_names_the_choices() -> None:
    """A typo in --action is refused with the list of actions."""
    with pytest.raises(ValueError, match="StagedDelete"):
        provlog.parse_actions(["remove"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", T0 - datetime.timedelta(hours=2)),
        ("7d", T0 - datetime.timedelta(days=7)),
        ("2025-02-01T00:00:00+00:00", datetime.datetime(2025, 2, 1, tzinfo=datetime.UTC)),
        ("2025-02-01", datetime.datetime(2025, 2, 1, tzinfo=datetime.UTC)),
    ],
)
def test_since_takes_a_duration_or_a_time(text: str, expected: datetime.datetime) -> None:
    """`--since 2h` is two hours ago; an ISO time without an offset is UTC."""
    assert provlog.parse_since(text, T0) == expected


def test_record_uses_graph_field_names() -> None:
    """A record carries Graph's provisioningObjectSummary names and lower-case enums."""
    entry = an_entry(status=Status.FAILURE, reason="Conflict", detail="409", action=Action.STAGED_DELETE)
    record = provlog.entra_record(entry)
    assert record["cycleId"] == "r1" and record["changeId"] == "c0" and record["jobId"] == "j"
    assert record["provisioningAction"] == "stagedDelete"
    assert record["provisioningStatusInfo"] == {
        "status": "failure",
        "errorInformation": {"errorCode": "Conflict", "errorCategory": "failure", "reason": "409"},
    }
    assert record["sourceIdentity"] == {"id": "u1", "displayName": "Ada", "identityType": "User"}
    assert record["activityDateTime"] == "2025-03-01T09:00:00Z"


def test_csv_download_is_three_files_joined_by_change_id(tmp_path: Path) -> None:
    """Records, steps and modified properties go to Entra's three files, each row keyed by change id."""
    entries = [
        an_entry(
            minute=0,
            steps=(Step("import", Status.SUCCESS), Step("export", Status.SUCCESS, "sent")),
            modified=(ModifiedProperty("title", "A", "B"), ModifiedProperty("active", True, False)),
        ),
        an_entry(minute=1, action=Action.OTHER, status=Status.SKIPPED, reason="RedundantExport"),
    ]
    records, steps, props = (list(csv.DictReader(p.open())) for p in provlog.write_csv(entries, tmp_path))
    assert [r["Change ID"] for r in records] == ["c0", "c1"]
    assert records[1]["Error Code"] == "RedundantExport" and records[1]["Status"] == "Skipped"
    assert [(s["Change ID"], s["Step Number"], s["Type"]) for s in steps] == [
        ("c0", "1", "Import"),
        ("c0", "2", "Export"),
    ]
    assert [(p["Change ID"], p["Display Name"], p["Old Value"], p["New Value"]) for p in props] == [
        ("c0", "title", "A", "B"),
        ("c0", "active", "true", "false"),
    ]


def test_metrics_count_cycles_objects_and_requests() -> None:
    """A cycle's counts become objects by action and status; each request is counted with its status."""
    metrics = Metrics()
    metrics.cycle("a", "succeeded", {"Create.Success": 3, "Other.Skipped": 2, "requests.POST": 3}, 1.5)
    metrics.observer("a")("POST", 201, 0.02)
    metrics.observer("a")("GET", None, 5.0)
    text = metrics.render().decode()
    assert 'syncer_cycles_total{job="a",outcome="succeeded"} 1.0' in text
    assert 'syncer_objects_total{action="Create",job="a",status="Success"} 3.0' in text
    assert "requests.POST" not in text
    assert 'syncer_requests_total{job="a",method="POST",status="201"} 1.0' in text
    assert 'syncer_requests_total{job="a",method="GET",status="error"} 1.0' in text
    assert 'syncer_request_duration_seconds_count{method="POST"} 1.0' in text


def test_progress_counts_requests_and_errors_and_throttles_events() -> None:
    """The tracker counts requests and failed ones; the throttle emits at most once per period."""
    now = [0.0]
    emitted = []
    tracker = ProgressTracker(Throttle(10, emitted.append, clock=lambda: now[0]), clock=lambda: now[0])
    tracker.on_request("GET", 200, 0.1)
    now[0] = 11.0
    tracker.on_request("POST", 500, 0.1)
    tracker.on_progress(1, 4)
    assert len(emitted) == 1
    view = tracker.view()
    assert (view.phase, view.done, view.total, view.requests, view.errors) == ("applying changes", 1, 4, 2, 1)
    assert view.rate == pytest.approx(2 / 11)


@pytest.mark.parametrize("danger", ['=HYPERLINK("http://x")', "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path, danger: str) -> None:
    """A source value such as ``=HYPERLINK(...)`` opens as text in a spreadsheet, not as a formula."""
    entries = [
        an_entry(
            display=danger,
            detail=danger,
            steps=(Step("export", Status.FAILURE, danger),),
            modified=(ModifiedProperty("title", danger, "Engineer"),),
        )
    ]
    records, steps, props = (
        list(csv.DictReader(p.open(newline=""))) for p in provlog.write_csv(entries, tmp_path)
    )
    cells = [v for row in (*records, *steps, *props) for v in row.values()]
    assert f"'{danger}" in cells and danger not in cells
    assert props[0]["New Value"] == "Engineer"


def test_csv_export_files_are_private(tmp_path: Path) -> None:
    """The export holds names and e-mails: 0600, even over files that were world-readable."""
    (tmp_path / provlog.RECORDS_FILE).write_text("old", encoding="utf-8")
    (tmp_path / provlog.RECORDS_FILE).chmod(0o644)
    for path in provlog.write_csv([an_entry()], tmp_path):
        assert path.stat().st_mode & 0o777 == 0o600, path
