"""A slice of the seed scenario replayed through the HTTP API, as the scenario loader (issue 8) will: meal
days with their capacities, every ticket issued and served with its past times, nap requests in arrival order
(made the day before). The report must agree with totals computed here from the same slice (never from
expected.json), and the history must obey the same limits as live use."""
from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from shared.testing import make_client

from .helpers import API, STAFF, summary

SEED = Path("/work/shared/data/seed-scenario")
MEAL_DAYS, NAP_DAYS = 10, 5

pytestmark = pytest.mark.skipif(not SEED.exists(), reason="seed scenario not available")


def _lines(name):
    with open(SEED / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_replayed_slice_matches_the_report(db_url):
    client = make_client("jobmarket", db_url)
    days = _lines("jobmarket.meal_days.jsonl")[:MEAL_DAYS]
    chosen = {d["served_on"] for d in days}
    tickets = [t for t in _lines("jobmarket.meals.jsonl") if t["served_on"] in chosen]
    nap_days = sorted({n["nap_on"] for n in _lines("jobmarket.naps.jsonl")})[:NAP_DAYS]
    naps = [n for n in _lines("jobmarket.naps.jsonl") if n["nap_on"] in nap_days]
    beds = int(re.search(r"(\d+) beds", (SEED / "README.md").read_text(encoding="utf-8")).group(1))

    for card in sorted({t["worker"] for t in tickets} | {n["worker"] for n in naps}):
        assert client.post(f"{API}/workers", json={"card_no": card}, headers=STAFF).status_code == 201
    for d in days:
        r = client.post(f"{API}/meal-days", json={"served_on": d["served_on"], "capacity": d["capacity"]},
                        headers=STAFF)
        assert r.status_code == 201, r.get_json()
    for t in tickets:
        n = t["ticket_no"]
        r = client.post(f"{API}/meal-tickets", headers=STAFF, json={
            "worker": t["worker"], "served_on": t["served_on"],
            "issued_at": f"{t['served_on']}T{9 + n // 60:02d}:{n % 60:02d}:00+08:00",
            "served_at": f"{t['served_on']}T{11 + (30 + n) // 60:02d}:{(30 + n) % 60:02d}:00+08:00"})
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["ticket_no"] == n  # numbers consecutive from 1 each day, in the seed's order
    for _ in range(beds):
        client.post(f"{API}/nap-beds", json={}, headers=STAFF)
    for n in naps:
        r = client.post(f"{API}/nap-reservations", headers=STAFF,
                        json={"worker": n["worker"], "nap_on": n["nap_on"], "requested_at": n["requested_at"]})
        assert r.status_code == 201, r.get_json()

    # totals from the slice itself
    per_day = Counter(t["served_on"] for t in tickets)
    tariff = client.get(f"{API}/meal-tariffs", headers=STAFF).get_json()["default"]
    per_nap_day = Counter(n["nap_on"] for n in naps)
    accepted = sum(min(count, beds) for count in per_nap_day.values())
    got = summary(client)
    assert got["meals_served"] == len(tickets)
    assert Decimal(got["subsidy_total"]) == len(tickets) * (Decimal(tariff["cost"]) - Decimal(tariff["price"]))
    assert got["days"] == len(per_day)
    assert got["busiest_day_meals"] == max(per_day.values())
    assert got["days_over_30"] == sum(1 for c in per_day.values() if c > 30)
    assert (got["nap_beds"], got["nap_requests"], got["nap_accepted"], got["nap_refused"]) == (
        beds, len(naps), accepted, len(naps) - accepted)

    # history obeys the live limits: a ticket beyond a day's capacity and a second ticket are refused
    full_day = next(d for d in days if per_day[d["served_on"]] == d["capacity"])
    extra = client.post(f"{API}/workers", json={}, headers=STAFF).get_json()["card_no"]
    beyond = client.post(f"{API}/meal-tickets", headers=STAFF, json={
        "worker": extra, "issued_at": f"{full_day['served_on']}T13:00:00+08:00"})
    assert beyond.status_code == 409
    again = tickets[0]
    twice = client.post(f"{API}/meal-tickets", headers=STAFF, json={
        "worker": again["worker"], "issued_at": f"{again['served_on']}T13:00:00+08:00"})
    assert twice.status_code == 409
