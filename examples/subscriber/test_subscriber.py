"""The bureau's example subscriber, run as a real process against a real broker.

- With the limited RabbitMQ user the README tells district IT to create (exact same commands): events a relay
  publishes from a service's outbox are stored once each, a republished event changes nothing, an event outside
  the bindings never arrives, SIGTERM exits 0, and what was published while it was stopped is stored on the next
  run.
- With a broker node of the test's own that is restarted mid-stream: every event is stored exactly once.
"""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pika
import pytest
from sqlalchemy.orm import Session

from shared import events, outbox
from shared.db import engine_for
from shared.models import OutboxMessage
from shared.relay import Relay
from shared.testing import (RUN_ID, have_rabbitmq_server, make_settings, migrate, private_broker,
                            rabbitmqctl, wait_until)

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
DONATION = "relief.donation.received.v1"


@pytest.fixture
def producer_context():
    """``outbox.publish`` names its producing service from process-wide context: set relief's, then restore."""
    saved = dict(outbox._context)
    outbox.configure("relief", "http://localhost:8003")
    yield
    outbox._context.clear()
    outbox._context.update(saved)


def stage_donations(engine, n: int) -> list[str]:
    """Write ``n`` donation events to relief's outbox (as the relief service does); return their ids."""
    with Session(engine) as session:
        rows = [outbox.publish(session, DONATION, {
            "donation_id": str(uuid.uuid4()), "campaign_id": "camp-1", "level": "county", "county": "襄州区",
            "amount": "100.00"}, subject="donations/x") for _ in range(n)]
        session.commit()
        return [r.id for r in rows]


class SubscriberProcess:
    """``subscriber.py`` as a bureau would run it, its log in a file."""

    def __init__(self, url: str, queue: str, patterns: list[str], db: Path, log: Path):
        argv = [sys.executable, str(HERE / "subscriber.py"), "--url", url, "--queue", queue, "--db", str(db),
                "--prefetch", "20"]
        for p in patterns:
            argv += ["--bind", p]
        self.log_path = log
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()


def stored_ids(db: Path) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return [r[0] for r in conn.execute("SELECT id FROM events")]
        except sqlite3.OperationalError:  # the table is not created yet
            return []


def queue_ready(url: str, queue: str, consumers: int = 1) -> bool:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.consumer_count >= consumers
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if conn.is_open:
            conn.close()


