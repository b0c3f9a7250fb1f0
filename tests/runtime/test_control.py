"""Job control in the state: holding a changed mapping or scope until approved, pause, restart."""

from __future__ import annotations

import datetime
from pathlib import Path

from syncer.adapters.state import StateStore
from syncer.core.policy import JobHealth, Quarantine
from syncer.runtime import standing as control
from syncer.runtime.configfile import LoadedConfig, load_config
from syncer.runtime.jobflags import JobFlags

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)


def _config(tmp_path: Path, hold: bool, scope: str = "") -> LoadedConfig:
    (tmp_path / "dir.json").write_text('{"users": [], "groups": []}')
    (tmp_path / "config.yaml").write_text(
        f"""state: sqlite:///state.db
jobs:
  - name: j
    source: {{type: file, path: dir.json}}
    target: {{url: "http://127.0.0.1:1/scim", token: t}}
    mapping: {ROOT / "mappings" / "asana.yaml"}
    hold_on_config_change: {str(hold).lower()}
{scope}"""
    )
    return load_config(tmp_path / "config.yaml")


def test_a_scope_change_is_held_until_approved(tmp_path: Path) -> None:
    """With hold_on_config_change the first cycle after a scope change waits for approve-config."""
    config = _config(tmp_path, hold=True)
    job = config.settings.job("j")
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        assert control.config_hold(store, config, job, NOW) is None  # the first cycle records it
        assert control.config_hold(store, config, job, NOW) is None
        changed = _config(tmp_path, hold=True, scope="    scope: {assigned_groups: [Sales]}\n")
        held = control.config_hold(store, changed, changed.settings.job("j"), NOW)
        assert held is not None and "approve-config --job j" in held
        assert control.overview(store, changed.settings.job("j"), NOW).state == "held"
        assert control.approve_config(changed, changed.settings.job("j")) is True
        assert control.config_hold(store, changed, changed.settings.job("j"), NOW) is None


def test_without_hold_a_change_just_runs(tmp_path: Path) -> None:
    """Without hold_on_config_change a changed scope is recorded and the cycle runs."""
    config = _config(tmp_path, hold=False)
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        assert control.config_hold(store, config, config.settings.job("j"), NOW) is None
        changed = _config(tmp_path, hold=False, scope="    scope: {assigned_groups: [Sales]}\n")
        assert control.config_hold(store, changed, changed.settings.job("j"), NOW) is None


def test_restart_clears_quarantine_and_pause_is_a_state(tmp_path: Path) -> None:
    """Restart lifts quarantine; a paused job shows as paused with no next cycle."""
    config = _config(tmp_path, hold=False)
    job = config.settings.job("j")
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        JobFlags(store, "j").set_health(JobHealth(quarantine=Quarantine("TooManyDeletes", NOW, attempts=1)))
        view = control.overview(store, job, NOW)
        assert view.state == "quarantined" and view.next_cycle == NOW  # never ran: due now
        control.restart(config, "j", full=False)
        assert control.overview(store, job, NOW).state == "active"
        assert control.pause(config, "j", NOW) and not control.pause(config, "j", NOW)
        paused = control.overview(store, job, NOW)
        assert paused.state == "paused" and paused.next_cycle is None
        assert control.resume(config, "j") and not control.resume(config, "j")
