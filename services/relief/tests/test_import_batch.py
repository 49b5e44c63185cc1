"""Batch history import (``POST /campaigns/{id}/application-import-batches``): up to 500 records in one
transaction, each applied by the single import's own function — the same stored state as one import per record,
a refused record refuses the batch (named by index, field and ref) and stores nothing, records stored before are
reported and left unchanged, and racing batches never overdraw a body."""
from __future__ import annotations

import threading

from shared.testing import make_client

from .helpers import API, AUDITOR, CLERK, STAFF, campaign, donate, id_number, outbox_events, report
from .test_import import assert_campaigns_alike, audit_actions, post_import, record, setup_campaign

KINDS = [("approved", "河津市", "county"), ("approved", "万荣县", "city"), ("not_supported", "河津市", "county"),
         ("upheld", "河津市", "county")]


def post_batch(client, cid: str, recs: list[dict], expect=201, headers=CLERK) -> dict:
    r = client.post(f"{API}/campaigns/{cid}/application-import-batches", json={"applications": recs},
                    headers=headers)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def state(client, db_url: str, cid: str) -> tuple:
    """Everything a batch could change: the report, the funds, the applications, the audit log, the events."""
    apps = client.get(f"{API}/campaigns/{cid}/applications?limit=200", headers=CLERK).get_json()["items"]
    audit = client.get(f"{API}/audit", query_string={"limit": 200}, headers=AUDITOR).get_json()["items"]
    funds = client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["funds"]
    events = [len(outbox_events(db_url, t)) for t in ("relief.application.decided.v1", "relief.disbursement.made.v1")]
    return report(client, cid), funds, apps, audit, events


def test_a_batch_stores_what_one_import_per_record_stores(db_url):
    client = make_client("relief", db_url)
    single, batched = setup_campaign(client), setup_campaign(client)
    recs = [(n, record(f"S-{n:06d}", id_number(100 + n), kind=kind, county=county, level=level))
            for n, (kind, county, level) in enumerate(KINDS)]
    one_by_one = [post_import(client, single, rec) for _, rec in recs]
    answer = post_batch(client, batched, [{**rec, "ref": f"B-{n:06d}"} for n, rec in recs])

    assert (answer["created"], answer["existing"]) == (4, 0)
    assert [(i["index"], i["ref"], i["status"], i["created"]) for i in answer["items"]] == [
        (0, "B-000000", "approved", True), (1, "B-000001", "approved", True), (2, "B-000002", "rejected", True),
        (3, "B-000003", "rejected", True)]
    stored = [client.get(f"{API}/applications/{item['id']}", headers=CLERK).get_json() for item in answer["items"]]
    assert_campaigns_alike(client, db_url, single, batched, [(a["id"], b) for a, b in zip(one_by_one, stored)])
    rep = report(client, batched)
    assert (rep["disbursed_total"], rep["people_helped"], rep["applications_rejected"]) == ("600.00", 2, 2)


def test_a_refused_record_refuses_the_whole_batch_naming_it(db_url):
    client = make_client("relief", db_url)
    cid = setup_campaign(client, county_funds="250.00")
    good = [record(f"AP-{n:06d}", id_number(300 + n), requested="100.00", paid="100.00") for n in range(3)]
    empty = state(client, db_url, cid)

    def refused(recs, status, code, field, index, step=None):
        r = post_batch(client, cid, recs, expect=status)
        assert r["type"].endswith(code), r
        assert field in [e["field"] for e in r["errors"]], r
        assert (r["index"], r["ref"]) == (index, recs[index].get("ref")), r
        if step:
            assert r["step"] == step
        assert state(client, db_url, cid) == empty  # nothing of the batch is stored, not even its good records
        return r

    late = record("AP-000009", id_number(309))
    late["objections"][0]["raised_on"] = "2023-08-02"  # after the notice ended: the single import's 409
    refused([*good[:2], late], 409, "notice-closed", "applications.2.objections.0.raised_on", 2, "objections.0")
    early = record("AP-000009", id_number(309))
    early["household_survey"]["surveyed_on"] = "2023-07-09"  # before applied_on
    refused([early, *good], 422, "unprocessable", "applications.0.household_survey.surveyed_on", 0)
    # the county holds 250.00: the third 100.00 is one too many
    r = refused(good, 409, "insufficient-funds", "applications.2.disbursement", 2, "disbursement")
    assert r["available"] == "50.00"
    # a record the schema refuses: named by its path and its ref, every invalid record listed
    bad = [good[0], {**good[1], "applicant": {**good[1]["applicant"], "id_number": "140821198101088290"}},
           {**good[2], "level": "district"}]
    r = refused(bad, 422, "unprocessable-entity", "applications.1.applicant.id_number", 1)
    assert "applications.2.level" in [e["field"] for e in r["errors"]]
    assert r["items"] == [{"index": 1, "ref": "AP-000001"}, {"index": 2, "ref": "AP-000002"}]
    # a ref held by another person (the single import's 409 duplicate-ref)
    post_import(client, cid, record("AP-000100", id_number(350), kind="not_supported"))
    empty = state(client, db_url, cid)
    taken = record("AP-000100", id_number(351), requested="100.00", paid="100.00")
    refused([good[0], taken], 409, "duplicate-ref", "applications.1.ref", 1)
    # the batch's size and the callers, as documented
    assert post_batch(client, cid, [], expect=422)["errors"][0]["field"] == "applications"
    too_many = [record(f"AP-{n:06d}", id_number(n)) for n in range(501)]
    assert post_batch(client, cid, too_many, expect=422)["errors"][0]["field"] == "applications"
    post_batch(client, cid, good[:2], expect=403, headers=STAFF)
    post_batch(client, "no-such-campaign", good[:2], expect=404)
    assert state(client, db_url, cid) == empty
    # the corrected batch imports
    assert post_batch(client, cid, good[:2])["created"] == 2


