"""The relay's confirms against the real broker: a batch is written at once and each row settled by its own
confirm — acked rows marked sent, a row the broker refuses (nack: a full queue with ``reject-publish``) or cannot
route (returned: no queue bound) recorded as failed and tried again after its back-off, none of them lost."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pika
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.db import engine_for
from shared.models import OutboxMessage
from shared.relay import Relay
from shared.testing import make_settings, migrate
from shared.timeutil import utcnow

pytestmark = pytest.mark.integration

FULL, LOST, FINE = "disputes.case.evaluated.v1", "disputes.case.reopened.v1", "disputes.case.closed.v1"
DATA = {
    FULL: lambda n: {"case_id": f"c{n}", "resolution_no": 1, "rating": 4, "reopened": False,
                     "evaluated_at": "2024-06-14T21:30:18+08:00"},
    LOST: lambda n: {"case_id": f"c{n}", "reason": "evaluation", "reopened_at": "2024-06-20T21:30:18+08:00"},
    FINE: lambda n: {"case_id": f"c{n}", "reason": "withdrawn", "closed_at": "2024-06-14T21:30:18+08:00"},
}


@pytest.fixture
def bus(db_url, amqp_url):
    """The relay of a disputes database on an exchange of this test (the vhost is shared by the run's tests):
    the archive stream unbound from it, so that a type no queue binds is unroutable."""
    tag = uuid.uuid4().hex[:8]
    settings = make_settings("disputes", db_url, amqp_url, exchange=f"test.relay.{tag}",
                             archive_stream=f"test.relay.archive.{tag}")
    migrate("disputes", db_url)
    outbox.configure("disputes", "http://localhost:8001")
    relay = Relay(settings, engine_for(db_url))
    relay.run_once()  # connects and declares the topology on the test's exchange
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.queue_unbind(settings.archive_stream, settings.exchange, routing_key="#")
    full, fine = f"test.relay.full.{tag}", f"test.relay.fine.{tag}"
    channel.queue_declare(full, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    channel.queue_declare(fine)
    channel.queue_bind(full, settings.exchange, routing_key=FULL)
    channel.queue_bind(fine, settings.exchange, routing_key=FINE)
    try:
        yield relay, settings, channel, full, fine
    finally:
        relay.close()
        for queue in (full, fine, settings.archive_stream):
            channel.queue_delete(queue)
        channel.exchange_delete(settings.exchange)
        connection.close()


def stage(engine, *types: str) -> list[str]:
    with Session(engine) as session:
        ids = [outbox.publish(session, t, DATA[t](n), subject=f"cases/c{n}").id for n, t in enumerate(types)]
        session.commit()
    return ids


def rows(engine) -> dict[str, tuple]:
    with Session(engine) as session:
        return {r.id: (r.sent_at is not None, r.attempts, r.last_error, r.next_attempt_at)
                for r in session.scalars(select(OutboxMessage))}


def test_each_row_is_settled_by_its_own_confirm(bus):
    relay, settings, channel, full, fine = bus
    engine = relay.engine
    first_full, second_full, lost, closed = stage(engine, FULL, FULL, LOST, FINE)
    assert relay.run_once() == 2  # one batch: the first FULL and the FINE acked
    state = rows(engine)
    assert state[first_full][:3] == (True, 0, None) and state[closed][:3] == (True, 0, None)
    assert state[second_full][:3] == (False, 1, "NackError")      # the full queue refused it
    assert state[lost][:3] == (False, 1, "UnroutableError")       # no queue is bound to its type
    assert all(state[i][3] > utcnow() for i in (second_full, lost))  # tried again after a back-off, not at once
    assert relay.run_once() == 0  # nothing due before the back-off

    # the operator makes room and binds a queue for the lost type; the back-off passes
    channel.queue_purge(full)
    channel.queue_bind(fine, settings.exchange, routing_key=LOST)
    with Session(engine) as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert relay.run_once() == 2
    assert all(sent for sent, *_ in rows(engine).values())
    got = [channel.basic_get(fine, auto_ack=True)[1].message_id for _ in range(2)]
    assert got == [closed, lost]  # the queue holds each row once, in the order they were sent
    assert channel.basic_get(full, auto_ack=True)[1].message_id == second_full


def test_a_batch_cut_off_by_the_broker_is_released_and_sent_after_reconnecting(bus):
    relay, settings, channel, full, fine = bus
    engine = relay.engine
    # the exchange disappears (an operator's mistake): the broker closes the relay's channel at the first publish
    channel.exchange_delete(settings.exchange)
    ids = stage(engine, FINE, FINE, FINE)
    with pytest.raises(pika.exceptions.AMQPError):
        relay.run_once()
    with Session(engine) as session:
        left = session.execute(select(OutboxMessage.sent_at, OutboxMessage.attempts, OutboxMessage.claimed_by)).all()
    assert left == [(None, 0, None)] * 3  # released at once for the next try, not failed, not left leased
    assert relay.run_once() == 3  # reconnected; the topology (exchange, archive) declared again
    assert all(rows(engine)[i][0] for i in ids)
