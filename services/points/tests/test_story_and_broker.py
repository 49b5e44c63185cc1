"""The seed's rider story and exactly-once credits, through the real broker and the real consumer.

The other services' relays are stood in for by publishing their CloudEvents onto ``weizhili.events`` (the
test run's own vhost); the points consumer (``points.credits``, inbox in the same transaction as the credit)
runs on its own thread; the points relay publishes our events to a bureau's queue.
"""
from __future__ import annotations

import json
import threading

import pika
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import amqp
from shared.db import engine_for
from shared.models import InboxMessage
from shared.relay import Relay
from shared.testing import auth, make_client, make_settings, wait_until
from services.points.models import CreditDecision, Transfer

from .helpers import CLERK, balance, consumer, hazard, load_seed_configuration, publish, seed, shift

pytestmark = pytest.mark.integration


class Running:
    """The points consumer (and optionally the relay) on threads, stopped on exit."""

    def __init__(self, db_url, amqp_url, relay: bool = False):
        self.stop = threading.Event()
        self.consumer = consumer(db_url, amqp_url)
        targets = [self.consumer.run]
        if relay:
            targets.append(Relay(make_settings("points", db_url, amqp_url), engine_for(db_url)).run)
        self.threads = [threading.Thread(target=t, args=(self.stop,), daemon=True) for t in targets]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def _bureau_queue(amqp_url) -> str:
    """A bureau's own queue bound to every points event (as EVENTS.md tells bureaus to do)."""
    settings = make_settings("points", "sqlite://", amqp_url)
    conn = pika.BlockingConnection(amqp.parameters(amqp_url, name="bureau"))
    try:
        ch = conn.channel()
        amqp.declare_exchanges(ch, settings)
        ch.queue_declare("bureau.points", durable=True)
        ch.queue_bind("bureau.points", settings.exchange, routing_key="points.#")
        ch.queue_purge("bureau.points")
    finally:
        conn.close()
    return "bureau.points"


def _drain(amqp_url, queue) -> list[dict]:
    conn = pika.BlockingConnection(amqp.parameters(amqp_url, name="bureau-reader"))
    out = []
    try:
        ch = conn.channel()
        while True:
            method, _props, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return out
            out.append(json.loads(body))
    finally:
        conn.close()


