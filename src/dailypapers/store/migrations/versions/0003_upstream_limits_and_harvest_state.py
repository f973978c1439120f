"""Upstream rate limits shared by every process, and OAI-PMH harvest cursors.

There is no 0002: that number was set aside while two issues were built side by side and never
used, so this migration follows 0001 directly. Renumbering would break every store already at
"0003" (alembic_version holds the number), so the gap stays; new migrations append after the last.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_limits",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_allowed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_upstream_limits")),
    )
    op.create_table(
        "harvest_state",
        sa.Column("set_spec", sa.String(length=128), nullable=False),
        sa.Column("metadata_prefix", sa.String(length=32), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("until_date", sa.Date(), nullable=True),
        sa.Column("resumption_token", sa.Text(), nullable=True),
        sa.Column("last_datestamp", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("records", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("set_spec", "metadata_prefix", name=op.f("pk_harvest_state")),
    )


def downgrade() -> None:
    op.drop_table("harvest_state")
    op.drop_table("upstream_limits")
