"""The wheel carries what a user without a clone needs: the presets and the reference config."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_ships_presets_and_the_reference_config_under_its_own_name(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name.startswith("syncer_scim-")  # "syncer" on PyPI is another project
    names = set(zipfile.ZipFile(wheel).namelist())
    for preset in (ROOT / "mappings").glob("*.yaml"):
        assert f"syncer/presets/{preset.name}" in names
    assert "syncer/config.example.yaml" in names
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Provides-Extra: demo" in text and "scim2-server==" in text
