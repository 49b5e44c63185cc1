"""The case lifecycle through the HTTP API on SQLite and PostgreSQL: intake, grading, deadlines and escalation
in Asia/Shanghai days, assignment, mediation, resolution, 409 on invalid transitions, timeline, events."""
from __future__ import annotations

from shared.testing import make_client

from .helpers import ADMIN, GW, MEDIATOR, SUPERVISOR, new_case, outbox_data, outbox_types, resident


def test_lifecycle_grading_deadline_and_events(db_url):
    c = make_client("disputes", db_url)
    case = new_case(c, reported_at="2024-06-01T23:30:00+08:00", households_affected=6,
                    reporter={"person_id": "P000001", "name": "王刚娜", "phone": "16875176771"},
                    photos=["media:abc123"])
    assert case["status"] == "received" and case["grade"] is None
    assert case["reporter"] == {"person_id": "P000001", "name": "王**", "phone": "168****6771"}
    cid = case["id"]
    # assign before grading: 409 (the grade chooses the team)
    r = c.post(f"/api/v1/cases/{cid}/assignments", json={"assignee_kind": "grid_worker", "assignee_id": "P900001"},
               headers=SUPERVISOR)
    assert r.status_code == 409 and r.get_json()["type"].endswith("invalid-transition")
    # graded at 23:50 UTC on 2024-06-01 = 07:50 on 2024-06-02 in Shanghai: yellow → 15 days → 06-17 end of day
    r = c.post(f"/api/v1/cases/{cid}/grades", json={"scale": 1, "difficulty": 2, "social_impact": 1,
                                                    "graded_at": "2024-06-01T23:50:00Z"}, headers=GW)
    assert r.status_code == 201, r.get_json()
    g = r.get_json()
    assert g["suggested_grade"] == g["grade"] == "yellow"
    assert g["deadline_at"] == "2024-06-17T23:59:59+08:00"
    # an override needs a reason (422 naming it, nothing stored)
    r = c.post(f"/api/v1/cases/{cid}/grades", json={"scale": 1, "difficulty": 2, "social_impact": 1,
                                                    "grade": "red"}, headers=GW)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "reason"
    r = c.post(f"/api/v1/cases/{cid}/grades", json={"scale": 1, "difficulty": 2, "social_impact": 1, "grade": "red",
                                                    "reason": "涉及老人安全", "graded_at": "2024-06-03T09:00:00+08:00"},
               headers=SUPERVISOR)
    assert r.status_code == 201
    assert r.get_json()["deadline_at"] == "2024-06-10T23:59:59+08:00"  # red: 7 days
    history = c.get(f"/api/v1/cases/{cid}/grades", headers=GW).get_json()["items"]
    assert [(h["grade"], h["previous_grade"], h["reason"]) for h in history] == [
        ("yellow", None, None), ("red", "yellow", "涉及老人安全")]
    body = c.get(f"/api/v1/cases/{cid}", headers=GW).get_json()
    assert body["status"] == "graded" and body["grade"] == "red"
    assert body["escalated_at"] == "2024-06-03T09:00:00+08:00"  # red escalates at once

    r = c.post(f"/api/v1/cases/{cid}/assignments", json={"assignee_kind": "mediation_team", "assignee_id": "T-1",
                                                         "at": "2024-06-03T10:00:00+08:00"}, headers=SUPERVISOR)
    assert r.status_code == 201
    r = c.post(f"/api/v1/cases/{cid}/assignments", json={"assignee_kind": "grid_worker", "assignee_id": "P900001",
                                                         "at": "2024-06-03T11:00:00+08:00"}, headers=SUPERVISOR)
    assert r.status_code == 201
    r = c.post(f"/api/v1/cases/{cid}/mediation", json={"at": "2024-06-04T20:00:00+08:00", "note": "夜访"},
               headers=MEDIATOR)
    assert r.status_code == 200 and r.get_json()["status"] == "in_mediation"
    r = c.post(f"/api/v1/cases/{cid}/mediation", json={}, headers=MEDIATOR)
    assert r.status_code == 409
    r = c.post(f"/api/v1/cases/{cid}/resolutions", headers=MEDIATOR, json={
        "text": "楼上修缮防水", "resolved_at": "2024-06-05T21:00:00+08:00", "responsible_party": "楼上住户",
        "due_on": "2024-06-20", "participants": [{"person_id": "P000002", "role": "mediator"}]})
    assert r.status_code == 201 and r.get_json()["resolution_no"] == 1
    for path, body in (("referral", {"reason": "beyond_mediation", "referred_to": "court"}),
                       ("closure", {"reason": "withdrawn"}), ("mediation", {}),
                       ("resolutions", {"text": "x", "participants": []})):
        r = c.post(f"/api/v1/cases/{cid}/{path}", json=body, headers=ADMIN)
        assert r.status_code == 409, (path, r.get_json())
    r = c.post(f"/api/v1/cases/{cid}/grades", json={"scale": 1, "difficulty": 1, "social_impact": 1}, headers=GW)
    assert r.status_code == 409
    # supervisor reopens; a second round is resolution_no 2
    r = c.post(f"/api/v1/cases/{cid}/reopening", json={"note": "复查未完成", "at": "2024-06-06T09:00:00+08:00"},
               headers=SUPERVISOR)
    assert r.status_code == 200 and r.get_json()["status"] == "reopened"
    r = c.post(f"/api/v1/cases/{cid}/resolutions", headers=MEDIATOR, json={
        "text": "再次协商", "resolved_at": "2024-06-07T21:00:00+08:00",
        "participants": [{"person_id": "P000002", "role": "mediator"}]})
    assert r.get_json()["resolution_no"] == 2

    kinds = [e["kind"] for e in c.get(f"/api/v1/cases/{cid}/timeline", headers=GW).get_json()["items"]]
    assert kinds == ["received", "graded", "graded", "escalated", "assigned", "assigned", "mediation_started",
                     "resolved", "reopened", "resolved"]
    types = outbox_types(db_url)
    assert types.count("disputes.case.graded.v1") == 2 and types.count("disputes.case.assigned.v1") == 2
    assert types.count("disputes.case.resolved.v1") == 2 and "disputes.case.reopened.v1" in types
    received = outbox_data(db_url, "disputes.case.received.v1")[0]
    assert received["reporter_person_id"] == "P000001" and received["households_affected"] == 6
    assert "王刚娜" not in str(outbox_data(db_url, "disputes.case.received.v1"))
    assigned = outbox_data(db_url, "disputes.case.assigned.v1")
    assert assigned[1]["previous_assignee_kind"] == "mediation_team" and assigned[1]["assignee_person_id"] == "P900001"
    # the follow-up the resolution opened
    fus = c.get(f"/api/v1/cases/{cid}/follow-ups", headers=GW).get_json()["items"]
    assert [(f["due_on"], f["responsible_party"]) for f in fus] == [("2024-06-20", "楼上住户")]


