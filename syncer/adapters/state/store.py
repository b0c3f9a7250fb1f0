"""The state store: one facade over the state package's concerns, on SQLAlchemy Core.

:class:`StateStore` is what the rest of syncer imports; each concern lives in its own module
and is mixed in here: links (:mod:`.links`), runs and restarts (:mod:`.runs`), escrow
(:mod:`.escrow`), per-job flags (:mod:`.flags`), the provisioning log (:mod:`.provlog`) and the
single-runner leases (:mod:`.leases`) and the target's discovery answers
(:mod:`.capabilities`). They share one :class:`~.database.Database`: the engine,
the error translation and the write gate (file identity, lease fence).

Every write commits before it returns. SQLite (the default) runs in WAL mode with a busy timeout
so the daemon and a manual ``syncer sync`` or ``syncer logs`` can share one file; PostgreSQL
works by URL.
"""

from __future__ import annotations

from syncer.adapters.state.capabilities import CapabilityStore, StoredDiscovery
from syncer.adapters.state.database import Database
from syncer.adapters.state.escrow import EscrowStore
from syncer.adapters.state.flags import FlagStore
from syncer.adapters.state.leases import LeaseStore
from syncer.adapters.state.links import LinkStore, fingerprint
from syncer.adapters.state.provlog import ProvisioningLogStore
from syncer.adapters.state.runs import RUNNING, RunStore

__all__ = ["RUNNING", "StateStore", "StoredDiscovery", "fingerprint"]


class StateStore(
    LinkStore, RunStore, EscrowStore, FlagStore, ProvisioningLogStore, LeaseStore, CapabilityStore
):
    """What syncer remembers between cycles, per job: links to target objects, runs, the provisioning log.

    Jobs share the database but never each other's rows: every query is scoped by job name.
    """

    def __init__(self, url: str) -> None:
        self._db = Database(url)
        self._watching = {}

    @classmethod
    def open(cls, url: str) -> StateStore:
        """Open (creating the tables if needed) the store at ``url``; reads better at call sites."""
        return cls(url)

    @property
    def url(self) -> str:
        """The URL, password masked: safe to print."""
        return self._db.url

    def close(self) -> None:
        """Release the connections, so the SQLite file can be moved or the process exit cleanly."""
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StateStore({self._db.url!r})"
