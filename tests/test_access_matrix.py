"""The access matrix (issue 10): every endpoint of every service × every kind of caller, with the answer expected.

The table below is the statement of who may do what, written out independently of the views' ``roles(...)``
decorators: a change of an endpoint's roles, or a new endpoint without a row here, fails this test (the list of
endpoints is read from each app's URL map and must equal the table's keys).

Callers: no token, a token with a bad signature, an expired token, each role of the system (one token per role),
and "another person" — for records owned by a resident (or a worker), the owner's record asked for by someone
else of the same role answers 404 (its existence is not revealed).

Expected answers:
- public rows: 200 for every caller, and the body shows no personal data (no full 11-digit mobile number, no
  18-character ID-card number, no full name of a person this test created);
- protected rows: 401 without a valid token; 403 for a role not in the row; for a role in the row an answer that
  is not 401/403 (200/201/204, or 404 for a record the test did not create, 409, or 422 since writes are sent
  an empty body). GETs of records the test created answer an allowed admin with exactly 200; the owner gets 200 and
  another person of the owner's role 404.

SQLite only (the rules under test live above the database).
"""
from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass

import pytest

from shared.testing import make_client, token

ROLES = ("resident", "volunteer", "worker", "employer", "merchant", "grid_worker", "mediator", "supervisor",
         "clerk", "community_staff", "auditor", "market_staff", "admin")
PUBLIC = "public"
ANY = ("any",)  # any caller with a valid token, whatever the role

#: person ids of the owner of the records the test creates and of "another person"
OWNER, OTHER = "P900101", "P900102"
#: the full names the test gives people, which no public answer may show
NAMES = ("欧阳明华", "钟明远", "司马建国")


@dataclass(frozen=True)
class Owned:
    """A row whose records belong to a person of ``owner_role``: the owner sees theirs, another person 404."""

    roles: tuple[str, ...]
    owner_role: str = "resident"


# -- who may call what -----------------------------------------------------------------------------------
D_STAFF = ("grid_worker", "mediator", "supervisor", "admin")
D_LEADS = ("supervisor", "admin")
D_RES = ("resident", *D_STAFF)

DISPUTES = {
    "GET /api/v1/cases": D_RES,
    "POST /api/v1/cases": D_RES,
    "GET /api/v1/cases/duplicates": D_STAFF,
    "GET /api/v1/cases/<case_id>": Owned(D_RES),
    "GET /api/v1/cases/<case_id>/timeline": Owned(D_RES),
    "GET /api/v1/cases/<case_id>/contact": D_STAFF,
    "GET /api/v1/cases/<case_id>/evaluations": Owned(D_RES),
    "POST /api/v1/cases/<case_id>/evaluations": ("resident", *D_LEADS),
    "GET /api/v1/cases/<case_id>/feedback": Owned(D_RES),
    "POST /api/v1/cases/<case_id>/feedback": D_RES,
    "GET /api/v1/cases/<case_id>/resolutions": Owned(D_RES),
    "POST /api/v1/cases/<case_id>/resolutions": D_STAFF,
    "GET /api/v1/cases/<case_id>/grades": D_STAFF,
    "POST /api/v1/cases/<case_id>/grades": D_STAFF,
    "GET /api/v1/cases/<case_id>/assignments": D_STAFF,
    "POST /api/v1/cases/<case_id>/assignments": ("grid_worker", *D_LEADS),
    "POST /api/v1/cases/<case_id>/mediation": D_STAFF,
    "POST /api/v1/cases/<case_id>/referral": ("mediator", *D_LEADS),
    "POST /api/v1/cases/<case_id>/closure": D_LEADS,
    "POST /api/v1/cases/<case_id>/reopening": D_LEADS,
    "GET /api/v1/cases/<case_id>/follow-ups": D_STAFF,
    "POST /api/v1/cases/<case_id>/follow-ups": ("mediator", *D_LEADS),
    "GET /api/v1/follow-ups/overdue": D_STAFF,
    "POST /api/v1/follow-ups/<follow_up_id>/progress": D_STAFF,
    "POST /api/v1/follow-ups/<follow_up_id>/completion": D_LEADS,
    "GET /api/v1/hazard-reports": D_RES,
    "POST /api/v1/hazard-reports": D_RES,
    "GET /api/v1/hazard-reports/<report_id>": Owned(D_RES),
    "POST /api/v1/hazard-reports/<report_id>/verification": ("grid_worker", "admin"),
    "POST /api/v1/hazard-reports/<report_id>/rejection": ("grid_worker", "admin"),
    "GET /api/v1/sessions": D_STAFF,
    "POST /api/v1/sessions": D_STAFF,
    "GET /api/v1/sessions/<session_id>": D_STAFF,
    "GET /api/v1/statistics": D_STAFF,
    "GET /api/v1/statistics/cases.csv": D_STAFF,
    "GET /api/v1/feedback-wall": PUBLIC,
    "GET /api/v1/map": PUBLIC,
    "GET /api/v1/policy": PUBLIC,
}

