"""Sign-ins and refresh tokens in the database, the system of record.

Revocations used to live only in Redis, so a Redis that restarted empty made
a logged-out token valid again. Now each sign-in (a login and every token
descended from it) is a row, revoked by setting ``revoked_at``; Redis only
carries the news.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("revoked_at", timestamp, nullable=True),
    )
    op.create_index("ix_sign_ins_user", "sign_ins", ["user_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("sign_in_id", sa.String(32), sa.ForeignKey("sign_ins.id"), nullable=False),
        sa.Column("expires_at", timestamp, nullable=False),
        sa.Column("used_at", timestamp, nullable=True),
    )
    op.create_index("ix_refresh_tokens_sign_in", "refresh_tokens", ["sign_in_id"])
    op.create_index("ix_refresh_tokens_expires", "refresh_tokens", ["expires_at"])
    # The channel that carries account news (revocations, role changes) to
    # every process; created here so that no two first writers race for it.
    op.execute("INSERT INTO channel_heads (channel, seq) VALUES ('accounts', 0)")


def downgrade() -> None:
    op.execute("DELETE FROM channel_log WHERE channel = 'accounts'")
    op.execute("DELETE FROM channel_heads WHERE channel = 'accounts'")
    op.drop_index("ix_refresh_tokens_expires", table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_sign_in", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_sign_ins_user", table_name="sign_ins")
    op.drop_table("sign_ins")