def test_refer_and_close_publish_and_end(db_url):
    c = make_client("disputes", db_url)
    a = new_case(c, scale=2, difficulty=2, social_impact=2)
    assert a["status"] == "graded" and a["grade"] == "yellow"
    r = c.post(f"/api/v1/cases/{a['id']}/referral", json={"reason": "legal_proceedings", "referred_to": "court"},
               headers=MEDIATOR)
    assert r.status_code == 200 and r.get_json()["status"] == "referred"
    b = new_case(c)
    r = c.post(f"/api/v1/cases/{b['id']}/closure", json={"reason": "duplicate"}, headers=SUPERVISOR)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "duplicate_of_case_id"
    r = c.post(f"/api/v1/cases/{b['id']}/closure", json={"reason": "duplicate", "duplicate_of_case_id": a["id"]},
               headers=SUPERVISOR)
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    closed = outbox_data(db_url, "disputes.case.closed.v1")[0]
    assert closed["duplicate_of_case_id"] == a["id"]
    assert outbox_data(db_url, "disputes.case.referred.v1")[0]["referred_to"] == "court"
    r = c.post(f"/api/v1/cases/{b['id']}/reopening", json={}, headers=SUPERVISOR)
    assert r.status_code == 409


def test_bad_input_is_422_naming_the_field_and_stores_nothing(db_url):
    c = make_client("disputes", db_url)
    base = {"channel": "hotline", "category": "neighbour_family", "estate": "汾河新村", "summary": "x"}
    cases = [({"channel": "carrier_pigeon"}, "channel"), ({"subcategory": "developer"}, "subcategory"),
             ({"summary": "   "}, "summary"), ({"reported_at": "2024-06-01T10:00:00"}, "reported_at"),
             ({"reported_at": "2999-01-01T10:00:00+08:00"}, "reported_at"), ({"scale": 2}, "difficulty"),
             ({"households_affected": 1.5}, "households_affected"), ({"reporter": {"nickname": "x"}}, "reporter.nickname"),
             ({"summary": "a\x00b"}, "summary"), ({"summary": "x" * 501}, "summary"), ({"colour": "red"}, "colour")]
    for extra, field in cases:
        r = c.post("/api/v1/cases", json={**base, **extra}, headers=GW)
        assert r.status_code == 422, (extra, r.get_json())
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.get_json()["errors"]], (extra, r.get_json())
    assert c.get("/api/v1/cases", headers=GW).get_json()["items"] == []
    assert outbox_types(db_url) == []
    # real hotline channels are configured by default
    assert new_case(c, channel="weibo")["channel"] == "weibo"


