"""Races on both databases (issue 10): many concurrent requests for a limited thing, against a real gunicorn
(the deployment's config, 3 processes × 8 threads), repeated for several rounds (``RACE_ROUNDS``, 3 in
``make test``; ``make chaos`` runs more). Every round: exactly as many succeed as the limit allows, the others
get a clear refusal, and the final state is consistent (balance and stock never below zero, ticket numbers
1..capacity exactly once, funds never overdrawn). Set up and checked through the services' HTTP APIs only.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from shared.testing import auth, migrate, service_env, start_web

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROUNDS = int(os.environ.get("RACE_ROUNDS", "3"))
THREADS = 24
API = "/api/v1"


def serve(service: str, db_url: str, tmp_path):
    migrate(service, db_url)
    env = service_env(service, db_url, "amqp://guest:guest@127.0.0.1:1/%2F", TZ="UTC", WEB_CONCURRENCY="3",
                      WEB_THREADS="8")
    return start_web(service, env, tmp_path)


def burst(fn, args: list) -> list:
    """Call ``fn`` on every arg at once: one thread each, released together by a barrier."""
    barrier = threading.Barrier(len(args))

    def go(arg):
        barrier.wait(30)
        return fn(arg)

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        return list(pool.map(go, args))


class Api:
    def __init__(self, base: str):
        self.base = base
        self.local = threading.local()

    def __call__(self, method: str, path: str, headers: dict, body=None, expect=None):
        s = getattr(self.local, "s", None) or requests.Session()
        self.local.s = s
        r = s.request(method, self.base + API + path, json=body, headers=headers, timeout=60)
        if expect is not None:
            assert r.status_code == expect, (method, path, r.status_code, r.text[:500])
        return r


def kind(body: dict) -> str:
    return body.get("type", "").rsplit("/", 1)[-1]


# -- points: one balance, one stock -----------------------------------------------------------------------------
def test_redemptions_against_one_balance_and_one_stock(db_url, tmp_path):
    admin, clerk = auth("admin-1", "admin"), auth("clerk-1", "clerk")
    proc, base = serve("points", db_url, tmp_path)
    api = Api(base)
    try:
        api("POST", "/rules", admin, {"code": "race_day", "category": "civility_campaign", "unit": "manual",
                                      "points": 10}, expect=201)
        for r in range(ROUNDS):
            rich, people = f"P-RICH-{r}", [f"P-{r}-{i:03d}" for i in range(THREADS)]
            api("POST", "/catalogue", clerk, {"sku": f"BAL-{r}", "name": "毛巾", "points_price": 30, "stock": 1000},
                expect=201)
            api("POST", "/catalogue", clerk, {"sku": f"STOCK-{r}", "name": "洗衣液", "points_price": 10, "stock": 5},
                expect=201)
            for person, quantity in [(rich, 10)] + [(p, 3) for p in people]:  # 100 points; 30 points each
                api("POST", "/credits", clerk, {"person_id": person, "rule": "race_day", "quantity": quantity,
                                                "reason": "race"}, expect=201)

            def redeem(args):
                person, sku = args
                r_ = api("POST", "/redemptions", auth(person, "resident"), {"items": [{"sku": sku, "quantity": 1}]})
                return r_.status_code, r_.json()

            # one balance of 100 points, 30 a redemption: exactly three
            results = burst(redeem, [(rich, f"BAL-{r}")] * THREADS)
            codes = sorted(c for c, _ in results)
            assert codes == [201] * 3 + [409] * (THREADS - 3), (r, codes)
            assert {kind(b) for c, b in results if c == 409} == {"insufficient-points"}
            account = api("GET", f"/accounts/{rich}", clerk, expect=200).json()
            assert (account["balance"], account["reserved"], account["available"]) == (100, 90, 10)

            # one stock of 5: exactly five of the residents who all can pay
            results = burst(redeem, [(p, f"STOCK-{r}") for p in people])
            codes = sorted(c for c, _ in results)
            assert codes == [201] * 5 + [409] * (THREADS - 5), (r, codes)
            item = api("GET", f"/catalogue/STOCK-{r}", clerk, expect=200).json()
            assert item["stock"] == 0 and item["reserved"] == 5
            winners = {b["person_id"] for c, b in results if c == 201}
            for p in people:
                account = api("GET", f"/accounts/{p}", clerk, expect=200).json()
                assert account["available"] == (20 if p in winners else 30) and account["available"] >= 0
    finally:
        proc.stop()


# -- jobmarket: one day's tickets, the last bed, the last tool -------------------------------------------------
def test_tickets_the_last_bed_and_the_last_tool(db_url, tmp_path):
    staff = auth("staff-1", "market_staff")
    proc, base = serve("jobmarket", db_url, tmp_path)
    api = Api(base)
    capacity = 12
    try:
        cards = [api("POST", "/workers", staff, {"card_no": f"W-{i:04d}"}, expect=201).json()["card_no"]
                 for i in range(1, THREADS + 2)]
        for _ in range(2):
            api("POST", "/nap-beds", staff, {}, expect=201)
        for r in range(ROUNDS):
            day = f"2024-05-{r + 1:02d}"
            api("POST", "/meal-days", staff, {"served_on": day, "capacity": capacity}, expect=201)

            def take(card):
                r_ = api("POST", "/meal-tickets", staff, {"worker": card, "issued_at": f"{day}T11:30:00+08:00"})
                return r_.status_code, r_.json()

            tickets = burst(take, cards[:THREADS])
            numbers = sorted(b["ticket_no"] for c, b in tickets if c == 201)
            assert numbers == list(range(1, capacity + 1)), (r, numbers)
            refused = [b for c, b in tickets if c != 201]
            assert len(refused) == THREADS - capacity and {(b["status"], kind(b)) for b in refused} == \
                {(409, "meals-sold-out")}
            meal_day = api("GET", f"/meal-days/{day}", staff, expect=200).json()
            assert (meal_day["issued"], meal_day["remaining"]) == (capacity, 0)

            # the last bed: one of two is taken, everyone else asks for the other at once
            nap_on, asked = f"2024-06-{r + 11:02d}", f"2024-06-{r + 10:02d}T09:00:00+08:00"
            first = api("POST", "/nap-reservations", staff, {"worker": cards[0], "nap_on": nap_on,
                                                             "requested_at": asked}, expect=201).json()
            assert first["status"] == "reserved"

            def ask(card):
                r_ = api("POST", "/nap-reservations", staff, {"worker": card, "nap_on": nap_on, "requested_at": asked})
                return r_.status_code, r_.json()

            beds = burst(ask, cards[1:THREADS + 1])
            assert {c for c, _ in beds} == {201}, beds[:2]
            won = [b for _, b in beds if b["status"] == "reserved"]
            assert len(won) == 1 and won[0]["bed_no"] != first["bed_no"], (r, won)
            assert all(b["status"] == "refused" and b["reason"] == "beds_full" for _, b in beds if b not in won)

            # the last tool: one generator, everyone at once
            ref = f"T-{r + 1:03d}"
            api("POST", "/tools", staff, {"ref": ref, "kind": "generator", "name": "汽油发电机 3kW"}, expect=201)

            def borrow(card):
                r_ = api("POST", f"/tools/{ref}/loans", staff, {"worker": card})
                return r_.status_code, r_.json()

            loans = burst(borrow, cards[:THREADS])
            codes = sorted(c for c, _ in loans)
            assert codes == [201] + [409] * (THREADS - 1), (r, codes)
            assert {kind(b) for c, b in loans if c == 409} == {"tool-unavailable"}
            loan = next(b for c, b in loans if c == 201)
            assert api("GET", f"/tools/{ref}", staff, expect=200).json()["status"] == "on_loan"
            api("POST", f"/tool-loans/{loan['id']}/return", staff, {"condition": "good"}, expect=200)
    finally:
        proc.stop()


# -- relief: one county's funds ------------------------------------------------------------------------------
def _id_number(serial: int) -> str:
    from services.relief.domain.personal import check_digit
    first17 = f"140821{19810108}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def test_disbursements_against_one_countys_funds(db_url, tmp_path):
    clerk = auth("clerk-1", "clerk")
    proc, base = serve("relief", db_url, tmp_path)
    api = Api(base)
    apps_per_round, fits = 12, 4
    serial = iter(range(1, 1000))
    try:
        for r in range(ROUNDS):
            cid = api("POST", "/campaigns", clerk, {"name": f"送温暖 第{r + 1}轮", "opens_on": "2023-01-01",
                                                    "closes_on": "2023-12-31"}, expect=201).json()["id"]
            for amount, county in (("399.99", "河津市"), ("0.01", "河津市"), ("100000.00", "万荣县")):
                api("POST", f"/campaigns/{cid}/donations", clerk, {
                    "receipt_no": f"R-{r}-{next(serial)}", "level": "county", "county": county, "amount": amount,
                    "received_at": "2023-03-01T10:00:00+08:00",
                    "donor": {"kind": "individual", "name": "何玲万", "person_id": "P001568"}}, expect=201)
            apps = []
            for _ in range(apps_per_round):
                n = next(serial)
                aid = api("POST", f"/campaigns/{cid}/applications", clerk, {
                    "applicant": {"name": "钟明", "id_number": _id_number(n), "phone": "15817269286",
                                  "person_id": f"P{n:06d}"},
                    "county": "河津市", "level": "county", "assistance_type": "disaster",
                    "household": {"size": 3, "monthly_income": "694.00"}, "requested_amount": "100.00"},
                    expect=201).json()["id"]
                for path, body in (("household-survey", {"surveyed_on": "2023-07-17", "findings": "家庭困难情况属实"}),
                                   ("democratic-appraisal", {"appraised_on": "2023-07-24", "participants": 13,
                                                             "outcome": "supported"}),
                                   ("public-notice", {"starts_on": "2023-07-25"}),
                                   ("decision", {"approved": True, "decided_on": "2023-08-02"})):
                    api("POST", f"/applications/{aid}/{path}", clerk, body, expect=201)
                apps.append(aid)

            def pay(aid):
                r_ = api("POST", f"/applications/{aid}/disbursement", clerk, {"amount": "100.00"})
                return r_.status_code, r_.json()

            results = burst(pay, apps)
            codes = sorted(c for c, _ in results)
            assert codes == [201] * fits + [409] * (apps_per_round - fits), (r, codes)
            assert {kind(b) for c, b in results if c == 409} == {"insufficient-funds"}
            funds = {(f["level"], f["county"]): f for f in
                     api("GET", f"/campaigns/{cid}/totals", clerk, expect=200).json()["funds"]}
            hejin = funds[("county", "河津市")]
            assert (hejin["committed"], hejin["available"]) == ("400.00", "0.00")
            assert funds[("county", "万荣县")]["available"] == "100000.00"  # another body's money never helped
            listed = api("GET", f"/campaigns/{cid}/disbursements?limit=200", clerk, expect=200).json()["items"]
            assert len(listed) == fits and sum(Decimal(d["amount"]) for d in listed) == Decimal("400.00")
    finally:
        proc.stop()
