"""The operator tools (``python -m shared.ops``) against the real broker (this run's vhost) and both databases.

- ``dead list`` shows each dead letter's id, type, original routing key, reason and retry count, and removes
  nothing (a second listing sees the same messages in the same order);
- ``dead redrive`` moves the chosen dead letters back to their queue, where the (fixed) consumer handles them;
- ``backfill`` republishes exactly the outbox rows of the time range (and type) to a bureau's queue, with the
  same ids and unchanged bodies, and refuses a queue that does not exist;
- ``lag`` reports pending and retrying outbox rows;
- every action appends its audit line; the exit status is 0, 1 on failure, 2 on a usage error.
"""
from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pika
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared import ops, outbox
from shared.consumer import Consumer
from shared.db import engine_for
from shared.models import InboxMessage, OutboxMessage
from shared.testing import REPO, make_settings, migrate, wait_until

pytestmark = pytest.mark.integration

TYPE = "disputes.case.evaluated.v1"
DONATION = "relief.donation.received.v1"
FAILED = "relief.disbursement.failed.v1"
CST = timezone(timedelta(hours=8))


@pytest.fixture
def audit_file(tmp_path):
    return tmp_path / "audit.jsonl"


def run_ops(capsys, audit_file, amqp_url, *argv) -> tuple[int, str]:
    """``python -m shared.ops ARGV`` in this process; returns (exit status, stdout)."""
    capsys.readouterr()
    code = ops.main([*argv, "--operator", "tester", "--audit-file", str(audit_file), "--amqp-url", amqp_url])
    return code, capsys.readouterr().out


def audit_lines(audit_file) -> list[dict]:
    return [json.loads(line) for line in audit_file.read_text(encoding="utf-8").splitlines()]


def queue_depth(amqp_url: str, queue: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def evaluated(case_id: str) -> dict:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/weizhili/disputes", "type": TYPE,
            "data": {"case_id": case_id, "resolution_no": 1, "rating": 2, "reopened": False,
                     "evaluated_at": "2024-06-14T21:30:18+08:00"}}


@pytest.fixture
def failing_consumer(db_url, amqp_url):
    """A consumer whose handler fails until ``state['broken']`` is cleared, with three events and one
    unparseable message already in its ``.dead`` queue."""
    migrate("points", db_url)
    engine = engine_for(db_url)
    settings = make_settings("points", db_url, amqp_url, retry_delays_ms=(100,))
    queue = f"opstest.{uuid.uuid4().hex[:6]}"
    state = {"broken": True}

    def handler(session, event):
        if state["broken"]:
            raise RuntimeError("ledger unavailable")

    consumer = Consumer(settings, engine, queue, {TYPE: handler})
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    wait_until(lambda: _exists(amqp_url, queue + ".dead"), 30, message="the consumer's queues")
    sent = [evaluated(f"case-{i}") for i in range(3)]
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = conn.channel()
    ch.confirm_delivery()  # closed right after: only a confirm says the broker has routed each message
    for e in sent:
        ch.basic_publish(settings.exchange, TYPE, json.dumps(e).encode(), pika.BasicProperties(
            message_id=e["id"], type=TYPE, delivery_mode=2, content_type="application/cloudevents+json"))
    ch.basic_publish(settings.exchange, TYPE, b"not a cloud event", pika.BasicProperties(message_id="garbage"))
    conn.close()
    wait_until(lambda: queue_depth(amqp_url, queue + ".dead") == 4, 30, message="4 dead letters")
    yield {"queue": queue, "sent": sent, "state": state, "engine": engine}
    stop.set()
    thread.join(30)


def _exists(amqp_url, queue) -> bool:
    try:
        queue_depth(amqp_url, queue)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False


def handled(engine, queue) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.queue == queue))


