"""Helpers of the jobmarket tests: callers and small shortcuts over the HTTP API."""
from __future__ import annotations

from shared.testing import auth, migrate, service_env, start_web

STAFF = auth("staff-1", "market_staff")
API = "/api/v1"


def register(client, card_no: str, **extra) -> dict:
    r = client.post(f"{API}/workers", json={"card_no": card_no, **extra}, headers=STAFF)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def ticket(client, worker: str, issued_at: str | None = None, headers=None, **extra):
    body = {"worker": worker, **extra}
    if issued_at:
        body["issued_at"] = issued_at
    return client.post(f"{API}/meal-tickets", json=body, headers=headers or STAFF)


def summary(client, **query) -> dict:
    r = client.get(f"{API}/reports/summary", query_string=query, headers=STAFF)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def outbox_events(db_url: str, event_type: str) -> list[dict]:
    """The CloudEvents staged in the service's outbox, of ``event_type``, oldest first."""
    import json

    from sqlalchemy import select

    from shared.db import engine_for
    from shared.models import OutboxMessage
    with engine_for(db_url).connect() as conn:
        rows = conn.execute(select(OutboxMessage.body).where(OutboxMessage.type == event_type)
                            .order_by(OutboxMessage.seq)).scalars().all()
    return [json.loads(r) for r in rows]


def serve(db_url: str, tmp_path):
    """A real gunicorn of jobmarket on ``db_url`` (3 processes x 8 threads, TZ=UTC): ``(process, base URL)``."""
    migrate("jobmarket", db_url)
    env = service_env("jobmarket", db_url, "amqp://guest:guest@127.0.0.1:1/%2F", TZ="UTC", WEB_CONCURRENCY="3",
                      WEB_THREADS="8")
    return start_web("jobmarket", env, tmp_path)
