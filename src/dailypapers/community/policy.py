"""The community's limits and names, as plain values handed down by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommunityPolicy:
    site_name: str
    base_url: str
    session_days: int
    signin_per_hour_per_address: int
    signin_per_hour_per_ip: int
    comments_per_hour: int
    submissions_per_day: int
    # Only papers first published this many days ago or later can be submitted; 0: any age.
    submission_window_days: int
