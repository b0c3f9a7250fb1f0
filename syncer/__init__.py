"""syncer: provision users and groups from a source directory into a SCIM 2.0 app, the way Entra ID does.

The package's version has one source, the installed distribution's metadata (``version`` in
``pyproject.toml``); ``syncer --version`` and the SCIM client's ``User-Agent`` both read
:data:`__version__`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "syncer-scim"
"""The name on the package index ("syncer" there is another project); the command is ``syncer``."""


def _installed_version() -> str:
    for name in (DISTRIBUTION, "syncer"):  # "syncer": a checkout installed before the rename
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "0+unknown"  # imported from a source tree that was never installed


__version__: str = _installed_version()

__all__ = ["__version__"]
