"""The scenario loader's relief part (tools/replay/relief.py) against relief's real web server: new applications
go in batches; a refused record stops the replay naming its file, line, ref, step and field, with nothing of its
batch stored; an application an earlier run left part-way is carried on; a second run changes nothing."""
from __future__ import annotations

import json

import pytest

from shared.testing import migrate, service_env, start_web, token
from tools.replay import relief as loader
from tools.replay.client import Api, Refused
from tools.replay.data import Scenario

from .helpers import id_number


def application(n: int, county="河津市", amount="100.00") -> dict:
    """A record in the seed scenario's shape (relief.applications.jsonl)."""
    return {"ref": f"AP-{n:05d}", "applicant": {"person_id": f"P{n:06d}", "name": "钟明", "id_number": id_number(n),
                                                "phone": "15817269286"},
            "county": county, "level": "county", "assistance_type": "disaster",
            "household": {"size": 3, "monthly_income": "694.00"}, "requested_amount": amount,
            "household_survey": {"on": "2023-07-17", "findings": "家庭困难情况属实"},
            "democratic_appraisal": {"on": "2023-07-24", "participants": 13, "outcome": "supported"},
            "public_notice": {"from": "2023-07-25", "to": "2023-08-01"},
            "objections": [{"raised_on": "2023-07-27", "text": "有营运车辆", "handled_on": "2023-07-30",
                            "outcome": "dismissed", "finding": "异议不成立"}],
            "decision": {"approved": True, "on": "2023-08-02"},
            "disbursement": {"amount": amount, "paid_on": "2023-08-12"}}


def write(path, records: list[dict]) -> None:
    path.parent.mkdir(exist_ok=True)
    (path.parent / "relief.campaign.json").write_text(json.dumps(
        {"ref": "SNXAX-2023", "name": "2023年度“送温暖、献爱心”活动", "opens_on": "2023-01-01",
         "closes_on": "2023-12-31"}, ensure_ascii=False), encoding="utf-8")
    (path.parent / "relief.donations.jsonl").write_text(json.dumps(
        {"donor": {"name": "何玲万", "kind": "individual"}, "level": "county", "county": "河津市",
         "amount": "10000.00", "received_at": "2023-03-01T10:00:00+08:00", "receipt_no": "YC2023-000001"},
        ensure_ascii=False) + "\n", encoding="utf-8")
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture
def relief_api(db_url, tmp_path):
    migrate("relief", db_url)
    web, base = start_web("relief", service_env("relief", db_url, "amqp://guest:guest@127.0.0.1:1/%2F"), tmp_path)
    try:
        yield Api("relief", base=base)
    finally:
        web.stop()


def stored(api: Api) -> dict[str, tuple[str, str]]:
    """ref -> (status, disbursement status) of every application of the campaign."""
    [campaign] = api.items("/campaigns")
    paid = {d["application_id"]: d["status"] for d in api.items(f"/campaigns/{campaign['id']}/disbursements")}
    return {a["ref"]: (a["status"], paid.get(a["id"])) for a in api.items(f"/campaigns/{campaign['id']}/applications")}


def test_batches_stop_on_a_refused_record_resume_and_change_nothing_the_second_time(relief_api, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.setattr(loader, "BATCH", 3)
    records = [application(n) for n in range(1, 11)]
    bad = json.loads(json.dumps(records[7]))
    bad["democratic_appraisal"]["on"] = "2023-07-16"  # before the household survey
    path = tmp_path / "data" / "relief.applications.jsonl"
    write(path, records[:7] + [bad, records[8]])

    with pytest.raises(Refused) as caught:
        loader.load(relief_api, Scenario(path.parent), show=False)
    message = str(caught.value)
    assert "relief.applications.jsonl line 8, ref AP-00008 (import the application: democratic appraisal)" in message
    assert "field democratic_appraisal.appraised_on (json): On or after 2023-07-17." in message, message
    assert "AP-00007" not in stored(relief_api) and "AP-00009" not in stored(relief_api)  # its batch: nothing

    write(path, records)  # the record corrected; and one an earlier run left part-way (submitted, surveyed)
    [campaign] = relief_api.items("/campaigns")
    body = loader.application_body(Scenario(path.parent).jsonl("relief.applications.jsonl")[9])
    app = relief_api.request("POST", f"/campaigns/{campaign['id']}/applications", body=body).body
    relief_api.request("POST", f"/applications/{app['id']}/household-survey",
                       body={"surveyed_on": "2023-07-17", "findings": "家庭困难情况属实"})
    assert stored(relief_api)["AP-00010"] == ("surveyed", None)

    loader.load(relief_api, Scenario(path.parent), show=False)
    after = stored(relief_api)
    assert after == {r["ref"]: ("approved", "paid") for r in records}
    totals = relief_api.get(f"/campaigns/{campaign['id']}/totals").body
    assert [(f["county"], f["committed"]) for f in totals["funds"]] == [("河津市", "1000.00")]
    auditor = Api("relief", base=relief_api.base, token=token("auditor-1", "auditor"))
    audit = auditor.items("/audit")

    loader.load(relief_api, Scenario(path.parent), show=False)  # a second run changes nothing
    assert stored(relief_api) == after and auditor.items("/audit") == audit
