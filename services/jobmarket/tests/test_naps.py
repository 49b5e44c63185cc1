"""Nap beds: requests made in advance, first come first served, refusals recorded with a lobby seat,
cancellation frees the bed, check-in, and the release of unclaimed beds by wall-clock time (exactly once)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.db import engine_for
from shared.testing import auth, make_client, make_settings

from ..handlers import SCHEDULES
from .helpers import API, STAFF, register

NAPS = f"{API}/nap-reservations"


@pytest.fixture
def client(db_url):
    return make_client("jobmarket", db_url)


def _ask(client, card, nap_on, at, headers=STAFF):
    body = {"worker": card, "nap_on": nap_on}
    if at:
        body["requested_at"] = at
    return client.post(NAPS, json=body, headers=headers)


def test_first_come_first_served_refusals_recorded_and_cancellation_frees_the_bed(client):
    for i in range(1, 5):
        register(client, f"W-000{i}")
    client.post(f"{API}/nap-beds", json={"label": "靠窗"}, headers=STAFF)
    client.post(f"{API}/nap-beds", json={}, headers=STAFF)
    a = _ask(client, "W-0001", "2024-03-02", "2024-03-01T08:00:00+08:00").get_json()
    b = _ask(client, "W-0002", "2024-03-02", "2024-03-01T09:00:00+08:00").get_json()
    c = _ask(client, "W-0003", "2024-03-02", "2024-03-01T10:00:00+08:00").get_json()
    assert (a["status"], a["bed_no"], b["status"], b["bed_no"]) == ("reserved", 1, "reserved", 2)
    assert c["status"] == "refused" and c["reason"] == "beds_full" and c["bed_no"] is None
    assert c["lobby_seat"] == {"offered": True, "price": "0.00", "reservable": False,
                               "message": c["lobby_seat"]["message"]}
    again = _ask(client, "W-0001", "2024-03-02", "2024-03-01T10:30:00+08:00")
    assert again.status_code == 409
    cancelled = client.post(f"{NAPS}/{a['id']}/cancellation", json={"cancelled_at": "2024-03-01T11:00:00+08:00"},
                            headers=STAFF).get_json()
    assert cancelled["status"] == "cancelled"
    d = _ask(client, "W-0004", "2024-03-02", "2024-03-01T12:00:00+08:00").get_json()
    assert (d["status"], d["bed_no"]) == ("reserved", 1)
    assert client.post(f"{NAPS}/{a['id']}/cancellation", json={}, headers=STAFF).status_code == 409
    report = client.get(f"{API}/reports/naps", headers=STAFF).get_json()
    assert (report["nap_beds"], report["nap_requests"], report["nap_accepted"], report["nap_refused"],
            report["cancelled"]) == (2, 4, 3, 1, 1)


def test_requests_are_made_in_advance_and_within_the_window(client):
    register(client, "W-0001", person_id="P1")
    client.post(f"{API}/nap-beds", json={}, headers=STAFF)
    same_day = _ask(client, "W-0001", "2024-03-02", "2024-03-02T00:10:00+08:00")
    assert same_day.status_code == 422 and same_day.get_json()["errors"][0]["field"] == "nap_on"
    # 23:50 the evening before, written in UTC, is still in advance
    assert _ask(client, "W-0001", "2024-03-02", "2024-03-01T15:50:00Z").get_json()["status"] == "reserved"
    far = _ask(client, "W-0001", "2024-04-30", "2024-03-01T08:00:00+08:00")
    assert far.status_code == 422
    me = auth("P1", "worker")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    mine = client.post(NAPS, json={"nap_on": tomorrow}, headers=me)
    assert mine.status_code == 201 and mine.get_json()["card_no"] == "W-0001"
    assert client.get(f"{NAPS}/{mine.get_json()['id']}", headers=auth("P2", "worker")).status_code == 404


def test_unclaimed_reservations_are_released_once_by_wall_clock(client, db_url):
    for i in range(1, 4):
        register(client, f"W-000{i}")
    for _ in range(3):
        client.post(f"{API}/nap-beds", json={}, headers=STAFF)
    ids = [_ask(client, f"W-000{i}", "2024-03-02", "2024-03-01T08:00:00+08:00").get_json()["id"] for i in (1, 2, 3)]
    checked = client.post(f"{NAPS}/{ids[0]}/check-in", json={"checked_in_at": "2024-03-02T12:05:00+08:00"},
                          headers=STAFF)
    assert checked.get_json()["status"] == "checked_in"
    late = client.post(f"{NAPS}/{ids[1]}/check-in", json={"checked_in_at": "2024-03-02T15:00:00+08:00"}, headers=STAFF)
    assert late.status_code == 422
    future = _ask(client, "W-0001", (datetime.now(timezone.utc) + timedelta(days=3)).date().isoformat(), None)
    release = dict((name, job) for name, _, job in SCHEDULES)["release-unclaimed-beds"]
    engine = engine_for(db_url)
    settings = make_settings("jobmarket", db_url)
    assert release(engine, settings) == 2           # the two unclaimed ones of a past day, not the future one
    assert release(engine, settings) == 0           # exactly once
    states = {r["id"]: r["status"] for r in client.get(NAPS, headers=STAFF).get_json()["items"]}
    assert [states[i] for i in ids] == ["checked_in", "released", "released"]
    assert states[future.get_json()["id"]] == "reserved"
    # a late replay of a request made before the release still meets the beds as they were (full)
    register(client, "W-0009")
    replay = _ask(client, "W-0009", "2024-03-02", "2024-03-01T09:00:00+08:00").get_json()
    assert replay["status"] == "refused"