def test_rider_story_through_the_broker(db_url, amqp_url):
    """Two verified hazard reports (2 × 5) and a two-hour clean-up (2 × 10) earn 30 points; one pack of tissues
    (30 points) is reserved and handed over: balance 0, stock one less, figures in the points report."""
    client = make_client("points", db_url, amqp_url=amqp_url)
    assert set(load_seed_configuration(client)) <= {200, 201}
    again = load_seed_configuration(client)
    assert set(again) == {200}, "replaying the seed's configuration changes nothing"
    assert len(client.get("/api/v1/rules?limit=200", headers=CLERK).get_json()["items"]) == len(seed()["rules"])

    story = seed()["rider_story"]
    rider = seed()["rider"]["person_id"]
    reports = [s for s in story if s["kind"] == "hazard_report"]
    cleanup = next(s for s in story if s["kind"] == "volunteer_shift")
    redemption = next(s for s in story if s["kind"] == "redemption")
    stock_before = client.get(f"/api/v1/catalogue/{redemption['sku']}", headers=CLERK).get_json()["stock"]
    bureau = _bureau_queue(amqp_url)

    with Running(db_url, amqp_url, relay=True):
        publish(amqp_url, *[hazard(rider, r["reported_at"]) for r in reports],
                shift(rider, cleanup["hours"], cleanup["check_out"], cleanup["activity"]))
        wait_until(lambda: (balance(client, rider) or {}).get("balance") == 30, 60, message="30 points credited")

        me = auth(rider, "resident")
        r = client.post("/api/v1/redemptions", headers={**me, "Idempotency-Key": "rider-tissues-1"},
                        json={"items": [{"sku": redemption["sku"], "quantity": redemption["quantity"]}]})
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["points"] == 30 and r.get_json()["status"] == "reserved"
        assert balance(client, rider)["available"] == 0 and balance(client, rider)["balance"] == 30
        done = client.post(f"/api/v1/redemptions/{r.get_json()['id']}/hand-over", json={}, headers=CLERK)
        assert done.status_code == 200 and done.get_json()["status"] == "redeemed"

        wanted = {"points.credited.v1": 3, "points.redemption.reserved.v1": 1, "points.redeemed.v1": 1}
        received: list[dict] = []

        def all_out():
            received.extend(_drain(amqp_url, bureau))
            return all(sum(e["type"] == t for e in received) >= n for t, n in wanted.items())

        wait_until(all_out, 60, message="points events at the bureau's queue")

    account = balance(client, rider)
    assert account["balance"] == 0 and account["available"] == 0
    assert {(e["rule"], e["points"]) for e in account["entries"] if e["kind"] == "credit"} == {
        ("hazard_photo_report", 5), ("environment_cleanup", 20)}
    assert all(e["cause_event_id"] for e in account["entries"] if e["kind"] == "credit")
    item = client.get(f"/api/v1/catalogue/{redemption['sku']}", headers=CLERK).get_json()
    assert item["stock"] == stock_before - 1 and item["reserved"] == 0

    report = client.get("/api/v1/reports/points", headers=CLERK).get_json()
    assert report["issued_by_rule"] == {"hazard_photo_report": 10, "environment_cleanup": 20}
    assert report["issued_total"] == 30 and report["redeemed_total"] == 30 and report["redemptions"] == 1
    assert report["outstanding_total"] == 0
    assert report["catalogue_stock"][redemption["sku"]] == stock_before - 1
    assert report["merchants"] == len(seed()["merchants"])

    redeemed = next(e for e in received if e["type"] == "points.redeemed.v1")
    assert redeemed["data"]["person_id"] == rider and redeemed["data"]["points"] == 30
    assert redeemed["data"]["items"] == [{"sku": redemption["sku"], "quantity": 1, "points_price": 30}]
    credited = [e["data"] for e in received if e["type"] == "points.credited.v1"]
    assert sorted(c["points"] for c in credited) == [5, 5, 20] and all(c["person_id"] == rider for c in credited)
    text = json.dumps(received, ensure_ascii=False)
    assert seed()["rider"]["name"] not in text and seed()["rider"]["phone"] not in text


def test_same_event_twice_through_the_broker_credits_once(db_url, amqp_url):
    """The same event id published twice into points.credits, and the same report under a new event id:
    one credit, one inbox row per event id, the second cause recorded as a duplicate."""
    client = make_client("points", db_url, amqp_url=amqp_url)
    load_seed_configuration(client)
    event = hazard("P000777", "2024-09-10T16:30:00+08:00")
    twin = hazard("P000777", "2024-09-10T16:30:00+08:00", report_id=event["data"]["report_id"])
    engine = engine_for(db_url)

    def inbox_ids():
        with Session(engine) as s:
            return set(s.scalars(select(InboxMessage.event_id).where(InboxMessage.queue == "points.credits")))

    with Running(db_url, amqp_url) as running:
        publish(amqp_url, event, event)
        wait_until(lambda: running.consumer.handled >= 2, 60, message="both deliveries handled")
        publish(amqp_url, twin, event)
        wait_until(lambda: running.consumer.handled >= 4, 60, message="the twin and the third copy handled")

    assert inbox_ids() == {event["id"], twin["id"]}
    with Session(engine) as s:
        credits = s.scalars(select(Transfer).where(Transfer.kind == "credit")).all()
        assert [(c.amount, c.cause_event_id) for c in credits] == [(5, event["id"])]
        duplicates = s.scalar(select(func.count()).select_from(CreditDecision).where(
            CreditDecision.outcome == "duplicate", CreditDecision.cause_event_id == twin["id"]))
        assert duplicates == 1
    assert balance(client, "P000777")["balance"] == 5
