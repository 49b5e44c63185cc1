"""History import (``POST /campaigns/{id}/application-imports``): one application and its whole vetting in one
transaction through the same rules as the step-by-step path — the same stored state and report figures, a
refused step stores nothing, a second import changes nothing, and racing imports never overdraw a body."""
from __future__ import annotations

import threading

from shared.testing import make_client

from .helpers import API, AUDITOR, CLERK, STAFF, campaign, donate, id_number, outbox_events, report, step


def record(ref: str, number: str, *, kind="approved", requested="300.00", county="河津市", level="county",
           paid="300.00") -> dict:
    """A recorded application as the seed scenario holds it, in the import's field names."""
    rec = {"ref": ref, "applicant": {"name": "钟明", "id_number": number, "phone": "15817269286",
                                     "person_id": "P" + ref[-6:]},
           "county": county, "level": level, "assistance_type": "disaster",
           "household": {"size": 3, "monthly_income": "694.00"}, "requested_amount": requested,
           "applied_on": "2023-07-10",
           "household_survey": {"surveyed_on": "2023-07-17", "findings": "家庭困难情况属实"},
           "democratic_appraisal": {"appraised_on": "2023-07-24", "participants": 13, "outcome": "supported"}}
    if kind == "not_supported":
        rec["democratic_appraisal"]["outcome"] = "not_supported"
        rec["decision"] = {"approved": False, "decided_on": "2023-07-25", "reason": "经民主评议不符合临时救助条件"}
        return rec
    rec["public_notice"] = {"starts_on": "2023-07-25", "ends_on": "2023-08-01"}
    if kind == "upheld":
        rec["objections"] = [{"raised_on": "2023-07-27", "text": "有营运车辆", "handled_on": "2023-08-03",
                              "outcome": "upheld", "finding": "异议成立"}]
        rec["decision"] = {"approved": False, "decided_on": "2023-08-04", "reason": "异议成立"}
        return rec
    rec["objections"] = [{"raised_on": "2023-07-27", "text": "邻居反映其家中有营运车辆", "handled_on": "2023-08-03",
                          "outcome": "dismissed", "finding": "车辆已于去年转让，异议不成立"}]
    rec["decision"] = {"approved": True, "decided_on": "2023-08-05", "granted_amount": paid}
    rec["disbursement"] = {"amount": paid, "paid_on": "2023-08-12"}
    return rec


def post_import(client, cid: str, rec: dict, expect=201, headers=CLERK) -> dict:
    r = client.post(f"{API}/campaigns/{cid}/application-imports", json=rec, headers=headers)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def step_by_step(client, cid: str, rec: dict) -> dict:
    """The same record through the seven-odd step endpoints (what the replay did before)."""
    body = {k: rec[k] for k in ("ref", "applicant", "county", "level", "assistance_type", "household",
                                "requested_amount", "applied_on")}
    r = client.post(f"{API}/campaigns/{cid}/applications", json=body, headers=CLERK)
    assert r.status_code == 201, r.get_json()
    aid = r.get_json()["id"]
    step(client, aid, "household-survey", rec["household_survey"])
    app = step(client, aid, "democratic-appraisal", rec["democratic_appraisal"])
    if rec.get("public_notice"):
        app = step(client, aid, "public-notice", rec["public_notice"])
    for o in rec.get("objections", []):
        oid = step(client, aid, "objections", {"raised_on": o["raised_on"], "text": o["text"]})["id"]
        step(client, aid, f"objections/{oid}/handling", {k: o[k] for k in ("handled_on", "outcome", "finding")},
             expect=200)
    if rec.get("decision"):
        app = step(client, aid, "decision", rec["decision"])
    if rec.get("disbursement"):
        did = step(client, aid, "disbursement", {"amount": rec["disbursement"]["amount"]})["id"]
        r = client.post(f"{API}/disbursements/{did}/paid", json={"paid_on": rec["disbursement"]["paid_on"]},
                        headers=CLERK)
        assert r.status_code == 200, r.get_json()
    return app


def comparable(app: dict) -> dict:
    out = {k: v for k, v in app.items() if k not in ("id", "campaign_id", "ref", "created_at", "updated_at")}
    out["objections"] = [{k: v for k, v in o.items() if k != "id"} for o in app["objections"]]
    return out


def figures(rep: dict) -> dict:
    return {k: v for k, v in rep.items() if k not in ("campaign_id", "name")}


def audit_actions(client, entity_id: str) -> list[str]:
    r = client.get(f"{API}/audit", query_string={"entity_id": entity_id, "limit": 200}, headers=AUDITOR)
    return [e["action"] for e in r.get_json()["items"]]


