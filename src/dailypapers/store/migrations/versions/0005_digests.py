"""Digests (#7): subscriber preferences and bounce counts, the delivery lease and planned papers,
the sent-paper ledger, delivery attempts, saved searches and digest feedback.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    parent = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{parent}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("preferences", sa.Text(), nullable=False, server_default="{}"))
        batch.add_column(
            sa.Column("bounce_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("confirmed_at", _TZ, nullable=True))
    with op.batch_alter_table("digest_deliveries") as batch:
        batch.add_column(sa.Column("lease_until", _TZ, nullable=True))
        batch.add_column(sa.Column("next_attempt_at", _TZ, nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("paper_ids", sa.Text(), nullable=True))
    op.create_index(op.f("ix_digest_deliveries_status"), "digest_deliveries", ["status"])
    op.create_table(
        "digest_sent_papers",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("planned_at", _TZ, nullable=False),
        _fk("digest_sent_papers", "subscriber_id", "subscribers.id"),
        sa.PrimaryKeyConstraint("subscriber_id", "arxiv_id", name=op.f("pk_digest_sent_papers")),
    )
    op.create_table(
        "digest_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        _fk("digest_attempts", "delivery_id", "digest_deliveries.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_attempts")),
    )
    op.create_index(op.f("ix_digest_attempts_delivery_id"), "digest_attempts", ["delivery_id"])
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        _fk("saved_searches", "subscriber_id", "subscribers.id"),
        _fk("saved_searches", "user_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    op.create_index(op.f("ix_saved_searches_subscriber_id"), "saved_searches", ["subscriber_id"])
    op.create_index(op.f("ix_saved_searches_user_id"), "saved_searches", ["user_id"])
    op.create_table(
        "digest_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        _fk("digest_feedback", "subscriber_id", "subscribers.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_feedback")),
        sa.UniqueConstraint(
            "subscriber_id",
            "arxiv_id",
            "kind",
            name=op.f("uq_digest_feedback_subscriber_id_arxiv_id_kind"),
        ),
    )


def downgrade() -> None:
    op.drop_table("digest_feedback")
    op.drop_index(op.f("ix_saved_searches_user_id"), table_name="saved_searches")
    op.drop_index(op.f("ix_saved_searches_subscriber_id"), table_name="saved_searches")
    op.drop_table("saved_searches")
    op.drop_index(op.f("ix_digest_attempts_delivery_id"), table_name="digest_attempts")
    op.drop_table("digest_attempts")
    op.drop_table("digest_sent_papers")
    op.drop_index(op.f("ix_digest_deliveries_status"), table_name="digest_deliveries")
    with op.batch_alter_table("digest_deliveries") as batch:
        for name in ("paper_ids", "attempts", "next_attempt_at", "lease_until"):
            batch.drop_column(name)
    with op.batch_alter_table("subscribers") as batch:
        for name in ("confirmed_at", "bounce_count", "preferences"):
            batch.drop_column(name)
