"""Alembic migrations per service: ``python -m shared.migrate <service> [upgrade|revision -m MSG|current]``.

Each service keeps its migrations in ``services/<service>/migrations``; its ``env.py`` calls :func:`run_env`
with the service's metadata, which is migrated together with the outbox, inbox and idempotency tables.
On PostgreSQL the upgrade holds an advisory lock, so several containers starting together migrate once.
"""
from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text

from . import config as config_mod
from .db import new_engine
from .models import InfraBase

REPO_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(REPO_ROOT / "services" / service / "migrations"))
    cfg.set_main_option("version_table", "alembic_version")
    cfg.attributes["database_url"] = database_url
    cfg.attributes["service"] = service
    return cfg


def run_env(metadata) -> None:
    """Body of every service's ``migrations/env.py`` (online mode only)."""
    cfg = context.config
    url = cfg.attributes.get("database_url") or config_mod.load(cfg.attributes.get("service", "x")).database_url
    engine = new_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=[metadata, InfraBase.metadata],
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def upgrade(service: str, database_url: str | None = None, revision: str = "head") -> None:
    """Apply ``service``'s migrations to ``database_url`` (default: the service's settings)."""
    url = database_url or config_mod.load(service).database_url
    cfg = alembic_config(service, url)
    if url.startswith("postgres"):
        engine = new_engine(url)
        lock_id = zlib.crc32(f"weizhili-migrate-{service}".encode())
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_id})
            try:
                command.upgrade(cfg, revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
                conn.commit()
        engine.dispose()
    else:
        command.upgrade(cfg, revision)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.migrate")
    parser.add_argument("service", choices=sorted(config_mod.DEFAULT_PORTS))
    parser.add_argument("action", nargs="?", default="upgrade", choices=["upgrade", "revision", "current"])
    parser.add_argument("-m", "--message", default="change")
    args = parser.parse_args(argv)
    url = config_mod.load(args.service).database_url
    if args.action == "upgrade":
        upgrade(args.service, url)
        print(f"{args.service}: migrated to head")
    elif args.action == "revision":
        command.revision(alembic_config(args.service, url), message=args.message, autogenerate=True)
    else:
        command.current(alembic_config(args.service, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
