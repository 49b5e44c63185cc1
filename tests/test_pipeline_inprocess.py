"""The first flow through the real broker, with the relay and the consumer in this process.

disputes resolves a case → outbox → relay → weizhili.events → points.credits → inbox + ledger credit.
"""
from __future__ import annotations

import threading

import pytest

from shared.consumer import Consumer
from shared.relay import Relay
from shared.testing import auth, make_client, make_settings, wait_until

pytestmark = pytest.mark.integration


def _account(points_client, person_id):
    r = points_client.get(f"/api/v1/accounts/{person_id}", headers=auth("clerk-1", "clerk"))
    return r.get_json() if r.status_code == 200 else None


def test_resolved_case_credits_participants_once(db_url, amqp_url, tmp_path):
    disputes_url = db_url
    points_url = f"sqlite:///{tmp_path / 'points.sqlite3'}" if db_url.startswith("sqlite") else db_url + "_points"
    if not db_url.startswith("sqlite"):
        from shared.testing import create_pg_database, drop_pg_database
        create_pg_database(points_url.rsplit("/", 1)[1])
    try:
        disputes = make_client("disputes", disputes_url, amqp_url=amqp_url)
        points = make_client("points", points_url, amqp_url=amqp_url)
        staff = auth("gw-1", "grid_worker", "mediator")
        case = disputes.post("/api/v1/cases", json={"channel": "hotline", "category": "neighbour_family",
                                                     "subcategory": "water_leak", "estate": "汾河新村",
                                                     "summary": "楼上漏水", "reported_at": "2024-06-01T09:00:00+08:00"}, headers=staff).get_json()
        r = disputes.post(f"/api/v1/cases/{case['id']}/resolutions", headers=staff, json={
            "text": "修好了", "resolved_at": "2024-06-14T21:30:18+08:00",
            "participants": [{"person_id": "P100", "role": "mediator"},
                             {"person_id": "P101", "role": "grid_worker"},
                             {"person_id": "P102", "role": "building_head"}]})
        assert r.status_code == 201, r.get_json()

        from shared.db import engine_for
        d_settings = make_settings("disputes", disputes_url, amqp_url)
        p_settings = make_settings("points", points_url, amqp_url)
        stop = threading.Event()
        relay = Relay(d_settings, engine_for(disputes_url))
        from services.points.handlers import SUBSCRIPTIONS
        consumer = Consumer(p_settings, engine_for(points_url), "points.credits", SUBSCRIPTIONS["points.credits"])
        threads = [threading.Thread(target=relay.run, args=(stop,)), threading.Thread(target=consumer.run, args=(stop,))]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: _account(points, "P102"), 30, message="credit for P102")
            wait_until(lambda: _account(points, "P100"), 30, message="credit for P100")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        assert _account(points, "P100")["balance"] == 20
        assert _account(points, "P102")["balance"] == 20
        assert _account(points, "P101") is None  # grid workers are not in the rule's roles
        entry = _account(points, "P100")["entries"][0]
        assert entry["rule"] == "dispute_mediation" and entry["points"] == 20 and entry["cause_event_id"]
    finally:
        if not db_url.startswith("sqlite"):
            from shared.db import dispose_all
            dispose_all()
            drop_pg_database(points_url.rsplit("/", 1)[1])
