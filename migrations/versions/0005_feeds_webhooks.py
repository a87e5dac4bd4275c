"""Calendar feeds and webhooks: feeds, webhooks, their cursors and delivery log.

A feed keeps only the digest of its secret URL token. A webhook keeps one
cursor row per channel it follows (``webhook_streams``), which is what the
delivery worker claims; ``webhook_deliveries`` is the log the API shows.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "feeds",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("calendar_id", sa.String(36), sa.ForeignKey("calendars.id"), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
    )
    op.create_index("ix_feeds_digest", "feeds", ["digest"], unique=True)
    op.create_index("ix_feeds_owner", "feeds", ["owner_id"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.Text, nullable=True),
        sa.Column("calendar_id", sa.String(36), sa.ForeignKey("calendars.id"), nullable=True),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
    )
    op.create_index("ix_webhooks_owner", "webhooks", ["owner_id"])
    op.create_table(
        "webhook_streams",
        sa.Column("webhook_id", sa.String(36), sa.ForeignKey("webhooks.id"), primary_key=True),
        sa.Column("channel", sa.String(80), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("next_attempt_at", timestamp, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("failing_since", timestamp, nullable=True),
        sa.Column("lease_owner", sa.String(32), nullable=True),
        sa.Column("lease_until", timestamp, nullable=True),
    )
    # The worker's two lookups: due work, and the cursors of recently written channels.
    op.create_index("ix_webhook_streams_due", "webhook_streams", ["next_attempt_at"])
    op.create_index("ix_webhook_streams_channel", "webhook_streams", ["channel"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("webhook_id", sa.String(36), sa.ForeignKey("webhooks.id"), primary_key=True),
        sa.Column("channel", sa.String(80), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("next_attempt_at", timestamp, nullable=True),
        sa.Column("last_attempt_at", timestamp, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'success', 'failed')", name="ck_webhook_deliveries_status"
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_latest", "webhook_deliveries", ["webhook_id", "last_attempt_at"]
    )
    op.create_index("ix_webhook_deliveries_age", "webhook_deliveries", ["last_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_age", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_latest", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_streams_channel", table_name="webhook_streams")
    op.drop_index("ix_webhook_streams_due", table_name="webhook_streams")
    op.drop_table("webhook_streams")
    op.drop_index("ix_webhooks_owner", table_name="webhooks")
    op.drop_table("webhooks")
    op.drop_index("ix_feeds_owner", table_name="feeds")
    op.drop_index("ix_feeds_digest", table_name="feeds")
    op.drop_table("feeds")
