"""The state store adapter: what syncer remembers between cycles (SQLite by default, PostgreSQL by URL).

One facade, :class:`StateStore`, over a module per concern (links, runs, escrow, flags, the
provisioning log, leases); see :mod:`syncer.adapters.state.store`.
"""

from syncer.adapters.state.leases import Lease, LeaseHolder, lease_name
from syncer.adapters.state.store import StateStore

__all__ = ["Lease", "LeaseHolder", "StateStore", "lease_name"]
