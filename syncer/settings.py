"""Pydantic models of ``config.yaml`` and of mapping files.

Every model forbids unknown keys: a typo in a key must refuse to start, not silently fall back
to a default that provisions the wrong people. Defaults are Entra's unless the README says why.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> timedelta:
    """Durations are written one way everywhere: ``3s``, ``40m``, ``6h``, ``30d`` (or bare seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as 30s, 40m, 6h or 30d, got {value!r}")


def format_duration(value: timedelta) -> str:
    """A duration the way config files write it (``30s``, ``40m``, ``6h``, ``30d``), for JSON and schemas."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m", "s"):
        if seconds >= _UNITS[unit] and (seconds / _UNITS[unit]).is_integer():
            return f"{int(seconds / _UNITS[unit])}{unit}"
    return f"{round(seconds * 1000)}ms"


def http_url(value: str) -> str:
    """A SCIM base URL: http(s), a host, no trailing slash."""
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def one_secret(inline: object, from_file: object, name: str) -> None:
    """A secret comes from the config (``${ENV}``) or from a file, never both."""
    if inline is not None and from_file is not None:
        raise ValueError(f"give {name} or {name}_file, not both")


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _DURATION.pattern},
                {"type": "number", "minimum": 0, "description": "seconds"},
            ],
            "description": "A duration: 3s, 40m, 6h, 30d (or a number of seconds).",
        }
    ),
]

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h)\s*$")


def parse_rate(value: Any) -> float | None:
    """A request rate: ``25/s``, ``1500/m`` or ``90000/h`` (or a number per second)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str):
        match = _RATE.match(value)
        if match and float(match.group(1)) > 0:
            return float(match.group(1)) / {"s": 1.0, "m": 60.0, "h": 3600.0}[match.group(2)]
    raise ValueError(f"expected a rate such as 25/s or 1500/m, got {value!r}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- mapping files -------------------------------------------------------------------------


class AttributeMappingSettings(_Strict):
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


class ScopingClauseSettings(_Strict):
    """One scoping clause: ``{attribute, operator, value}`` with Entra's operator names."""

    attribute: str
    operator: str
    value: Any = None


FilterGroups = list[list[ScopingClauseSettings]]


class ScopingFiltersSettings(_Strict):
    """Scoping filters a mapping file carries with it (ANDed with the config's)."""

    users: FilterGroups = Field(default_factory=list)
    groups: FilterGroups = Field(default_factory=list)


class MappingFileSettings(_Strict):
    """A mapping file: one object mapping per kind."""

    description: str | None = None
    scoping: ScopingFiltersSettings = ScopingFiltersSettings()
    users: list[AttributeMappingSettings] = Field(default_factory=list)
    groups: list[AttributeMappingSettings] = Field(default_factory=list)


# --- config.yaml ---------------------------------------------------------------------------


class SourceAttributesSettings(_Strict):
    """The attribute names a source's users and groups carry, declared so mappings are checked at load.

    A mapping that reads an attribute not listed here is refused when the config loads, instead of
    flowing null for everyone. Computed attributes (``id``, ``IsSoftDeleted``, group ``members``)
    need no declaration. A kind left out (``None``) is not checked.
    """

    users: list[str] | None = None
    groups: list[str] | None = None


class FileSourceSettings(_Strict):
    """A directory kept in files: JSON/YAML ``{users, groups}``, or CSV users plus a groups file."""

    type: Literal["file"]
    path: Path
    groups_path: Path | None = None
    csv_delimiter: str = ","
    attributes: SourceAttributesSettings | None = None


class LdapSearchSettings(_Strict):
    """Where one kind of object lives in the directory: a search base, a filter and a scope.

    ``filter`` defaults by flavour (see :data:`LDAP_DEFAULT_FILTERS`) so the common case needs only the base.
    ``attributes`` limits what is read (default: every user attribute, ``*``); the anchor, the
    disabled marker and group member attributes are always read, since correctness needs them.
    """

    base: str
    filter: str | None = None
    scope: Literal["subtree", "one"] = "subtree"
    attributes: list[str] | None = None


LDAP_DEFAULT_FILTERS: dict[str, dict[str, str]] = {
    "openldap": {
        "users": "(objectClass=inetOrgPerson)",
        "groups": "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))",
    },
    "active_directory": {
        # objectCategory=person leaves out computer accounts, which are objectClass=user too
        "users": "(&(objectCategory=person)(objectClass=user))",
        "groups": "(objectClass=group)",
    },
}
"""The filters a search gets when the config gives none, by flavour."""

LDAP_DEFAULT_ANCHORS = {"openldap": "entryUUID", "active_directory": "objectGUID"}
"""The attribute that becomes a source object's ``id``: stable across renames and moves, unlike the DN."""


class LdapSourceSettings(_Strict):
    """An LDAP directory or Active Directory, read in full with paged searches on every cycle."""

    type: Literal["ldap"]
    url: str
    flavour: Literal["openldap", "active_directory"] = "openldap"
    bind_dn: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    start_tls: bool = False
    verify_tls: bool = True
    ca_file: Path | None = None
    users: LdapSearchSettings
    groups: LdapSearchSettings | None = None
    anchor: str | None = None
    disabled_attribute: str | None = None
    disabled_values: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=lambda: ["manager"])
    page_size: int = Field(default=500, ge=1, le=100000)
    timeout: Duration = timedelta(seconds=30)
    time_limit: Duration = timedelta(minutes=10)
    referrals: bool = False

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str) -> str:
        # host and optional port only: a path or a trailing slash is not an LDAP server address
        if not re.fullmatch(r"ldaps?://(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+)(:\d{1,5})?/?", value):
            raise ValueError(f"expected ldap://host[:port] or ldaps://host[:port], got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> LdapSourceSettings:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give password or password_file, not both")
        has_password = self.password is not None or self.password_file is not None
        if has_password and not self.bind_dn:
            raise ValueError("a password needs a bind_dn")
        if self.bind_dn and not has_password:
            # a DN with an empty password is an "unauthenticated bind": anonymous in disguise
            raise ValueError("bind_dn needs password or password_file (leave bind_dn out for anonymous)")
        if self.start_tls and self.url.startswith("ldaps://"):
            raise ValueError("start_tls is for ldap:// URLs; ldaps:// is TLS from the first byte")
        return self

    @property
    def anchor_attribute(self) -> str:
        return self.anchor or LDAP_DEFAULT_ANCHORS[self.flavour]

    @property
    def disabled_by(self) -> str | None:
        """The attribute that marks a disabled account (OpenLDAP's ppolicy lock by default)."""
        if self.disabled_attribute is not None:
            return self.disabled_attribute or None  # "" turns the flavour's default off
        return "pwdAccountLockedTime" if self.flavour == "openldap" else None

    def filter_for(self, kind: Literal["users", "groups"]) -> str:
        search = self.users if kind == "users" else self.groups
        given = search.filter if search is not None else None
        return given or LDAP_DEFAULT_FILTERS[self.flavour][kind]