def test_dead_list_shows_reasons_and_removes_nothing(failing_consumer, amqp_url, audit_file, capsys):
    queue = failing_consumer["queue"]
    code, out = run_ops(capsys, audit_file, amqp_url, "dead", "list", "--queue", queue, "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    by_id = {r["message_id"]: r for r in rows}
    assert len(rows) == 4 and set(by_id) == {e["id"] for e in failing_consumer["sent"]} | {"garbage"}
    for e in failing_consumer["sent"]:
        r = by_id[e["id"]]
        assert r["queue"] == queue + ".dead" and r["type"] == TYPE and r["original_routing_key"] == TYPE
        assert r["reason"] == "RuntimeError: ledger unavailable" and r["retry_count"] == 1
        assert datetime.fromisoformat(r["dead_lettered_at"]).tzinfo is not None
    assert by_id["garbage"]["reason"].startswith("unparseable") and by_id["garbage"]["retry_count"] == 0

    # nothing was removed, and the order is kept; the table form names the reasons too
    code, again = run_ops(capsys, audit_file, amqp_url, "dead", "list", "--queue", queue + ".dead", "--json")
    assert code == 0 and [json.loads(line)["message_id"] for line in again.splitlines()] == [r["message_id"] for r in rows]
    code, table = run_ops(capsys, audit_file, amqp_url, "dead", "list", "--queue", queue)
    assert "ledger unavailable" in table and "unparseable" in table
    assert queue_depth(amqp_url, queue + ".dead") == 4
    lines = audit_lines(audit_file)
    assert len(lines) == 3 and all(a["action"] == "dead.list" and a["operator"] == "tester" and a["ok"] for a in lines)
    assert lines[0]["result"] == {"dead_letters": 4, "per_queue": {queue + ".dead": 4}}


def test_dead_redrive_moves_messages_back_and_they_are_consumed(failing_consumer, amqp_url, audit_file, capsys):
    queue, engine, sent = failing_consumer["queue"], failing_consumer["engine"], failing_consumer["sent"]
    failing_consumer["state"]["broken"] = False  # the fix is deployed

    code, out = run_ops(capsys, audit_file, amqp_url, "dead", "redrive", "--queue", queue, "--id", sent[1]["id"])
    assert code == 0 and json.loads(out)["redriven"] == 1
    wait_until(lambda: handled(engine, queue) == 1, 30, message="the redriven event handled")
    assert queue_depth(amqp_url, queue + ".dead") == 3

    code, out = run_ops(capsys, audit_file, amqp_url, "dead", "redrive", "--queue", queue, "--id", "no-such-id")
    assert code == 1 and json.loads(out)["not_found"] == ["no-such-id"]
    assert queue_depth(amqp_url, queue + ".dead") == 3

    code, out = run_ops(capsys, audit_file, amqp_url, "dead", "redrive", "--queue", queue, "--all")
    assert code == 0 and json.loads(out)["redriven"] == 3
    wait_until(lambda: handled(engine, queue) == 3, 30, message="every event handled once")
    with Session(engine) as s:
        ids = set(s.scalars(select(InboxMessage.event_id).where(InboxMessage.queue == queue)))
    assert ids == {e["id"] for e in sent}
    # the unparseable message is still unparseable: it goes dead again, with a fresh retry count
    wait_until(lambda: queue_depth(amqp_url, queue + ".dead") == 1, 30, message="the garbage back in .dead")
    code, out = run_ops(capsys, audit_file, amqp_url, "dead", "list", "--queue", queue, "--json")
    (garbage,) = [json.loads(line) for line in out.splitlines()]
    assert garbage["message_id"] == "garbage" and garbage["retry_count"] == 0

    results = [(a["action"], a["ok"], a["result"].get("redriven")) for a in audit_lines(audit_file)]
    assert results == [("dead.redrive", True, 1), ("dead.redrive", False, 0), ("dead.redrive", True, 3),
                       ("dead.list", True, None)]


def stage(engine, event_type: str, created_at: datetime) -> OutboxMessage:
    data = ({"donation_id": str(uuid.uuid4()), "campaign_id": "camp-1", "level": "city", "county": None,
             "amount": "50.00"} if event_type == DONATION else
            {"disbursement_id": str(uuid.uuid4()), "campaign_id": "camp-1", "level": "city", "county": None,
             "reason": "bank_rejected"})
    with Session(engine, expire_on_commit=False) as session:
        row = outbox.publish(session, event_type, data)
        session.flush()
        session.execute(update(OutboxMessage).where(OutboxMessage.seq == row.seq).values(created_at=created_at))
        session.commit()
        return row


@pytest.fixture
def relief_db(db_url, monkeypatch):
    saved = dict(outbox._context)
    outbox.configure("relief", "http://localhost:8003")
    migrate("relief", db_url)
    monkeypatch.setenv("RELIEF_DATABASE_URL", db_url)
    yield engine_for(db_url)
    outbox._context.clear()
    outbox._context.update(saved)


def test_backfill_republishes_exactly_the_rows_in_range(relief_db, amqp_url, audit_file, capsys):
    start = datetime(2024, 6, 1, 0, 0, tzinfo=CST)
    rows = [stage(relief_db, DONATION if i % 4 else FAILED, start + timedelta(hours=i)) for i in range(10)]
    bureau = f"bureau-x.backfill-{uuid.uuid4().hex[:6]}"
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    conn.channel().queue_declare(bureau, durable=True, arguments={"x-queue-type": "quorum"})
    conn.close()

    # [02:00, 07:00) in +08:00 written in UTC: rows 2..6; only donations (row 4 is a failed disbursement)
    code, out = run_ops(capsys, audit_file, amqp_url, "backfill", "--service", "relief",
                        "--since", "2024-05-31T18:00:00+00:00", "--until", "2024-06-01T07:00:00+08:00",
                        "--to-queue", bureau, "--type", DONATION)
    assert code == 0 and json.loads(out)["published"] == 4
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = conn.channel()
    got = []
    while (msg := ch.basic_get(bureau, auto_ack=True))[0] is not None:
        got.append(msg)
    conn.close()
    expected = [rows[i] for i in (2, 3, 5, 6)]
    assert [p.message_id for _, p, _ in got] == [r.id for r in expected]  # same ids, in commit order
    assert [b.decode() for _, _, b in got] == [r.body for r in expected]  # unchanged bodies
    assert all(p.type == DONATION and p.app_id == "relief" and p.delivery_mode == 2 for _, p, _ in got)

    # a queue that does not exist is refused before anything is sent; a naive time is a usage error
    code, _ = run_ops(capsys, audit_file, amqp_url, "backfill", "--service", "relief", "--since",
                      "2024-06-01T00:00:00+08:00", "--until", "2024-06-02T00:00:00+08:00", "--to-queue", "no.such")
    assert code == 1
    with pytest.raises(SystemExit) as exc:
        ops.main(["backfill", "--service", "relief", "--since", "2024-06-01T00:00:00", "--until",
                  "2024-06-02T00:00:00+08:00", "--to-queue", bureau, "--audit-file", str(audit_file)])
    assert exc.value.code == 2
    audit = audit_lines(audit_file)
    assert [(a["action"], a["ok"]) for a in audit] == [("backfill", True), ("backfill", False)]
    assert audit[0]["result"]["published"] == 4 and audit[0]["args"]["to_queue"] == bureau
    assert "no.such does not exist" in audit[1]["result"]["error"]


def test_lag_reports_pending_and_retrying_rows(relief_db, amqp_url, audit_file, capsys):
    rows = [stage(relief_db, DONATION, datetime.now(timezone.utc) - timedelta(minutes=5)) for _ in range(3)]
    with Session(relief_db) as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.seq == rows[0].seq).values(attempts=2,
                                                                                          last_error="NackError"))
        s.commit()
    code, out = run_ops(capsys, audit_file, amqp_url, "lag", "--service", "relief", "--json")
    (state,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and state["pending"] == 3 and state["retrying"] == 1
    assert 290 <= state["oldest_pending_seconds"] < 3600

    with Session(relief_db) as s:
        s.execute(update(OutboxMessage).values(sent_at=datetime.now(timezone.utc)))
        s.commit()
    # as an operator runs it: a separate process, settings from the environment
    env = {**os.environ, "RELIEF_DATABASE_URL": str(relief_db.url.render_as_string(hide_password=False))}
    done = subprocess.run([sys.executable, "-m", "shared.ops", "lag", "--service", "relief", "--json",
                           "--audit-file", str(audit_file)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"service": "relief", "pending": 0, "oldest_pending_seconds": 0.0,
                                       "retrying": 0}
    with pytest.raises(SystemExit) as exc:
        ops.main(["lag", "--service", "nosuch", "--audit-file", str(audit_file)])
    assert exc.value.code == 2  # a usage error does nothing, and writes no audit line
    audit = audit_lines(audit_file)
    assert [a["action"] for a in audit] == ["lag", "lag"]
    assert audit[0]["result"] == [{"service": "relief", "pending": 3, "retrying": 1,
                                   "oldest_pending_seconds": state["oldest_pending_seconds"]}]
    assert audit[1]["operator"] == (os.environ.get("USER") or getpass.getuser())  # no --operator: $USER
