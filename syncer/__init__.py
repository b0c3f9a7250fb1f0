"""syncer: provision users and groups from a source directory into a SCIM 2.0 app, the way Entra ID does.

The package's version has one source, the installed distribution's metadata (``version`` in
``pyproject.toml``); ``syncer --version`` and the SCIM client's ``User-Agent`` both read
:data:`__version__`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("syncer")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
