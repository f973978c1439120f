"""Email digests (#7): subscriptions with double opt-in, selection, rendering and the ledger."""

from dailypapers.digest.policy import DigestPolicy

__all__ = ["DigestPolicy"]