P_STAFF = ("clerk", "admin")
P_HOLDERS = ("resident", "volunteer", "merchant", *P_STAFF)

POINTS = {
    "GET /api/v1/accounts": P_STAFF,
    "GET /api/v1/accounts/<person_id>": Owned(P_HOLDERS),
    "GET /api/v1/accounts/<person_id>/entries": Owned(P_HOLDERS),
    "GET /api/v1/catalogue": P_HOLDERS,
    "POST /api/v1/catalogue": ("merchant", *P_STAFF),
    "GET /api/v1/catalogue/<sku>": P_HOLDERS,
    "PATCH /api/v1/catalogue/<sku>": ("merchant", *P_STAFF),
    "POST /api/v1/catalogue/<sku>/stock-adjustments": ("merchant", *P_STAFF),
    "GET /api/v1/credit-decisions": P_STAFF,
    "POST /api/v1/credits": P_STAFF,
    "GET /api/v1/item-donations": P_STAFF,
    "POST /api/v1/item-donations": P_STAFF,
    "GET /api/v1/item-donations/<donation_id>": ("resident", "volunteer", *P_STAFF),
    "POST /api/v1/item-donations/<donation_id>/appraisal": P_STAFF,
    "POST /api/v1/item-donations/<donation_id>/rejection": P_STAFF,
    "GET /api/v1/merchants": P_HOLDERS,
    "POST /api/v1/merchants": P_STAFF,
    "GET /api/v1/merchants/<ref>": P_HOLDERS,
    "PATCH /api/v1/merchants/<ref>": P_STAFF,
    "GET /api/v1/merchants/<ref>/account": ("merchant", *P_STAFF),
    "GET /api/v1/merchants/<ref>/account/entries": ("merchant", *P_STAFF),
    "GET /api/v1/merchants/<ref>/service-records": ("merchant", *P_STAFF),
    "POST /api/v1/merchants/<ref>/service-records": ("merchant", *P_STAFF),
    "POST /api/v1/merchants/<ref>/service-records/<record_id>/confirmation": P_STAFF,
    "POST /api/v1/merchants/<ref>/service-records/<record_id>/rejection": P_STAFF,
    "GET /api/v1/merchants/<ref>/settlements/<month>": ("merchant", *P_STAFF),
    "GET /api/v1/redemptions": P_HOLDERS,
    "POST /api/v1/redemptions": P_HOLDERS,
    "GET /api/v1/redemptions/<redemption_id>": P_HOLDERS,
    "POST /api/v1/redemptions/<redemption_id>/cancellation": P_HOLDERS,
    "POST /api/v1/redemptions/<redemption_id>/hand-over": P_STAFF,
    "GET /api/v1/reports/honour-roll": P_STAFF,
    "GET /api/v1/reports/low-stock": P_STAFF,
    "GET /api/v1/reports/merchant-settlements": P_STAFF,
    "GET /api/v1/reports/points": P_STAFF,
    "GET /api/v1/rules": ANY,
    "POST /api/v1/rules": ("admin",),
    "GET /api/v1/rules/<code>": ANY,
    "POST /api/v1/rules/<code>/retirement": ("admin",),
}

R_CLERKS = ("clerk", "admin")
R_VETTERS = ("clerk", "community_staff", "admin")
R_READERS = ("clerk", "community_staff", "auditor", "admin")
R_MONEY = ("clerk", "auditor", "admin")
R_COMMUNITY = ("community_staff", "admin")
R_SHIFTS = ("volunteer", "community_staff", "auditor", "admin")

