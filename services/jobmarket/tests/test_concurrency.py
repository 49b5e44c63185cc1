"""Done-when of issue 6: limited things under concurrent requests against a real gunicorn, on SQLite and
PostgreSQL. Many ticket requests at once give unique consecutive numbers up to capacity and a clear refusal
after; many requests for the last bed give exactly one reservation. The server runs with TZ=UTC, so the day
is the Asia/Shanghai day whatever the process zone."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from shared.testing import make_client

from .helpers import API, STAFF, register, serve

CAPACITY = 12
WORKERS = 30


def _burst(fn, n):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(fn, range(n)))


def test_tickets_and_the_last_bed_under_concurrent_requests(db_url, tmp_path):
    """One gunicorn (3 processes × 8 threads) per database takes both bursts."""
    client = make_client("jobmarket", db_url)
    cards = [register(client, f"W-{i:04d}")["card_no"] for i in range(1, WORKERS + 1)]
    assert client.post(f"{API}/meal-days", json={"served_on": "2024-05-01", "capacity": CAPACITY},
                       headers=STAFF).status_code == 201
    for _ in range(2):
        assert client.post(f"{API}/nap-beds", json={}, headers=STAFF).status_code == 201
    first = client.post(f"{API}/nap-reservations", headers=STAFF, json={
        "worker": cards[0], "nap_on": "2024-05-02", "requested_at": "2024-05-01T08:00:00+08:00"})
    assert first.get_json()["status"] == "reserved"
    proc, base = serve(db_url, tmp_path)
    try:
        def take(i):
            r = requests.post(f"{base}{API}/meal-tickets", headers=STAFF, timeout=60,
                              json={"worker": cards[i], "issued_at": "2024-05-01T11:30:00+08:00"})
            return r.status_code, r.json()

        def ask(i):
            r = requests.post(f"{base}{API}/nap-reservations", headers=STAFF, timeout=60, json={
                "worker": cards[i + 1], "nap_on": "2024-05-02", "requested_at": "2024-05-01T09:00:00+08:00"})
            return r.status_code, r.json()
        tickets = _burst(take, WORKERS)
        beds = _burst(ask, WORKERS - 1)
    finally:
        proc.stop()

    # tickets: numbers 1..capacity exactly once each, then a clear refusal
    given = sorted(body["ticket_no"] for status, body in tickets if status == 201)
    refused = [body for status, body in tickets if status != 201]
    assert given == list(range(1, CAPACITY + 1))
    assert len(refused) == WORKERS - CAPACITY
    assert all(b["status"] == 409 and b["type"].endswith("/meals-sold-out") for b in refused), refused[:2]
    day = client.get(f"{API}/meal-days/2024-05-01", headers=STAFF).get_json()
    assert day["issued"] == CAPACITY and day["remaining"] == 0

    # the last bed: exactly one reservation; every other request recorded as refused with a lobby seat
    assert all(status == 201 for status, _ in beds), beds[:3]
    won = [b for _, b in beds if b["status"] == "reserved"]
    lost = [b for _, b in beds if b["status"] == "refused"]
    assert len(won) == 1 and won[0]["bed_no"] == 2
    assert len(lost) == WORKERS - 2
    assert all(b["reason"] == "beds_full" and b["lobby_seat"]["offered"] and b["lobby_seat"]["price"] == "0.00"
               for b in lost)
    report = client.get(f"{API}/reports/naps", headers=STAFF).get_json()
    assert (report["nap_requests"], report["nap_accepted"], report["nap_refused"]) == (WORKERS, 2, WORKERS - 2)
