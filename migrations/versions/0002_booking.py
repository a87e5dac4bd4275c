"""Booking: calendars, appointments, the channel log and idempotency keys.

On PostgreSQL an exclusion constraint (btree_gist) forbids overlapping
pending or confirmed appointments of one calendar; on SQLite triggers do the
same, so on both the database itself refuses a double booking.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE = "('pending', 'confirmed')"

SQLITE_OVERLAP_TRIGGER = """
CREATE TRIGGER {name} BEFORE {action} ON appointments
WHEN NEW.status IN ('pending', 'confirmed') AND EXISTS (
    SELECT 1 FROM appointments AS a
    WHERE a.calendar_id = NEW.calendar_id AND a.id != NEW.id
      AND a.status IN ('pending', 'confirmed')
      AND a.starts_at < NEW.ends_at AND a.ends_at > NEW.starts_at)
BEGIN
    SELECT RAISE(ABORT, 'appointments_overlap');
END
"""


def upgrade() -> None:
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "calendars",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("working_hours", sa.Text, nullable=False),
        sa.Column("owner_id", sa.String(36), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("slot_step_minutes", sa.Integer, nullable=False),
        sa.Column("min_notice_minutes", sa.Integer, nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer, nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer, nullable=False),
        sa.Column("horizon_days", sa.Integer, nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("updated_at", timestamp, nullable=False),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("calendar_id", sa.String(36), sa.ForeignKey("calendars.id"), nullable=False),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("starts_at", timestamp, nullable=False),
        sa.Column("ends_at", timestamp, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("updated_at", timestamp, nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name="ck_appointments_order"),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'cancelled', 'completed', 'no_show')",
            name="ck_appointments_status",
        ),
    )
    op.create_index("ix_appointments_calendar_start", "appointments", ["calendar_id", "starts_at"])
    op.create_index("ix_appointments_client_start", "appointments", ["client_id", "starts_at"])
    op.create_table(
        "channel_heads",
        sa.Column("channel", sa.String(80), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "channel_log",
        sa.Column("channel", sa.String(80), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
    )
    op.create_index("ix_channel_log_created", "channel_log", ["created_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_no_overlap "
            "EXCLUDE USING gist (calendar_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            f"WHERE (status IN {ACTIVE})"
        )
    else:
        op.execute(SQLITE_OVERLAP_TRIGGER.format(name="tr_no_overlap_insert", action="INSERT"))
        op.execute(SQLITE_OVERLAP_TRIGGER.format(name="tr_no_overlap_update", action="UPDATE"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS tr_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS tr_no_overlap_update")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_channel_log_created", table_name="channel_log")
    op.drop_table("channel_log")
    op.drop_table("channel_heads")
    op.drop_index("ix_appointments_client_start", table_name="appointments")
    op.drop_index("ix_appointments_calendar_start", table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("calendars")
