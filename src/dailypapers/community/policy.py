"""The community's limits and names, as plain values handed down by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommunityPolicy:
    site_name: str = "dailypapers"
    base_url: str = "http://127.0.0.1:8000"
    session_days: int = 30
    signin_per_hour_per_address: int = 5
    signin_per_hour_per_ip: int = 30
    comments_per_hour: int = 30
    submissions_per_day: int = 10
    # Only papers first published this many days ago or later can be submitted; 0: any age.
    submission_window_days: int = 14