class ScimSourceSettings(_Strict):
    """Another SCIM 2.0 service read as the source (for migrations between services)."""

    type: Literal["scim"]
    url: str
    token: SecretStr | None = None
    token_file: Path | None = None
    page_size: int = Field(default=100, ge=1, le=1000)
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=4, ge=1, le=20)
    verify_tls: bool = True
    ca_file: Path | None = None
    groups: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @model_validator(mode="after")
    def _one_token(self) -> ScimSourceSettings:
        one_secret(self.token, self.token_file, "token")
        return self


SourceSettings = Annotated[
    FileSourceSettings | LdapSourceSettings | ScimSourceSettings, Field(discriminator="type")
]
"""A job's source, chosen by its ``type`` key."""


class TargetSettings(_Strict):
    """The SCIM 2.0 endpoint of the app, and how hard syncer may push it."""

    url: str
    token: SecretStr | None = None
    token_file: Path | None = None
    concurrency: int = Field(default=8, ge=1, le=64)
    timeout: Duration = timedelta(seconds=30)
    retries: int = Field(default=4, ge=1, le=20)
    member_batch_size: int = Field(default=100, ge=1, le=10000)
    verify_tls: bool = True
    ca_file: Path | None = None
    dialect: Literal["rfc", "entra"] = "rfc"
    update_method: Literal["patch", "put"] = "patch"
    """``put`` for targets without PATCH: read the resource, apply the changes, PUT it back."""
    rate_limit: Annotated[float | None, BeforeValidator(lambda v: parse_rate(v))] = None
    """Requests per second at most (``25/s``, ``1500/m``), so a known target limit is never hit."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @model_validator(mode="after")
    def _one_token(self) -> TargetSettings:
        one_secret(self.token, self.token_file, "token")
        return self


class ScopeSettings(_Strict):
    """Who is in scope. Empty lists mean every user and group of the source."""

    assigned_groups: list[str] = Field(default_factory=list)
    nested: bool = False
    users: FilterGroups = Field(default_factory=list)
    groups: FilterGroups = Field(default_factory=list)


class DeprovisionSettings(_Strict):
    """What happens to a user who leaves: disable first, delete only when told."""

    out_of_scope: Literal["disable", "delete", "skip"] = "disable"
    hard_delete_after: Duration = timedelta(days=30)
    deletes: bool = True
    group_deletes: bool = True
    deletion_threshold: int | str = 500
    max_source_shrink: str = "50%"

    @field_validator("max_source_shrink")
    @classmethod
    def _shrink(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?%", value.strip()) or float(value.strip()[:-1]) > 100:
            raise ValueError(f"expected a percentage such as '50%', got {value!r}")
        return value.strip()

    @field_validator("deletion_threshold")
    @classmethod
    def _threshold(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if value < 0:
                raise ValueError("deletion_threshold must be 0 or more")
            return value
        if not re.fullmatch(r"\d+(\.\d+)?%", value.strip()):
            raise ValueError(f"expected a count (500) or a percentage ('10%'), got {value!r}")
        return value.strip()


class QuarantineSettings(_Strict):
    """When a cycle's failures quarantine the job (Entra's defaults; lower them for a small tenant)."""

    min_failures: int = Field(default=5000, ge=1)
    proportion: float = Field(default=0.40, gt=0, le=1)
    total: int = Field(default=40000, ge=1)
    absolute: int = Field(default=60000, ge=1)


class WebhookSettings(_Strict):
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=10)


class EmailSettings(_Strict):
    smtp_host: str
    smtp_port: int = 25
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    timeout: Duration = timedelta(seconds=10)


NotifyEvent = Literal["quarantine", "failures"]


def _every_event() -> list[NotifyEvent]:
    return ["quarantine", "failures"]


class NotifySettings(_Strict):
    """Where to say that a job entered quarantine, changed its reason, or had failures."""

    events: list[NotifyEvent] = Field(default_factory=_every_event)
    """(Not ``on``: YAML 1.1 reads a bare ``on`` key as the boolean true.)"""
    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None
    command: list[str] | None = None


class ScheduleSettings(_Strict):
    """How often the daemon runs the job.

    ``jitter`` spreads cycles (and several jobs, or several syncer instances) apart: each cycle
    starts up to that much later than the interval says. ``None`` is 5% of the interval.
    """

    interval: Duration = timedelta(minutes=40)
    jitter: Duration | None = None

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("the interval must be at least 1s")
        return value

    @property
    def effective_jitter(self) -> timedelta:
        return self.jitter if self.jitter is not None else self.interval * 0.05


class MatchingSettings(_Strict):
    """How unlinked source objects are paired with what the target already holds.

    ``query`` sends one filtered GET per unlinked object (``userName eq "..."``); ``list`` reads
    the target once, page by page (groups without their members), and matches in memory; ``auto``
    first asks the target how many objects it holds (one GET with ``count=1``): none means nothing
    to match, and it lists when the target holds at most ``list_ratio`` objects per unlinked
    object, since a page of ``page_size`` costs far less than that many queries.
    """

    strategy: Literal["auto", "query", "list"] = "auto"
    page_size: int = Field(default=1000, ge=1, le=10000)
    list_ratio: float = Field(default=4.0, gt=0)


class JobSettings(_Strict):
    """One job: one source into one SCIM target through one mapping."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    source: SourceSettings
    target: TargetSettings
    mapping: Path
    default_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
    schedule: ScheduleSettings = ScheduleSettings()
    scope: ScopeSettings = ScopeSettings()
    deprovision: DeprovisionSettings = DeprovisionSettings()
    matching: MatchingSettings = MatchingSettings()
    quarantine: QuarantineSettings = QuarantineSettings()
    notify: NotifySettings = NotifySettings()
    provision_groups: bool = True
    hold_on_config_change: bool = False
    """The daemon holds the first cycle after a mapping or scope change until ``syncer approve-config``."""


