"""The consumer's fast path with set-based handlers (``shared.consumer.Batched``): each run of consecutive
events of one type goes to the handler as one list, redeliveries are left out, and a failure in a list costs
only its own message (the batch is handled again one savepoint per message). Real databases, no broker:
``handle_batch`` is what the connection thread hands each batch to."""
from __future__ import annotations

import json
import uuid

import pika
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.consumer import Batched, Consumer, Delivery
from shared.db import engine_for
from shared.models import InboxMessage
from shared.testing import make_settings, migrate

EVALUATED, CLOSED = "disputes.case.evaluated.v1", "disputes.case.closed.v1"


def evaluated(case_id: str, event_id: str | None = None) -> dict:
    return {"specversion": "1.0", "id": event_id or str(uuid.uuid4()), "source": "/weizhili/disputes",
            "type": EVALUATED, "data": {"case_id": case_id, "resolution_no": 1, "rating": 4, "reopened": False,
                                        "evaluated_at": "2024-06-14T21:30:18+08:00"}}


def closed(case_id: str) -> dict:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/weizhili/disputes", "type": CLOSED,
            "data": {"case_id": case_id, "reason": "withdrawn", "closed_at": "2024-06-14T21:30:18+08:00"}}


def deliveries(*events: dict) -> list[Delivery]:
    return [Delivery(n + 1, pika.BasicProperties(message_id=e["id"], type=e["type"]), json.dumps(e).encode(),
                     e["type"]) for n, e in enumerate(events)]


def make_consumer(db_url: str, calls: list, fail_on: str | None = None) -> Consumer:
    migrate("points", db_url)

    @Batched
    def many(session, events):
        calls.append(("many", [e["data"]["case_id"] for e in events]))
        if any(e["data"]["case_id"] == fail_on for e in events):
            raise RuntimeError(f"cannot handle {fail_on}")

    def one(session, event):
        calls.append(("one", event["data"]["case_id"]))

    return Consumer(make_settings("points", db_url), engine_for(db_url), "test.batched",
                    {EVALUATED: many, CLOSED: one})


def inbox(db_url: str) -> int:
    with Session(engine_for(db_url)) as s:
        return len(s.scalars(select(InboxMessage.event_id).where(InboxMessage.queue == "test.batched")).all())


def test_runs_of_one_type_go_to_a_batched_handler_as_one_list(db_url):
    calls: list = []
    consumer = make_consumer(db_url, calls)
    a1 = evaluated("A1")
    batch = deliveries(a1, evaluated("A2"), closed("B1"), closed("B2"), evaluated("A3"), a1)
    assert [o.action for o in consumer.handle_batch(batch)] == ["ack"] * 6
    # a1's second copy (the same event id in the same batch) is acked as already applied, never handled
    assert calls == [("many", ["A1", "A2"]), ("one", "B1"), ("one", "B2"), ("many", ["A3"])]
    assert inbox(db_url) == 5
    calls.clear()
    assert [o.action for o in consumer.handle_batch(batch)] == ["ack"] * 6  # a redelivered batch
    assert calls == [] and inbox(db_url) == 5


def test_a_failure_in_a_list_costs_only_its_own_message(db_url):
    calls: list = []
    consumer = make_consumer(db_url, calls, fail_on="A2")
    batch = deliveries(evaluated("A1"), evaluated("A2"), evaluated("A3"))
    assert [o.action for o in consumer.handle_batch(batch)] == ["ack", "retry", "ack"]
    # the fast path failed as a whole, then each message was handled alone (a list of one) in a savepoint
    assert calls == [("many", ["A1", "A2", "A3"]), ("many", ["A1"]), ("many", ["A2"]), ("many", ["A3"])]
    assert inbox(db_url) == 2
