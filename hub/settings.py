"""Settings, read once from the environment into a frozen object.

Each setting is declared once, below: its environment variable, its default
and how its text is read. Every limit the protocol names has a typed default
here, so the rest of the code never reads ``os.environ``. ``repr`` never
shows a secret: the key and the metrics token are hidden, and a password in
a URL is masked.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///./hub.db"
MIN_SECRET_BYTES = 32


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


Reader = Callable[[str, str], Any]  # (variable name, its text) -> value


def _number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name} must be a positive number, got {raw!r}")
    return value


def _whole(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


def _flag(name: str, raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _text(name: str, raw: str) -> str:
    return raw


def _origins(name: str, raw: str) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


def _networks(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated CIDR networks or addresses ("" for none)."""
    networks = tuple(n.strip() for n in raw.split(",") if n.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {network!r} is not a network") from None
    return networks


def _redis_url(name: str, raw: str) -> str | None:
    if raw.startswith("memory://"):
        return None  # the in-process broker, as when unset
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"{name} must start with redis://, rediss:// or memory://")
    return raw


def _database_url(name: str, raw: str) -> str:
    if not raw.startswith(("sqlite:", "postgresql:", "postgres:")):
        raise SettingsError(f"{name} must start with sqlite:// or postgresql://")
    return raw