def test_duplicate_hint_points_to_open_cases_of_same_subcategory_and_estate(db_url):
    c = make_client("disputes", db_url)
    first = new_case(c, reported_at="2024-05-01T10:00:00+08:00")
    new_case(c, estate="兴隆苑", reported_at="2024-05-02T10:00:00+08:00")
    new_case(c, subcategory="noise", reported_at="2024-05-03T10:00:00+08:00")
    second = new_case(c, reported_at="2024-05-04T10:00:00+08:00")
    assert second["duplicate_candidates"] == [first["id"]]
    assert first["duplicate_candidates"] == []
    hint = c.get("/api/v1/cases/duplicates?estate=汾河新村&subcategory=water_leak", headers=GW).get_json()["items"]
    assert [h["id"] for h in hint] == [first["id"], second["id"]]
    c.post(f"/api/v1/cases/{first['id']}/closure", json={"reason": "withdrawn"}, headers=ADMIN)
    third = new_case(c, reported_at="2024-05-05T10:00:00+08:00")
    assert third["duplicate_candidates"] == [second["id"]]  # closed cases are no longer hinted


def test_roles_and_privacy(db_url):
    c = make_client("disputes", db_url)
    own = new_case(c, headers=resident("P000010"), reporter={"name": "张三", "phone": "13812341234",
                                                             "person_id": "P999999"})
    assert own["reporter"]["person_id"] == "P000010"  # a resident reports as themself
    other = new_case(c, reporter={"person_id": "P000011", "name": "李四"})
    me = resident("P000010")
    assert c.get(f"/api/v1/cases/{own['id']}", headers=me).status_code == 200
    r = c.get(f"/api/v1/cases/{other['id']}", headers=me)
    assert r.status_code == 404 and r.get_json()["status"] == 404
    for path in ("timeline", "resolutions", "evaluations", "feedback"):
        assert c.get(f"/api/v1/cases/{other['id']}/{path}", headers=me).status_code == 404
    assert [x["id"] for x in c.get("/api/v1/cases", headers=me).get_json()["items"]] == [own["id"]]
    assert c.get("/api/v1/cases").status_code == 401
    assert c.post(f"/api/v1/cases/{own['id']}/grades", json={"scale": 1, "difficulty": 1, "social_impact": 1},
                  headers=me).status_code == 403
    assert c.get("/api/v1/statistics", headers=me).status_code == 403
    assert c.get(f"/api/v1/cases/{own['id']}/contact", headers=me).status_code == 403
    assert c.post(f"/api/v1/cases/{own['id']}/closure", json={"reason": "withdrawn"}, headers=GW).status_code == 403
    # staff read the unmasked contact, and the read is audited
    r = c.get(f"/api/v1/cases/{own['id']}/contact?purpose=回访", headers=GW)
    assert r.get_json() == {"case_id": own["id"], "person_id": "P000010", "name": "张三", "phone": "13812341234"}
    from sqlalchemy import text
    from shared.db import engine_for
    with engine_for(db_url).connect() as conn:
        assert conn.execute(text("SELECT reader, purpose FROM contact_reads")).all() == [("P900001", "回访")]
