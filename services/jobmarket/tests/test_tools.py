"""Free tool loans: policy per kind, holds, check-out and return, the loan limit by the loan's own time,
repairs out of circulation, the overdue list and jobmarket.tool.overdue.v1 exactly once per loan."""
from __future__ import annotations


import pytest

from shared.db import engine_for
from shared.events import validate_data
from shared.testing import auth, make_client, make_settings

from ..handlers import SCHEDULES
from .helpers import API, STAFF, outbox_events, register


@pytest.fixture
def client(db_url):
    return make_client("jobmarket", db_url)


def _tool(client, ref, kind="generator"):
    r = client.post(f"{API}/tools", json={"ref": ref, "kind": kind, "name": "汽油发电机 3kW"}, headers=STAFF)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_loans_holds_limits_repairs_and_overdue_once(client, db_url):
    register(client, "W-0001", person_id="P000001")
    register(client, "W-0002")
    for ref in ("T-001", "T-002", "T-003"):
        _tool(client, ref)
    assert client.post(f"{API}/tools", json={"ref": "T-001", "kind": "generator", "name": "x"},
                       headers=STAFF).status_code == 409
    policy = client.put(f"{API}/tool-kinds/generator", json={"loan_days": 2, "limit_per_worker": 1}, headers=STAFF)
    assert policy.get_json()["loan_days"] == 2
    lent = client.post(f"{API}/tools/T-001/loans", headers=STAFF, json={
        "worker": "W-0001", "lent_at": "2024-03-06T07:30:00+08:00", "notes": "油箱半满"}).get_json()
    assert lent["due_at"] == "2024-03-08T07:30:00+08:00" and lent["overdue"] is True
    limit = client.post(f"{API}/tools/T-002/loans", headers=STAFF,
                        json={"worker": "W-0001", "lent_at": "2024-03-07T07:30:00+08:00"})
    assert limit.status_code == 409 and limit.get_json()["type"].endswith("/loan-limit")
    taken = client.post(f"{API}/tools/T-001/loans", headers=STAFF, json={"worker": "W-0002"})
    assert taken.status_code == 409 and taken.get_json()["type"].endswith("/tool-unavailable")

    # a hold keeps a tool for one worker only
    hold = client.post(f"{API}/tools/T-002/holds", json={}, headers=auth("P000001", "worker"))
    assert hold.status_code == 201
    other = client.post(f"{API}/tools/T-002/loans", headers=STAFF, json={"worker": "W-0002"})
    assert other.status_code == 409
    assert client.post(f"{API}/tool-holds/{hold.get_json()['id']}/cancellation",
                       headers=auth("P000001", "worker")).status_code == 200
    assert client.get(f"{API}/tools/T-002", headers=STAFF).get_json()["status"] == "available"

    # repairs take a tool out of circulation until closed
    repair = client.post(f"{API}/tools/T-003/repairs", json={"reason": "拉绳断了"}, headers=STAFF).get_json()
    assert client.post(f"{API}/tools/T-003/loans", headers=STAFF, json={"worker": "W-0002"}).status_code == 409
    closed = client.post(f"{API}/tool-repairs/{repair['id']}/closure", json={"outcome": "换了拉绳"}, headers=STAFF)
    assert closed.status_code == 200
    assert client.get(f"{API}/tools/T-003", headers=STAFF).get_json()["status"] == "available"

    # overdue list and the event, exactly once per loan, only for loans due by wall-clock time
    future = client.post(f"{API}/tools/T-003/loans", headers=STAFF, json={"worker": "W-0002"}).get_json()
    assert future["overdue"] is False
    overdue = client.get(f"{API}/tool-loans", query_string={"overdue": "true"}, headers=STAFF).get_json()["items"]
    assert [x["id"] for x in overdue] == [lent["id"]]
    job = dict((name, fn) for name, _, fn in SCHEDULES)["tool-overdue"]
    settings = make_settings("jobmarket", db_url)
    assert job(engine_for(db_url), settings) == 1
    assert job(engine_for(db_url), settings) == 0
    events = outbox_events(db_url, "jobmarket.tool.overdue.v1")
    assert len(events) == 1
    data = events[0]["data"]
    validate_data("jobmarket.tool.overdue.v1", data, strict=True)
    assert data == {"loan_id": lent["id"], "tool_id": lent["tool_id"], "worker_person_id": "P000001",
                    "due_at": "2024-03-08T07:30:00+08:00", "tool_kind": "generator",
                    "lent_at": "2024-03-06T07:30:00+08:00"}

    # return with condition notes, straight to repair
    back = client.post(f"{API}/tool-loans/{lent['id']}/return", headers=STAFF, json={
        "returned_at": "2024-03-09T18:00:00+08:00", "condition": "damaged", "notes": "外壳裂了", "send_to_repair": True})
    assert back.status_code == 200 and back.get_json()["condition_in"] == "damaged"
    assert client.get(f"{API}/tools/T-001", headers=STAFF).get_json()["status"] == "in_repair"
    assert client.post(f"{API}/tool-loans/{lent['id']}/return", headers=STAFF,
                       json={"condition": "good"}).status_code == 409
    report = client.get(f"{API}/reports/tools", headers=STAFF).get_json()
    assert (report["tools"], report["loans"], report["returned"], report["overdue_now"],
            report["overdue_notified"]) == (3, 2, 1, 0, 1)
    # a worker sees only their own loans
    mine = client.get(f"{API}/tool-loans", headers=auth("P000001", "worker")).get_json()["items"]
    assert [x["id"] for x in mine] == [lent["id"]]
    assert client.get(f"{API}/tool-loans/{future['id']}", headers=auth("P000001", "worker")).status_code == 404


def test_history_loans_count_the_limit_at_their_own_time(client):
    register(client, "W-0001")
    _tool(client, "T-005", "electric_hammer")
    _tool(client, "T-006", "electric_hammer")
    first = client.post(f"{API}/tools/T-005/loans", headers=STAFF,
                        json={"worker": "W-0001", "lent_at": "2024-03-01T08:00:00+08:00"}).get_json()
    client.post(f"{API}/tool-loans/{first['id']}/return", headers=STAFF,
                json={"returned_at": "2024-03-02T08:00:00+08:00", "condition": "good"})
    during = client.post(f"{API}/tools/T-006/loans", headers=STAFF,
                         json={"worker": "W-0001", "lent_at": "2024-03-01T12:00:00+08:00"})
    assert during.status_code == 409  # they held a hammer then
    after = client.post(f"{API}/tools/T-006/loans", headers=STAFF,
                        json={"worker": "W-0001", "lent_at": "2024-03-03T08:00:00+08:00"})
    assert after.status_code == 201
    bad = client.post(f"{API}/tools", json={"ref": "T 7", "kind": "Generator", "name": ""}, headers=STAFF)
    assert bad.status_code == 422 and {"ref", "kind", "name"} <= {e["field"] for e in bad.get_json()["errors"]}