def _public_url(name: str, raw: str) -> str:
    """An absolute http(s) base URL, kept without a trailing slash."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(
            f"{name} must be an http:// or https:// URL such as https://hub.example"
        )
    return raw.strip().rstrip("/")


def env(name: str, default: Any, read: Reader, secret: bool = False) -> Any:
    """Declare a setting: its variable, its default and its reader, in one place."""
    return dataclasses.field(default=default, repr=not secret, metadata={"env": name, "read": read})


@dataclass(frozen=True)
class Settings:
    database_url: str = env("DATABASE_URL", DEFAULT_DATABASE_URL, _database_url)
    redis_url: str | None = env("REDIS_URL", None, _redis_url)
    secret_key: str = env("SECRET_KEY", "", _text, secret=True)
    access_token_expire_minutes: float = env("ACCESS_TOKEN_EXPIRE_MINUTES", 30.0, _number)
    refresh_token_expire_days: float = env("REFRESH_TOKEN_EXPIRE_DAYS", 7.0, _number)
    allowed_origins: tuple[str, ...] = env("HUB_ALLOWED_ORIGINS", (), _origins)
    redis_prefix: str = env("HUB_REDIS_PREFIX", "hub:", _text)
    # REDIS_URL names any node of a Redis Cluster: sharded pub/sub (SSUBSCRIBE / SPUBLISH).
    redis_cluster: bool = env("HUB_REDIS_CLUSTER", False, _flag)
    # WebSocket transport.
    ws_max_bytes: int = env("HUB_WS_MAX_BYTES", 65536, _whole)
    ws_ping_interval: float = env("HUB_WS_PING_INTERVAL", 20.0, _number)
    ws_ping_timeout: float = env("HUB_WS_PING_TIMEOUT", 20.0, _number)
    ws_per_message_deflate: bool = env("HUB_WS_PER_MESSAGE_DEFLATE", False, _flag)
    # Kernel send buffer per socket in bytes (0: the OS default, which grows to MBs).
    socket_send_buffer: int = env("HUB_SOCKET_SEND_BUFFER", 0, _whole)
    hello_timeout: float = env("HUB_HELLO_TIMEOUT", 10.0, _number)
    send_queue_size: int = env("HUB_SEND_QUEUE_SIZE", 1000, _whole)
    max_subscriptions: int = env("HUB_MAX_SUBSCRIPTIONS", 200, _whole)
    max_sockets_per_user: int = env("HUB_MAX_SOCKETS_PER_USER", 20, _whole)
    rate_limit_per_second: float = env("HUB_RATE_LIMIT_PER_SECOND", 20.0, _number)
    rate_limit_burst: int = env("HUB_RATE_LIMIT_BURST", 40, _whole)
    # How many rate_limited answers in a row before the socket is closed with 4029.
    rate_limit_strikes: int = env("HUB_RATE_LIMIT_STRIKES", 20, _whole)
    # Booking rules.
    min_duration_minutes: int = env("HUB_MIN_DURATION_MINUTES", 5, _whole)
    max_duration_minutes: int = env("HUB_MAX_DURATION_MINUTES", 720, _whole)
    idempotency_hours: float = env("HUB_IDEMPOTENCY_HOURS", 24.0, _number)
    hold_seconds: float = env("HUB_HOLD_SECONDS", 300.0, _number)
    max_occurrences: int = env("HUB_MAX_OCCURRENCES", 52, _whole)
    log_retention_days: float = env("HUB_LOG_RETENTION_DAYS", 30.0, _number)
    # Sign-in.
    login_max_failures: int = env("HUB_LOGIN_MAX_FAILURES", 5, _whole)
    login_max_failures_per_ip: int = env("HUB_LOGIN_MAX_FAILURES_PER_IP", 50, _whole)
    login_failure_window_seconds: float = env("HUB_LOGIN_FAILURE_WINDOW_SECONDS", 900.0, _number)
    argon2_time_cost: int = env("HUB_ARGON2_TIME_COST", 3, _whole)
    argon2_memory_kib: int = env("HUB_ARGON2_MEMORY_KIB", 65536, _whole)
    argon2_parallelism: int = env("HUB_ARGON2_PARALLELISM", 4, _whole)
    # Whose X-Forwarded-For is believed (for per-address limits and logs): nobody's by default.
    trusted_proxies: tuple[str, ...] = env("HUB_TRUSTED_PROXIES", (), _networks)
    # Backing services.
    db_timeout_seconds: float = env("HUB_DB_TIMEOUT_SECONDS", 5.0, _number)
    health_timeout_seconds: float = env("HUB_HEALTH_TIMEOUT_SECONDS", 2.0, _number)
    max_body_bytes: int = env("HUB_MAX_BODY_BYTES", 1 << 20, _whole)
    log_json: bool = env("HUB_LOG_JSON", True, _flag)
    # /metrics: open to these networks, or to a bearer of this token.
    metrics_allow: tuple[str, ...] = env(
        "HUB_METRICS_ALLOW", ("127.0.0.1/32", "::1/128"), _networks
    )
    metrics_token: str = env("HUB_METRICS_TOKEN", "", _text, secret=True)
    # Calendar feeds and webhooks.
    public_url: str | None = env("HUB_PUBLIC_URL", None, _public_url)
    webhook_allow_private: bool = env("HUB_WEBHOOK_ALLOW_PRIVATE", False, _flag)
    webhook_retry_base_seconds: float = env("HUB_WEBHOOK_RETRY_BASE_SECONDS", 5.0, _number)
    webhook_retry_hours: float = env("HUB_WEBHOOK_RETRY_HOURS", 24.0, _number)
    webhook_timeout_seconds: float = env("HUB_WEBHOOK_TIMEOUT_SECONDS", 10.0, _number)
    # Delivery attempts in flight at once per process (a quarter of them per webhook).
    webhook_concurrency: int = env("HUB_WEBHOOK_CONCURRENCY", 32, _whole)

    @property
    def is_embedded_db(self) -> bool:
        return self.database_url.startswith("sqlite")

    def __repr__(self) -> str:
        shown = [
            f"{f.name}={_masked(getattr(self, f.name))!r}"
            for f in dataclasses.fields(self)
            if f.repr
        ]
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: ``os.environ``).

        Raises:
            SettingsError: a value is malformed, or ``SECRET_KEY`` is missing on
                PostgreSQL, or too short.
        """
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            raw = source.get(spec.metadata["env"], "")
            if raw != "":
                values[spec.name] = spec.metadata["read"](spec.metadata["env"], raw)
        settings = cls(**values)
        if settings.min_duration_minutes > settings.max_duration_minutes:
            raise SettingsError("HUB_MIN_DURATION_MINUTES exceeds HUB_MAX_DURATION_MINUTES")
        if settings.redis_cluster and not settings.redis_url:
            raise SettingsError("HUB_REDIS_CLUSTER needs REDIS_URL (any node of the cluster)")
        if settings.redis_cluster and "{" in settings.redis_prefix:
            raise SettingsError(
                "HUB_REDIS_PREFIX must not contain '{' with Redis Cluster: a hash tag would "
                "put every channel on one shard"
            )
        key = _secret_key(settings.secret_key, settings.database_url)
        return dataclasses.replace(settings, secret_key=key)

    @classmethod
    def variables(cls) -> dict[str, Any]:
        """Each environment variable and its default (for the docs and their test)."""
        return {f.metadata["env"]: f.default for f in dataclasses.fields(cls)}


_URL_PASSWORD = re.compile(r"(?<=://)([^:/@]*):([^@]*)@")


def _masked(value: Any) -> Any:
    """A URL's password as ``***``; anything else as it is."""
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\1:***@", value)
    return value


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
