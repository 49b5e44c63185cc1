"""The points supermarket: catalogue, per-person limits, active windows, reserve → hand over / cancel /
expire, Idempotency-Key, statements with running balances and balances as of a past time, and who sees what."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import engine_for
from shared.outbox import OutboxMessage
from shared.testing import auth, make_client
from services.points.domain import redemptions

from .helpers import ADMIN, CLERK, balance


def _give(client, person, points):
    r = client.post("/api/v1/credits", headers=CLERK, json={
        "person_id": person, "rule": "bonus", "quantity": points, "reason": "test credit",
        "occurred_at": "2024-09-01T10:00:00+08:00"})
    assert r.status_code == 201, r.get_json()


def _setup(client):
    assert client.post("/api/v1/rules", headers=ADMIN, json={
        "code": "bonus", "category": "civility_campaign", "unit": "manual", "points": 1}).status_code == 201
    for body in ({"sku": "SOAP", "name": "香皂", "points_price": 15, "stock": 10, "per_person_limit": 2,
                  "limit_period": "month", "low_stock_threshold": 3},
                 {"sku": "MOONCAKE", "name": "月饼", "points_price": 20, "stock": 5,
                  "active_from": "2024-09-01T00:00:00+08:00", "active_to": "2024-09-18T00:00:00+08:00"}):
        r = client.post("/api/v1/catalogue", json=body, headers=CLERK)
        assert r.status_code == 201, r.get_json()


def test_reserve_hand_over_cancel_expire_and_limits(db_url):
    client = make_client("points", db_url)
    _setup(client)
    _give(client, "P-A", 100)
    me = auth("P-A", "resident")

    def reserve(items, headers=me, **extra):
        return client.post("/api/v1/redemptions", json={"items": items, **extra}, headers=headers)

    r = reserve([{"sku": "SOAP", "quantity": 2}])
    assert r.status_code == 201 and r.get_json()["points"] == 30
    first = r.get_json()["id"]
    assert reserve([{"sku": "SOAP", "quantity": 1}]).get_json()["type"].endswith("per-person-limit")
    assert balance(client, "P-A")["available"] == 70
    # cancel: points and stock and the per-person allowance come back
    c = client.post(f"/api/v1/redemptions/{first}/cancellation", json={}, headers=me)
    assert c.status_code == 200 and c.get_json()["status"] == "cancelled"
    assert client.post(f"/api/v1/redemptions/{first}/hand-over", json={}, headers=CLERK).status_code == 409
    assert balance(client, "P-A")["available"] == 100
    item = client.get("/api/v1/catalogue/SOAP", headers=me).get_json()
    assert (item["stock"], item["reserved"]) == (10, 0)
    assert reserve([{"sku": "SOAP", "quantity": 2}]).status_code == 201

    # active window, by the record's own time (staff recording the past)
    assert reserve([{"sku": "MOONCAKE", "quantity": 1}]).get_json()["type"].endswith("not-on-offer")
    past = reserve([{"sku": "MOONCAKE", "quantity": 1}], headers=CLERK, person_id="P-A",
                   reserved_at="2024-09-15T10:00:00+08:00", collect=True)
    assert past.status_code == 201 and past.get_json()["status"] == "redeemed"
    assert past.get_json()["redeemed_at"].startswith("2024-09-15T10:00:00")

    # refusals: unknown sku (422 naming it), repeated sku, more than the balance, residents for others
    r = reserve([{"sku": "NOPE", "quantity": 1}])
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "items.0.sku"
    assert reserve([{"sku": "SOAP", "quantity": 1}, {"sku": "SOAP", "quantity": 1}]).status_code == 422
    assert reserve([{"sku": "SOAP", "quantity": 0}]).status_code == 422
    assert reserve([]).status_code == 422
    assert reserve([{"sku": "SOAP", "quantity": 1}], person_id="P-B").status_code == 404
    assert reserve([{"sku": "SOAP", "quantity": 1}], collect=True).status_code == 403
    assert reserve([{"sku": "SOAP", "quantity": 1}], headers=auth("P-NOBODY", "resident")).get_json()[
        "type"].endswith("insufficient-points")

    # expiry: the worker's job voids what passed expires_at (by the wall clock), recorded at expires_at
    held = reserve([{"sku": "MOONCAKE", "quantity": 1}], headers=CLERK, person_id="P-A",
                   reserved_at="2024-09-16T10:00:00+08:00", expires_at="2024-09-17T10:00:00+08:00")
    assert held.status_code == 201
    assert redemptions.expire_due(engine_for(db_url)) >= 1
    expired = client.get(f"/api/v1/redemptions/{held.get_json()['id']}", headers=me).get_json()
    assert expired["status"] == "expired" and expired["voided_at"].startswith("2024-09-17T10:00:00")
    pair = client.get("/api/v1/redemptions?status=reserved", headers=me).get_json()["items"]
    assert [p["items"][0]["sku"] for p in pair] == ["SOAP"]  # reserved now, due in 72 hours
    assert redemptions.expire_due(engine_for(db_url)) == 0
    assert redemptions.expire_due(engine_for(db_url), now=datetime.now(timezone.utc) + timedelta(hours=73)) == 1
    assert client.get(f"/api/v1/redemptions/{pair[0]['id']}", headers=me).get_json()["status"] == "expired"
    account = balance(client, "P-A")
    assert account["balance"] == 100 - 20 and account["available"] == 80 and account["reserved"] == 0
    assert client.get("/api/v1/catalogue/MOONCAKE", headers=me).get_json()["stock"] == 4

    with Session(engine_for(db_url)) as s:
        kinds = [r.type for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.seq))]
    assert kinds.count("points.redeemed.v1") == 1 and kinds.count("points.redemption.voided.v1") == 3

    # privacy: another resident's account, statement and redemption answer 404
    other = auth("P-B", "resident")
    assert client.get("/api/v1/accounts/P-A", headers=other).status_code == 404
    assert client.get("/api/v1/accounts/P-A/entries", headers=other).status_code == 404
    assert client.get(f"/api/v1/redemptions/{first}", headers=other).status_code == 404
    assert client.post(f"/api/v1/redemptions/{first}/cancellation", json={}, headers=other).status_code == 404
    assert client.get("/api/v1/redemptions", headers=other).get_json()["items"] == []
    assert len(client.get("/api/v1/redemptions?limit=200", headers=me).get_json()["items"]) == 4


def test_idempotent_reservation_and_statement(db_url):
    client = make_client("points", db_url)
    _setup(client)
    _give(client, "P-A", 50)
    me = {**auth("P-A", "resident"), "Idempotency-Key": "soap-once"}
    body = {"items": [{"sku": "SOAP", "quantity": 1}]}
    first = client.post("/api/v1/redemptions", json=body, headers=me)
    again = client.post("/api/v1/redemptions", json=body, headers=me)
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert client.post("/api/v1/redemptions", json={"items": [{"sku": "SOAP", "quantity": 2}]},
                       headers=me).status_code == 422
    assert balance(client, "P-A")["available"] == 35
    client.post(f"/api/v1/redemptions/{first.get_json()['id']}/hand-over", headers=CLERK,
                json={"at": datetime.now(timezone.utc).isoformat()})
    # another person's key of the same name is theirs alone
    _give(client, "P-B", 50)
    other = client.post("/api/v1/redemptions", json=body, headers={**auth("P-B", "resident"),
                                                                   "Idempotency-Key": "soap-once"})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]

    # statement: cursor pages, each entry once, running posted balance; balance as of a past time
    for n in range(5):
        _give(client, "P-A", 1)
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/accounts/P-A/entries?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                          headers=auth("P-A", "resident")).get_json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len({e["id"] for e in seen}) == len(seen) == 6 + 2  # 6 credits, pending + post of the redemption
    assert seen[-1]["balance_after"] == balance(client, "P-A")["balance"] == 50 + 5 - 15
    as_of = client.get("/api/v1/accounts/P-A?as_of=2024-09-01T12:00:00%2B08:00", headers=CLERK).get_json()
    assert as_of["balance_as_of"] == 55
    early = client.get("/api/v1/accounts/P-A?as_of=2024-08-01T12:00:00%2B08:00", headers=CLERK).get_json()
    assert early["balance_as_of"] == 0
    assert client.get("/api/v1/accounts/P-A?as_of=2024-08-01T12:00:00", headers=CLERK).status_code == 422
    assert client.get("/api/v1/accounts/P-A/entries?limit=0", headers=CLERK).status_code == 422
    assert client.get("/api/v1/accounts/P-A/entries?cursor=zzz", headers=CLERK).status_code == 422

    # the community's own accounts: issuing negative (in circulation), supermarket received the points
    accounts = client.get("/api/v1/accounts?kind=supermarket", headers=CLERK).get_json()["items"]
    assert [(a["code"], a["balance"]) for a in accounts] == [("supermarket", 15)]
    issuing = client.get("/api/v1/accounts?kind=issuing", headers=CLERK).get_json()["items"][0]
    assert issuing["balance"] == -(50 + 50 + 5)
    assert client.get("/api/v1/accounts", headers=auth("P-A", "resident")).status_code == 403

    # catalogue: natural key; a replay leaves stock alone; another description is 409; stock adjustments
    soap = {"sku": "SOAP", "name": "香皂", "points_price": 15, "stock": 10, "per_person_limit": 2,
            "limit_period": "month", "low_stock_threshold": 3}
    replay = client.post("/api/v1/catalogue", json=soap, headers=CLERK)
    assert replay.status_code == 200 and replay.get_json()["stock"] == 8  # 10 - 1 handed over - 1 reserved
    assert client.post("/api/v1/catalogue", json={**soap, "points_price": 16}, headers=CLERK).status_code == 409
    r = client.post("/api/v1/catalogue/SOAP/stock-adjustments", json={"change": -7, "reason": "破损"}, headers=CLERK)
    assert r.status_code == 200 and r.get_json()["stock"] == 1
    assert client.post("/api/v1/catalogue/SOAP/stock-adjustments", json={"change": -3, "reason": "x"},
                       headers=CLERK).status_code == 409
    low = client.get("/api/v1/reports/low-stock", headers=CLERK).get_json()["items"]
    assert [i["sku"] for i in low] == ["SOAP"]
    r = client.patch("/api/v1/catalogue/SOAP", json={"points_price": 12}, headers=CLERK)
    assert r.status_code == 200 and r.get_json()["points_price"] == 12
    assert client.patch("/api/v1/catalogue/SOAP", json={"stock": 99}, headers=CLERK).status_code == 422
    assert client.post("/api/v1/catalogue", json={**soap, "sku": "X", "stock": -1}, headers=CLERK).status_code == 422
    assert client.post("/api/v1/catalogue", json={**soap, "sku": "X"}, headers=auth("P-A", "resident")).status_code == 403