RELIEF = {
    "GET /api/v1/campaigns": R_READERS,
    "POST /api/v1/campaigns": R_CLERKS,
    "GET /api/v1/campaigns/<campaign_id>": R_READERS,
    "GET /api/v1/campaigns/<campaign_id>/applications": R_READERS,
    "POST /api/v1/campaigns/<campaign_id>/applications": R_VETTERS,
    "POST /api/v1/campaigns/<campaign_id>/application-imports": R_CLERKS,
    "POST /api/v1/campaigns/<campaign_id>/application-import-batches": R_CLERKS,
    "GET /api/v1/campaigns/<campaign_id>/caring-units": R_READERS,
    "POST /api/v1/campaigns/<campaign_id>/caring-units": R_CLERKS,
    "GET /api/v1/campaigns/<campaign_id>/disbursements": R_MONEY,
    "GET /api/v1/campaigns/<campaign_id>/donations": R_MONEY,
    "POST /api/v1/campaigns/<campaign_id>/donations": R_CLERKS,
    "GET /api/v1/campaigns/<campaign_id>/organisations": R_MONEY,
    "GET /api/v1/campaigns/<campaign_id>/totals": R_MONEY,
    "GET /api/v1/applications/<application_id>": R_READERS,
    "POST /api/v1/applications/<application_id>/household-survey": R_VETTERS,
    "POST /api/v1/applications/<application_id>/democratic-appraisal": R_VETTERS,
    "POST /api/v1/applications/<application_id>/public-notice": R_VETTERS,
    "POST /api/v1/applications/<application_id>/objections": R_VETTERS,
    "POST /api/v1/applications/<application_id>/objections/<objection_id>/handling": R_VETTERS,
    "POST /api/v1/applications/<application_id>/decision": R_CLERKS,
    "POST /api/v1/applications/<application_id>/disbursement": R_CLERKS,
    "GET /api/v1/disbursements/<disbursement_id>": R_MONEY,
    "POST /api/v1/disbursements/<disbursement_id>/paid": R_CLERKS,
    "POST /api/v1/disbursements/<disbursement_id>/failed": R_CLERKS,
    "POST /api/v1/disbursements/<disbursement_id>/reissue": R_CLERKS,
    "GET /api/v1/audit": ("auditor", "admin"),
    "GET /api/v1/meal-orders": ("community_staff", "auditor", "admin"),
    "POST /api/v1/meal-orders": R_COMMUNITY,
    "GET /api/v1/meal-orders/<order_id>": ("community_staff", "auditor", "admin"),
    "POST /api/v1/meal-orders/<order_id>/delivery": ("volunteer", *R_COMMUNITY),
    "POST /api/v1/meal-orders/<order_id>/welfare-resolution": R_COMMUNITY,
    "GET /api/v1/meal-recipients": ("community_staff", "auditor", "admin"),
    "POST /api/v1/meal-recipients": R_COMMUNITY,
    "GET /api/v1/meal-recipients/<recipient_id>": R_COMMUNITY,
    "PATCH /api/v1/meal-recipients/<recipient_id>": R_COMMUNITY,
    "GET /api/v1/volunteer-activities": R_SHIFTS,
    "POST /api/v1/volunteer-activities": R_COMMUNITY,
    "GET /api/v1/volunteer-activities/<activity_id>": R_SHIFTS,
    "POST /api/v1/volunteer-activities/<activity_id>/shifts": R_COMMUNITY,
    "GET /api/v1/volunteer-shifts": R_SHIFTS,
    "GET /api/v1/volunteer-shifts/<shift_id>": R_SHIFTS,
    "POST /api/v1/volunteer-shifts/<shift_id>/signups": ("volunteer", *R_COMMUNITY),
    "GET /api/v1/shift-signups": R_SHIFTS,
    "GET /api/v1/shift-signups/<signup_id>": R_SHIFTS,
    "POST /api/v1/shift-signups/<signup_id>/cancel": ("volunteer", *R_COMMUNITY),
    "POST /api/v1/shift-signups/<signup_id>/check-in": R_COMMUNITY,
    "POST /api/v1/shift-signups/<signup_id>/check-out": R_COMMUNITY,
    "GET /api/v1/public/campaigns": PUBLIC,
    "GET /api/v1/public/campaigns/<campaign_id>/donations": PUBLIC,
    "GET /api/v1/public/campaigns/<campaign_id>/notices": PUBLIC,
    "GET /api/v1/public/campaigns/<campaign_id>/report": PUBLIC,
}