def test_records_stored_before_are_reported_and_left_unchanged(db_url):
    client = make_client("relief", db_url)
    cid = setup_campaign(client)
    recs = [record(f"AP-{n:06d}", id_number(200 + n), kind=kind)
            for n, kind in enumerate(("approved", "not_supported", "upheld", "approved"))]
    first = post_import(client, cid, recs[1])
    before = state(client, db_url, cid)
    answer = post_batch(client, cid, recs[:3])
    assert [(i["ref"], i["created"]) for i in answer["items"]] == [
        ("AP-000000", True), ("AP-000001", False), ("AP-000002", True)]
    assert answer["items"][1]["id"] == first["id"] and (answer["created"], answer["existing"]) == (2, 1)
    assert audit_actions(client, first["id"]) == [e["action"] for e in before[3] if e["entity_id"] == first["id"]]
    # a whole batch stored before: 200, each as it stands, nothing changes; a repeated record within a batch too
    before = state(client, db_url, cid)
    again = post_batch(client, cid, [*recs[:3], recs[0]], expect=200)
    assert [i["id"] for i in again["items"]] == [i["id"] for i in answer["items"]] + [answer["items"][0]["id"]]
    assert [i["status"] for i in again["items"]] == ["approved", "rejected", "rejected", "approved"]
    assert (again["created"], again["existing"]) == (0, 4)
    # without its ref the same person's live application is the same application
    no_ref = {k: v for k, v in recs[0].items() if k != "ref"}
    assert post_batch(client, cid, [no_ref], expect=200)["items"][0]["id"] == answer["items"][0]["id"]
    assert state(client, db_url, cid) == before
    # the Idempotency-Key is honoured as on every command
    headers = {**CLERK, "Idempotency-Key": "batch-AP-000003"}
    r1 = client.post(f"{API}/campaigns/{cid}/application-import-batches", json={"applications": [recs[3]]},
                     headers=headers)
    r2 = client.post(f"{API}/campaigns/{cid}/application-import-batches", json={"applications": [recs[3]]},
                     headers=headers)
    assert (r1.status_code, r2.status_code) == (201, 201) and r2.headers["Idempotency-Replayed"] == "true"
    assert r1.get_json() == r2.get_json() and r1.get_json()["created"] == 1
    assert report(client, cid)["people_helped"] == 2


def test_racing_batches_never_overdraw_a_body(db_url):
    """Two batches, each paying 600.00 from a county holding 1,000.00 (and some from another county, in the
    opposite order), sent at once: exactly one is stored and paid; the other is refused whole at the record that
    no longer fits (409 insufficient-funds) and leaves nothing, not even its other county's records."""
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    donate(client, cid, "1000.00", county="河津市")
    donate(client, cid, "100000.00", county="万荣县")

    def recs(prefix, serial, county, n):
        return [record(f"{prefix}-{serial + k:06d}", id_number(serial + k), county=county, requested="100.00",
                       paid="100.00") for k in range(n)]

    batches = {"A": recs("A", 400, "万荣县", 2) + recs("A", 410, "河津市", 6),
               "B": recs("B", 500, "河津市", 6) + recs("B", 510, "万荣县", 2)}
    first_over = {"A": 6, "B": 4}  # 1000 - 600 leaves four 100.00 records of the loser paid, the fifth refused
    start = threading.Barrier(2)
    answers: dict[str, tuple[int, dict]] = {}

    def run(name):
        start.wait()
        r = client.application.test_client().post(f"{API}/campaigns/{cid}/application-import-batches",
                                                   json={"applications": batches[name]}, headers=CLERK)
        answers[name] = (r.status_code, r.get_json())

    threads = [threading.Thread(target=run, args=(name,)) for name in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(status for status, _ in answers.values()) == [201, 409], answers
    [winner] = [name for name, (status, _) in answers.items() if status == 201]
    [loser] = [name for name in batches if name != winner]
    problem = answers[loser][1]
    # "available" as the loser's own transaction saw it, after its four records that fitted
    assert problem["type"].endswith("insufficient-funds") and problem["available"] == "0.00"
    assert (problem["index"], problem["ref"]) == (first_over[loser], batches[loser][first_over[loser]]["ref"])
    assert problem["errors"][0]["field"] == f"applications.{first_over[loser]}.disbursement"

    funds = {f["county"]: f for f in client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["funds"]}
    assert (funds["河津市"]["committed"], funds["河津市"]["available"]) == ("600.00", "400.00")
    assert funds["万荣县"]["committed"] == "200.00"
    apps = client.get(f"{API}/campaigns/{cid}/applications?limit=200", headers=CLERK).get_json()["items"]
    assert sorted(a["ref"] for a in apps) == sorted(r["ref"] for r in batches[winner])
    assert all(a["status"] == "approved" for a in apps)
    assert (report(client, cid)["disbursed_total"], report(client, cid)["people_helped"]) == ("800.00", 8)
    assert len(outbox_events(db_url, "relief.disbursement.made.v1")) == 8
