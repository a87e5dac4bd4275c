"""Alembic environment: one history for PostgreSQL and SQLite, run async.

On PostgreSQL the migration transaction first takes an advisory lock, so
that several hub processes starting at once against one database migrate
one after the other: the later ones find the schema already at head.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from hub.storage.migrate import MIGRATION_LOCK_ID, connect_args, sqlalchemy_url
from hub.storage.tables import metadata

config = context.config


def _url() -> str:
    configured = config.attributes.get("database_url")
    if configured:
        return str(configured)
    import os

    from hub.settings import DEFAULT_DATABASE_URL

    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def _run(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=is_sqlite)
    with context.begin_transaction():
        if not is_sqlite:
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})"))
        context.run_migrations()


async def _run_async() -> None:
    # One connection, closed after: nothing prepared on it outlives the run.
    engine = create_async_engine(
        sqlalchemy_url(_url()), poolclass=NullPool, connect_args=connect_args(_url())
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=sqlalchemy_url(_url()), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
