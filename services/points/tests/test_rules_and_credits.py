"""Scoring rules (versions, identical replay, retirement, validation) and credits from events under their caps
(Asia/Shanghai days and months), with the reasons recorded; manual credits under the same rules."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import engine_for
from shared.outbox import OutboxMessage
from shared.testing import auth, make_client
from services.points.models import CreditDecision

from .helpers import ADMIN, CLERK, balance, deliver, hazard, load_seed_configuration, resolved, shift


def _decisions(db_url, person_id):
    with Session(engine_for(db_url)) as s:
        return [(d.outcome, d.requested, d.granted, d.reason) for d in s.scalars(
            select(CreditDecision).where(CreditDecision.person_id == person_id).order_by(CreditDecision.id))]


def test_rules_api_versions_replay_retire_and_refusals(db_url):
    client = make_client("points", db_url)
    body = {"code": "hazard_photo_report", "category": "estate_governance", "unit": "report", "points": 5,
            "cap_per_person_per_day": 20}
    first = client.post("/api/v1/rules", json=body, headers=ADMIN)
    assert first.status_code == 201 and first.get_json()["version"] == 1
    assert first.get_json()["trigger"] == "disputes.hazard_report.verified.v1"
    same = client.post("/api/v1/rules", json=body, headers=ADMIN)
    assert same.status_code == 200 and same.get_json()["version"] == 1
    changed = client.post("/api/v1/rules", json={**body, "points": 6, "valid_from": "2024-10-01T00:00:00+08:00"},
                          headers=ADMIN)
    assert changed.status_code == 201 and changed.get_json()["version"] == 2
    versions = client.get("/api/v1/rules/hazard_photo_report", headers=auth("P1", "resident")).get_json()
    assert [v["version"] for v in versions["versions"]] == [1, 2] and versions["current"]["points"] == 6

    # roles: only admins change rules
    assert client.post("/api/v1/rules", json=body, headers=CLERK).status_code == 403
    assert client.post("/api/v1/rules", json=body).status_code == 401
    # bad input: 422 naming the field, nothing stored
    for bad, field in (({**body, "points": 5.0}, "points"), ({**body, "points": True}, "points"),
                       ({**body, "points": None}, "points"), ({**body, "colour": "red"}, "colour"),
                       ({**body, "code": "Bad Code"}, "code"), ({**body, "unit": "hour"}, "activities"),
                       ({**body, "roles": ["mediator"]}, "roles"), ({**body, "points": 2**40}, "points"),
                       ({**body, "category": ""}, "category"), ({**body, "valid_from": "2024-10-01T00:00:00"},
                                                                 "valid_from")):
        r = client.post("/api/v1/rules", json=bad, headers=ADMIN)
        assert r.status_code == 422, (bad, r.get_json())
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert field in {e["field"] for e in r.get_json()["errors"]}, (bad, r.get_json())
    assert len(client.get("/api/v1/rules?limit=200", headers=CLERK).get_json()["items"]) == 3  # + mediation
    # an hour rule may not pay for an activity another rule already pays for
    hours = {"code": "environment_cleanup", "category": "civility_campaign", "unit": "hour", "points": 10,
             "activities": ["environment_cleanup"]}
    assert client.post("/api/v1/rules", json=hours, headers=ADMIN).status_code == 201
    assert client.post("/api/v1/rules", json={**hours, "code": "cleanup_two"}, headers=ADMIN).status_code == 409

    # retirement: work from then on earns nothing; earlier work (arriving late) still does
    r = client.post("/api/v1/rules/environment_cleanup/retirement", headers=ADMIN,
                    json={"retired_at": "2024-09-21T09:00:00+08:00"})
    assert r.status_code == 200 and r.get_json()["retired_at"].startswith("2024-09-21T09:00")
    assert client.post("/api/v1/rules/environment_cleanup/retirement", json={}, headers=ADMIN).status_code == 409
    assert client.post("/api/v1/rules/nope/retirement", json={}, headers=ADMIN).status_code == 404
    deliver(db_url, shift("P-R", "1.0", "2024-09-21T08:59:00+08:00"), shift("P-R", "1.0", "2024-09-21T09:30:00+08:00"))
    assert balance(client, "P-R")["balance"] == 10
    assert client.get("/api/v1/rules/environment_cleanup", headers=CLERK).get_json()["current"] is None

    # the version in force at the work's own time prices it, and the entry keeps its version
    deliver(db_url, hazard("P-V", "2024-09-30T23:59:00+08:00"), hazard("P-V", "2024-10-01T00:01:00+08:00"))
    entries = client.get("/api/v1/accounts/P-V/entries", headers=CLERK).get_json()["items"]
    assert [(e["points"], e["rule_version"], e["balance_after"]) for e in entries] == [(5, 1, 5), (6, 2, 11)]


def test_credits_from_events_caps_rounding_and_reasons(db_url):
    client = make_client("points", db_url)
    load_seed_configuration(client)

    # hazard reports: 5 each, at most 20 per person per Asia/Shanghai day
    day = [hazard("P-H", f"2024-09-10T{h:02d}:00:00+08:00") for h in (9, 10, 11, 12, 13)]
    late = hazard("P-H", "2024-09-10T23:30:00+08:00")   # 15:30 UTC on the 10th
    next_day = hazard("P-H", "2024-09-11T00:30:00+08:00")  # 16:30 UTC on the 10th, but the 11th in Shanghai
    assert deliver(db_url, *day, late, next_day) == ["ack"] * 7
    assert balance(client, "P-H")["balance"] == 25
    refused = _decisions(db_url, "P-H")
    assert [d[:3] for d in refused] == [("refused", 5, 0), ("refused", 5, 0)]
    assert "20 points per person per day" in refused[0][3] and "2024-09-10" in refused[0][3]

    # volunteer shifts: floor(hours × 10); less than one point is refused with the reason
    assert deliver(db_url, shift("P-S", "1.75", "2024-09-21T10:00:00+08:00"),
                   shift("P-S", "0.05", "2024-09-22T10:00:00+08:00"),
                   shift("P-S", "2.5", "2024-09-23T10:00:00+08:00", activity="meal_delivery")) == ["ack"] * 3
    entries = balance(client, "P-S")["entries"]
    assert sorted((e["rule"], e["points"]) for e in entries) == [("environment_cleanup", 17),
                                                                  ("volunteer_service", 25)]
    assert _decisions(db_url, "P-S")[0][0] == "refused" and "rounding" in _decisions(db_url, "P-S")[0][3]

    # resolved cases: once per case and person however many resolutions; 200 a month per person
    first = resolved("C-1", "2024-06-14T21:30:00+08:00", [("P-M", "mediator"), ("P-G", "grid_worker")])
    again = resolved("C-1", "2024-06-20T21:30:00+08:00", [("P-M", "mediator")], resolution_no=2)
    others = [resolved(f"C-{i}", f"2024-06-{i:02d}T20:00:00+08:00", [("P-M", "volunteer")]) for i in range(2, 12)]
    deliver(db_url, first, again, *others)
    assert balance(client, "P-M")["balance"] == 200 and balance(client, "P-G") is None
    outcomes = [d[0] for d in _decisions(db_url, "P-M")]
    assert outcomes.count("duplicate") == 1 and outcomes.count("refused") == 1
    assert any("month" in d[3] and "2024-06" in d[3] for d in _decisions(db_url, "P-M"))

    # every credit published points.credited.v1 with its cause, and no personal data
    with Session(engine_for(db_url)) as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.type == "points.credited.v1")).all()
    assert len(rows) == 5 + 2 + 10


def test_manual_credits_under_the_same_rules_and_caps(db_url):
    client = make_client("points", db_url)
    load_seed_configuration(client)
    body = {"person_id": "P-C", "rule": "environment_cleanup", "hours": "2.5", "reason": "小区大扫除",
            "occurred_at": "2024-09-21T10:00:00+08:00"}
    r = client.post("/api/v1/credits", json=body, headers={**CLERK, "Idempotency-Key": "cleanup-P-C"})
    assert r.status_code == 201 and r.get_json()["granted"] == 25 and r.get_json()["outcome"] == "credited"
    replay = client.post("/api/v1/credits", json=body, headers={**CLERK, "Idempotency-Key": "cleanup-P-C"})
    assert replay.get_json() == r.get_json() and replay.headers["Idempotency-Replayed"] == "true"
    other = client.post("/api/v1/credits", json={**body, "hours": "3"}, headers={**CLERK, "Idempotency-Key": "cleanup-P-C"})
    assert other.status_code == 422
    assert balance(client, "P-C")["balance"] == 25
    entry = balance(client, "P-C")["entries"][0]
    assert entry["note"] == "小区大扫除" and entry["cause_event_id"] is None

    # caps apply: 4 hazard reports by hand in a day use the daily 20, the fifth is capped to nothing
    for n in range(5):
        r = client.post("/api/v1/credits", headers=CLERK, json={
            "person_id": "P-C", "rule": "hazard_photo_report", "quantity": 1, "reason": f"report {n}",
            "occurred_at": "2024-09-22T10:00:00+08:00"})
    assert r.get_json()["outcome"] == "refused" and "per day" in r.get_json()["reason"]
    r = client.post("/api/v1/credits", headers=CLERK, json={
        "person_id": "P-C", "rule": "hazard_photo_report", "quantity": 3, "reason": "three at once",
        "occurred_at": "2024-09-23T10:00:00+08:00"})
    r2 = client.post("/api/v1/credits", headers=CLERK, json={
        "person_id": "P-C", "rule": "hazard_photo_report", "quantity": 2, "reason": "two more",
        "occurred_at": "2024-09-23T11:00:00+08:00"})
    assert (r.get_json()["granted"], r2.get_json()["granted"], r2.get_json()["outcome"]) == (15, 5, "capped")
    decisions = client.get("/api/v1/credit-decisions?person_id=P-C", headers=CLERK).get_json()["items"]
    assert [d["outcome"] for d in decisions] == ["refused", "capped"]

    # refusals: wrong units, unknown rule, two holders, role
    for bad, field in (({**body, "hours": None}, "hours"), ({**body, "rule": "nope"}, "rule"),
                       ({**body, "merchant_ref": "M-01"}, "person_id"), ({**body, "hours": "1.005"}, "hours"),
                       ({**body, "reason": "  "}, "reason"), ({**body, "hours": 2.5}, "hours")):
        r = client.post("/api/v1/credits", json=bad, headers=CLERK)
        assert r.status_code == 422 and field in {e["field"] for e in r.get_json()["errors"]}, (bad, r.get_json())
    assert client.post("/api/v1/credits", json=body, headers=auth("P-C", "resident")).status_code == 403
    assert balance(client, "P-C")["balance"] == 25 + 20 + 20
