"""After an upgrade a queue may already exist with other arguments (an earlier release declared it, or an
operator changed it with a policy). RabbitMQ refuses the new declaration (406) and closes the channel; the
relay and the consumers must keep working with the queue as it is, and say so."""
from __future__ import annotations

import logging
import threading
import uuid

import pika
import pytest

from shared import amqp
from shared.consumer import Consumer
from shared.db import engine_for
from shared.relay import Relay
from shared.testing import make_settings, migrate, wait_until

pytestmark = pytest.mark.integration


def test_a_queue_with_other_arguments_is_kept_and_the_pipeline_still_flows(tmp_path, amqp_url, caplog):
    url = f"sqlite:///{tmp_path / 'points.sqlite3'}"
    migrate("points", url)
    settings = make_settings("points", url, amqp_url)
    queue = f"upgrade.{uuid.uuid4().hex[:6]}"
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = conn.channel()
    # as an earlier release left it: a dead-letter queue without today's explicit delivery limit
    ch.queue_declare(amqp.dead_queue(queue), durable=True, arguments={"x-queue-type": "quorum"})
    with caplog.at_level(logging.WARNING, logger="weizhili.amqp"):
        amqp.declare_consumer_queue(ch, settings, queue, ["disputes.case.evaluated.v1"])
    assert ch.is_open  # the caller's channel survives the refusal
    assert any(amqp.dead_queue(queue) in r.getMessage() for r in caplog.records)
    ch.queue_declare(queue, passive=True)  # the rest of the topology was declared
    conn.close()

    handled = []
    consumer = Consumer(settings, engine_for(url), queue, {"disputes.case.evaluated.v1": lambda s, e: handled.append(e["id"])})
    stop = threading.Event()
    t = threading.Thread(target=consumer.run, args=(stop,))
    t.start()
    try:
        from shared import outbox
        from sqlalchemy.orm import Session
        outbox.configure("points", "http://localhost")
        with Session(engine_for(url)) as session:
            row = outbox.publish(session, "disputes.case.evaluated.v1", {
                "case_id": "c1", "resolution_no": 1, "rating": 5, "reopened": False,
                "evaluated_at": "2024-06-14T21:30:18+08:00"})
            session.commit()
            event_id = row.id
        relay = Relay(settings, engine_for(url))
        wait_until(lambda: relay.run_once() or event_id in handled, 30, message="the event through the pipeline")
        relay.close()
    finally:
        stop.set()
        t.join(30)
    assert handled.count(event_id) == 1
