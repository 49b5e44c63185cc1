"""Evaluation desk (once per resolution, low rating reopens), feedback wall (public, masked), sessions linking
back into cases, the supervision post's overdue board, hazard reports, the map and the CSV export."""
from __future__ import annotations

import csv
import io

from shared.testing import make_client

from .helpers import ADMIN, GW, MEDIATOR, SUPERVISOR, new_case, outbox_data, resident

REPORTER = resident("P000020")


def _resolved_case(c, **kw):
    case = new_case(c, reporter={"person_id": "P000020", "name": "张三", "phone": "13812341234"},
                    scale=1, difficulty=2, social_impact=1, **kw)
    r = c.post(f"/api/v1/cases/{case['id']}/resolutions", headers=MEDIATOR, json={
        "text": "达成一致", "resolved_at": "2024-06-02T21:00:00+08:00",
        "participants": [{"person_id": "P000002", "role": "mediator"}]})
    assert r.status_code == 201, r.get_json()
    return case


def test_low_rating_reopens_once_per_resolution(db_url):
    c = make_client("disputes", db_url)
    case = _resolved_case(c)
    cid = case["id"]
    assert c.post(f"/api/v1/cases/{cid}/evaluations", json={"rating": 3}, headers=resident("P000099")).status_code == 404
    r = c.post(f"/api/v1/cases/{cid}/evaluations", json={"rating": 2, "comment": "还在漏",
                                                         "evaluated_at": "2024-06-03T10:00:00+08:00"}, headers=REPORTER)
    assert r.status_code == 201 and r.get_json()["reopened"] is True
    assert c.get(f"/api/v1/cases/{cid}", headers=REPORTER).get_json()["status"] == "reopened"
    # once per resolution: the reopened case has nothing to rate until resolved again
    assert c.post(f"/api/v1/cases/{cid}/evaluations", json={"rating": 5}, headers=REPORTER).status_code == 409
    c.post(f"/api/v1/cases/{cid}/resolutions", headers=MEDIATOR, json={
        "text": "重新修缮", "resolved_at": "2024-06-09T21:00:00+08:00", "participants": []})
    r = c.post(f"/api/v1/cases/{cid}/evaluations", json={"rating": 1, "evaluated_at": "2024-06-09T20:00:00+08:00"},
               headers=REPORTER)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "evaluated_at"
    r = c.post(f"/api/v1/cases/{cid}/evaluations", json={"rating": 3}, headers=REPORTER)
    assert r.status_code == 201 and r.get_json()["reopened"] is False and r.get_json()["resolution_no"] == 2
    r = c.post(f"/api/v1/cases/{cid}/evaluations", json={"rating": 4}, headers=REPORTER)
    assert r.status_code == 409 and r.get_json()["type"].endswith("already-evaluated")
    assert [e["reopened"] for e in outbox_data(db_url, "disputes.case.evaluated.v1")] == [True, False]
    assert outbox_data(db_url, "disputes.case.reopened.v1")[0]["reason"] == "evaluation"
    for bad in (0, 6, 2.0, True, "3"):
        r = c.post(f"/api/v1/cases/{_resolved_case(c)['id']}/evaluations", json={"rating": bad}, headers=REPORTER)
        assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "rating"


def test_reopen_threshold_is_configurable(db_url):
    c = make_client("disputes", db_url, extra={"reopen_threshold": 3})
    case = _resolved_case(c)
    r = c.post(f"/api/v1/cases/{case['id']}/evaluations", json={"rating": 3}, headers=REPORTER)
    assert r.get_json()["reopened"] is True