def start_relay(settings, engine):
    relay = Relay(settings, engine, poll_interval=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


@pytest.fixture(scope="module")
def bureau_user(amqp_vhost):
    """The limited user district IT creates for bureau X (README.md, "Credentials"), removed afterwards."""
    user, password = f"bureau-x-{RUN_ID}", uuid.uuid4().hex
    rabbitmqctl("add_user", user, password)
    try:
        rabbitmqctl("set_permissions", "-p", amqp_vhost, user,
                    r"^bureau-x\..*", r"^bureau-x\..*", r"^(weizhili\.events|weizhili\.archive|bureau-x\..*)$")
        from urllib.parse import quote
        yield f"amqp://{user}:{password}@127.0.0.1:5672/{quote(amqp_vhost, safe='')}"
    finally:
        rabbitmqctl("delete_user", user)


def test_limited_user_stores_each_event_once_and_stops_on_sigterm(db_url, amqp_url, bureau_user, tmp_path,
                                                                    producer_context):
    migrate("relief", db_url)
    engine = engine_for(db_url)
    settings = make_settings("relief", db_url, amqp_url)
    stop_relay, relay_thread = start_relay(settings, engine)  # it declares the exchange and the archive
    queue, store = f"bureau-x.relief-{uuid.uuid4().hex[:6]}", tmp_path / "bureau.sqlite3"
    sub = SubscriberProcess(bureau_user, queue, ["relief.#"], store, tmp_path / "sub1.log")
    try:
        wait_until(lambda: queue_ready(amqp_url, queue), 60, message="the subscriber's queue and consumer")
        ids = stage_donations(engine, 30)
        # the same event published again (a relay that lost its confirm; an operator's backfill), and an event
        # the bindings do not ask for
        with Session(engine) as s:
            again = s.query(OutboxMessage).filter(OutboxMessage.id.in_(ids[:5])).all()
        other = events.envelope(event_id=str(uuid.uuid4()), source_service="disputes",
                                event_type="disputes.case.evaluated.v1", subject=None,
                                time=datetime.now(timezone.utc), schema_base_url="http://localhost",
                                data={"case_id": "c1", "resolution_no": 1, "rating": 4, "reopened": False})
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        ch = conn.channel()
        ch.confirm_delivery()
        wait_until(lambda: len(stored_ids(store)) >= 30, 60, message="30 events stored")
        for row in again:
            ch.basic_publish(settings.exchange, row.type, row.body.encode(), pika.BasicProperties(
                message_id=row.id, content_type=events.CONTENT_TYPE, delivery_mode=2), mandatory=True)
        ch.basic_publish(settings.exchange, other["type"], json.dumps(other).encode(), pika.BasicProperties(
            message_id=other["id"], content_type=events.CONTENT_TYPE, delivery_mode=2), mandatory=True)
        conn.close()
        wait_until(lambda: "already stored" in sub.output() and sub.output().count("already stored") >= 5, 30,
                   message="the republished events to arrive")
        assert sub.terminate() == 0, sub.output()
        assert sorted(stored_ids(store)) == sorted(ids)

        # published while the subscriber is stopped: its durable queue keeps them for the next run
        later = stage_donations(engine, 5)
        wait_until(lambda: outbox.outbox_state(engine)[0] == 0, 30, message="the relay to publish")
        sub = SubscriberProcess(bureau_user, queue, ["relief.#"], store, tmp_path / "sub2.log")
        wait_until(lambda: len(stored_ids(store)) == 35, 60, message="the later events stored")
        assert sub.terminate() == 0, sub.output()
        assert sorted(stored_ids(store)) == sorted(ids + later)
        with sqlite3.connect(store) as c:
            row = c.execute("SELECT type, source, data FROM events WHERE id = ?", (ids[0],)).fetchone()
            assert row[0] == DONATION and row[1] == "/weizhili/relief"
            assert json.loads(row[2])["county"] == "襄州区"
            assert c.execute("SELECT count(*) FROM unreadable").fetchone()[0] == 0
    finally:
        if sub.proc.poll() is None:
            sub.terminate()
        stop_relay.set()
        relay_thread.join(30)


@pytest.mark.slow
@pytest.mark.skipif(not have_rabbitmq_server(), reason="rabbitmq-server is not installed on this machine")
def test_broker_restart_mid_stream_stores_every_event_exactly_once(tmp_path, producer_context):
    broker = private_broker(tmp_path / "rabbit")
    broker.start()
    db_url = f"sqlite:///{tmp_path / 'relief.sqlite3'}"
    migrate("relief", db_url)
    engine = engine_for(db_url)
    settings = make_settings("relief", db_url, broker.url)
    stop_relay, relay_thread = start_relay(settings, engine)
    queue, store = "bureau-x.relief", tmp_path / "bureau.sqlite3"
    sub = SubscriberProcess(broker.url, queue, ["relief.#"], store, tmp_path / "sub.log")
    try:
        wait_until(lambda: queue_ready(broker.url, queue), 120, message="the subscriber's queue and consumer")
        ids = stage_donations(engine, 150)
        wait_until(lambda: len(stored_ids(store)) >= 40, 60, message="some events stored before the restart")
        broker.stop()
        ids += stage_donations(engine, 100)  # written while the broker is down: the outbox keeps them
        broker.start()
        ids += stage_donations(engine, 50)
        wait_until(lambda: len(stored_ids(store)) >= 300, 120, interval=0.5, message="all 300 events stored")
        assert sub.terminate() == 0, sub.output()
        stored = stored_ids(store)
        assert len(stored) == len(set(stored)) == 300 and set(stored) == set(ids)
        assert "reconnecting" in sub.output()  # it really lost the broker and came back
    finally:
        if sub.proc.poll() is None:
            sub.terminate()
        stop_relay.set()
        relay_thread.join(60)
        broker.stop()
