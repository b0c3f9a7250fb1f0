"""The state store adapter: what syncer remembers between cycles (SQLite by default, PostgreSQL by URL)."""

from syncer.adapters.state.store import StateStore

__all__ = ["StateStore"]
