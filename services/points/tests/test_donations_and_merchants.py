"""Used-item donations (intake → appraisal credits the donor and lists the item, or rejection with a reason)
and the caring-merchant alliance (profiles, service records confirmed by staff and credited by rule, offers,
merchants redeeming, monthly settlement), plus the honour roll."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import engine_for
from shared.outbox import OutboxMessage
from shared.testing import auth, make_client

from .helpers import CLERK, balance, load_seed_configuration, seed


def test_item_donations(db_url):
    client = make_client("points", db_url)
    load_seed_configuration(client)
    donated = seed()["donated_items"][0]
    r = client.post("/api/v1/item-donations", headers=CLERK, json={
        "donor_person_id": "P-D", "name": donated["name"], "received_at": "2024-10-08T09:00:00+08:00"})
    assert r.status_code == 201 and r.get_json()["status"] == "received"
    donation = r.get_json()["id"]
    r = client.post(f"/api/v1/item-donations/{donation}/appraisal", headers=CLERK, json={
        "condition": "like_new", "points": donated["appraised_points"], "decided_at": "2024-10-08T10:30:00+08:00"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "listed" and body["credited_points"] == donated["appraised_points"] and body["sku"]
    assert balance(client, "P-D")["balance"] == donated["appraised_points"]
    assert balance(client, "P-D")["entries"][0]["rule"] == "used_item_donation"
    item = client.get(f"/api/v1/catalogue/{body['sku']}", headers=auth("P-X", "resident")).get_json()
    assert (item["name"], item["points_price"], item["stock"], item["donation_id"]) == (
        donated["name"], donated["appraised_points"], 1, donation)
    assert client.post(f"/api/v1/item-donations/{donation}/appraisal", headers=CLERK, json={
        "condition": "good", "points": 3}).status_code == 409
    assert client.get(f"/api/v1/item-donations/{donation}", headers=auth("P-D", "resident")).status_code == 200
    assert client.get(f"/api/v1/item-donations/{donation}", headers=auth("P-X", "resident")).status_code == 404

    r = client.post("/api/v1/item-donations", headers=CLERK, json={"donor_person_id": "P-D", "name": "旧电饭煲"})
    rejected = client.post(f"/api/v1/item-donations/{r.get_json()['id']}/rejection", headers=CLERK,
                           json={"condition": "unsafe", "reason": "电线老化，存在安全隐患"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["reason"] == "电线老化，存在安全隐患"
    assert balance(client, "P-D")["balance"] == donated["appraised_points"]
    bad = client.post(f"/api/v1/item-donations/{r.get_json()['id']}/appraisal", headers=CLERK,
                      json={"condition": "unsafe", "points": 3})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "condition"
    listed = client.get("/api/v1/item-donations?status=listed", headers=CLERK).get_json()["items"]
    assert [d["id"] for d in listed] == [donation]
    with Session(engine_for(db_url)) as s:
        appraised = s.scalars(select(OutboxMessage).where(
            OutboxMessage.type == "points.item_donation.appraised.v1")).all()
    assert len(appraised) == 1 and donated["name"] not in appraised[0].body


def test_merchant_alliance(db_url):
    client = make_client("points", db_url)
    load_seed_configuration(client)
    shop = auth("P-SHOP", "merchant")
    r = client.patch("/api/v1/merchants/M-01", json={"operator_person_id": "P-SHOP"}, headers=CLERK)
    assert r.status_code == 200
    assert client.post("/api/v1/merchants", json={"ref": "M-01", "name": "别的名字"}, headers=CLERK).status_code == 409
    assert len(client.get("/api/v1/merchants?limit=200", headers=shop).get_json()["items"]) == 30

    # service records: submitted by the shop, confirmed by staff, credited by the merchant_service rule
    r = client.post("/api/v1/merchants/M-01/service-records", headers=shop, json={
        "service_hours": "3.5", "description": "为独居老人免费修理家电", "served_at": "2024-11-05T10:00:00+08:00"})
    assert r.status_code == 201 and r.get_json()["status"] == "submitted"
    record = r.get_json()["id"]
    assert client.post(f"/api/v1/merchants/M-01/service-records/{record}/confirmation",
                       headers=shop).status_code == 403
    ok = client.post(f"/api/v1/merchants/M-01/service-records/{record}/confirmation", headers=CLERK)
    assert ok.status_code == 200 and ok.get_json()["points"] == 17  # floor(3.5 × 5)
    assert client.post(f"/api/v1/merchants/M-01/service-records/{record}/confirmation",
                       headers=CLERK).status_code == 409
    other = client.post("/api/v1/merchants/M-01/service-records", headers=shop, json={
        "service_count": 2, "description": "义剪", "served_at": "2024-11-06T10:00:00+08:00"}).get_json()["id"]
    r = client.post(f"/api/v1/merchants/M-01/service-records/{other}/rejection", headers=CLERK,
                    json={"reason": "无记录"})
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert client.post("/api/v1/merchants/M-02/service-records", headers=shop,
                       json={"service_hours": "1", "description": "x"}).status_code == 404
    assert client.post("/api/v1/merchants/M-01/service-records", headers=shop,
                       json={"description": "nothing"}).status_code == 422

    account = client.get("/api/v1/merchants/M-01/account", headers=shop).get_json()
    assert account["balance"] == 17 and account["merchant_ref"] == "M-01"
    assert client.get("/api/v1/merchants/M-02/account", headers=shop).status_code == 404

    # an offer of the shop's own, redeemed by a resident: the points go to the shop
    r = client.post("/api/v1/catalogue", headers=shop, json={"sku": "M01-REPAIR", "name": "小家电维修一次",
                                                             "points_price": 10, "stock": 3})
    assert r.status_code == 201 and r.get_json()["merchant_ref"] == "M-01"
    client.post("/api/v1/credits", headers=CLERK, json={"person_id": "P-R", "rule": "environment_cleanup",
                                                        "hours": "2", "reason": "清扫",
                                                        "occurred_at": "2024-11-01T10:00:00+08:00"})
    r = client.post("/api/v1/redemptions", headers=CLERK, json={
        "person_id": "P-R", "items": [{"sku": "M01-REPAIR", "quantity": 1}],
        "reserved_at": "2024-11-10T10:00:00+08:00", "collect": True})
    assert r.status_code == 201 and r.get_json()["status"] == "redeemed"
    # the shop redeems in the supermarket with its own points, never its own offer
    r = client.post("/api/v1/redemptions", headers=shop, json={"merchant_ref": "M-01",
                                                               "items": [{"sku": "SOAP", "quantity": 1}]})
    assert r.status_code == 201 and r.get_json()["merchant_ref"] == "M-01" and r.get_json()["person_id"] == "P-SHOP"
    handed = client.post(f"/api/v1/redemptions/{r.get_json()['id']}/hand-over", headers=CLERK,
                         json={"at": "2099-01-01T00:00:00+08:00"})
    assert handed.status_code == 200
    assert client.post("/api/v1/redemptions", headers=shop, json={
        "merchant_ref": "M-01", "items": [{"sku": "M01-REPAIR", "quantity": 1}]}).status_code == 422
    assert client.get("/api/v1/merchants/M-01/account", headers=shop).get_json()["balance"] == 17 + 10 - 15

    settlement = client.get("/api/v1/merchants/M-01/settlements/2024-11", headers=shop).get_json()
    assert (settlement["opening_balance"], settlement["earned_total"], settlement["received_for_offers"],
            settlement["offers_redeemed"], settlement["spent_in_supermarket"], settlement["closing_balance"],
            settlement["service_hours"], settlement["service_count"]) == (0, 17, 10, 1, 0, 27, "3.50", 0)
    assert client.get("/api/v1/merchants/M-01/settlements/2024-13", headers=shop).status_code == 422
    assert client.get("/api/v1/merchants/M-02/settlements/2024-11", headers=shop).status_code == 404
    all_shops = client.get("/api/v1/reports/merchant-settlements?month=2024-11&limit=200", headers=CLERK).get_json()
    assert len(all_shops["items"]) == 30 and sum(s["earned_total"] for s in all_shops["items"]) == 17

    with Session(engine_for(db_url)) as s:
        redeemed = s.scalars(select(OutboxMessage).where(OutboxMessage.type == "points.redeemed.v1")
                             .order_by(OutboxMessage.seq)).all()
    assert '"merchant_id":null' in redeemed[0].body and '"merchant_id":null' not in redeemed[1].body

    # honour roll: residents by points credited in the window
    client.post("/api/v1/credits", headers=CLERK, json={"person_id": "P-Q", "rule": "environment_cleanup",
                                                        "hours": "3", "reason": "清扫",
                                                        "occurred_at": "2024-11-02T10:00:00+08:00"})
    roll = client.get("/api/v1/reports/honour-roll?from=2024-11-01T00:00:00%2B08:00&to=2024-12-01T00:00:00%2B08:00",
                      headers=CLERK).get_json()["items"]
    assert [(r["rank"], r["person_id"], r["points"]) for r in roll] == [(1, "P-Q", 30), (2, "P-R", 20)]
    report = client.get("/api/v1/reports/points?from=2024-11-01T00:00:00%2B08:00&to=2024-12-01T00:00:00%2B08:00"
                        "&group_by=day", headers=CLERK).get_json()
    assert report["issued_by_rule"] == {"environment_cleanup": 50, "merchant_service": 17}
    assert report["redeemed_total"] == 10 and report["redemptions"] == 1
    assert [p["period"] for p in report["periods"]] == ["2024-11-01", "2024-11-02", "2024-11-05", "2024-11-10"]
    assert client.get("/api/v1/reports/points", headers=shop).status_code == 403