J_STAFF = ("market_staff", "admin")
J_WORKER = ("worker", *J_STAFF)

JOBMARKET = {
    "GET /api/v1/workers": J_STAFF,
    "POST /api/v1/workers": J_WORKER,
    "GET /api/v1/workers/<ref>": Owned(J_WORKER, owner_role="worker"),
    "PATCH /api/v1/workers/<ref>": J_WORKER,
    "GET /api/v1/workers/<ref>/dispatches": Owned(J_WORKER, owner_role="worker"),
    "GET /api/v1/employers": J_STAFF,
    "POST /api/v1/employers": ("employer", *J_STAFF),
    "GET /api/v1/employers/<employer_id>": ("employer", *J_STAFF),
    "GET /api/v1/jobs": ("employer", "worker", *J_STAFF),
    "POST /api/v1/jobs": ("employer", *J_STAFF),
    "GET /api/v1/jobs/<job_id>": ("employer", "worker", *J_STAFF),
    "POST /api/v1/jobs/<job_id>/completion": ("employer", *J_STAFF),
    "POST /api/v1/jobs/<job_id>/dispatch": J_STAFF,
    "GET /api/v1/jobs/<job_id>/dispatches": ("employer", *J_STAFF),
    "POST /api/v1/jobs/<job_id>/dispatches": J_STAFF,
    "GET /api/v1/dispatches/<dispatch_id>": ("employer", "worker", *J_STAFF),
    "POST /api/v1/dispatches/<dispatch_id>/cancellation": J_STAFF,
    "POST /api/v1/dispatches/<dispatch_id>/paid-confirmation": J_WORKER,
    "POST /api/v1/dispatches/<dispatch_id>/ratings": ("employer", "worker"),
    "GET /api/v1/sign-ins": J_STAFF,
    "POST /api/v1/sign-ins": J_WORKER,
    "POST /api/v1/meal-days": J_STAFF,
    "GET /api/v1/meal-days/<served_on>": J_STAFF,
    "PATCH /api/v1/meal-days/<served_on>": J_STAFF,
    "POST /api/v1/meal-days/<served_on>/calls": J_STAFF,
    "POST /api/v1/meal-days/<served_on>/ticket-imports": J_STAFF,
    "GET /api/v1/meal-tariffs": J_STAFF,
    "POST /api/v1/meal-tariffs": J_STAFF,
    "GET /api/v1/meal-tickets": J_WORKER,
    "POST /api/v1/meal-tickets": J_WORKER,
    "GET /api/v1/nap-beds": J_WORKER,
    "POST /api/v1/nap-beds": J_STAFF,
    "PATCH /api/v1/nap-beds/<int:bed_no>": J_STAFF,
    "GET /api/v1/nap-reservations": J_WORKER,
    "POST /api/v1/nap-reservations": J_WORKER,
    "GET /api/v1/nap-reservations/<reservation_id>": J_WORKER,
    "POST /api/v1/nap-reservations/<reservation_id>/cancellation": J_WORKER,
    "POST /api/v1/nap-reservations/<reservation_id>/check-in": J_STAFF,
    "GET /api/v1/tool-kinds": J_WORKER,
    "PUT /api/v1/tool-kinds/<kind>": J_STAFF,
    "GET /api/v1/tools": J_WORKER,
    "POST /api/v1/tools": J_STAFF,
    "GET /api/v1/tools/<ref>": J_WORKER,
    "POST /api/v1/tools/<ref>/holds": J_WORKER,
    "POST /api/v1/tools/<ref>/loans": J_STAFF,
    "POST /api/v1/tools/<ref>/repairs": J_STAFF,
    "POST /api/v1/tool-holds/<hold_id>/cancellation": J_WORKER,
    "GET /api/v1/tool-loans": J_WORKER,
    "GET /api/v1/tool-loans/<loan_id>": J_WORKER,
    "POST /api/v1/tool-loans/<loan_id>/return": J_STAFF,
    "POST /api/v1/tool-repairs/<repair_id>/closure": J_STAFF,
    "GET /api/v1/reports/jobs": J_STAFF,
    "GET /api/v1/reports/meals": J_STAFF,
    "GET /api/v1/reports/naps": J_STAFF,
    "GET /api/v1/reports/summary": J_STAFF,
    "GET /api/v1/reports/tools": J_STAFF,
}

