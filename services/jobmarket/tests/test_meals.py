"""The five-yuan lunch: day boundaries in Asia/Shanghai whatever the server's zone, capacity, serving order,
the tariff and the subsidy report, strict input, and who may see what."""
from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

import pytest

from shared.testing import auth, make_client
from shared.timeutil import SHANGHAI

from .helpers import API, STAFF, register, ticket


@pytest.fixture(params=["UTC", "Asia/Shanghai"])
def server_tz(request, monkeypatch):
    """The process time zone of the server (time.tzset), restored afterwards."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def client(db_url):
    return make_client("jobmarket", db_url)


def test_a_ticket_at_half_past_midnight_beijing_time_belongs_to_the_new_day(server_tz, client):
    for card in ("W-0001", "W-0002", "W-0003", "W-0004"):
        register(client, card)
    late = ticket(client, "W-0001", "2024-03-01T23:50:00+08:00").get_json()
    assert (late["served_on"], late["ticket_no"]) == ("2024-03-01", 1)
    new_day = ticket(client, "W-0002", "2024-03-02T00:30:00+08:00").get_json()
    assert (new_day["served_on"], new_day["ticket_no"]) == ("2024-03-02", 1)
    # the same kind of moment written in UTC (16:30Z is 00:30 in Beijing): still the new day, next number
    utc_form = ticket(client, "W-0003", "2024-03-01T16:35:00Z").get_json()
    assert (utc_form["served_on"], utc_form["ticket_no"]) == ("2024-03-02", 2)
    # a check that names the UTC date is refused, naming the field, and stores nothing
    wrong = ticket(client, "W-0004", "2024-03-01T16:40:00Z", served_on="2024-03-01")
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "served_on"
    assert client.get(f"{API}/meal-days/2024-03-02", headers=STAFF).get_json()["issued"] == 2
    # a live ticket (no time given) belongs to today's Asia/Shanghai day
    live = ticket(client, "W-0004").get_json()
    assert live["served_on"] == datetime.now(SHANGHAI).date().isoformat()
    report = client.get(f"{API}/reports/meals", query_string={"group_by": "day", "to": "2024-03-31"},
                        headers=STAFF).get_json()
    assert [(p["period"], p["tickets_issued"]) for p in report["periods"]] == [("2024-03-01", 1), ("2024-03-02", 2)]


def test_subsidy_report_is_meals_times_cost_minus_price(client):
    tariffs = client.get(f"{API}/meal-tariffs", headers=STAFF).get_json()
    default = tariffs["default"]
    later = {"effective_from": "2024-04-01", "price": "6.00", "cost": "10.50"}
    assert client.post(f"{API}/meal-tariffs", json=later, headers=STAFF).status_code == 201
    plan = {"2024-03-30": 3, "2024-03-31": 2, "2024-04-01": 4}
    card = iter(f"W-{i:04d}" for i in range(1, 100))
    served = {}
    for day, n in plan.items():
        for k in range(n):
            c = next(card)
            register(client, c)
            r = ticket(client, c, f"{day}T11:{30 + k:02d}:00+08:00", served_at=f"{day}T12:{k:02d}:00+08:00")
            assert r.status_code == 201, r.get_json()
            served[day] = served.get(day, 0) + 1
    c = next(card)
    register(client, c)
    assert ticket(client, c, "2024-04-01T11:59:00+08:00").status_code == 201  # issued, not served: no meal
    march = sum(n for d, n in served.items() if d < "2024-04-01")
    april = served["2024-04-01"]
    expect = (march * (Decimal(default["cost"]) - Decimal(default["price"]))
              + april * (Decimal(later["cost"]) - Decimal(later["price"])))
    report = client.get(f"{API}/reports/meals", headers=STAFF).get_json()
    assert report["meals_served"] == march + april and report["tickets_issued"] == march + april + 1
    assert Decimal(report["subsidy_total"]) == expect and report["subsidy_total"] == f"{expect:.2f}"
    assert (report["meal_price"], report["meal_cost"]) == (later["price"], later["cost"])
    by_month = {p["period"]: p for p in report["periods"]}
    assert Decimal(by_month["2024-03"]["subsidy_total"]) == march * (Decimal(default["cost"]) - Decimal(default["price"]))
    only_march = client.get(f"{API}/reports/meals", query_string={"from": "2024-03-01", "to": "2024-03-31"},
                            headers=STAFF).get_json()
    assert only_march["meals_served"] == march and only_march["busiest_day_meals"] == max(plan["2024-03-30"], 2)


def test_capacity_one_ticket_per_worker_and_serving_in_order(client):
    for i in range(1, 5):
        register(client, f"W-000{i}")
    assert client.post(f"{API}/meal-days", json={"served_on": "2024-03-05", "capacity": 2}, headers=STAFF).status_code == 201
    assert client.post(f"{API}/meal-days", json={"served_on": "2024-03-05"}, headers=STAFF).status_code == 409
    at = "2024-03-05T11:3{}:00+08:00"
    assert ticket(client, "W-0001", at.format(1)).get_json()["ticket_no"] == 1
    twice = ticket(client, "W-0001", at.format(2))
    assert twice.status_code == 409 and twice.get_json()["type"].endswith("/ticket-exists")
    assert ticket(client, "W-0002", at.format(3)).get_json()["ticket_no"] == 2
    full = ticket(client, "W-0003", at.format(4))
    assert full.status_code == 409 and full.get_json()["type"].endswith("/meals-sold-out")
    assert client.patch(f"{API}/meal-days/2024-03-05", json={"capacity": 1}, headers=STAFF).status_code == 409
    assert client.patch(f"{API}/meal-days/2024-03-05", json={"capacity": 3}, headers=STAFF).get_json()["remaining"] == 1
    assert ticket(client, "W-0003", at.format(5)).get_json()["ticket_no"] == 3
    call = f"{API}/meal-days/2024-03-05/calls"
    early = client.post(call, json={"served_at": "2024-03-05T11:00:00+08:00"}, headers=STAFF)
    assert early.status_code == 422 and early.get_json()["errors"][0]["field"] == "served_at"
    numbers = [client.post(call, json={"served_at": "2024-03-05T12:0%d:00+08:00" % k}, headers=STAFF)
               .get_json()["ticket_no"] for k in range(3)]
    assert numbers == [1, 2, 3]
    assert client.post(call, json={}, headers=STAFF).get_json()["type"].endswith("/no-ticket-waiting")
    # issued-and-served in one call must be the next number to call
    assert client.patch(f"{API}/meal-days/2024-03-05", json={"capacity": 5}, headers=STAFF).status_code == 200
    assert ticket(client, "W-0004", at.format(9), served_at="2024-03-05T12:30:00+08:00").get_json()["status"] == "served"


@pytest.mark.parametrize("body, field", [
    ({"worker": "W-0001", "extra": 1}, "extra"),
    ({"worker": "W-0001", "issued_at": "2024-03-01T11:30:00"}, "issued_at"),
    ({"worker": "W-0001", "issued_at": "2999-03-01T11:30:00+08:00"}, "issued_at"),
    ({"worker": "W-9999"}, "worker"),
    ({"worker": 12}, "worker"),
    ({}, "worker"),
    ({"worker": "W-0001", "served_on": "2024-02-30"}, "served_on"),
])
def test_bad_ticket_requests_name_the_field_and_store_nothing(client, body, field):
    register(client, "W-0001")
    r = client.post(f"{API}/meal-tickets", json=body, headers=STAFF)
    assert r.status_code == 422, r.get_json()
    assert field in {e["field"] for e in r.get_json()["errors"]}
    assert client.get(f"{API}/meal-tickets", headers=STAFF).get_json()["items"] == []


def test_bad_tariffs_are_refused(client):
    for body, field in [({"effective_from": "2024-01-01", "price": "5.005", "cost": "9.00"}, "price"),
                        ({"effective_from": "2024-01-01", "price": 5, "cost": "9.00"}, "price"),
                        ({"effective_from": "2024-01-01", "price": "9.00", "cost": "5.00"}, "cost")]:
        r = client.post(f"{API}/meal-tariffs", json=body, headers=STAFF)
        assert r.status_code == 422 and field in {e["field"] for e in r.get_json()["errors"]}
    assert client.get(f"{API}/meal-tariffs", headers=STAFF).get_json()["items"] == []


def test_a_worker_takes_their_own_ticket_and_sees_only_their_own(client):
    register(client, "W-0001", person_id="P000101")
    register(client, "W-0002", person_id="P000102")
    me = auth("P000101", "worker")
    mine = client.post(f"{API}/meal-tickets", json={}, headers=me)
    assert mine.status_code == 201 and mine.get_json()["card_no"] == "W-0001"
    assert client.post(f"{API}/meal-tickets", json={"worker": "W-0002"}, headers=me).status_code == 404
    past = client.post(f"{API}/meal-tickets", json={"issued_at": "2024-03-01T11:30:00+08:00"}, headers=me)
    assert past.status_code == 422 and past.get_json()["errors"][0]["field"] == "issued_at"
    assert client.get(f"{API}/workers/W-0002", headers=me).status_code == 404
    assert client.get(f"{API}/workers/W-0001", headers=me).status_code == 200
    listed = client.get(f"{API}/meal-tickets", headers=me).get_json()["items"]
    assert [t["card_no"] for t in listed] == ["W-0001"]
    assert client.get(f"{API}/reports/meals", headers=me).status_code == 403
    assert client.get(f"{API}/reports/meals").status_code == 401
