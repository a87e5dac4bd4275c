"""The relational schema as SQLAlchemy Core tables, for building queries.

Alembic migrations in ``migrations/`` create these tables; this module only
describes them, and the two must agree (a test compares them).
Ids are UUID strings so that one schema serves PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

ID = sa.String(36)
Timestamp = sa.DateTime(timezone=True)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# A sign-in: one login and every token descended from it (its refresh
# tokens, and access tokens carrying its id as ``fam``). Revoking it here is
# the system of record: a Redis that restarts empty cannot undo it.
sign_ins = sa.Table(
    "sign_ins",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp, nullable=True),
)

# Refresh tokens, kept only as digests; ``used_at`` makes each single-use.
refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("sign_in_id", sa.String(32), sa.ForeignKey("sign_ins.id"), nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Column("used_at", Timestamp, nullable=True),
)

calendars = sa.Table(
    "calendars",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("working_hours", sa.Text, nullable=False),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("slot_step_minutes", sa.Integer, nullable=False),
    sa.Column("min_notice_minutes", sa.Integer, nullable=False),
    sa.Column("buffer_before_minutes", sa.Integer, nullable=False),
    sa.Column("buffer_after_minutes", sa.Integer, nullable=False),
    sa.Column("horizon_days", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# A recurring series: its rule as booked; each occurrence is an appointment.
series = sa.Table(
    "series",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("calendar_id", ID, sa.ForeignKey("calendars.id"), nullable=False),
    sa.Column("client_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("recurrence", sa.String(1000), nullable=False),
    sa.Column("created_by", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("calendar_id", ID, sa.ForeignKey("calendars.id"), nullable=False),
    sa.Column("client_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("starts_at", Timestamp, nullable=False),
    sa.Column("ends_at", Timestamp, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    # "appointment"; "block" for time off (busy time with no client); "hold" for
    # a slot kept while someone books (client_id is its holder).
    sa.Column("kind", sa.String(16), nullable=False, server_default="appointment"),
    # Holds only: when a live hold lapses.
    sa.Column("expires_at", Timestamp, nullable=True),
    # The recurring series this appointment is an occurrence of, if any.
    sa.Column("series_id", ID, sa.ForeignKey("series.id"), nullable=True),
    sa.Column("created_by", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# The head of each channel: the last seq handed out, advanced inside the
# transaction that appends to the log, so seqs are gap-free per channel.
channel_heads = sa.Table(
    "channel_heads",
    metadata,
    sa.Column("channel", sa.String(80), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

channel_log = sa.Table(
    "channel_log",
    metadata,
    sa.Column("channel", sa.String(80), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("user_id", ID, primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("appointment_id", ID, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

# Calendar feeds: a secret URL per feed, of which only a digest is kept.
# ``calendar_id`` NULL: the owner's own appointments. ``host`` is the host of
# the URL handed out, so event UIDs stay the same whatever the request says.
feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("calendar_id", ID, sa.ForeignKey("calendars.id"), nullable=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

# Webhooks: ``events`` is a JSON list of event names (NULL: every event);
# ``calendar_id`` NULL: every calendar. The secret signs (so it is kept).
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("owner_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("events", sa.Text, nullable=True),
    sa.Column("calendar_id", ID, sa.ForeignKey("calendars.id"), nullable=True),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

# A webhook's cursor on one channel: ``seq`` is the last event done with
# (delivered, or not wanted). ``next_attempt_at`` NULL: nothing known to do.
# A process attempting the next event holds the lease (owner and expiry).
webhook_streams = sa.Table(
    "webhook_streams",
    metadata,
    sa.Column("webhook_id", ID, sa.ForeignKey("webhooks.id"), primary_key=True),
    sa.Column("channel", sa.String(80), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("failing_since", Timestamp, nullable=True),
    sa.Column("lease_owner", sa.String(32), nullable=True),
    sa.Column("lease_until", Timestamp, nullable=True),
)

# The delivery log: one row per event attempted, updated by each attempt.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("webhook_id", ID, sa.ForeignKey("webhooks.id"), primary_key=True),
    sa.Column("channel", sa.String(80), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.Column("next_attempt_at", Timestamp, nullable=True),
    sa.Column("last_attempt_at", Timestamp, nullable=False),
)