#: every service's operational and documentation endpoints: public
COMMON = {
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /api/openapi.json": PUBLIC,
    "GET /api/docs": PUBLIC,
    "GET /api/docs/assets/<path:filename>": PUBLIC,
    "GET /schemas/": PUBLIC,
    "GET /schemas/<event_type>.json": PUBLIC,
}

MATRIX = {"disputes": DISPUTES, "points": POINTS, "relief": RELIEF, "jobmarket": JOBMARKET}


# -- the records the test creates (owned by OWNER), and the public data that must come out masked ----------------
def _auth(sub: str, *roles: str) -> dict:
    return {"Authorization": "Bearer " + token(sub, *roles)}


def _ok(r, *statuses):
    assert r.status_code in statuses, (r.status_code, r.get_data(as_text=True)[:500])
    return r.get_json()


def seed_disputes(client) -> dict:
    case = _ok(client.post("/api/v1/cases", headers=_auth(OWNER, "resident"), json={
        "channel": "hotline", "category": "neighbour_family", "subcategory": "water_leak", "estate": "汾河新村",
        "summary": f"楼上漏水，联系{NAMES[0]} 13812345678", "reported_at": "2024-06-01T10:00:00+08:00",
        "reporter": {"name": NAMES[0], "phone": "13812345678"}}), 201)
    _ok(client.post(f"/api/v1/cases/{case['id']}/feedback", headers=_auth("S-1", "supervisor"),
                    json={"kind": "reply", "text": f"已联系{NAMES[0]}，电话13812345678，身份证140821198101080012"}),
        201)
    report = _ok(client.post("/api/v1/hazard-reports", headers=_auth(OWNER, "resident"), json={
        "photo": "media/1.jpg", "estate": "汾河新村", "location": "3号楼"}), 201)
    return {"case_id": case["id"], "report_id": report["id"]}


def seed_points(client) -> dict:
    _ok(client.post("/api/v1/rules", headers=_auth("A-1", "admin"), json={
        "code": "clean_up_day", "category": "civility_campaign", "unit": "manual", "points": 10}), 201)
    for person in (OWNER, OTHER):
        _ok(client.post("/api/v1/credits", headers=_auth("clerk-1", "clerk"), json={
            "person_id": person, "rule": "clean_up_day", "quantity": 1, "reason": "clean-up day"}), 201)
    return {"person_id": OWNER, "code": "clean_up_day"}


def seed_relief(client) -> dict:
    from services.relief.tests import helpers as h
    campaign = h.campaign(client)
    h.donate(client, campaign["id"], "5000.00", donor={"kind": "individual", "name": NAMES[1], "person_id": OWNER})
    application = h.apply(client, campaign["id"], name=NAMES[2])
    h.approve(client, application["id"])
    return {"campaign_id": campaign["id"], "application_id": application["id"]}


def seed_jobmarket(client) -> dict:
    worker = _ok(client.post("/api/v1/workers", headers=_auth(OWNER, "worker"),
                             json={"card_no": "W-900101", "name": NAMES[0], "phone": "13812345678"}), 201, 200)
    _ok(client.post("/api/v1/workers", headers=_auth(OTHER, "worker"),
                    json={"card_no": "W-900102", "name": NAMES[1]}), 201, 200)
    return {"ref@/api/v1/workers/": worker.get("ref") or worker.get("card_no") or worker["id"]}


SEEDS = {"disputes": seed_disputes, "points": seed_points, "relief": seed_relief, "jobmarket": seed_jobmarket}
#: path values for parameters the seeds do not create: a record that does not exist (or a valid-looking key)
PLACEHOLDERS = {"filename": "swagger-ui.css", "event_type": "disputes.case.received.v1", "month": "2024-06",
                "served_on": "2024-06-01", "bed_no": "999", "kind": "ladder", "code": "no-such-rule",
                "sku": "NO-SUCH-SKU"}

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


