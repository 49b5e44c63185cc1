"""Jobs and dispatch: sign-in order, the fair rotation, staff override with a reason, no double booking on
a day (also under concurrent dispatches), completion with wages and jobmarket.job.completed.v1, the
worker's paid confirmation, mutual ratings, and who sees what."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.events import validate_data
from shared.testing import auth, make_client

from .helpers import API, STAFF, outbox_events, register

BOSS = auth("emp-1", "employer")


@pytest.fixture
def client(db_url):
    return make_client("jobmarket", db_url)


def _sign_in(client, card, at):
    r = client.post(f"{API}/sign-ins", json={"worker": card, "signed_in_at": at}, headers=STAFF)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _job(client, employer_id, work_on, headcount=2, skills=("masonry",)):
    """A job posted by staff for the employer the evening before its day (history with its own time)."""
    r = client.post(f"{API}/jobs", headers=STAFF, json={
        "employer_id": employer_id, "title": "砌墙", "trade": "construction", "skills": list(skills),
        "headcount": headcount, "work_on": work_on, "place": "盐湖区", "wage_per_day": "200.00",
        "posted_at": "2024-03-01T18:00:00+08:00"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_dispatch_orders_override_completion_and_ratings(client, db_url):
    employer = client.post(f"{API}/employers", json={"name": "王老板", "phone": "13800000000"}, headers=BOSS)
    assert employer.status_code == 201
    emp = employer.get_json()["id"]
    for i, skills in ((1, ["masonry"]), (2, ["masonry", "plastering"]), (3, ["masonry"]), (4, ["cleaning"])):
        register(client, f"W-000{i}", person_id=f"P00000{i}", skills=skills)
    # day 1: sign-in order; W-0001 signs in first
    for i, card in enumerate(("W-0001", "W-0002", "W-0003", "W-0004")):
        assert _sign_in(client, card, f"2024-03-04T06:3{i}:00+08:00")["seq"] == i + 1
    assert client.post(f"{API}/sign-ins", json={"worker": "W-0001", "signed_in_at": "2024-03-04T07:00:00+08:00"},
                       headers=STAFF).status_code == 409
    job1 = _job(client, emp, "2024-03-04")
    made = client.post(f"{API}/jobs/{job1['id']}/dispatch", json={"method": "sign_in_order"}, headers=STAFF)
    assert [d["card_no"] for d in made.get_json()["items"]] == ["W-0001", "W-0002"]
    # another job that day: W-0001/2 are booked, W-0004 lacks the skill
    job2 = _job(client, emp, "2024-03-04", headcount=3)
    made2 = client.post(f"{API}/jobs/{job2['id']}/dispatch", json={}, headers=STAFF).get_json()["items"]
    assert [d["card_no"] for d in made2] == ["W-0003"]
    double = client.post(f"{API}/jobs/{job2['id']}/dispatches", json={"worker": "W-0001", "reason": "老板点名"},
                         headers=STAFF)
    assert double.status_code == 409 and double.get_json()["type"].endswith("/double-booking")
    no_reason = client.post(f"{API}/jobs/{job2['id']}/dispatches", json={"worker": "W-0004"}, headers=STAFF)
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    chosen = client.post(f"{API}/jobs/{job2['id']}/dispatches", json={"worker": "W-0004", "reason": "老板点名"},
                         headers=STAFF).get_json()
    assert (chosen["method"], chosen["reason"]) == ("override", "老板点名")

    # day 2: rotation puts those longest without work first
    for i, card in enumerate(("W-0001", "W-0002", "W-0003")):
        _sign_in(client, card, f"2024-03-05T06:3{i}:00+08:00")
    _sign_in(client, "W-0004", "2024-03-05T06:40:00+08:00")
    client.post(f"{API}/dispatches/{made2[0]['id']}/cancellation", json={"reason": "下雨停工"}, headers=STAFF)
    job3 = _job(client, emp, "2024-03-05", headcount=1)
    rotated = client.post(f"{API}/jobs/{job3['id']}/dispatch", json={"method": "rotation"}, headers=STAFF)
    assert [d["card_no"] for d in rotated.get_json()["items"]] == ["W-0003"]  # its day-1 work was cancelled

    # completion: wages exact, the event without personal data
    done = client.post(f"{API}/jobs/{job1['id']}/completion", headers=BOSS, json={
        "days": 2, "workers": [{"dispatch_id": made.get_json()["items"][1]["id"], "days": 1}]})
    assert done.status_code == 200 and done.get_json()["wage_total"] == "600.00"
    event = outbox_events(db_url, "jobmarket.job.completed.v1")[0]["data"]
    validate_data("jobmarket.job.completed.v1", event, strict=True)
    assert event == {"job_id": job1["id"], "worker_person_ids": ["P000001", "P000002"], "days": 2,
                     "wage_total": "600.00", "completed_on": event["completed_on"], "trade": "construction"}
    assert client.post(f"{API}/jobs/{job1['id']}/completion", json={"days": 1}, headers=BOSS).status_code == 409

    d1 = made.get_json()["items"][0]["id"]
    me, other = auth("P000001", "worker"), auth("P000003", "worker")
    paid = client.post(f"{API}/dispatches/{d1}/paid-confirmation", json={"paid": True}, headers=me)
    assert paid.status_code == 200 and paid.get_json()["paid_confirmed"] is True
    assert client.post(f"{API}/dispatches/{d1}/paid-confirmation", json={"paid": True}, headers=other).status_code == 404
    assert client.post(f"{API}/dispatches/{d1}/ratings", json={"rating": 5}, headers=me).get_json()["employer_rating"] == 5
    assert client.post(f"{API}/dispatches/{d1}/ratings", json={"rating": 4}, headers=BOSS).get_json()["worker_rating"] == 4
    assert client.post(f"{API}/dispatches/{d1}/ratings", json={"rating": 3}, headers=me).status_code == 409
    assert client.post(f"{API}/dispatches/{d1}/ratings", json={"rating": 6}, headers=BOSS).status_code == 422
    # an employer sees only its own jobs
    assert client.get(f"{API}/jobs/{job1['id']}", headers=auth("emp-2", "employer")).status_code == 404
    report = client.get(f"{API}/reports/jobs", headers=STAFF).get_json()
    assert (report["jobs_completed"], report["worker_days"], report["wages_total"]) == (1, 3, "600.00")


def test_concurrent_dispatches_never_double_book_a_worker(db_url):
    client = make_client("jobmarket", db_url)
    emp = client.post(f"{API}/employers", json={"name": "李老板"}, headers=BOSS).get_json()["id"]
    for i in range(1, 4):
        register(client, f"W-000{i}", skills=["masonry"])
        _sign_in(client, f"W-000{i}", f"2024-03-06T06:3{i}:00+08:00")
    jobs = [_job(client, emp, "2024-03-06", headcount=3) for _ in range(4)]
    clients = [make_client("jobmarket", db_url) for _ in jobs]

    def run(i):
        return clients[i].post(f"{API}/jobs/{jobs[i]['id']}/dispatch", json={}, headers=STAFF)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(run, range(4)))
    booked = [d["card_no"] for r in answers if r.status_code == 201 for d in r.get_json()["items"]]
    assert sorted(booked) == ["W-0001", "W-0002", "W-0003"], [r.get_json() for r in answers]
