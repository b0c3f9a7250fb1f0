"""Pydantic models of ``config.yaml`` and of mapping files.

Every model forbids unknown keys: a typo in a key must refuse to start, not silently fall back
to a default that provisions the wrong people. Defaults are Entra's unless the README says why.

One module per concern; this package re-exports every public name, so ``from syncer.settings
import X`` works for all of them.
"""

from __future__ import annotations

from syncer.settings.auth import OAuth2ClientCredentialsSettings, ServiceAuth, one_credential
from syncer.settings.config import (
    ConfigSettings,
    DaemonSettings,
    HealthCondition,
    MetricsSettings,
    ProvisioningLogSettings,
)
from syncer.settings.job import (
    DeprovisionSettings,
    JobSettings,
    MatchingSettings,
    QuarantineSettings,
    SafetySettings,
    ScheduleSettings,
    ScopeSettings,
)
from syncer.settings.mapping import (
    AttributeMappingSettings,
    FilterGroups,
    MappingFileSettings,
    ScopingClauseSettings,
    ScopingFiltersSettings,
)
from syncer.settings.notify import EmailSettings, NotifyEvent, NotifySettings, WebhookSettings
from syncer.settings.schema import SCHEMA_MODELS, json_schema
from syncer.settings.sources import (
    LDAP_DEFAULT_ANCHORS,
    LDAP_DEFAULT_FILTERS,
    FileSourceSettings,
    LdapSearchSettings,
    LdapSourceSettings,
    ScimSourceSettings,
    SourceAttributesSettings,
    SourceSettings,
)
from syncer.settings.target import TargetPagination, TargetSettings
from syncer.settings.values import (
    Duration,
    Strict,
    format_duration,
    http_url,
    one_secret,
    parse_duration,
    parse_rate,
)

__all__ = [
    "LDAP_DEFAULT_ANCHORS",
    "LDAP_DEFAULT_FILTERS",
    "SCHEMA_MODELS",
    "AttributeMappingSettings",
    "ConfigSettings",
    "DaemonSettings",
    "DeprovisionSettings",
    "Duration",
    "EmailSettings",
    "FileSourceSettings",
    "FilterGroups",
    "HealthCondition",
    "JobSettings",
    "LdapSearchSettings",
    "LdapSourceSettings",
    "MappingFileSettings",
    "MatchingSettings",
    "MetricsSettings",
    "NotifyEvent",
    "NotifySettings",
    "OAuth2ClientCredentialsSettings",
    "ProvisioningLogSettings",
    "QuarantineSettings",
    "SafetySettings",
    "ScheduleSettings",
    "ScimSourceSettings",
    "ScopeSettings",
    "ScopingClauseSettings",
    "ScopingFiltersSettings",
    "ServiceAuth",
    "SourceAttributesSettings",
    "SourceSettings",
    "Strict",
    "TargetPagination",
    "TargetSettings",
    "WebhookSettings",
    "format_duration",
    "http_url",
    "json_schema",
    "one_credential",
    "one_secret",
    "parse_duration",
    "parse_rate",
]
