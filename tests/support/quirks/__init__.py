"""Each target profile's documented quirks as :class:`~tests.support.quirk_target.Behaviour` lists.

:data:`EMULATIONS` maps a profile to the behaviours that emulate its target in front of the real
scim2-server; a module per target holds its behaviours (``zoom.py`` ...), each docstring citing
the documentation the behaviour follows, as the profile in :mod:`syncer.settings.profiles` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from syncer.settings.profiles import TargetProfile
from tests.support.quirk_target import Behaviour
from tests.support.quirks import asana, aws, databricks, entra, github, slack, zoom

EMULATIONS: Mapping[TargetProfile, Callable[[], Sequence[Behaviour]]] = MappingProxyType(
    {
        TargetProfile.AWS_IDENTITY_CENTER: aws.emulation,
        TargetProfile.GITHUB_EMU: github.emulation,
        TargetProfile.SLACK: slack.emulation,
        TargetProfile.ASANA: asana.emulation,
        TargetProfile.ENTRA: entra.emulation,
        TargetProfile.ZOOM: zoom.emulation,
        TargetProfile.DATABRICKS: databricks.emulation,
    }
)
