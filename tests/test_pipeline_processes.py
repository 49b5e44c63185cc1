"""The first flow with real processes (gunicorn web servers and workers, as `make run` starts them), the real
broker and both databases: resolve a case in disputes → credits in points, exactly once, through duplicates,
republishing, poison messages and a worker killed with SIGKILL.
"""
from __future__ import annotations

import json
import os
import uuid

import pika
import pytest
import requests
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from shared.db import engine_for
from shared.models import OutboxMessage
from shared.testing import (Stack, auth, create_pg_database, drop_pg_database, pg_enabled, wait_until)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STAFF = auth("gw-1", "grid_worker", "mediator")
CLERK = auth("clerk-1", "clerk")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory, amqp_vhost):
    from shared.testing import amqp_url_for, RUN_ID
    tmp = tmp_path_factory.mktemp("stack")
    if request.param == "sqlite":
        urls = {s: f"sqlite:///{tmp / (s + '.sqlite3')}" for s in ("disputes", "points")}
    else:
        if not pg_enabled():
            pytest.skip("PostgreSQL disabled")
        urls = {s: create_pg_database(f"wz_{RUN_ID}_stack_{s}_{os.getpid()}") for s in ("disputes", "points")}
    # each stack gets its own vhost so queues of the two database runs never mix
    from shared.testing import rabbitmqctl
    vhost = f"{amqp_vhost}-{request.param}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    st = Stack(["disputes", "points"], urls, amqp_url_for(vhost), tmp).start()
    try:
        yield st
    finally:
        codes = st.stop()
        from shared.db import dispose_all
        dispose_all()
        rabbitmqctl("delete_vhost", vhost)
        if request.param == "postgresql":
            for url in urls.values():
                drop_pg_database(url.rsplit("/", 1)[1])
    assert all(code == 0 for code in codes.values()), codes  # SIGTERM ends every process cleanly


def resolve_case(stack, participants, resolved_at="2024-06-14T21:30:18+08:00"):
    case = requests.post(stack.url("disputes", "/api/v1/cases"), headers=STAFF, timeout=10, json={
        "channel": "hotline", "category": "estate_internal", "subcategory": "ev_charger", "estate": "兴隆苑",
        "summary": "充电桩坏了", "reported_at": "2024-06-01T09:00:00+08:00"}).json()
    r = requests.post(stack.url("disputes", f"/api/v1/cases/{case['id']}/resolutions"), headers=STAFF, timeout=10,
                      json={"text": "已修复", "resolved_at": resolved_at,
                            "participants": [{"person_id": p, "role": "mediator"} for p in participants]})
    assert r.status_code == 201, r.text
    return case["id"]


def balance(stack, person_id):
    r = requests.get(stack.url("points", f"/api/v1/accounts/{person_id}"), headers=CLERK, timeout=10)
    return r.json()["balance"] if r.status_code == 200 else None


def credits_of(stack, person_id) -> int:
    with Session(engine_for(stack.db_urls["points"])) as s:
        return s.execute(text("SELECT count(*) FROM transfers t JOIN accounts a ON a.id = t.credit_account_id "
                              "WHERE a.person_id = :p AND t.kind = 'credit'"), {"p": person_id}).scalar()


def channel(stack):
    """A connection and a channel in confirm mode: a test publishes and closes at once, and only a confirm says
    the broker has routed each message before the connection ends."""
    conn = pika.BlockingConnection(pika.URLParameters(stack.amqp_url))
    ch = conn.channel()
    ch.confirm_delivery()
    return conn, ch


def test_resolve_credits_participants_end_to_end(stack):
    p = f"P-{uuid.uuid4().hex[:8]}"
    resolve_case(stack, [p])
    assert wait_until(lambda: balance(stack, p), 60, message="the credit") == 20
    assert credits_of(stack, p) == 1


def test_messages_are_read_as_they_are_by_the_cloudevents_sdk(stack):
    from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq
    from cloudevents.core.formats.json import JSONFormat
    conn, ch = channel(stack)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, "weizhili.events", "disputes.case.resolved.v1")
    p = f"P-{uuid.uuid4().hex[:8]}"
    case_id = resolve_case(stack, [p])

    def get():
        method, props, body = ch.basic_get(q, auto_ack=True)
        return (props, body) if method else None

    props, body = wait_until(get, 60, message="the event on our test queue")
    conn.close()
    event = from_rabbitmq(RabbitMQMessage(headers={k: str(v) for k, v in (props.headers or {}).items()},
                                          content_type=props.content_type, body=body), JSONFormat())
    assert event.get_type() == "disputes.case.resolved.v1" == props.type
    assert event.get_id() == props.message_id
    assert event.get_source() == "/weizhili/disputes" and props.app_id == "disputes"
    assert event.get_data()["case_id"] == case_id
    assert event.get_data()["participants"] == [{"person_id": p, "role": "mediator"}]
    assert props.delivery_mode == 2 and props.content_type.startswith("application/cloudevents+json")


