"""Donations: the receipt number as natural key (a list imported twice counts once, also when the twin arrives
at the same moment), exact totals at any moment by level and county, the campaign's period and levels, caring
units, and the public donation list with individuals masked — on real donation lists (Hubei Red Cross 2020)."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from shared.testing import REPO, make_client

from .helpers import API, AUDITOR, CLERK, campaign, donate, outbox_events

REAL = Path(os.environ.get("WEIZHILI_REAL_DATA_DIR", REPO.parent / "shared" / "data" / "real"))


def test_same_receipt_changes_nothing_and_answers_with_the_first_record(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    first = donate(client, cid, "200.00", receipt="YC2023-000001")
    again = donate(client, cid, "999.00", receipt="YC2023-000001", expect=200)  # changes nothing
    assert again == first
    other = campaign(client, name="2024", opens_on="2024-01-01", closes_on="2024-12-31")["id"]
    r = client.post(f"{API}/campaigns/{other}/donations", headers=CLERK, json={
        "receipt_no": "YC2023-000001", "level": "city", "amount": "1.00", "received_at": "2024-03-01T10:00:00+08:00",
        "donor": {"kind": "individual", "name": "x"}})
    assert r.status_code == 409
    # twins at the same moment: one record, one event, one credit to the funds
    start, codes, lock = threading.Barrier(6), [], threading.Lock()

    def post():
        start.wait()
        r = client.application.test_client().post(f"{API}/campaigns/{cid}/donations", headers=CLERK, json={
            "receipt_no": "YC2023-000002", "level": "city", "amount": "50.00",
            "received_at": "2023-03-02T10:00:00+08:00", "donor": {"kind": "individual", "name": "袁洋"}})
        with lock:
            codes.append(r.status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200] * 5 + [201]
    totals = client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()
    assert (totals["total"], totals["city"], totals["count"]) == ("250.00", "50.00", 2)
    assert [f["donated"] for f in totals["funds"]] == ["50.00", "200.00"]
    assert [e["data"]["receipt_no"] for e in outbox_events(db_url, "relief.donation.received.v1")] == [
        "YC2023-000001", "YC2023-000002"]


def test_levels_period_and_totals_at_any_moment(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    city_only = campaign(client, name="市级", levels=["city"])["id"]
    for body, field in [({"level": "county"}, "county"), ({"level": "city", "county": "河津市"}, "county"),
                        ({"received_at": "2024-01-01T00:00:00+08:00"}, "received_at"),
                        ({"received_at": "2022-12-31T23:59:59+08:00"}, "received_at"),
                        ({"received_at": "2023-03-01T10:00:00"}, "received_at"),
                        ({"donor": {"kind": "individual", "name": "x", "caring_unit": True}}, "donor.caring_unit"),
                        ({"donor": {"kind": "company", "name": "x"}}, "donor.kind")]:
        full = {"receipt_no": "R-X", "level": "city", "amount": "1.00", "received_at": "2023-03-01T10:00:00+08:00",
                "donor": {"kind": "individual", "name": "x"}, **body}
        r = client.post(f"{API}/campaigns/{cid}/donations", json=full, headers=CLERK)
        assert r.status_code == 422 and field in {e["field"] for e in r.get_json()["errors"]}, (body, r.get_json())
    r = client.post(f"{API}/campaigns/{city_only}/donations", headers=CLERK, json={
        "receipt_no": "R-Y", "level": "county", "county": "河津市", "amount": "1.00",
        "received_at": "2023-03-01T10:00:00+08:00", "donor": {"kind": "individual", "name": "x"}})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "level"
    # 2023-12-31 23:30 in Shanghai is 15:30 UTC: inside the period (Asia/Shanghai days)
    donate(client, cid, "0.10", level="city", received_at="2023-12-31T15:30:00+00:00")
    donate(client, cid, "0.20", county="万荣县", received_at="2023-06-01T08:00:00+08:00")
    donate(client, cid, "1000000.01", county="河津市", received_at="2023-06-02T08:00:00+08:00")
    at = lambda moment: client.get(f"{API}/campaigns/{cid}/totals", query_string={"as_of": moment},  # noqa: E731
                                   headers=AUDITOR).get_json()
    assert at("2023-06-01T23:59:59+08:00")["total"] == "0.20"
    june = at("2023-06-30T00:00:00+08:00")
    assert (june["total"], june["city"], june["county"]) == ("1000000.21", "0.00", "1000000.21")
    assert [(c["county"], c["amount"]) for c in june["by_county"]] == [("万荣县", "0.20"), ("河津市", "1000000.01")]
    assert client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["total"] == "1000000.31"
    assert client.get(f"{API}/campaigns/{cid}/totals", headers={}).status_code == 401


def test_caring_units_and_public_donation_list(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    donate(client, cid, "20000.00", level="city", donor={"kind": "organisation", "name": "市中心医院", "caring_unit": True})
    donate(client, cid, "90000.00", level="city", donor={"kind": "organisation", "name": "运城发展投资集团有限公司"})
    donate(client, cid, "100.00", county="夏县", donor={"kind": "individual", "name": "何玲万", "person_id": "P001568"})
    r = client.post(f"{API}/campaigns/{cid}/caring-units", json={"name": "不存在的单位"}, headers=CLERK)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "name"
    r = client.post(f"{API}/campaigns/{cid}/caring-units", json={"name": "何玲万"}, headers=CLERK)  # not an organisation
    assert r.status_code == 422
    ranking = client.get(f"{API}/campaigns/{cid}/organisations", headers=AUDITOR).get_json()["items"]
    assert [(o["name"], o["total"], o["caring_unit"]) for o in ranking] == [
        ("运城发展投资集团有限公司", "90000.00", False), ("市中心医院", "20000.00", True)]
    for _ in range(2):  # idempotent by name
        assert client.post(f"{API}/campaigns/{cid}/caring-units", json={"name": "运城发展投资集团有限公司",
                                                                        "citation": "捐款最多"},
                           headers=CLERK).status_code == 201
    units = client.get(f"{API}/public/campaigns/{cid}/report").get_json()["caring_units"]
    assert units == ["市中心医院", "运城发展投资集团有限公司"]
    public = client.get(f"{API}/public/campaigns/{cid}/donations").get_json()["items"]
    assert [d["donor"] for d in public] == ["市中心医院", "运城发展投资集团有限公司", "何**"]
    assert "P001568" not in json.dumps(public, ensure_ascii=False)


@pytest.mark.skipif(not (REAL / "hubei-redcross-donations-2020.jsonl").exists(), reason="real data not present")
def test_real_donation_lists_with_a_list_published_twice_sum_exactly(tmp_path):
    """Hubei Red Cross public lists (0.01 yuan to hundreds of millions; one daily list published twice):
    imported by a receipt number made of (date, seq, donor, amount) — the list's own identity of a row — the
    repeated list counts once and the sum is exact."""
    rows = [json.loads(line) for line in open(REAL / "hubei-redcross-donations-2020.jsonl", encoding="utf-8")]
    keyed: dict[str, dict] = {}
    for row in rows:
        keyed.setdefault(f"{row['date']}|{row['seq']}|{row['donor']}|{row['amount']}", row)
    picked = sorted(rows, key=lambda r: Decimal(r["amount"]))
    sample = picked[:60] + picked[-20:]  # the smallest and the largest gifts
    twins = [r for r in rows if f"{r['date']}|{r['seq']}|{r['donor']}|{r['amount']}" in keyed and
             keyed[f"{r['date']}|{r['seq']}|{r['donor']}|{r['amount']}"] is not r][:20]
    assert twins, "the real lists repeat a published list"
    client = make_client("relief", f"sqlite:///{tmp_path / 'relief.sqlite3'}")
    cid = campaign(client, name="湖北省红十字会 2020", opens_on="2020-01-01", closes_on="2020-12-31")["id"]
    expected, seen = Decimal(0), set()
    for row in sample + twins + [keyed[f"{r['date']}|{r['seq']}|{r['donor']}|{r['amount']}"] for r in twins]:
        key = f"{row['date']}|{row['seq']}|{row['donor']}|{row['amount']}"
        receipt = "HB-" + hashlib.sha256(key.encode()).hexdigest()[:24]
        y, m, d = row["date"].split(".")
        r = client.post(f"{API}/campaigns/{cid}/donations", headers=CLERK, json={
            "receipt_no": receipt, "level": "city", "amount": row["amount"],
            "received_at": f"{y}-{m}-{d}T12:00:00+08:00",
            "donor": {"kind": row["donor_kind"], "name": row["donor"].strip()[:200] or "匿名"}})
        assert r.status_code == (200 if key in seen else 201), r.get_json()
        if key not in seen:
            seen.add(key)
            expected += Decimal(row["amount"])
    assert Decimal(client.get(f"{API}/public/campaigns/{cid}/report").get_json()["donations_total"]) == expected
