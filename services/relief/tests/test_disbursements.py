"""Disbursements: approved only, bounded by the paying body's funds (the city, or that one county) even under
many concurrent requests on SQLite and PostgreSQL, paid / failed / reissued with made.v1 exactly once."""
from __future__ import annotations

import threading
from decimal import Decimal

from shared.testing import make_client

from .helpers import API, AUDITOR, CLERK, apply, approve, campaign, donate, outbox_events, report, step


def test_funds_are_per_body_and_exact(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    donate(client, cid, "100.10", county="河津市")
    donate(client, cid, "0.20", county="河津市")
    donate(client, cid, "5000.00", county="万荣县")
    donate(client, cid, "50.00", level="city")
    a = apply(client, cid, requested="100.30", county="河津市")["id"]
    b = apply(client, cid, requested="100.00", county="河津市")["id"]
    c = apply(client, cid, requested="60.00", level="city", county="万荣县")["id"]  # the city pays, not 万荣县
    for aid in (a, b, c):
        approve(client, aid)
    assert step(client, a, "disbursement", {"amount": "100.30"})["county"] == "河津市"  # exactly what 河津市 had
    r = step(client, b, "disbursement", {"amount": "0.01"}, expect=409)  # 万荣县's money is not 河津市's
    assert r["type"].endswith("insufficient-funds") and r["available"] == "0.00"
    r = step(client, c, "disbursement", {"amount": "50.01"}, expect=409)
    assert r["available"] == "50.00"
    d = step(client, c, "disbursement", {"amount": "50.00"})
    assert d["level"] == "city" and d["county"] is None
    step(client, c, "disbursement", {"amount": "1.00"}, expect=409)  # one disbursement per application
    funds = {(f["level"], f["county"]): f for f in
             client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["funds"]}
    assert funds[("county", "河津市")]["available"] == "0.00"
    assert funds[("county", "万荣县")]["available"] == "5000.00"
    assert funds[("city", None)]["committed"] == "50.00"


def test_paid_failed_reissued_made_once(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    donate(client, cid, "1000.00")
    aid = apply(client, cid, requested="450.00")["id"]
    step(client, aid, "disbursement", {"amount": "450.00"}, expect=409)  # not approved yet
    approve(client, aid, decided="2023-08-18")
    did = step(client, aid, "disbursement", {"amount": "450.00", "issued_on": "2023-08-19"})["id"]
    pay = f"{API}/disbursements/{did}"
    assert client.post(pay + "/reissue", headers=CLERK).status_code == 409  # not failed
    r = client.post(pay + "/failed", json={"reason": "Account Closed"}, headers=CLERK)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "reason"
    assert client.post(pay + "/failed", json={"reason": "account_closed",
                                              "failed_at": "2023-08-20T11:20:00+08:00"}, headers=CLERK).status_code == 200
    assert client.post(pay + "/paid", json={"paid_on": "2023-08-21"}, headers=CLERK).status_code == 409
    assert report(client, cid)["disbursed_total"] == "0.00"  # failed is not paid
    assert client.post(pay + "/reissue", headers=CLERK).get_json()["attempt_no"] == 2
    r = client.post(pay + "/paid", json={"paid_on": "2023-08-18"}, headers=CLERK)  # before it was issued
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "paid_on"
    paid = client.post(pay + "/paid", json={"paid_on": "2023-08-22"}, headers=CLERK).get_json()
    assert paid["status"] == "paid" and [a["outcome"] for a in paid["attempts"]] == ["failed", "paid"]
    assert client.post(pay + "/paid", json={"paid_on": "2023-08-23"}, headers=CLERK).status_code == 409
    assert client.post(pay + "/failed", json={"reason": "bank_rejected"}, headers=CLERK).status_code == 409

    [made] = outbox_events(db_url, "relief.disbursement.made.v1")
    assert made["data"] == {"disbursement_id": did, "campaign_id": cid, "level": "county", "county": "河津市",
                            "assistance_type": "disaster", "amount": "450.00", "paid_on": "2023-08-22",
                            "application_id": aid, "attempt_no": 2}
    [failed] = outbox_events(db_url, "relief.disbursement.failed.v1")
    assert failed["data"]["reason"] == "account_closed" and failed["data"]["attempt_no"] == 1
    rep = report(client, cid)
    assert (rep["disbursed_total"], rep["disbursed_county"], rep["people_helped"]) == ("450.00", "450.00", 1)
    assert report(client, cid, as_of="2023-08-21T23:59:59+08:00")["disbursed_total"] == "0.00"
    actions = [e["action"] for e in client.get(f"{API}/audit", query_string={"entity_id": did},
                                               headers=AUDITOR).get_json()["items"]]
    assert actions == ["disbursement.issued", "disbursement.failed", "disbursement.reissued", "disbursement.paid"]


def test_concurrent_disbursements_never_overdraw_a_body(db_url):
    """30 approved applications of 100.00 against a county holding 1,000.00, all paid at once: exactly 10 succeed,
    20 get 409, and the county's funds end at zero (SQLite: serialised writers; PostgreSQL: real concurrency)."""
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    donate(client, cid, "999.99", county="河津市")
    donate(client, cid, "0.01", county="河津市")
    donate(client, cid, "100000.00", county="万荣县")  # another body's money must not help
    apps = [apply(client, cid, requested="100.00")["id"] for _ in range(30)]
    for aid in apps:
        approve(client, aid)
    start = threading.Barrier(len(apps))
    results: list[int] = []
    lock = threading.Lock()

    def pay(aid):
        start.wait()
        r = client.application.test_client().post(f"{API}/applications/{aid}/disbursement",
                                                   json={"amount": "100.00"}, headers=CLERK)
        with lock:
            results.append(r.status_code)

    threads = [threading.Thread(target=pay, args=(aid,)) for aid in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [201] * 10 + [409] * 20
    funds = {(f["level"], f["county"]): f for f in
             client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["funds"]}
    assert funds[("county", "河津市")]["committed"] == "1000.00" and funds[("county", "河津市")]["available"] == "0.00"
    listed = client.get(f"{API}/campaigns/{cid}/disbursements?limit=200", headers=CLERK).get_json()["items"]
    assert len(listed) == 10 and sum(Decimal(d["amount"]) for d in listed) == Decimal("1000.00")


def test_a_retried_payment_with_its_idempotency_key_takes_the_money_once(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    donate(client, cid, "150.00")
    aid = apply(client, cid, requested="100.00")["id"]
    approve(client, aid)
    headers = {**CLERK, "Idempotency-Key": "pay-AP-00001"}
    first = client.post(f"{API}/applications/{aid}/disbursement", json={"amount": "100.00"}, headers=headers)
    again = client.post(f"{API}/applications/{aid}/disbursement", json={"amount": "100.00"}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    other = client.post(f"{API}/applications/{aid}/disbursement", json={"amount": "90.00"}, headers=headers)
    assert other.status_code == 422  # the same key with another body
    funds = client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["funds"]
    assert [(f["committed"], f["available"]) for f in funds] == [("100.00", "50.00")]
