"""Small helpers for the disputes API tests (callers and a case factory)."""
from __future__ import annotations

from shared.testing import auth

GW = auth("P900001", "grid_worker")
MEDIATOR = auth("P900002", "mediator")
SUPERVISOR = auth("S-1", "supervisor")
ADMIN = auth("A-1", "admin")


def resident(person_id: str) -> dict:
    return auth(person_id, "resident")


def new_case(client, headers=GW, **fields) -> dict:
    body = {"channel": "hotline", "category": "neighbour_family", "subcategory": "water_leak",
            "estate": "汾河新村", "summary": "楼上漏水", "reported_at": "2024-06-01T10:00:00+08:00"}
    body.update(fields)
    r = client.post("/api/v1/cases", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def outbox_types(db_url: str) -> list[str]:
    from sqlalchemy import text
    from shared.db import engine_for
    with engine_for(db_url).connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT type FROM outbox ORDER BY seq"))]


def outbox_data(db_url: str, event_type: str) -> list[dict]:
    import json
    from sqlalchemy import text
    from shared.db import engine_for
    with engine_for(db_url).connect() as conn:
        rows = conn.execute(text("SELECT body FROM outbox WHERE type = :t ORDER BY seq"), {"t": event_type})
        return [json.loads(r[0])["data"] for r in rows]
