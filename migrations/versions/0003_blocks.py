"""Time-off blocks: appointments of kind "block".

A block is busy time on a calendar with no client; keeping it in the
appointments table means the overlap guard (exclusion constraint, triggers)
and every busy-time query cover it with no second code path. Plain ADD
COLUMN (no batch copy) keeps SQLite's overlap triggers in place.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "appointments",
        sa.Column("kind", sa.String(16), nullable=False, server_default="appointment"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # DROP COLUMN is native since SQLite 3.35; no batch copy, triggers survive.
        op.execute("ALTER TABLE appointments DROP COLUMN kind")
    else:
        op.drop_column("appointments", "kind")
