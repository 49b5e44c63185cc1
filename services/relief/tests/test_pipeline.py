"""Through the real broker (this run's vhost), with the relief relay and the points consumer in this process:
a volunteer's check-out leaves relief's outbox as ``relief.volunteer_shift.completed.v1`` and credits points
by the points service's hour rule (10 points an hour for a clean-up: the seed rider's 2-hour shift earns 20)."""
from __future__ import annotations

import json
import threading

import pika
import pytest

from shared import amqp
from shared.consumer import Consumer
from shared.db import engine_for
from shared.relay import Relay
from shared.testing import auth, create_pg_database, drop_pg_database, make_client, make_settings, wait_until

from .helpers import API, STAFF

pytestmark = pytest.mark.integration

SHIFT_COMPLETED = "relief.volunteer_shift.completed.v1"


def _completed_shift(relief, *person_ids: str) -> dict:
    """One 2-hour clean-up shift worked by each of ``person_ids`` (signed up, checked in, checked out)."""
    activity = relief.post(f"{API}/volunteer-activities", headers=STAFF,
                           json={"kind": "environment_cleanup", "title": "河道环境整治"}).get_json()
    shift = relief.post(f"{API}/volunteer-activities/{activity['id']}/shifts", headers=STAFF, json={
        "starts_at": "2024-09-21T08:00:00+08:00", "ends_at": "2024-09-21T10:00:00+08:00", "capacity": 5}).get_json()
    for person_id in person_ids:
        signup = relief.post(f"{API}/volunteer-shifts/{shift['id']}/signups", headers=auth(person_id, "volunteer"),
                             json={"signed_up_at": "2024-09-20T20:00:00+08:00"}).get_json()
        assert relief.post(f"{API}/shift-signups/{signup['id']}/check-in", headers=STAFF,
                           json={"at": "2024-09-21T08:00:00+08:00"}).status_code == 200
        r = relief.post(f"{API}/shift-signups/{signup['id']}/check-out", headers=STAFF,
                        json={"at": "2024-09-21T10:00:00+08:00"})
        assert r.status_code == 200 and r.get_json()["hours"] == "2.00"
    return {"shift": shift}


def _run(targets):
    stop = threading.Event()
    threads = [threading.Thread(target=t.run, args=(stop,)) for t in targets]
    for t in threads:
        t.start()
    return stop, threads


def test_check_out_event_arrives_on_a_bureau_queue(amqp_url, tmp_path):
    """A bureau's own queue bound to the event type receives it as a CloudEvent, with no personal data."""
    url = f"sqlite:///{tmp_path / 'relief.sqlite3'}"
    relief = make_client("relief", url, amqp_url=amqp_url)
    settings = make_settings("relief", url, amqp_url)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    amqp.declare_exchanges(channel, settings)
    queue = channel.queue_declare("bureau.volunteering.test", durable=True).method.queue
    channel.queue_bind(queue, settings.exchange, routing_key=SHIFT_COMPLETED)
    done = _completed_shift(relief, "P900001")  # not the e2e test's volunteer: the vhost is shared
    stop, threads = _run([Relay(settings, engine_for(url))])
    try:
        def fetch():
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            return (properties, body) if method else None
        properties, body = wait_until(fetch, 30, message="the event on the bureau's queue")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        connection.close()
    event = json.loads(body)
    assert properties.message_id == event["id"] and properties.type == SHIFT_COMPLETED
    assert event["type"] == SHIFT_COMPLETED and event["source"].endswith("/relief")
    assert event["data"]["shift_id"] == done["shift"]["id"] and event["data"]["person_id"] == "P900001"
    assert event["data"]["hours"] == "2.00" and event["data"]["activity"] == "environment_cleanup"
    # the official CloudEvents SDK reads the message as it is (EVENTS.md)
    from cloudevents.core.v1.event import CloudEvent
    from cloudevents.core.bindings import rabbitmq
    from cloudevents.core.formats.json import JSONFormat
    message = rabbitmq.RabbitMQMessage(headers=properties.headers or {}, content_type=properties.content_type,
                                       body=body)
    read = rabbitmq.from_rabbitmq(message, JSONFormat(), CloudEvent)
    assert read.get_type() == SHIFT_COMPLETED and read.get_data() == event["data"]
    assert set(event["data"]) <= {"shift_id", "person_id", "activity", "hours", "completed_at", "started_at",
                                  "activity_id", "signup_id"}


def test_check_out_credits_points_end_to_end(db_url, amqp_url, tmp_path):
    from services.points.handlers import SUBSCRIPTIONS
    handlers = SUBSCRIPTIONS["points.credits"]
    assert SHIFT_COMPLETED in handlers  # the points service credits volunteer shifts
    sqlite = db_url.startswith("sqlite")
    points_url = f"sqlite:///{tmp_path / 'points.sqlite3'}" if sqlite else db_url + "_points"
    if not sqlite:
        create_pg_database(points_url.rsplit("/", 1)[1])
    try:
        relief = make_client("relief", db_url, amqp_url=amqp_url)
        points = make_client("points", points_url, amqp_url=amqp_url)
        rule = points.post(f"{API}/rules", headers=auth("admin-1", "admin"), json={
            "code": "environment_cleanup", "category": "volunteer_service", "unit": "hour", "points": 10,
            "activities": ["environment_cleanup"]})
        assert rule.status_code == 201, rule.get_json()
        _completed_shift(relief, "P009718", "P009719")  # two volunteers on one shift: each is credited
        stop, threads = _run([Relay(make_settings("relief", db_url, amqp_url), engine_for(db_url)),
                              Consumer(make_settings("points", points_url, amqp_url), engine_for(points_url),
                                       "points.credits", handlers)])

        def account(person_id):
            r = points.get(f"{API}/accounts/{person_id}", headers=auth("clerk-1", "clerk"))
            return r.get_json() if r.status_code == 200 and r.get_json()["balance"] else None
        try:
            got = [wait_until(lambda p=p: account(p), 30, message=f"{p}'s points") for p in ("P009718", "P009719")]
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        for holder in got:
            assert holder["balance"] == 20
            assert [(e["rule"], e["points"]) for e in holder["entries"]] == [("environment_cleanup", 20)]
    finally:
        if not sqlite:
            from shared.db import dispose_all
            dispose_all()
            drop_pg_database(points_url.rsplit("/", 1)[1])