def test_duplicate_delivery_and_republish_after_a_relay_crash_credit_once(stack):
    p = f"P-{uuid.uuid4().hex[:8]}"
    case_id = resolve_case(stack, [p])
    wait_until(lambda: balance(stack, p), 60, message="the first credit")
    engine = engine_for(stack.db_urls["disputes"])
    with Session(engine, expire_on_commit=False) as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.subject == f"cases/{case_id}",
                                                    OutboxMessage.type == "disputes.case.resolved.v1")).one()
        body = row.body
        # the relay published and the broker confirmed, then the relay died before marking the row sent
        s.execute(update(OutboxMessage).where(OutboxMessage.seq == row.seq).values(sent_at=None))
        s.commit()
    # and the same message once more on the wire, as a redelivery would bring it
    conn, ch = channel(stack)
    ch.basic_publish("weizhili.events", "disputes.case.resolved.v1", body.encode(),
                     pika.BasicProperties(message_id=row.id, content_type="application/cloudevents+json",
                                          delivery_mode=2))
    conn.close()

    def republished():
        with Session(engine) as s:
            return s.scalar(select(OutboxMessage.sent_at).where(OutboxMessage.seq == row.seq)) is not None

    wait_until(republished, 60, message="the relay to republish the row")
    with Session(engine_for(stack.db_urls["points"])) as s:
        wait_until(lambda: s.execute(text("SELECT count(*) FROM inbox WHERE event_id = :e"), {"e": row.id}).scalar() == 1,
                   30, message="inbox record")
    # give the two extra copies every chance to be (wrongly) applied
    p2 = f"P-{uuid.uuid4().hex[:8]}"
    resolve_case(stack, [p2])
    wait_until(lambda: balance(stack, p2), 60, message="a later credit")
    assert credits_of(stack, p) == 1 and balance(stack, p) == 20


def test_poison_messages_go_to_the_dead_letter_queue_and_do_not_block(stack):
    conn, ch = channel(stack)
    ch.basic_publish("weizhili.events", "disputes.case.resolved.v1", b"{not json",
                     pika.BasicProperties(message_id="poison-1", delivery_mode=2))
    bad = {"specversion": "1.0", "id": f"poison-{uuid.uuid4()}", "source": "/x", "type": "disputes.case.resolved.v1",
           "data": {"case_id": 42}}
    ch.basic_publish("weizhili.events", "disputes.case.resolved.v1", json.dumps(bad).encode(),
                     pika.BasicProperties(message_id=bad["id"], delivery_mode=2))
    p = f"P-{uuid.uuid4().hex[:8]}"
    resolve_case(stack, [p])
    assert wait_until(lambda: balance(stack, p), 60, message="the good message behind the poison") == 20
    reasons = {}

    def dead():
        method, props, body = ch.basic_get("points.credits.dead", auto_ack=False)
        if method:
            reasons[props.message_id] = props.headers.get("x-death-reason")
        return {"poison-1", bad["id"]} <= set(reasons)

    wait_until(dead, 30, message="both poison messages in points.credits.dead")
    conn.close()
    assert reasons["poison-1"].startswith("unparseable")
    assert reasons[bad["id"]].startswith("schema")


def test_worker_killed_mid_stream_loses_and_doubles_nothing(stack):
    people = [f"K-{uuid.uuid4().hex[:6]}-{i}" for i in range(40)]
    for i, p in enumerate(people):
        resolve_case(stack, [p])
        if i == 15:
            stack.restart_worker("points", kill=True)   # SIGKILL: in-flight batch unacked, redelivered
        if i == 30:
            stack.restart_worker("disputes", kill=True)  # the relay dies with leased rows; the lease expires
    wait_until(lambda: all(balance(stack, p) for p in people), 120, message="every credit")
    assert [credits_of(stack, p) for p in people] == [1] * len(people)
    assert {balance(stack, p) for p in people} == {20}