def assert_campaigns_alike(client, db_url: str, expected: str, actual: str, pairs: list[tuple[str, dict]]) -> None:
    """Two campaigns loaded with the same records by two paths: each application as the other path stored it
    (``pairs``: the expected one's id, the actual one as answered) with the same audit actions; the same report
    figures, funds and events (as many of each kind, the same data but for ids)."""
    for expected_id, app in pairs:
        assert comparable(app) == comparable(client.get(f"{API}/applications/{expected_id}", headers=CLERK).get_json())
        assert audit_actions(client, app["id"]) == audit_actions(client, expected_id)
    assert figures(report(client, actual)) == figures(report(client, expected))
    totals = [client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["funds"]
              for cid in (expected, actual)]
    assert totals[0] == totals[1]
    for kind in ("relief.application.decided.v1", "relief.disbursement.made.v1"):
        events = outbox_events(db_url, kind)
        per = {cid: sorted(str({k: v for k, v in e["data"].items() if not k.endswith("_id")})
                           for e in events if e["data"]["campaign_id"] == cid) for cid in (expected, actual)}
        assert per[expected] == per[actual] and per[actual]


def setup_campaign(client, *, county_funds="1000.00") -> str:
    cid = campaign(client)["id"]
    donate(client, cid, county_funds, county="河津市")
    donate(client, cid, "500.00", level="city")
    return cid


def test_import_stores_what_the_step_by_step_path_stores(db_url):
    client = make_client("relief", db_url)
    stepwise, imported = setup_campaign(client), setup_campaign(client)
    kinds = [("approved", "河津市", "county"), ("approved", "万荣县", "city"), ("not_supported", "河津市", "county"),
             ("upheld", "河津市", "county")]
    pairs = []
    for n, (kind, county, level) in enumerate(kinds):
        number = id_number(100 + n)
        a = step_by_step(client, stepwise, record(f"S-{n:06d}", number, kind=kind, county=county, level=level))
        b = post_import(client, imported, record(f"I-{n:06d}", number, kind=kind, county=county, level=level))
        pairs.append((a["id"], b))
    assert_campaigns_alike(client, db_url, stepwise, imported, pairs)
    rep = report(client, imported)
    assert (rep["disbursed_total"], rep["people_helped"], rep["applications_rejected"]) == ("600.00", 2, 2)
    # the disbursement itself, as the step path leaves it
    [d] = [d for d in client.get(f"{API}/campaigns/{imported}/disbursements", headers=CLERK).get_json()["items"]
           if d["level"] == "city"]
    assert d["status"] == "paid" and d["paid_on"] == "2023-08-12" and d["amount"] == "300.00"


def test_a_refused_step_refuses_the_whole_import_and_stores_nothing(db_url):
    client = make_client("relief", db_url)
    cid = setup_campaign(client, county_funds="250.00")
    number = id_number(7)

    def refused(rec, status, code, field=None, step_name=None):
        r = post_import(client, cid, rec, expect=status)
        assert r["type"].endswith(code), r
        if field:
            assert [e["field"] for e in r["errors"]] == [field], r
        if step_name:
            assert r["step"] == step_name
        return r

    rec = record("AP-000001", number)
    rec["household_survey"]["surveyed_on"] = "2023-07-09"  # before applied_on
    refused(rec, 422, "unprocessable", "household_survey.surveyed_on", "household_survey")
    rec = record("AP-000001", number)
    rec["public_notice"]["ends_on"] = "2023-07-30"  # shorter than 7 days
    refused(rec, 422, "unprocessable", "public_notice.ends_on", "public_notice")
    rec = record("AP-000001", number)
    rec["objections"][0]["raised_on"] = "2023-08-02"  # after the notice ended
    refused(rec, 409, "notice-closed", "objections.0.raised_on", "objections.0")
    rec = record("AP-000001", number)
    rec["decision"]["decided_on"] = "2023-08-01"  # the notice is still running
    refused(rec, 409, "notice-running", "decision.decided_on", "decision")
    rec = record("AP-000001", number)
    del rec["objections"][0]["handled_on"], rec["objections"][0]["outcome"], rec["objections"][0]["finding"]
    refused(rec, 409, "objections-pending", None, "decision")
    rec = record("AP-000001", number, kind="upheld")
    rec["decision"] = {"approved": True, "decided_on": "2023-08-04"}
    refused(rec, 409, "objection-upheld", None, "decision")
    rec = record("AP-000001", number, paid="200.00")
    rec["disbursement"]["paid_on"] = "2023-08-04"  # before the decision (the funds taken are given back)
    refused(rec, 422, "unprocessable", "disbursement.paid_on", "disbursement")
    r = refused(record("AP-000001", number), 409, "insufficient-funds", None, "disbursement")  # 300 > 250
    assert r["available"] == "250.00"
    r = post_import(client, cid, {**record("AP-000001", number), "level": "district"}, expect=422)
    assert r["errors"][0]["field"] == "level"  # the schema's own validation
    r = post_import(client, cid, record("AP-000001", number), expect=403, headers=STAFF)

    # nothing of any refused import is stored: no application, no audit entry, no event, the funds untouched
    assert client.get(f"{API}/campaigns/{cid}/applications", headers=CLERK).get_json()["items"] == []
    entries = client.get(f"{API}/audit", query_string={"limit": 200}, headers=AUDITOR).get_json()["items"]
    assert not [e for e in entries if e["entity"] in ("application", "disbursement")]
    assert outbox_events(db_url, "relief.application.decided.v1") == []
    funds = client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["funds"]
    assert {f["county"]: f["committed"] for f in funds} == {None: "0.00", "河津市": "0.00"}
    # and the corrected record imports
    assert post_import(client, cid, record("AP-000001", number, paid="250.00"))["status"] == "approved"


