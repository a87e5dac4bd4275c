"""Bring the database schema to the newest migration, with Alembic."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

# Any fixed number: the key of the PostgreSQL advisory lock that serialises
# concurrent migrations (see migrations/env.py).
MIGRATION_LOCK_ID = 727_146_021

_ROOT = Path(__file__).resolve().parents[2]


def sqlalchemy_url(database_url: str) -> str:
    """The async SQLAlchemy URL for a hub ``DATABASE_URL``."""
    if database_url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + database_url[len("sqlite:") :]
    for scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            return "postgresql+asyncpg://" + database_url[len(scheme) :]
    return database_url


def connect_args(database_url: str) -> dict[str, Any]:
    """asyncpg arguments for Alembic's engine, safe behind PgBouncer in transaction mode.

    SQLAlchemy's asyncpg dialect prepares every statement by name. Behind a
    pooler a server connection serves many clients, one transaction each,
    and keeps what they prepared: so cache nothing across transactions, and
    give each statement a name no other client can have used.
    """
    if database_url.startswith("sqlite"):
        return {}
    return {
        "statement_cache_size": 0,  # asyncpg's own cache
        "prepared_statement_cache_size": 0,  # SQLAlchemy's cache of prepared statements
        "prepared_statement_name_func": _statement_name,
    }


def _statement_name() -> str:
    return f"__hub_{uuid.uuid4().hex}__"


def alembic_config(database_url: str) -> Config:
    config = Config(str(_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate to ``revision``; safe when several processes do it at once."""
    if database_url.startswith("sqlite"):
        from hub.settings import sqlite_path

        sqlite_path(database_url).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