# -- the test ------------------------------------------------------------------------------------------------
def _callers() -> dict[str, dict]:
    callers = {"no token": {}, "bad signature": {"Authorization": "Bearer " + token("P1", "admin", secret="x" * 40)},
               "expired": {"Authorization": "Bearer " + token(OWNER, *ROLES, ttl=-3600)}}
    for role in ROLES:
        sub = OWNER if role in ("resident", "volunteer", "worker") else f"{role}-1"
        callers[role] = _auth(sub, role)
    return callers


def _rule_key(rule, method: str) -> str:
    return f"{method} {rule.rule}"


def _fill(rule: str, values: dict) -> tuple[str, bool]:
    """The URL of ``rule`` with the seeds' values (or placeholders); whether it names records the seeds made."""
    seeded = True

    def one(match):
        nonlocal seeded
        name = match.group(1)
        scoped = f"{name}@{rule.split('<', 1)[0]}"  # a name several paths use for different records
        if scoped in values:
            return str(values[scoped])
        if name in values:
            return str(values[name])
        seeded = False
        return PLACEHOLDERS.get(name, "00000000-0000-0000-0000-000000000000")

    url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", one, rule)
    return url, seeded and url != rule  # a record the test created is named in the path


def _masked(service: str, key: str, body: str) -> None:
    assert not PHONE.search(body), f"{service} {key} shows a phone number: {PHONE.search(body)[0]}"
    assert not ID_NUMBER.search(body), f"{service} {key} shows an ID-card number"
    for name in NAMES:
        assert name not in body, f"{service} {key} shows the full name {name}"


@pytest.mark.parametrize("service", sorted(MATRIX))
def test_access_matrix(service, tmp_path):
    client = make_client(service, f"sqlite:///{tmp_path / 'matrix.sqlite3'}")
    app = client.application
    table = {**COMMON, **MATRIX[service]}

    routes = {_rule_key(rule, m) for rule in app.url_map.iter_rules()
              for m in rule.methods - {"HEAD", "OPTIONS"} if rule.endpoint != "static"}
    assert not routes - table.keys(), f"endpoints without a row in the access matrix: {sorted(routes - table.keys())}"
    assert not table.keys() - routes, f"rows for endpoints that no longer exist: {sorted(table.keys() - routes)}"

    values = SEEDS[service](client)
    callers = _callers()
    wrong = []
    for key in sorted(table):
        row = table[key]
        method, rule = key.split(" ", 1)
        url, seeded = _fill(rule, values)
        owned = row if isinstance(row, Owned) else None
        roles = owned.roles if owned else row
        body = {} if method in ("POST", "PUT", "PATCH") else None
        for caller, headers in callers.items():
            r = client.open(url, method=method, headers=headers, json=body)
            got = r.status_code
            if roles == PUBLIC:
                ok = got == 200
                if ok and r.is_json:
                    _masked(service, key, r.get_data(as_text=True))
            elif caller in ("no token", "bad signature", "expired"):
                ok = got == 401
            elif roles != ANY and caller not in roles:
                ok = got == 403
            elif owned and caller == owned.owner_role and method == "GET" and seeded:
                ok = got == 200
            elif caller == "admin" and method == "GET" and seeded:
                ok = got == 200
            else:
                # allowed: any answer but a refusal of the caller (a domain rule may still refuse the record, e.g.
                # a merchant token not linked to an alliance merchant: 403 naming that, not the roles)
                ok = got in (200, 201, 204, 404, 409, 422) or (
                    got == 403 and not (r.get_json() or {}).get("detail", "").startswith("This action needs"))
            if not ok:
                wrong.append(f"{key} as {caller}: {got} {r.get_data(as_text=True)[:160]}")
            if got >= 400:
                assert r.mimetype == "application/problem+json", (key, caller, got)
        if owned and method == "GET" and seeded:
            r = client.open(url, method=method, headers=_auth(OTHER, owned.owner_role))
            if r.status_code != 404:
                wrong.append(f"{key} as another {owned.owner_role}: {r.status_code} (expected 404)")
    assert not wrong, "\n".join(wrong)
