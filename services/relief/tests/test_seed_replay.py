"""A slice of the seed scenario replayed through the HTTP API with its past times, as the scenario loader
(issue 8) will replay all of it: the campaign, the first 200 donations (a few posted twice, as an overlapping
list would be) and the first 100 applications with their whole vetting and payment. The report must equal the
totals this test computes from the same slice — including the payments the slice's funds cannot cover, which
must be refused (409) exactly where a body's money runs out."""
from __future__ import annotations

import json
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from shared.testing import REPO, make_client

from .helpers import API, CLERK, report

SEED = Path(os.environ.get("WEIZHILI_SEED_DIR", REPO.parent / "shared" / "data" / "seed-scenario"))
DONATIONS, APPLICATIONS = 200, 100

pytestmark = pytest.mark.skipif(not (SEED / "relief.donations.jsonl").exists(), reason="seed scenario not present")


def _lines(name: str, n: int) -> list[dict]:
    with open(SEED / name, encoding="utf-8") as fh:
        return [json.loads(next(fh)) for _ in range(n)]


def _post(client, path, body, expect=(201,)):
    r = client.post(API + path, json=body, headers=CLERK)
    assert r.status_code in expect, (path, body, r.get_json())
    return r


def _body(level, county):
    return "city" if level == "city" else county


def test_replay_of_a_slice_reproduces_its_totals(db_url):
    client = make_client("relief", db_url)
    seed = json.loads((SEED / "relief.campaign.json").read_text(encoding="utf-8"))
    cid = _post(client, "/campaigns", {"ref": seed["ref"], "name": seed["name"], "opens_on": seed["opens_on"],
                                       "closes_on": seed["closes_on"]}).get_json()["id"]

    donations = _lines("relief.donations.jsonl", DONATIONS)
    expected = {"donations_total": Decimal(0), "donations_city": Decimal(0), "donations_county": Decimal(0)}
    funds: dict[str, Decimal] = defaultdict(Decimal)
    caring = set()
    for d in donations:
        body = {k: d[k] for k in ("receipt_no", "ref", "level", "amount", "received_at")}
        body["donor"] = dict(d["donor"])
        if d["level"] == "county":
            body["county"] = d["county"]
        _post(client, f"/campaigns/{cid}/donations", body)
        amount = Decimal(d["amount"])
        expected["donations_total"] += amount
        expected[f"donations_{d['level']}"] += amount
        funds[_body(d["level"], d.get("county"))] += amount
        if d["donor"].get("caring_unit"):
            caring.add(d["donor"]["name"])
    for d in donations[:5]:  # the same list published twice: nothing counts twice
        body = {k: d[k] for k in ("receipt_no", "ref", "level", "amount", "received_at")}
        body.update(donor=dict(d["donor"]), **({"county": d["county"]} if d["level"] == "county" else {}))
        assert _post(client, f"/campaigns/{cid}/donations", body, expect=(200,)).get_json()["receipt_no"] == d["receipt_no"]

    paid = {"disbursed_total": Decimal(0), "disbursed_city": Decimal(0), "disbursed_county": Decimal(0)}
    people = {"city": set(), "county": set()}
    rejected = refused = 0
    for a in _lines("relief.applications.jsonl", APPLICATIONS):
        app = _post(client, f"/campaigns/{cid}/applications", {
            "ref": a["ref"], "applicant": a["applicant"], "county": a["county"], "level": a["level"],
            "assistance_type": a["assistance_type"], "household": a["household"],
            "requested_amount": a["requested_amount"]}).get_json()
        aid = f"/applications/{app['id']}"
        _post(client, aid + "/household-survey", {"surveyed_on": a["household_survey"]["on"],
                                                  "findings": a["household_survey"]["findings"]})
        appraisal = a["democratic_appraisal"]
        _post(client, aid + "/democratic-appraisal", {"appraised_on": appraisal["on"],
                                                      "participants": appraisal["participants"],
                                                      "outcome": appraisal["outcome"]})
        if "public_notice" in a:
            _post(client, aid + "/public-notice", {"starts_on": a["public_notice"]["from"],
                                                   "ends_on": a["public_notice"]["to"]})
        for o in a.get("objections", []):
            objection = _post(client, aid + "/objections", {"raised_on": o["raised_on"], "text": o["text"]}).get_json()
            _post(client, f"{aid}/objections/{objection['id']}/handling",
                  {"handled_on": o["handled_on"], "outcome": o["outcome"], "finding": o["finding"]}, expect=(200,))
        decision = {"approved": a["decision"]["approved"], "decided_on": a["decision"]["on"]}
        if "reason" in a["decision"]:
            decision["reason"] = a["decision"]["reason"]
        _post(client, aid + "/decision", decision)
        if not a["decision"]["approved"]:
            rejected += 1
            continue
        amount = Decimal(a["disbursement"]["amount"])
        body = _body(a["level"], a["county"])
        if funds[body] < amount:  # this slice's donations to that body cannot cover it
            r = _post(client, aid + "/disbursement", {"amount": a["disbursement"]["amount"]}, expect=(409,))
            assert r.get_json()["type"].endswith("insufficient-funds")
            refused += 1
            continue
        funds[body] -= amount
        did = _post(client, aid + "/disbursement", {"amount": a["disbursement"]["amount"]}).get_json()["id"]
        _post(client, f"/disbursements/{did}/paid", {"paid_on": a["disbursement"]["paid_on"]}, expect=(200,))
        paid["disbursed_total"] += amount
        paid[f"disbursed_{a['level']}"] += amount
        people[a["level"]].add(a["applicant"]["id_number"])

    got = report(client, cid)
    for key, value in {**expected, **paid}.items():
        assert Decimal(got[key]) == value and got[key] == f"{value:.2f}", key
    assert got["donations_count"] == DONATIONS
    assert (got["people_city"], got["people_county"]) == (len(people["city"]), len(people["county"]))
    assert got["people_helped"] == len(people["city"] | people["county"])
    assert got["applications_rejected"] == rejected
    assert set(got["caring_units"]) == caring
    by_county = {c["county"]: c for c in got["by_county"]}
    for body, left in funds.items():
        if body != "city":
            assert Decimal(by_county[body]["donations"]) - Decimal(by_county[body]["disbursed"]) == left
    totals = client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()
    assert {(f["county"] or "city"): Decimal(f["available"]) for f in totals["funds"]} == dict(funds)
