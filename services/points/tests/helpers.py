"""Helpers of the points tests: the seed's configuration through the API, CloudEvents as other services
publish them, and the real consumer's batch handling."""
from __future__ import annotations

import json
from pathlib import Path

import pika

from shared import amqp, events
from shared.consumer import Consumer, Delivery
from shared.db import engine_for
from shared.ids import uuid7
from shared.testing import auth, make_settings

SEED = Path("/work/shared/data/seed-scenario")
ADMIN = auth("admin-1", "admin")
CLERK = auth("clerk-1", "clerk")

#: the seed's "per" wording → the API's unit
UNITS = {"resolved case": "case", "verified report": "report", "hour": "hour", "appraised item": "appraisal",
         "service hour": "service_hour"}


def seed() -> dict:
    return json.loads((SEED / "points.json").read_text(encoding="utf-8"))


def seed_rule_bodies() -> list[dict]:
    """The seed's scoring rules as POST /rules bodies."""
    out = []
    for rule in seed()["rules"]:
        body = {"code": rule["code"], "category": rule["category"], "unit": UNITS[rule["per"]],
                "points": rule["points"]}
        for key in ("roles", "activities", "cap_per_person_per_day", "cap_per_person_per_month"):
            if key in rule:
                body[key] = rule[key]
        out.append(body)
    return out


def load_seed_configuration(client) -> list[int]:
    """POST the seed's rules, catalogue and merchants; returns the status codes."""
    statuses = []
    for body in seed_rule_bodies():
        statuses.append(client.post("/api/v1/rules", json=body, headers=ADMIN).status_code)
    for item in seed()["catalogue"]:
        statuses.append(client.post("/api/v1/catalogue", headers=CLERK, json={
            "sku": item["sku"], "name": item["name"], "points_price": item["points"], "stock": item["stock"]}
        ).status_code)
    for merchant in seed()["merchants"]:
        statuses.append(client.post("/api/v1/merchants", json=merchant, headers=CLERK).status_code)
    return statuses


def cloud_event(event_type: str, data: dict, event_id: str | None = None) -> dict:
    from datetime import datetime, timezone
    return events.envelope(event_id=event_id or uuid7(), source_service=event_type.split(".")[0],
                           event_type=event_type, subject=None, time=datetime.now(timezone.utc), data=data,
                           schema_base_url="http://localhost")


def hazard(person_id: str, verified_at: str, report_id: str | None = None, event_id: str | None = None) -> dict:
    return cloud_event("disputes.hazard_report.verified.v1", {
        "report_id": report_id or uuid7(), "reporter_person_id": person_id, "estate": "安康小区",
        "verified_at": verified_at}, event_id)


def shift(person_id: str, hours: str, completed_at: str, activity: str = "environment_cleanup") -> dict:
    return cloud_event("relief.volunteer_shift.completed.v1", {
        "shift_id": uuid7(), "person_id": person_id, "activity": activity, "hours": hours,
        "completed_at": completed_at})


def resolved(case_id: str, resolved_at: str, participants: list[tuple[str, str]], resolution_no: int = 1) -> dict:
    return cloud_event("disputes.case.resolved.v1", {
        "case_id": case_id, "resolution_no": resolution_no, "category": "neighbour_family", "grade": "blue",
        "resolved_at": resolved_at, "session_id": None,
        "participants": [{"person_id": p, "role": r} for p, r in participants]})


def consumer(db_url: str, amqp_url: str = "amqp://guest:guest@127.0.0.1:1/%2F") -> Consumer:
    from services.points.handlers import SUBSCRIPTIONS
    settings = make_settings("points", db_url, amqp_url)
    return Consumer(settings, engine_for(db_url), "points.credits", SUBSCRIPTIONS["points.credits"])


def deliver(db_url: str, *cloud_events: dict) -> list[str]:
    """Hand ``cloud_events`` to the real consumer's batch handling (no broker); returns the outcomes."""
    deliveries = [Delivery(i + 1, pika.BasicProperties(message_id=e["id"], type=e["type"]),
                           json.dumps(e, ensure_ascii=False).encode(), e["type"])
                  for i, e in enumerate(cloud_events)]
    return [o.action for o in consumer(db_url).handle_batch(deliveries)]


def publish(amqp_url: str, *cloud_events: dict) -> None:
    """Publish as the other services' relays do: persistent, confirmed, mandatory, onto weizhili.events,
    after declaring points.credits (as every relay does) so nothing published is missed."""
    from services.points.handlers import SUBSCRIPTIONS
    settings = make_settings("points", "sqlite://", amqp_url)
    connection = pika.BlockingConnection(amqp.parameters(amqp_url, name="points-test-publisher"))
    try:
        channel = connection.channel()
        amqp.declare_consumer_queue(channel, settings, "points.credits", sorted(SUBSCRIPTIONS["points.credits"]))
        channel.confirm_delivery()
        for event in cloud_events:
            channel.basic_publish(settings.exchange, event["type"], json.dumps(event, ensure_ascii=False).encode(),
                                  properties=pika.BasicProperties(
                                      content_type=events.CONTENT_TYPE, delivery_mode=2, message_id=event["id"],
                                      type=event["type"], app_id=event["source"].rsplit("/", 1)[-1]),
                                  mandatory=True)
    finally:
        connection.close()


def balance(client, person_id: str) -> dict | None:
    r = client.get(f"/api/v1/accounts/{person_id}", headers=CLERK)
    return r.get_json() if r.status_code == 200 else None
