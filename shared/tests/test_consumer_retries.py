"""The consumer's failure paths against the real broker: a handler that fails is retried through the delay
tiers and succeeds; one that always fails ends in ``<queue>.dead`` with its reason, and neither blocks the
messages behind it. A handler slower than the heartbeat interval does not cost the connection."""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import replace

import pika
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.consumer import Consumer
from shared.db import engine_for
from shared.models import InboxMessage
from shared.testing import make_settings, migrate, wait_until

pytestmark = pytest.mark.integration

TYPE = "disputes.case.evaluated.v1"


def event(data=None):
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/weizhili/test", "type": TYPE,
            "data": data or {"case_id": "c1", "resolution_no": 1, "rating": 4, "reopened": False,
                             "evaluated_at": "2024-06-14T21:30:18+08:00"}}


@pytest.fixture
def setup(tmp_path, amqp_url):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    migrate("points", url)
    settings = make_settings("points", url, amqp_url, retry_delays_ms=(100, 300))
    return settings, engine_for(url)


def publish(settings, *events):
    conn = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    ch = conn.channel()
    ch.confirm_delivery()  # closed right after: only a confirm says the broker has routed each message
    for e in events:
        ch.basic_publish(settings.exchange, e["type"], json.dumps(e).encode(),
                         pika.BasicProperties(message_id=e["id"], delivery_mode=2,
                                              content_type="application/cloudevents+json"))
    conn.close()


def dead_letters(settings, queue):
    conn = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    ch = conn.channel()
    out = []
    while True:
        method, props, body = ch.basic_get(queue + ".dead", auto_ack=True)
        if not method:
            break
        out.append((props.message_id, props.headers))
    conn.close()
    return out


def run_consumer(settings, engine, queue, handlers):
    consumer = Consumer(settings, engine, queue, handlers)
    stop = threading.Event()
    t = threading.Thread(target=consumer.run, args=(stop,))
    t.start()
    wait_until(lambda: _queue_exists(settings, queue), 20, message="queue declared")
    return consumer, stop, t


def _queue_exists(settings, queue):
    conn = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        conn.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if conn.is_open:
            conn.close()


def handled(engine, queue):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.queue == queue))


def test_transient_failure_is_retried_then_handled_once(setup):
    settings, engine = setup
    queue = f"test.retry.{uuid.uuid4().hex[:6]}"
    calls = {}

    def flaky(session, e):
        calls[e["id"]] = calls.get(e["id"], 0) + 1
        if calls[e["id"]] < 3:
            raise RuntimeError("not yet")

    consumer, stop, t = run_consumer(settings, engine, queue, {TYPE: flaky})
    try:
        e = event()
        publish(settings, e)
        wait_until(lambda: handled(engine, queue) == 1, 30, message="handled after two retries")
        assert calls[e["id"]] == 3
    finally:
        stop.set()
        t.join(30)
    assert dead_letters(settings, queue) == []


def test_permanent_failure_goes_dead_with_its_reason_and_does_not_block(setup):
    settings, engine = setup
    queue = f"test.dead.{uuid.uuid4().hex[:6]}"
    poison, good = event({"case_id": "poison", "resolution_no": 1, "rating": 1, "reopened": True,
                          "evaluated_at": "2024-06-14T21:30:18+08:00"}), event()

    def handler(session, e):
        if e["data"]["case_id"] == "poison":
            raise ValueError("cannot handle this one")

    consumer, stop, t = run_consumer(settings, engine, queue, {TYPE: handler})
    try:
        publish(settings, poison, good)
        wait_until(lambda: handled(engine, queue) == 1, 30, message="the good event")
        dead = wait_until(lambda: dead_letters(settings, queue), 30, message="the poison in .dead")
    finally:
        stop.set()
        t.join(30)
    assert [d[0] for d in dead] == [poison["id"]]
    headers = dead[0][1]
    assert "ValueError: cannot handle this one" in headers["x-death-reason"]
    assert headers["x-retry-count"] == len(settings.retry_delays_ms)
    assert headers["x-original-routing-key"] == TYPE


def test_unknown_type_and_missing_attributes_go_dead_at_once(setup):
    settings, engine = setup
    queue = f"test.unknown.{uuid.uuid4().hex[:6]}"
    consumer, stop, t = run_consumer(settings, engine, queue, {TYPE: lambda s, e: None})
    conn = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    ch = conn.channel()
    ch.confirm_delivery()  # closed right after: only a confirm says the broker has routed each message
    ch.queue_bind(queue, settings.exchange, "other.thing.v1")
    no_id = {"specversion": "1.0", "source": "/x", "type": TYPE, "data": {}}
    ch.basic_publish(settings.exchange, TYPE, json.dumps(no_id).encode(), pika.BasicProperties(message_id="no-id"))
    other = {**event(), "type": "other.thing.v1"}
    ch.basic_publish(settings.exchange, "other.thing.v1", json.dumps(other).encode(),
                     pika.BasicProperties(message_id="other"))
    conn.close()
    dead = []  # basic_get takes messages off the queue: gather them across polls
    try:
        wait_until(lambda: dead.extend(dead_letters(settings, queue)) or len(dead) >= 2, 30, message="2 dead")
    finally:
        stop.set()
        t.join(30)
    reasons = {d[0]: d[1]["x-death-reason"] for d in dead}
    assert reasons["no-id"].startswith("unparseable") and reasons["other"].startswith("no handler")
    assert all(d[1]["x-retry-count"] == 0 for d in dead)


def test_a_slow_handler_keeps_its_connection(setup, monkeypatch):
    settings, engine = setup
    from shared import amqp
    original = amqp.parameters
    monkeypatch.setattr(amqp, "parameters", lambda url, **kw: original(url, **{**kw, "heartbeat": 4}))
    queue = f"test.slow.{uuid.uuid4().hex[:6]}"
    import time

    def slow(session, e):
        time.sleep(14)  # over three heartbeat intervals: the I/O thread must keep servicing the connection

    consumer, stop, t = run_consumer(settings, engine, queue, {TYPE: slow})
    try:
        publish(settings, event())
        wait_until(lambda: handled(engine, queue) == 1, 180, message="the slow event")
    finally:
        stop.set()
        t.join(30)
    assert dead_letters(settings, queue) == []
