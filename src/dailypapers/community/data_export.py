"""A user's own data as one JSON-ready document (data portability): what `export --user` writes.

Read-only; the shape is versioned so a later release can still be read by tools made for this one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from dailypapers.community.validation import normalise_email
from dailypapers.errors import NotFound
from dailypapers.store import Database
from dailypapers.store.user_data import collect_user_data, find_user_id

EXPORT_FORMAT = "dailypapers-user-export"
EXPORT_VERSION = 1


def export_user_data(db: Database, email: str, *, now: datetime) -> dict[str, Any]:
    """Everything kept about the account with `email`; NotFound when there is none."""
    address = normalise_email(email)
    with db.read() as conn:
        user_id = find_user_id(conn, address)
        if user_id is None:
            raise NotFound(f"no account uses the address {address}")
        data = collect_user_data(conn, user_id)
    for subscription in data["subscriptions"]:
        subscription["preferences"] = json.loads(subscription["preferences"] or "{}")
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now.isoformat(),
        **data,
    }
