"""The mapping presets that ship inside the package: ``mapping: asana`` names one.

They are the repository's ``mappings/`` folder (``syncer/presets`` links to it, so there is one
copy), installed as package data; a config written after ``pip install`` can use them without
a clone. A value with a ``/`` or a ``.`` is a path, as before; a bare name is a preset.
"""

from __future__ import annotations

from pathlib import Path

from syncer.errors import ConfigError

PRESETS = Path(__file__).resolve().parent.parent / "presets"
STARTER = Path(__file__).resolve().parent.parent / "config.example.yaml"


def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESETS.glob("*.yaml"))


def is_preset_name(value: Path) -> bool:
    """``asana``, not ``asana.yaml`` or ``mappings/asana``: those stay paths."""
    text = str(value)
    return "/" not in text and "\\" not in text and "." not in text


def mapping_file(value: Path, config_folder: Path, where: str) -> Path:
    """The mapping file a job's ``mapping:`` names: a path (absolute, or from the config's folder)
    or, for a bare name with no such file beside the config, the preset of that name."""
    if value.is_absolute():
        return value
    beside = config_folder / value
    if not is_preset_name(value) or beside.exists():
        return beside
    preset = PRESETS / f"{value}.yaml"
    if preset.is_file():
        return preset
    raise ConfigError(
        f"mapping: {value!s} is neither a file beside the config nor a preset "
        f"(presets: {', '.join(preset_names())}; a path needs its .yaml)",
        where,
    )
