"""Applying a plan to the target: the scheduler, the sender of one change, and the journal.

``scheduler`` runs phases, creation waves and stops; ``sender`` and ``updating`` send one change
and recover from doubtful answers (decided in :mod:`syncer.core.recovery`); ``journal`` holds
the cycle's links, commits them in batches and writes escrow. :mod:`syncer.runtime.executor` is
the one door the engine and on-demand provisioning use.
"""