def test_importing_the_same_records_again_changes_nothing(db_url):
    client = make_client("relief", db_url)
    cid = setup_campaign(client)
    recs = [record(f"AP-{n:06d}", id_number(200 + n), kind=kind)
            for n, kind in enumerate(("approved", "not_supported", "upheld", "approved"))]
    first = [post_import(client, cid, rec) for rec in recs]
    before = (report(client, cid), client.get(f"{API}/audit", query_string={"limit": 200},
                                              headers=AUDITOR).get_json()["items"],
              len(outbox_events(db_url, "relief.application.decided.v1")))
    again = [post_import(client, cid, rec, expect=200) for rec in recs]  # a second replay: the same answers
    assert [a["id"] for a in again] == [a["id"] for a in first]
    assert [a["updated_at"] for a in again] == [a["updated_at"] for a in first]
    # without its ref the same person's live application is the same application; a rejected person may reapply
    no_ref = {k: v for k, v in recs[0].items() if k != "ref"}
    assert post_import(client, cid, no_ref, expect=200)["id"] == first[0]["id"]
    after = (report(client, cid), client.get(f"{API}/audit", query_string={"limit": 200},
                                             headers=AUDITOR).get_json()["items"],
             len(outbox_events(db_url, "relief.application.decided.v1")))
    assert after == before
    # a ref held by another person is refused
    taken = {**recs[0], "applicant": {**recs[0]["applicant"], "id_number": id_number(299)}}
    assert post_import(client, cid, taken, expect=409)["type"].endswith("duplicate-ref")
    # the Idempotency-Key is honoured as on every command
    rec = record("AP-000009", id_number(209))
    headers = {**CLERK, "Idempotency-Key": "import-AP-000009"}
    r1 = client.post(f"{API}/campaigns/{cid}/application-imports", json=rec, headers=headers)
    r2 = client.post(f"{API}/campaigns/{cid}/application-imports", json=rec, headers=headers)
    assert (r1.status_code, r2.status_code) == (201, 201) and r2.headers["Idempotency-Replayed"] == "true"
    assert r1.get_json()["id"] == r2.get_json()["id"]


def test_racing_imports_never_overdraw_a_body(db_url):
    """20 imports of approved-and-paid 100.00 applications against a county holding 1,000.00, all at once:
    exactly 10 are stored (paid), 10 are refused whole (409 insufficient-funds) and leave nothing behind."""
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    donate(client, cid, "1000.00", county="河津市")
    donate(client, cid, "100000.00", county="万荣县")  # another body's money must not help
    recs = [record(f"AP-{n:06d}", id_number(400 + n), requested="100.00", paid="100.00") for n in range(20)]
    start = threading.Barrier(len(recs))
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def run(rec):
        start.wait()
        r = client.application.test_client().post(f"{API}/campaigns/{cid}/application-imports", json=rec,
                                                   headers=CLERK)
        with lock:
            results.append((r.status_code, r.get_json().get("type", "").rsplit("/", 1)[-1]))

    threads = [threading.Thread(target=run, args=(rec,)) for rec in recs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == [(201, "")] * 10 + [(409, "insufficient-funds")] * 10
    funds = {f["county"]: f for f in client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["funds"]}
    assert funds["河津市"]["committed"] == "1000.00" and funds["河津市"]["available"] == "0.00"
    apps = client.get(f"{API}/campaigns/{cid}/applications?limit=200", headers=CLERK).get_json()["items"]
    assert len(apps) == 10 and all(a["status"] == "approved" for a in apps)
    rep = report(client, cid)
    assert (rep["disbursed_total"], rep["people_helped"]) == ("1000.00", 10)
    assert len(outbox_events(db_url, "relief.disbursement.made.v1")) == 10
