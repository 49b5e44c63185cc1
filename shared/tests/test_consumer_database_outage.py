"""Regression (found by the chaos run, issue 10): while the consumer's database refuses connections, the batch in
hand stays unacked and is tried again with growing pauses — it is not requeued once a second. Each requeue is a
delivery attempt, and a quorum queue dead-letters a message after ``x-delivery-limit`` of them: a 40-second
outage of the points database with a backlog in ``points.credits`` sent 87 valid events to ``.dead``.
Here the limit is 3 and the outage 8 seconds; every event is still handled once and ``.dead`` stays empty."""
from __future__ import annotations

import json
import threading
import time
import uuid

import pika
import pytest
from sqlalchemy import text

from shared.consumer import Consumer
from shared.db import engine_for
from shared.testing import _pg_admin, make_settings, migrate, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TYPE = "disputes.case.resolved.v1"


def resolved(n: int) -> dict:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/weizhili/disputes", "type": TYPE,
            "data": {"case_id": f"outage-{n}", "resolution_no": 1, "category": "neighbour_family", "grade": "blue",
                     "resolved_at": "2024-06-14T21:30:18+08:00", "session_id": None,
                     "participants": [{"person_id": f"P-OUT-{n}", "role": "mediator"}]}}


def test_a_database_outage_spends_no_delivery_attempts(pg_url, amqp_url):
    from services.points.handlers import SUBSCRIPTIONS
    from shared import outbox
    outbox.configure("points", "http://localhost:8002")  # the handlers publish points.credited.v1, as the worker
    migrate("points", pg_url)
    db_name = pg_url.rsplit("/", 1)[1]
    settings = make_settings("points", pg_url, amqp_url, delivery_limit=3, queue_type="quorum")
    queue = f"test.outage.{uuid.uuid4().hex[:8]}"
    consumer = Consumer(settings, engine_for(pg_url), queue, SUBSCRIPTIONS["points.credits"], batch_size=10)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))

    def declared():
        try:
            conn.channel().queue_declare(queue, passive=True)
            return True
        except pika.exceptions.ChannelClosedByBroker:
            return False

    wait_until(declared, 30, message="the consumer's queue")
    ch = conn.channel()
    ch.confirm_delivery()  # only a confirm says the broker has routed each message
    with _pg_admin() as admin:
        admin.execute(f'ALTER DATABASE "{db_name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (db_name,))
    try:
        for n in range(20):
            e = resolved(n)
            ch.basic_publish(settings.exchange, TYPE, json.dumps(e).encode(), pika.BasicProperties(
                message_id=e["id"], delivery_mode=2, content_type="application/cloudevents+json"))
        time.sleep(8)  # requeueing once a second would pass the delivery limit of 3 twice over
    finally:
        with _pg_admin() as admin:
            admin.execute(f'ALTER DATABASE "{db_name}" ALLOW_CONNECTIONS true')

    def credits():
        with engine_for(pg_url).connect() as c:
            return c.execute(text("SELECT count(*) FROM transfers WHERE kind = 'credit'")).scalar()

    try:
        wait_until(lambda: credits() >= 20, 90, interval=0.5, message="20 credits after the outage")
        time.sleep(1)
        assert credits() == 20
        method, _props, _body = ch.basic_get(queue + ".dead", auto_ack=False)
        assert method is None, "a valid event was dead-lettered during the outage"
    finally:
        stop.set()
        thread.join(30)
        conn.close()  # the queues go with the run's vhost
