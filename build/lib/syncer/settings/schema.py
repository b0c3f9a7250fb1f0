"""JSON Schemas of the config and of mapping files, generated from the models."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from syncer.settings.config import ConfigSettings
from syncer.settings.mapping import MappingFileSettings
from syncer.settings.values import format_duration

SCHEMA_MODELS: dict[str, type[BaseModel]] = {"config": ConfigSettings, "mapping": MappingFileSettings}
"""The files syncer reads, by the name ``syncer schema`` takes."""


class _SchemaGenerator(GenerateJsonSchema):
    """Defaults written as a config file writes them: ``40m``, not ISO 8601's ``PT40M``."""

    def encode_default(self, dft: Any) -> Any:
        return format_duration(dft) if isinstance(dft, timedelta) else super().encode_default(dft)


_SCHEMA_TITLES = {"config": "syncer config.yaml", "mapping": "syncer mapping file (mappings/*.yaml)"}


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a config or mapping file, generated from these models.

    Editors use it through a ``# yaml-language-server: $schema=...`` line to complete keys and flag
    typos as they are typed; syncer itself validates with the models, which also check what a
    schema cannot (one of source/constant/expression, unique job names).
    """
    model = SCHEMA_MODELS[kind]
    schema = model.model_json_schema(mode="validation", schema_generator=_SchemaGenerator)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": _SCHEMA_TITLES[kind],
    }
