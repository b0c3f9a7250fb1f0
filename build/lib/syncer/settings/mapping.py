"""Mapping files: attribute mappings and the scoping filters a mapping carries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from syncer.settings.values import Strict


class AttributeMappingSettings(Strict):
    """One attribute mapping: a SCIM target path fed by a source attribute, a constant or an expression."""

    target: str = Field(
        description='The SCIM path it feeds: userName, name.formatted, emails[type eq "work"].value, ...'
    )
    source: str | None = Field(default=None, description="Direct: the source attribute whose value flows.")
    constant: Any = Field(default=None, description="Constant: this value flows for every object.")
    expression: str | None = Field(
        default=None, description='An Entra expression, e.g. Join(" ", [givenName], [surname]).'
    )
    default: Any = Field(default=None, description="Used when the value is null, on create only.")
    apply: Literal["always", "on_create"] = Field(
        default="always", description="always, or on_create: set when the object is created, never updated."
    )
    match: int | None = Field(
        default=None, ge=1, description="Matching precedence (1 first): find existing target objects by it."
    )

    @model_validator(mode="after")
    def _one_source(self) -> AttributeMappingSettings:
        given = [k for k in ("source", "constant", "expression") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of source, constant or expression"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class ScopingClauseSettings(Strict):
    """One scoping clause: ``{attribute, operator, value}`` with Entra's operator names."""

    attribute: str
    operator: str
    value: Any = None


FilterGroups = list[list[ScopingClauseSettings]]


class ScopingFiltersSettings(Strict):
    """Scoping filters a mapping file carries with it (ANDed with the config's)."""

    users: FilterGroups = Field(default_factory=list)
    groups: FilterGroups = Field(default_factory=list)


class MappingFileSettings(Strict):
    """A mapping file: one object mapping per kind."""

    description: str | None = None
    scoping: ScopingFiltersSettings = ScopingFiltersSettings()
    users: list[AttributeMappingSettings] = Field(default_factory=list)
    groups: list[AttributeMappingSettings] = Field(default_factory=list)
