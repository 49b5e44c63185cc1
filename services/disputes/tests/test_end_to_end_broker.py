"""End to end with the real broker: relay (disputes) → weizhili.events → points consumer credits the
participants of a resolved case; a hazard report verification publishes disputes.hazard_report.verified.v1."""
from __future__ import annotations

import json
import threading
import uuid

import pytest

from shared import amqp
from shared.consumer import Consumer
from shared.db import dispose_all, engine_for
from shared.relay import Relay
from shared.testing import auth, create_pg_database, drop_pg_database, make_client, make_settings, wait_until

from .helpers import GW, MEDIATOR, new_case, resident

pytestmark = pytest.mark.integration


def _account(points, person_id):
    r = points.get(f"/api/v1/accounts/{person_id}", headers=auth("clerk-1", "clerk"))
    return r.get_json() if r.status_code == 200 else None


def test_resolution_credits_points_and_hazard_verification_is_published(db_url, amqp_url, tmp_path):
    pg = not db_url.startswith("sqlite")
    points_url = db_url + "_points" if pg else f"sqlite:///{tmp_path / 'points.sqlite3'}"
    if pg:
        create_pg_database(points_url.rsplit("/", 1)[1])
    try:
        # the outbox names its producer per process (shared.outbox.configure): make disputes' app last
        points = make_client("points", points_url, amqp_url=amqp_url)
        disputes = make_client("disputes", db_url, amqp_url=amqp_url)
        d_settings = make_settings("disputes", db_url, amqp_url)
        # our own subscriber for the hazard event, bound before anything is published
        conn = amqp.connect(amqp_url, name="disputes-test")
        channel = conn.channel()
        amqp.declare_exchanges(channel, d_settings)
        queue = f"test.hazards.{uuid.uuid4().hex[:8]}"
        channel.queue_declare(queue, exclusive=True)
        channel.queue_bind(queue, d_settings.exchange, "disputes.hazard_report.verified.v1")

        case = new_case(disputes, scale=2, difficulty=2, social_impact=1)
        r = disputes.post(f"/api/v1/cases/{case['id']}/resolutions", headers=MEDIATOR, json={
            "text": "协商一致", "resolved_at": "2024-06-14T21:30:18+08:00",
            "participants": [{"person_id": "P200", "role": "mediator"}, {"person_id": "P201", "role": "volunteer"},
                             {"person_id": "P202", "role": "grid_worker"}]})
        assert r.status_code == 201
        rider = resident("P009718")
        report = disputes.post("/api/v1/hazard-reports", headers=rider, json={
            "photo": "media:hz-1", "estate": "安康小区", "location": "井盖破损",
            "reported_at": "2024-09-10T12:40:00+08:00"}).get_json()
        assert disputes.post(f"/api/v1/hazard-reports/{report['id']}/verification", headers=GW,
                             json={"at": "2024-09-10T16:30:00+08:00"}).status_code == 200

        stop = threading.Event()
        from services.points.handlers import SUBSCRIPTIONS
        relay = Relay(d_settings, engine_for(db_url))
        consumer = Consumer(make_settings("points", points_url, amqp_url), engine_for(points_url), "points.credits",
                            SUBSCRIPTIONS["points.credits"])
        threads = [threading.Thread(target=relay.run, args=(stop,)), threading.Thread(target=consumer.run, args=(stop,))]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: _account(points, "P200") and _account(points, "P201"), 30, message="credits")

            def hazard_message():
                method, props, body = channel.basic_get(queue, auto_ack=True)
                return (props, json.loads(body)) if method else None

            props, event = wait_until(hazard_message, 30, message="hazard event")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
            conn.close()
        assert _account(points, "P200")["balance"] == 20 and _account(points, "P201")["balance"] == 20
        assert _account(points, "P202") is None  # grid workers are not in the default rule's roles
        assert event["type"] == "disputes.hazard_report.verified.v1" and props.message_id == event["id"]
        assert event["data"]["report_id"] == report["id"] and event["data"]["reporter_person_id"] == "P009718"
        assert event["source"].endswith("disputes") and event["subject"] == f"hazard-reports/{report['id']}"
    finally:
        if pg:
            dispose_all()
            drop_pg_database(points_url.rsplit("/", 1)[1])
