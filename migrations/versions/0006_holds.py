"""Slot holds: appointments of kind "hold" that lapse at ``expires_at``.

A live hold is a row with status pending, so the overlap guard that keeps
appointments and blocks apart (exclusion constraint / triggers) keeps holds
apart from them and from each other, with no second code path. A partial
index finds the holds due to lapse.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy) keeps SQLite's overlap triggers in place.
    op.add_column("appointments", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_appointments_live_holds",
        "appointments",
        ["expires_at"],
        postgresql_where=sa.text("kind = 'hold' AND status = 'pending'"),
        sqlite_where=sa.text("kind = 'hold' AND status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_live_holds", table_name="appointments")
    op.execute("DELETE FROM appointments WHERE kind = 'hold'")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE appointments DROP COLUMN expires_at")
    else:
        op.drop_column("appointments", "expires_at")