HealthCondition = Literal["quarantined", "disabled", "paused", "held"]


class MetricsSettings(_Strict):
    """The daemon's HTTP endpoint: Prometheus ``/metrics`` and ``/healthz``."""

    listen: str = "127.0.0.1:9464"
    unhealthy_when: tuple[HealthCondition, ...] = ("quarantined", "disabled")
    """Job states that turn ``/healthz`` into a 503 (with the reason)."""

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"expected HOST:PORT such as 127.0.0.1:9464, got {value!r}")
        return value

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class DaemonSettings(_Strict):
    """``syncer run``: stopping, the single-runner lease, progress events."""

    stop_timeout: Duration = timedelta(seconds=30)
    """After SIGTERM/SIGINT: how long in-flight requests may take before the daemon exits anyway."""
    lease_ttl: Duration = timedelta(minutes=2)
    """A job's lease (one runner per job across processes) expires this long after its last renewal."""
    progress_every: Duration = timedelta(seconds=30)
    """How often a running cycle logs a ``cycle_progress`` event."""
    cycle_timeout: Duration = timedelta(minutes=30)
    """A cycle still running this long stops sending (in-flight requests finish, the run ends
    ``stopped``) and gives its lease back; ``stop_timeout`` later it is cancelled outright."""


class ProvisioningLogSettings(_Strict):
    """How long provisioning-log records are kept (Entra: 30 days), and how often the daemon prunes."""

    retention: Duration = timedelta(days=30)
    prune_every: Duration = timedelta(hours=1)


class ConfigSettings(_Strict):
    """The whole ``config.yaml``."""

    state: str = "sqlite:///syncer-state.db"
    metrics: MetricsSettings | None = None
    daemon: DaemonSettings = DaemonSettings()
    provisioning_log: ProvisioningLogSettings = ProvisioningLogSettings()
    jobs: list[JobSettings] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_job_names(self) -> ConfigSettings:
        names = [job.name for job in self.jobs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"job names must be unique: {', '.join(duplicates)}")
        return self

    def job(self, name: str | None) -> JobSettings:
        """The named job, or the only one when the config holds a single job."""
        if name is None:
            if len(self.jobs) == 1:
                return self.jobs[0]
            raise KeyError(f"the config holds {len(self.jobs)} jobs; choose one with --job")
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(f"no job named {name!r}; jobs: {', '.join(j.name for j in self.jobs)}")


# --- JSON Schema -------------------------------------------------------------------------------

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