def test_feedback_wall_is_public_and_masked(db_url):
    c = make_client("disputes", db_url)
    case = new_case(c, reporter={"person_id": "P000020", "name": "张三", "phone": "13812341234"},
                    summary="张三家楼上漏水")
    cid = case["id"]
    c.post(f"/api/v1/cases/{cid}/feedback", headers=GW, json={
        "kind": "reply", "text": "张三您好，维修师傅电话15064012394，物业座机0591-82591514。", "at": "2024-06-02T09:00:00+08:00"})
    c.post(f"/api/v1/cases/{cid}/feedback", headers=GW, json={"kind": "note", "text": "内部：住户情绪激动",
                                                             "at": "2024-06-02T10:00:00+08:00"})
    c.post(f"/api/v1/cases/{cid}/feedback", headers=GW, json={"text": "私下沟通", "public": False,
                                                             "at": "2024-06-02T11:00:00+08:00"})
    r = c.post(f"/api/v1/cases/{cid}/feedback", headers=REPORTER, json={"text": "谢谢，我的电话13812341234", "kind": "note"})
    assert r.status_code == 201 and r.get_json()["kind"] == "message" and r.get_json()["public"] is True
    wall = c.get("/api/v1/feedback-wall")  # no login
    assert wall.status_code == 200
    items = wall.get_json()["items"]
    assert [i["kind"] for i in items] == ["message", "reply"]  # newest first; private notes never shown
    reply = items[1]
    assert reply["reporter"] == "张*" and reply["case_summary"] == "张*家楼上漏水"
    assert reply["text"] == "张*您好，维修师傅电话150****2394，物业座机0591-****1514。"
    assert items[0]["text"] == "谢谢，我的电话138****1234"
    dump = wall.get_data(as_text=True)
    assert "13812341234" not in dump and "张三" not in dump and "P000020" not in dump and "内部" not in dump
    # the reporter sees public feedback of their case; staff see private notes too
    assert len(c.get(f"/api/v1/cases/{cid}/feedback", headers=REPORTER).get_json()) == 2
    assert len(c.get(f"/api/v1/cases/{cid}/feedback", headers=GW).get_json()) == 4
    timeline = c.get(f"/api/v1/cases/{cid}/timeline", headers=REPORTER).get_json()["items"]
    assert [e["kind"] for e in timeline] == ["received", "feedback", "feedback"]


