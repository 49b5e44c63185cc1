"""Many redemptions at once against one balance and one stock, through a real gunicorn (several processes and
threads) on SQLite and PostgreSQL: exactly as many succeed as the balance and the stock allow, never below zero.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from shared.testing import auth, make_client, service_env, start_web

from .helpers import ADMIN, CLERK

pytestmark = pytest.mark.integration

N = 16


def _setup(client) -> None:
    assert client.post("/api/v1/rules", headers=ADMIN, json={
        "code": "clean_up_day", "category": "civility_campaign", "unit": "manual", "points": 10}).status_code == 201
    for sku, price, stock in (("BAL-ITEM", 30, 1000), ("STOCK-ITEM", 10, 5), ("PAIR-ITEM", 10, 100)):
        assert client.post("/api/v1/catalogue", headers=CLERK, json={
            "sku": sku, "name": sku, "points_price": price, "stock": stock}).status_code == 201

    def give(person, quantity):
        r = client.post("/api/v1/credits", headers=CLERK, json={
            "person_id": person, "rule": "clean_up_day", "quantity": quantity, "reason": "clean-up day"})
        assert r.status_code == 201 and r.get_json()["granted"] == quantity * 10, r.get_json()

    give("P-RICH", 10)  # 100 points: three 30-point items
    for i in range(N):
        give(f"P-{i:03d}", 3)  # 30 points each
    give("P-PAIR", 10)
    assert client.post("/api/v1/rules", headers=ADMIN, json={
        "code": "hazard_photo_report", "category": "estate_governance", "unit": "report", "points": 5,
        "cap_per_person_per_day": 20}).status_code == 201


def _all(fn, args) -> list:
    with ThreadPoolExecutor(max_workers=N) as pool:
        return list(pool.map(fn, args))


def test_concurrent_redemptions_never_overdraw_or_oversell(db_url, amqp_url, tmp_path):
    client = make_client("points", db_url)
    _setup(client)
    web, base = start_web("points", service_env("points", db_url, amqp_url, WEB_CONCURRENCY=2, WEB_THREADS=8),
                          tmp_path)
    try:
        def redeem(args):
            person, sku = args
            r = requests.post(f"{base}/api/v1/redemptions", headers=auth(person, "resident"), timeout=60,
                              json={"items": [{"sku": sku, "quantity": 1}]})
            return r.status_code, r.json()

        # one balance (100 points), 30 points each: exactly three
        results = _all(redeem, [("P-RICH", "BAL-ITEM")] * N)
        codes = sorted(c for c, _ in results)
        assert codes.count(201) == 3 and codes.count(409) == N - 3, codes
        assert {b["type"].rsplit("/", 1)[1] for c, b in results if c == 409} == {"insufficient-points"}
        rich = client.get("/api/v1/accounts/P-RICH", headers=CLERK).get_json()
        assert rich["available"] == 10 and rich["reserved"] == 90 and rich["balance"] == 100

        # one stock (5 units), sixteen residents with enough points: exactly five
        results = _all(redeem, [(f"P-{i:03d}", "STOCK-ITEM") for i in range(N)])
        codes = sorted(c for c, _ in results)
        assert codes.count(201) == 5 and codes.count(409) == N - 5, codes
        item = client.get("/api/v1/catalogue/STOCK-ITEM", headers=CLERK).get_json()
        assert item["stock"] == 0 and item["reserved"] == 5
        winners = {b["person_id"] for c, b in results if c == 201}
        for i in range(N):
            account = client.get(f"/api/v1/accounts/P-{i:03d}", headers=CLERK).get_json()
            assert account["available"] == (20 if f"P-{i:03d}" in winners else 30)

        # hand-over and cancellation racing for the same reservations: exactly one wins each
        ids = [b["id"] for c, b in results if c == 201]

        def finish(args):
            redemption_id, action = args
            r = requests.post(f"{base}/api/v1/redemptions/{redemption_id}/{action}", json={}, headers=CLERK,
                              timeout=60)
            return redemption_id, r.status_code

        outcomes = _all(finish, [(rid, action) for rid in ids for action in ("hand-over", "cancellation") * 2])
        for rid in ids:
            assert sorted(code for r, code in outcomes if r == rid) == [200, 409, 409, 409]
        item = client.get("/api/v1/catalogue/STOCK-ITEM", headers=CLERK).get_json()
        handed = sum(1 for rid in ids if client.get(f"/api/v1/redemptions/{rid}", headers=CLERK)
                     .get_json()["status"] == "redeemed")
        assert item["reserved"] == 0 and item["stock"] == 5 - handed

        # twins with one Idempotency-Key: executed once, never twice
        def twin(_):
            r = requests.post(f"{base}/api/v1/redemptions", timeout=60,
                              headers={**auth("P-PAIR", "resident"), "Idempotency-Key": "pair-1"},
                              json={"items": [{"sku": "PAIR-ITEM", "quantity": 1}]})
            return r.status_code, r.json()

        results = _all(twin, range(8))
        assert {c for c, _ in results} <= {201, 409}
        assert len({b["id"] for c, b in results if c == 201}) == 1
        pair = client.get("/api/v1/accounts/P-PAIR", headers=CLERK).get_json()
        assert pair["reserved"] == 10
        assert client.get("/api/v1/catalogue/PAIR-ITEM", headers=CLERK).get_json()["reserved"] == 1

        # credits racing for one daily cap (20 points, 5 a report): exactly 20 granted, the rest refused
        def report(n):
            r = requests.post(f"{base}/api/v1/credits", headers=CLERK, timeout=60, json={
                "person_id": "P-CAP", "rule": "hazard_photo_report", "quantity": 1, "reason": f"report {n}",
                "occurred_at": "2024-09-10T10:00:00+08:00"})
            return r.status_code, r.json()

        results = _all(report, range(N))
        assert {c for c, _ in results} == {201}, [b for c, b in results if c != 201][:2]
        assert sum(b["granted"] for _, b in results) == 20
        assert sorted(b["outcome"] for _, b in results).count("credited") == 4
        assert client.get("/api/v1/accounts/P-CAP", headers=CLERK).get_json()["balance"] == 20
    finally:
        web.stop()


def test_two_replicas_crediting_one_person_at_once_keep_the_cap_and_credit_a_case_once(db_url):
    """Two consumers (worker replicas) each take a batch of 15 resolved cases for one mediator in one month at
    the same moment (20 points each, at most 200 a month: the seed's rule; one credit of the month before), and
    both batches also carry the same case for another person under different event ids. Repeated: the mediator
    ends at exactly 200 every time (ten credits, 21 refusals with the reason), the shared case is credited once."""
    import threading
    import time

    from sqlalchemy import func, select, text
    from sqlalchemy.orm import Session

    from shared.db import engine_for
    from services.points.models import CreditDecision, Transfer

    from .helpers import balance, deliver, load_seed_configuration, resolved

    client = make_client("points", db_url)
    load_seed_configuration(client)
    for month in (4, 5, 6):
        mediator, other = f"P-M{month}", f"P-O{month}"
        batches = [[resolved(f"C-{month}-{w}-{i}", f"2024-{month:02d}-{i + 1:02d}T20:00:00+08:00",
                             [(mediator, "mediator")]) for i in range(15)] for w in range(2)]
        # the same case under two event ids, one per replica (a case resolved twice; a publisher's retry)
        twins = [[resolved(f"C-{month}-shared", f"2024-{month:02d}-20T20:00:00+08:00", [(other, "volunteer")])]
                 for _ in range(2)]
        # the month's cap counter exists before the race (a first credit), so no insert makes the replicas wait
        assert deliver(db_url, resolved(f"C-{month}-first", f"2024-{month:02d}-01T08:00:00+08:00",
                                        [(mediator, "mediator")])) == ["ack"]
        barrier = threading.Barrier(2)

        def run(batch):
            barrier.wait()
            return deliver(db_url, *batch)  # each call its own consumer and session, as each worker has

        # the test holds the issuing account (which every credit debits) for a second, so both replicas have
        # read their caps before either can finish: only the counters' locks keep the second from stale counts
        for race in (batches, twins):
            with engine_for(db_url).connect() as holder:
                holder.execute(text("SELECT id FROM accounts WHERE code = 'issuing' FOR UPDATE"
                                    if db_url.startswith("postgresql") else "UPDATE accounts SET code = code"))
                with ThreadPoolExecutor(max_workers=2) as pool:
                    running = [pool.submit(run, batch) for batch in race]
                    time.sleep(1.0)
                    holder.rollback()
                    outcomes = [f.result() for f in running]
            assert outcomes == [["ack"] * len(race[0])] * 2
        assert balance(client, mediator)["balance"] == 200
        assert balance(client, other)["balance"] == 20
        with Session(engine_for(db_url)) as s:
            refused = s.scalars(select(CreditDecision.reason).where(CreditDecision.person_id == mediator)).all()
            credits = s.scalar(select(func.count()).select_from(Transfer).where(
                Transfer.cause_key.like(f"%:case:C-{month}-%:{mediator}")))
            duplicates = s.scalar(select(func.count()).select_from(CreditDecision).where(
                CreditDecision.person_id == other, CreditDecision.outcome == "duplicate"))
        assert credits == 10 and len(refused) == 21
        assert all(f"cap of 200 points per person per month reached (2024-{month:02d}" in r for r in refused)
        assert duplicates == 1
