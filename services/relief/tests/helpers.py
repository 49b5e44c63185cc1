"""Helpers of the relief tests: a campaign, donations and applications walked through the API."""
from __future__ import annotations

import itertools

from shared.testing import auth

from services.relief.domain.personal import check_digit

CLERK = auth("clerk-1", "clerk")
STAFF = auth("staff-1", "community_staff")
AUDITOR = auth("auditor-1", "auditor")
ADMIN = auth("admin-1", "admin")
API = "/api/v1"

_serial = itertools.count(1)


def id_number(serial: int | None = None, region: str = "140821", birth: str = "19810108") -> str:
    """A valid synthetic ID-card number (real Yuncheng county code, GB 11643 check digit)."""
    first17 = f"{region}{birth}{(serial if serial is not None else next(_serial)) % 1000:03d}"
    return first17 + check_digit(first17)


def campaign(client, **overrides) -> dict:
    body = {"name": "2023年度“送温暖、献爱心”活动", "opens_on": "2023-01-01", "closes_on": "2023-12-31", **overrides}
    r = client.post(f"{API}/campaigns", json=body, headers=CLERK)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def donate(client, campaign_id: str, amount: str, *, level="county", county="河津市", receipt=None,
           received_at="2023-03-01T10:00:00+08:00", donor=None, expect=201) -> dict:
    body = {"receipt_no": receipt or f"R-{next(_serial)}", "level": level, "amount": amount, "received_at": received_at,
            "donor": donor or {"kind": "individual", "name": "何玲万", "person_id": "P001568"}}
    if level == "county":
        body["county"] = county
    r = client.post(f"{API}/campaigns/{campaign_id}/donations", json=body, headers=CLERK)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def apply(client, campaign_id: str, *, requested="100.00", level="county", county="河津市", number=None,
          name="钟明", expect=201, **extra) -> dict:
    body = {"applicant": {"name": name, "id_number": number or id_number(), "phone": "15817269286",
                          "person_id": f"P{next(_serial):06d}"},
            "county": county, "level": level, "assistance_type": "disaster",
            "household": {"size": 3, "monthly_income": "694.00"}, "requested_amount": requested, **extra}
    r = client.post(f"{API}/campaigns/{campaign_id}/applications", json=body, headers=CLERK)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def step(client, application_id: str, path: str, body: dict, expect=201, headers=CLERK) -> dict:
    r = client.post(f"{API}/applications/{application_id}/{path}", json=body, headers=headers)
    assert r.status_code == expect, (path, r.get_json())
    return r.get_json()


def approve(client, application_id: str, *, survey="2023-07-17", appraisal="2023-07-24", notice="2023-07-25",
            decided="2023-08-02") -> dict:
    """Walk an application through survey, supported appraisal, a default-length notice and approval."""
    step(client, application_id, "household-survey", {"surveyed_on": survey, "findings": "家庭困难情况属实"})
    step(client, application_id, "democratic-appraisal", {"appraised_on": appraisal, "participants": 13,
                                                          "outcome": "supported"})
    step(client, application_id, "public-notice", {"starts_on": notice})
    return step(client, application_id, "decision", {"approved": True, "decided_on": decided})


def report(client, campaign_id: str, **params) -> dict:
    r = client.get(f"{API}/public/campaigns/{campaign_id}/report", query_string=params)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def outbox_events(db_url: str, event_type: str) -> list[dict]:
    """The CloudEvents of ``event_type`` staged in the relief outbox, in commit order."""
    import json

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from shared.db import engine_for
    from shared.models import OutboxMessage
    with Session(engine_for(db_url)) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == event_type)
                               .order_by(OutboxMessage.seq)).all()
        return [json.loads(r.body) for r in rows]
