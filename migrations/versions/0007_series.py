"""Recurring series: the rule as booked, and each occurrence's ``series_id``.

Plain ADD COLUMN (no batch copy) keeps SQLite's overlap triggers in place;
SQLite cannot add a foreign key that way, so there the link is by value only.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("calendar_id", sa.String(36), sa.ForeignKey("calendars.id"), nullable=False),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recurrence", sa.String(1000), nullable=False),
        sa.Column("created_by", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    column = sa.Column(
        "series_id",
        sa.String(36),
        *(() if is_sqlite else (sa.ForeignKey("series.id", name="fk_appointments_series"),)),
        nullable=True,
    )
    op.add_column("appointments", column)
    op.create_index("ix_appointments_series", "appointments", ["series_id"])


def downgrade() -> None:
    op.drop_index("ix_appointments_series", table_name="appointments")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE appointments DROP COLUMN series_id")
    else:
        op.drop_constraint("fk_appointments_series", "appointments", type_="foreignkey")
        op.drop_column("appointments", "series_id")
    op.drop_table("series")
