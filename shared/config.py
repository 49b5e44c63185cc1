"""Settings from environment variables (12-factor), with defaults that work on a developer machine.

Every setting is documented in ``.env.example`` at the top of the repository.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Default HTTP port of each service (ARCHITECTURE.md, "HTTP conventions").
DEFAULT_PORTS = {"disputes": 8001, "points": 8002, "relief": 8003, "jobmarket": 8004}


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a clear line, not a traceback deep inside a library
        raise SystemExit(f"setting {name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """One service's settings. Read them with :func:`load`."""

    service: str
    database_url: str
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    exchange: str = "weizhili.events"
    dead_letter_exchange: str = "weizhili.dlx"
    archive_stream: str = "weizhili.archive"
    archive_max_age: str = "30D"
    #: ``quorum`` (default; RabbitMQ 3.8+, required for a cluster) or ``classic``.
    queue_type: str = "quorum"
    #: Delays (milliseconds) of the retry tiers; a message failing after the last goes to ``<queue>.dead``.
    retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)
    delivery_limit: int = 20
    jwt_algorithm: str = "HS256"
    jwt_secret: str | None = "weizhili-local-development-secret-change-me"
    jwt_public_key_file: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    max_content_length: int = 1024 * 1024
    outbox_retention_days: int = 30
    inbox_retention_days: int = 30
    idempotency_retention_hours: int = 48
    schema_base_url: str = "http://localhost"
    log_level: str = "INFO"
    relay_batch_size: int = 200
    consumer_prefetch: int = 100
    extra: dict = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def default_database_url(service: str) -> str:
    return f"sqlite:///{REPO_ROOT / 'var' / (service + '.sqlite3')}"


def load(service: str) -> Settings:
    """Read the settings of ``service`` from the environment.

    ``DATABASE_URL`` may be given per service as ``<SERVICE>_DATABASE_URL`` (so one shell can run all four)
    or plainly as ``DATABASE_URL`` (one container, one service).
    """
    prefix = service.upper()
    delays = _env("RETRY_DELAYS_MS", "1000,5000,30000")
    return Settings(
        service=service,
        database_url=_env(f"{prefix}_DATABASE_URL") or _env("DATABASE_URL") or default_database_url(service),
        amqp_url=_env("AMQP_URL", Settings.amqp_url),
        exchange=_env("EVENT_EXCHANGE", Settings.exchange),
        queue_type=_env("QUEUE_TYPE", Settings.queue_type),
        archive_max_age=_env("ARCHIVE_MAX_AGE", Settings.archive_max_age),
        retry_delays_ms=tuple(int(d) for d in delays.split(",") if d.strip()),
        delivery_limit=_env_int("DELIVERY_LIMIT", Settings.delivery_limit),
        jwt_algorithm=_env("JWT_ALGORITHM", Settings.jwt_algorithm),
        jwt_secret=_env("JWT_SECRET", Settings.jwt_secret),
        jwt_public_key_file=_env("JWT_PUBLIC_KEY_FILE"),
        jwt_issuer=_env("JWT_ISSUER"),
        jwt_audience=_env("JWT_AUDIENCE"),
        max_content_length=_env_int("MAX_CONTENT_LENGTH", Settings.max_content_length),
        outbox_retention_days=_env_int("OUTBOX_RETENTION_DAYS", Settings.outbox_retention_days),
        inbox_retention_days=_env_int("INBOX_RETENTION_DAYS", Settings.inbox_retention_days),
        idempotency_retention_hours=_env_int("IDEMPOTENCY_RETENTION_HOURS", Settings.idempotency_retention_hours),
        schema_base_url=_env("SCHEMA_BASE_URL", f"http://localhost:{DEFAULT_PORTS.get(service, 8000)}"),
        log_level=_env("LOG_LEVEL", Settings.log_level),
        relay_batch_size=_env_int("RELAY_BATCH_SIZE", Settings.relay_batch_size),
        consumer_prefetch=_env_int("CONSUMER_PREFETCH", Settings.consumer_prefetch),
    )
