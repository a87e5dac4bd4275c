"""Settings, read once from the environment into a frozen object.

Every limit the protocol names has a typed default here, so the rest of the
code never reads ``os.environ``. The secret key is never printed (``repr``
hides it).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./hub.db"
MIN_SECRET_BYTES = 32


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: str = field(default="", repr=False)
    access_token_expire_minutes: float = 30.0
    refresh_token_expire_days: float = 7.0
    allowed_origins: tuple[str, ...] = ()
    redis_prefix: str = "hub:"
    # WebSocket transport.
    ws_max_bytes: int = 65536
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float = 20.0
    ws_per_message_deflate: bool = False
    # Kernel send buffer per socket in bytes (0: the OS default, which grows to MBs).
    socket_send_buffer: int = 0
    hello_timeout: float = 10.0
    send_queue_size: int = 1000
    max_subscriptions: int = 200
    max_sockets_per_user: int = 20
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 40
    # How many rate_limited answers in a row before the socket is closed with 4029.
    rate_limit_strikes: int = 20
    # Booking rules.
    min_duration_minutes: int = 5
    max_duration_minutes: int = 720
    idempotency_hours: float = 24.0
    log_retention_days: float = 30.0
    # Sign-in.
    login_max_failures: int = 5
    login_max_failures_per_ip: int = 50
    login_failure_window_seconds: float = 900.0
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # Backing services.
    db_timeout_seconds: float = 5.0
    health_timeout_seconds: float = 2.0
    max_body_bytes: int = 1 << 20
    log_json: bool = True
    # /metrics: open to these networks, or to a bearer of this token.
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    metrics_token: str = field(default="", repr=False)

    @property
    def is_embedded_db(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: ``os.environ``).

        Raises:
            SettingsError: a value is malformed, or ``SECRET_KEY`` is missing on
                PostgreSQL, or too short.
        """
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        if not database_url.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise SettingsError("DATABASE_URL must start with sqlite:// or postgresql://")
        values = cls(
            database_url=database_url,
            redis_url=env.get("REDIS_URL") or None,
            secret_key=_secret_key(env.get("SECRET_KEY", ""), database_url),
            access_token_expire_minutes=reader.positive_float("ACCESS_TOKEN_EXPIRE_MINUTES", 30.0),
            refresh_token_expire_days=reader.positive_float("REFRESH_TOKEN_EXPIRE_DAYS", 7.0),
            allowed_origins=tuple(
                o.strip().rstrip("/")
                for o in env.get("HUB_ALLOWED_ORIGINS", "").split(",")
                if o.strip()
            ),
            redis_prefix=env.get("HUB_REDIS_PREFIX", "hub:"),
            ws_max_bytes=reader.positive_int("HUB_WS_MAX_BYTES", 65536),
            ws_ping_interval=reader.positive_float("HUB_WS_PING_INTERVAL", 20.0),
            ws_ping_timeout=reader.positive_float("HUB_WS_PING_TIMEOUT", 20.0),
            ws_per_message_deflate=reader.flag("HUB_WS_PER_MESSAGE_DEFLATE", False),
            socket_send_buffer=reader.positive_int("HUB_SOCKET_SEND_BUFFER", 0),
            hello_timeout=reader.positive_float("HUB_HELLO_TIMEOUT", 10.0),
            send_queue_size=reader.positive_int("HUB_SEND_QUEUE_SIZE", 1000),
            max_subscriptions=reader.positive_int("HUB_MAX_SUBSCRIPTIONS", 200),
            max_sockets_per_user=reader.positive_int("HUB_MAX_SOCKETS_PER_USER", 20),
            rate_limit_per_second=reader.positive_float("HUB_RATE_LIMIT_PER_SECOND", 20.0),
            rate_limit_burst=reader.positive_int("HUB_RATE_LIMIT_BURST", 40),
            rate_limit_strikes=reader.positive_int("HUB_RATE_LIMIT_STRIKES", 20),
            min_duration_minutes=reader.positive_int("HUB_MIN_DURATION_MINUTES", 5),
            max_duration_minutes=reader.positive_int("HUB_MAX_DURATION_MINUTES", 720),
            idempotency_hours=reader.positive_float("HUB_IDEMPOTENCY_HOURS", 24.0),
            log_retention_days=reader.positive_float("HUB_LOG_RETENTION_DAYS", 30.0),
            login_max_failures=reader.positive_int("HUB_LOGIN_MAX_FAILURES", 5),
            login_max_failures_per_ip=reader.positive_int("HUB_LOGIN_MAX_FAILURES_PER_IP", 50),
            login_failure_window_seconds=reader.positive_float(
                "HUB_LOGIN_FAILURE_WINDOW_SECONDS", 900.0
            ),
            argon2_time_cost=reader.positive_int("HUB_ARGON2_TIME_COST", 3),
            argon2_memory_kib=reader.positive_int("HUB_ARGON2_MEMORY_KIB", 65536),
            argon2_parallelism=reader.positive_int("HUB_ARGON2_PARALLELISM", 4),
            db_timeout_seconds=reader.positive_float("HUB_DB_TIMEOUT_SECONDS", 5.0),
            health_timeout_seconds=reader.positive_float("HUB_HEALTH_TIMEOUT_SECONDS", 2.0),
            max_body_bytes=reader.positive_int("HUB_MAX_BODY_BYTES", 1 << 20),
            log_json=reader.flag("HUB_LOG_JSON", True),
            metrics_allow=_networks(env.get("HUB_METRICS_ALLOW", "127.0.0.1/32,::1/128")),
            metrics_token=env.get("HUB_METRICS_TOKEN", ""),
        )
        if values.min_duration_minutes > values.max_duration_minutes:
            raise SettingsError("HUB_MIN_DURATION_MINUTES exceeds HUB_MAX_DURATION_MINUTES")
        return values


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def positive_float(self, name: str, default: float) -> float:
        raw = self._env.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        if not value > 0 or value == float("inf"):
            raise SettingsError(f"{name} must be a positive number, got {raw!r}")
        return value

    def positive_int(self, name: str, default: int) -> int:
        raw = self._env.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        if value <= 0:
            raise SettingsError(f"{name} must be positive, got {raw!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self._env.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _networks(raw: str) -> tuple[str, ...]:
    """Comma-separated CIDR networks ("" for none)."""
    import ipaddress

    networks = tuple(n.strip() for n in raw.split(",") if n.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SettingsError(f"HUB_METRICS_ALLOW: {network!r} is not a network") from None
    return networks


def sqlite_path(database_url: str) -> Path:
    """The file behind a ``sqlite:///path`` URL."""
    return Path(database_url.split("///", 1)[1].split("?", 1)[0])


def _secret_key(configured: str, database_url: str) -> str:
    if configured:
        if len(configured.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"SECRET_KEY is too short: use at least {MIN_SECRET_BYTES} bytes, e.g. "
                "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return configured
    if not database_url.startswith("sqlite"):
        raise SettingsError(
            "SECRET_KEY is not set: every hub process must share one, e.g. "
            "export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return _embedded_secret(sqlite_path(database_url))


def _embedded_secret(db_path: Path) -> str:
    """Keep a generated key beside the SQLite file so tokens survive a restart."""
    key_file = db_path.with_name(db_path.name + ".secret")
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start at once, exactly one writes the key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
