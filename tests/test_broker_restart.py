"""The broker goes away while cases are being resolved: a RabbitMQ node of the test's own (never the machine's
shared one) is stopped and started again while 200 cases are resolved through the HTTP API. The web servers keep
answering (requests write the outbox), and in the end exactly 200 resolutions' credits exist, none twice.
"""
from __future__ import annotations

import os
import threading
import uuid

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.db import engine_for
from shared.testing import (Stack, auth, create_pg_database, drop_pg_database, have_rabbitmq_server, pg_enabled,
                            private_broker, wait_until, RUN_ID)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STAFF = auth("gw-1", "grid_worker", "mediator")


@pytest.mark.skipif(not have_rabbitmq_server(), reason="rabbitmq-server is not installed on this machine")
def test_broker_restart_loses_and_doubles_nothing(tmp_path):
    if not pg_enabled():
        pytest.skip("PostgreSQL disabled")
    broker = private_broker(tmp_path / "rabbit")
    broker.start()
    urls = {s: create_pg_database(f"wz_{RUN_ID}_restart_{s}_{os.getpid()}") for s in ("disputes", "points")}
    stack = Stack(["disputes", "points"], urls, broker.url, tmp_path)
    try:
        stack.start()
        people = [f"R-{uuid.uuid4().hex[:6]}-{i}" for i in range(200)]
        restarted = threading.Event()

        def restart_midway():
            wait_until(lambda: resolved[0] >= 60, 120, message="60 resolutions before the restart")
            broker.restart(down_seconds=2)
            restarted.set()

        resolved = [0]
        t = threading.Thread(target=restart_midway)
        t.start()
        for p in people:
            case = requests.post(stack.url("disputes", "/api/v1/cases"), headers=STAFF, timeout=30, json={
                "channel": "qr_code", "category": "neighbour_family", "estate": "汾河新村", "summary": "噪音", "reported_at": "2024-06-01T09:00:00+08:00"}).json()
            r = requests.post(stack.url("disputes", f"/api/v1/cases/{case['id']}/resolutions"), headers=STAFF,
                              timeout=30, json={"text": "协商一致", "resolved_at": "2024-06-14T21:30:18+08:00",
                                                "participants": [{"person_id": p, "role": "volunteer"}]})
            assert r.status_code == 201  # the API keeps answering while the broker is away
            resolved[0] += 1
        t.join(180)
        assert restarted.is_set()

        def credited():
            with Session(engine_for(urls["points"])) as s:
                return s.execute(text("SELECT count(*) FROM transfers WHERE kind = 'credit'")).scalar()

        wait_until(lambda: credited() >= 200, 180, interval=1, message="200 credits")
        with Session(engine_for(urls["points"])) as s:
            rows = s.execute(text("SELECT a.person_id, count(*), sum(t.amount) FROM transfers t JOIN accounts a "
                                  "ON a.id = t.credit_account_id WHERE t.kind = 'credit' GROUP BY a.person_id")).all()
        assert len(rows) == 200 and {r[0] for r in rows} == set(people)
        assert {(r[1], r[2]) for r in rows} == {(1, 20)}
        with Session(engine_for(urls["disputes"])) as s:
            assert s.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar() == 0
    finally:
        codes = stack.stop()
        broker.stop()
        from shared.db import dispose_all
        dispose_all()
        for url in urls.values():
            drop_pg_database(url.rsplit("/", 1)[1])
    assert all(code == 0 for code in codes.values()), codes