def test_sessions_link_cases_and_follow_ups_overdue_board(db_url):
    c = make_client("disputes", db_url)
    red = new_case(c, ref="FX-1", scale=3, difficulty=3, social_impact=3, reported_at="2024-05-01T10:00:00+08:00")
    yellow = new_case(c, ref="FX-2", scale=1, difficulty=2, social_impact=1, reported_at="2024-05-02T10:00:00+08:00")
    other = new_case(c, ref="FX-3", estate="兴隆苑", reported_at="2024-05-03T10:00:00+08:00")
    r = c.post("/api/v1/sessions", headers=MEDIATOR, json={"ref": "NT-1", "held_on": "2024-05-10", "estate": "汾河新村",
                                                           "attendees": 23, "case_refs": ["FX-3"]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "case_refs.0"
    r = c.post("/api/v1/sessions", headers=MEDIATOR, json={"ref": "NT-1", "held_on": "2024-05-10", "estate": "汾河新村",
                                                           "attendees": 23, "case_refs": ["FX-1", "FX-2"]})
    assert r.status_code == 201, r.get_json()
    session = r.get_json()
    assert [x["case_ref"] for x in session["cases"]] == ["FX-1", "FX-2"]
    assert c.post("/api/v1/sessions", headers=MEDIATOR, json={"ref": "NT-1", "held_on": "2024-05-10",
                                                              "estate": "汾河新村", "attendees": 1}).status_code == 409
    assert c.get(f"/api/v1/cases/{red['id']}", headers=GW).get_json()["status"] == "in_mediation"
    assert c.get(f"/api/v1/cases/{red['id']}", headers=GW).get_json()["session_ids"] == [session["id"]]
    held = outbox_data(db_url, "disputes.session.held.v1")[0]
    assert held["case_ids"] == [red["id"], yellow["id"]] and held["attendees"] == 23
    # resolutions at the session: same estate and same Asia/Shanghai day
    r = c.post(f"/api/v1/cases/{other['id']}/resolutions", headers=MEDIATOR, json={
        "text": "x", "session_ref": "NT-1", "resolved_at": "2024-05-10T21:00:00+08:00", "participants": []})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "session_ref"
    r = c.post(f"/api/v1/cases/{red['id']}/resolutions", headers=MEDIATOR, json={
        "text": "x", "session_ref": "NT-1", "resolved_at": "2024-05-11T21:00:00+08:00", "participants": []})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "resolved_at"
    for case, due in ((red, "2024-05-20"), (yellow, "2024-05-15")):
        r = c.post(f"/api/v1/cases/{case['id']}/resolutions", headers=MEDIATOR, json={
            "text": "限期整改", "session_ref": "NT-1", "resolved_at": "2024-05-10T21:30:00+08:00",
            "responsible_party": "物业公司", "due_on": due, "participants": []})
        assert r.status_code == 201, r.get_json()
    decisions = c.get(f"/api/v1/sessions/{session['id']}", headers=GW).get_json()["decisions"]
    assert [(d["case_id"], d["due_on"], d["responsible_party"]) for d in decisions] == [
        (red["id"], "2024-05-20", "物业公司"), (yellow["id"], "2024-05-15", "物业公司")]
    extra = c.post(f"/api/v1/cases/{red['id']}/follow-ups", headers=SUPERVISOR,
                   json={"task": "回访居民", "due_on": "2024-05-12"}).get_json()
    board = c.get("/api/v1/follow-ups/overdue?as_of=2024-05-16", headers=SUPERVISOR).get_json()
    assert [(g["grade"], [i["follow_up"]["due_on"] for i in g["items"]]) for g in board["groups"]] == [
        ("red", ["2024-05-12"]), ("yellow", ["2024-05-15"])]
    assert board["groups"][0]["items"][0]["days_overdue"] == 4
    # due on the 15th is not overdue on the 15th itself (Asia/Shanghai days)
    board = c.get("/api/v1/follow-ups/overdue?as_of=2024-05-15", headers=SUPERVISOR).get_json()
    assert [g["grade"] for g in board["groups"]] == ["red"]
    r = c.post(f"/api/v1/follow-ups/{extra['id']}/progress", headers=GW, json={"note": "已电话回访"})
    assert r.status_code == 200 and r.get_json()["progress"][0]["note"] == "已电话回访"
    r = c.post(f"/api/v1/follow-ups/{extra['id']}/completion", headers=SUPERVISOR, json={"at": "2024-05-13T10:00:00+08:00"})
    assert r.status_code == 200 and r.get_json()["status"] == "done"
    assert c.post(f"/api/v1/follow-ups/{extra['id']}/completion", headers=SUPERVISOR, json={}).status_code == 409
    board = c.get("/api/v1/follow-ups/overdue?as_of=2024-05-30", headers=SUPERVISOR).get_json()
    assert [(g["grade"], len(g["items"])) for g in board["groups"]] == [("red", 1), ("yellow", 1)]
    fu = c.get(f"/api/v1/cases/{yellow['id']}/follow-ups", headers=GW).get_json()["items"][0]
    c.post(f"/api/v1/follow-ups/{fu['id']}/completion", headers=SUPERVISOR, json={"at": "2024-05-14T10:00:00+08:00"})
    kinds = [e["kind"] for e in c.get(f"/api/v1/cases/{yellow['id']}/timeline", headers=GW).get_json()["items"]]
    assert kinds[-2:] == ["follow_up_completed", "loop_closed"]
    # the worker's scheduled check publishes each overdue follow-up once
    from services.disputes.handlers import publish_overdue_follow_ups
    from shared import outbox
    from shared.db import engine_for
    from shared.testing import make_settings
    outbox.configure("disputes", "http://localhost")
    settings = make_settings("disputes", db_url)
    assert publish_overdue_follow_ups(engine_for(db_url), settings) == 1
    assert publish_overdue_follow_ups(engine_for(db_url), settings) == 0
    assert outbox_data(db_url, "disputes.follow_up.overdue.v1")[0]["grade"] == "red"


def test_hazard_reports_verify_once_and_publish(db_url):
    c = make_client("disputes", db_url)
    rider = resident("P009718")
    r = c.post("/api/v1/hazard-reports", headers=rider, json={
        "photo": "media:hz-1", "estate": "安康小区", "location": "3号楼东侧井盖破损",
        "reported_at": "2024-09-10T12:40:00+08:00"})
    assert r.status_code == 201 and r.get_json()["reporter_person_id"] == "P009718"
    rid = r.get_json()["id"]
    assert c.get(f"/api/v1/hazard-reports/{rid}", headers=resident("P000001")).status_code == 404
    assert c.post(f"/api/v1/hazard-reports/{rid}/verification", json={}, headers=rider).status_code == 403
    r = c.post(f"/api/v1/hazard-reports/{rid}/verification", headers=GW, json={"at": "2024-09-10T16:30:00+08:00"})
    assert r.status_code == 200 and r.get_json()["status"] == "verified"
    assert c.post(f"/api/v1/hazard-reports/{rid}/verification", headers=GW, json={}).status_code == 409
    assert c.post(f"/api/v1/hazard-reports/{rid}/rejection", headers=GW, json={"note": "x"}).status_code == 409
    event = outbox_data(db_url, "disputes.hazard_report.verified.v1")
    assert event == [{"report_id": rid, "reporter_person_id": "P009718", "estate": "安康小区",
                      "verified_at": "2024-09-10T16:30:00+08:00", "reported_at": "2024-09-10T12:40:00+08:00",
                      "verifier_person_id": "P900001"}]
    r2 = c.post("/api/v1/hazard-reports", headers=GW, json={"photo": "media:hz-2", "estate": "安康小区", "location": "x"})
    assert r2.status_code == 422 and r2.get_json()["errors"][0]["field"] == "reporter_person_id"
    r2 = c.post("/api/v1/hazard-reports", headers=rider, json={"photo": "media:hz-2", "estate": "安康小区", "location": "x"})
    r = c.post(f"/api/v1/hazard-reports/{r2.get_json()['id']}/rejection", headers=GW, json={"note": "非安全隐患"})
    assert r.get_json()["status"] == "rejected" and len(outbox_data(db_url, "disputes.hazard_report.verified.v1")) == 1
    mine = c.get("/api/v1/hazard-reports", headers=rider).get_json()["items"]
    assert [m["status"] for m in mine] == ["verified", "rejected"]


def test_map_and_csv_export(db_url):
    c = make_client("disputes", db_url)
    new_case(c, grid="一网格", scale=3, difficulty=3, social_impact=3)
    new_case(c, grid="一网格", scale=1, difficulty=1, social_impact=1)
    new_case(c, grid="二网格")
    done = new_case(c, estate="兴隆苑", reporter={"name": "张三", "phone": "13812341234"})
    c.post(f"/api/v1/cases/{done['id']}/resolutions", headers=MEDIATOR, json={"text": "x", "participants": []})
    m = c.get("/api/v1/map").get_json()["estates"]  # public
    assert m == [{"estate": "汾河新村", "blue": 1, "yellow": 0, "red": 1, "ungraded": 1, "open": 3, "colour": "red",
                  "grids": [{"grid": "一网格", "blue": 1, "yellow": 0, "red": 1, "ungraded": 0, "open": 2, "colour": "red"},
                            {"grid": "二网格", "blue": 0, "yellow": 0, "red": 0, "ungraded": 1, "open": 1, "colour": None}]}]
    r = c.get("/api/v1/statistics/cases.csv?from=2024-06-01&to=2024-06-01", headers=SUPERVISOR)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == 4 and {row["status"] for row in rows} == {"graded", "received", "resolved"}
    assert "13812341234" not in r.get_data(as_text=True) and "张三" not in r.get_data(as_text=True)
    assert c.get("/api/v1/statistics/cases.csv?from=2024-06-02", headers=ADMIN).get_data(as_text=True).count("\n") == 1
    r = c.get("/api/v1/statistics?from=2024-06-03&to=2024-06-01", headers=ADMIN)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "to"
