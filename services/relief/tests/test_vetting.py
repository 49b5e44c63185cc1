"""The vetting workflow: steps in order with their own dates, the notice window judged by the record's dates
(not the wall clock), objections blocking approval, duplicates by the keyed hash, audited personal-data reads,
and the masked public notice list."""
from __future__ import annotations

from shared.testing import auth, make_client

from .helpers import API, AUDITOR, CLERK, STAFF, apply, approve, campaign, id_number, outbox_events, step


def test_steps_in_order_with_past_dates_and_out_of_order_is_409(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    aid = apply(client, cid, applied_on="2023-07-10")["id"]
    # nothing but the survey can come first
    step(client, aid, "democratic-appraisal", {"appraised_on": "2023-07-24", "participants": 13,
                                               "outcome": "supported"}, expect=409)
    step(client, aid, "public-notice", {"starts_on": "2023-07-25"}, expect=409)
    step(client, aid, "decision", {"approved": True, "decided_on": "2023-08-02"}, expect=409)
    step(client, aid, "disbursement", {"amount": "100.00"}, expect=409)
    # a date before the step it follows is 422 naming the field; nothing is recorded
    r = step(client, aid, "household-survey", {"surveyed_on": "2023-07-09", "findings": "属实"}, expect=422)
    assert r["errors"][0]["field"] == "surveyed_on"
    app = step(client, aid, "household-survey", {"surveyed_on": "2023-07-17", "findings": "家庭困难情况属实",
                                                 "surveyors": "网格员王芳、社工李强"}, headers=STAFF)
    assert app["status"] == "surveyed" and app["household_survey"]["surveyors"] == "网格员王芳、社工李强"
    step(client, aid, "household-survey", {"surveyed_on": "2023-07-17", "findings": "again"}, expect=409)
    step(client, aid, "democratic-appraisal", {"appraised_on": "2023-07-16", "participants": 13,
                                               "outcome": "supported"}, expect=422)
    step(client, aid, "democratic-appraisal", {"appraised_on": "2023-07-24", "participants": 13, "outcome": "supported"})
    step(client, aid, "decision", {"approved": True, "decided_on": "2023-08-02"}, expect=409)  # no notice yet
    app = step(client, aid, "public-notice", {"starts_on": "2023-07-25"})
    assert app["public_notice"] == {"starts_on": "2023-07-25", "ends_on": "2023-08-01"}  # 7 days by default
    # the objection window is judged by the record's dates: the last notice day is still inside it
    r = step(client, aid, "decision", {"approved": True, "decided_on": "2023-08-01"}, expect=409)
    assert r["type"].endswith("notice-running")
    app = step(client, aid, "decision", {"approved": True, "decided_on": "2023-08-02"})
    assert app["status"] == "approved" and app["granted_amount"] == "100.00" and app["decided_on"] == "2023-08-02"
    step(client, aid, "decision", {"approved": False, "decided_on": "2023-08-03", "reason": "x"}, expect=409)
    [event] = outbox_events(db_url, "relief.application.decided.v1")
    assert event["data"]["outcome"] == "approved" and event["data"]["decided_on"] == "2023-08-02"
    assert "钟明" not in str(event) and "1408" not in str(event["data"])


def test_notice_length_is_configurable_and_never_shorter(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client, notice_days=10)["id"]
    aid = apply(client, cid)["id"]
    step(client, aid, "household-survey", {"surveyed_on": "2023-07-17", "findings": "属实"})
    step(client, aid, "democratic-appraisal", {"appraised_on": "2023-07-24", "participants": 9, "outcome": "supported"})
    r = step(client, aid, "public-notice", {"starts_on": "2023-07-25", "ends_on": "2023-08-01"}, expect=422)
    assert r["errors"][0]["field"] == "ends_on"
    assert step(client, aid, "public-notice", {"starts_on": "2023-07-25"})["public_notice"]["ends_on"] == "2023-08-04"


def test_objections_block_approval_until_handled_and_upheld_means_rejection(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    apps = [apply(client, cid)["id"] for _ in range(2)]
    for aid in apps:
        step(client, aid, "household-survey", {"surveyed_on": "2023-08-27", "findings": "属实"})
        step(client, aid, "democratic-appraisal", {"appraised_on": "2023-08-31", "participants": 15,
                                                   "outcome": "supported"})
        step(client, aid, "public-notice", {"starts_on": "2023-09-01"})
    dismissed, upheld = apps
    # outside the notice (by the record's dates): refused
    r = step(client, dismissed, "objections", {"raised_on": "2023-09-09", "text": "late"}, expect=409)
    assert r["type"].endswith("notice-closed")
    objection = step(client, dismissed, "objections", {"raised_on": "2023-09-03", "text": "邻居反映其家中有营运车辆"})
    r = step(client, dismissed, "decision", {"approved": True, "decided_on": "2023-09-12"}, expect=409)
    assert r["type"].endswith("objections-pending")
    handling = f"objections/{objection['id']}/handling"
    step(client, dismissed, handling, {"handled_on": "2023-09-02", "outcome": "dismissed", "finding": "x"}, expect=422)
    done = step(client, dismissed, handling, {"handled_on": "2023-09-10", "outcome": "dismissed",
                                             "finding": "车辆已于去年转让，异议不成立"}, expect=200)
    assert done["outcome"] == "dismissed"
    step(client, dismissed, handling, {"handled_on": "2023-09-10", "outcome": "upheld", "finding": "x"}, expect=409)
    step(client, dismissed, "decision", {"approved": True, "decided_on": "2023-09-09"}, expect=422)  # before handling
    assert step(client, dismissed, "decision", {"approved": True, "decided_on": "2023-09-12"})["status"] == "approved"

    o2 = step(client, upheld, "objections", {"raised_on": "2023-09-08", "text": "收入不实"})
    step(client, upheld, f"objections/{o2['id']}/handling", {"handled_on": "2023-09-09", "outcome": "upheld",
                                                             "finding": "核实有固定收入"}, expect=200)
    r = step(client, upheld, "decision", {"approved": True, "decided_on": "2023-09-12"}, expect=409)
    assert r["type"].endswith("objection-upheld")
    r = step(client, upheld, "decision", {"approved": False, "decided_on": "2023-09-12"}, expect=422)
    assert r["errors"][0]["field"] == "reason"
    app = step(client, upheld, "decision", {"approved": False, "decided_on": "2023-09-12", "reason": "异议成立"})
    assert app["status"] == "rejected" and len(app["objections"]) == 1


def test_not_supported_goes_to_rejection_and_the_person_may_apply_again(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    number = id_number()
    aid = apply(client, cid, number=number)["id"]
    r = apply(client, cid, number=number, expect=409)  # the keyed hash finds the live application
    assert r["existing_application_id"] == aid and r["type"].endswith("duplicate-application")
    step(client, aid, "household-survey", {"surveyed_on": "2023-07-20", "findings": "家庭收入高于救助标准"})
    step(client, aid, "democratic-appraisal", {"appraised_on": "2023-07-28", "participants": 10,
                                               "outcome": "not_supported"})
    step(client, aid, "public-notice", {"starts_on": "2023-07-29"}, expect=409)
    step(client, aid, "decision", {"approved": True, "decided_on": "2023-07-29"}, expect=409)
    app = step(client, aid, "decision", {"approved": False, "decided_on": "2023-07-29",
                                         "reason": "经民主评议不符合临时救助条件"})
    assert app["status"] == "rejected" and app["decision_reason"] == "经民主评议不符合临时救助条件"
    apply(client, cid, number=number)  # a rejected application no longer blocks a new one


def test_personal_data_is_encrypted_masked_and_every_unmasked_read_audited(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    number = "14088119940828534X"
    aid = apply(client, cid, number=number.lower(), name="毛敏")["id"]
    from sqlalchemy import text

    from shared.db import engine_for
    with engine_for(db_url).connect() as conn:
        stored = " ".join(str(v) for v in conn.execute(text("SELECT * FROM applications")).one())
    assert number not in stored and number.lower() not in stored and "1408**********534X" in stored

    masked = client.get(f"{API}/applications/{aid}", headers=STAFF).get_json()
    assert masked["masked"] and masked["applicant"]["name"] == "毛*"
    assert masked["applicant"]["id_number"] == "1408**********534X" and masked["applicant"]["phone"] == "158****9286"
    assert client.get(f"{API}/applications/{aid}?reveal=true", headers=STAFF).status_code == 403
    shown = client.get(f"{API}/applications/{aid}?reveal=true&purpose=核对身份", headers=CLERK).get_json()
    assert shown["applicant"]["id_number"] == number and shown["applicant"]["name"] == "毛敏" and not shown["masked"]
    client.get(f"{API}/applications/{aid}?reveal=true", headers=AUDITOR)
    log = client.get(f"{API}/audit", query_string={"entity_id": aid, "action": "application.personal_data_read"},
                     headers=AUDITOR).get_json()["items"]
    assert [(e["actor"], (e["detail"] or {}).get("purpose")) for e in log] == [("clerk-1", "核对身份"),
                                                                               ("auditor-1", None)]
    everything = client.get(f"{API}/audit", query_string={"entity_id": aid, "limit": 200}, headers=AUDITOR).get_json()
    assert number not in str(everything) and "毛敏" not in str(everything)
    assert client.get(f"{API}/audit", headers=CLERK).status_code == 403


def test_public_notice_list_is_masked_and_needs_no_login(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    open_one = apply(client, cid, name="张三", number=id_number(region="140802"))["id"]
    approve(client, open_one, notice="2023-07-25", decided="2023-08-02")
    later = apply(client, cid, name="黎桂强")["id"]
    step(client, later, "household-survey", {"surveyed_on": "2023-08-02", "findings": "属实"})
    step(client, later, "democratic-appraisal", {"appraised_on": "2023-08-08", "participants": 15, "outcome": "supported"})
    step(client, later, "public-notice", {"starts_on": "2023-08-09"})
    apply(client, cid)  # never on notice: not listed

    everything = client.get(f"{API}/public/campaigns/{cid}/notices").get_json()["items"]
    assert [(n["name"], n["status"]) for n in everything] == [("张*", "approved"), ("黎**", "in_notice")]
    assert all(n["id_number"].count("*") == 10 and n["id_number"].startswith("1408") for n in everything)
    on_day = client.get(f"{API}/public/campaigns/{cid}/notices?on=2023-08-10").get_json()["items"]
    assert [n["application_id"] for n in on_day] == [later]
    assert client.get(f"{API}/public/campaigns/nope/notices").status_code == 404
    assert client.get(f"{API}/campaigns/{cid}/applications").status_code == 401
    assert client.get(f"{API}/campaigns/{cid}/applications", headers=auth("v-1", "volunteer")).status_code == 403
