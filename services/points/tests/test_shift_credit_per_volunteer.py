"""Regression (found by the chaos run, issue 10): several volunteers checked out of ONE relief shift each earn
their hours. relief publishes one ``relief.volunteer_shift.completed.v1`` per volunteer with the same
``shift_id``; the credit's cause key is the shift AND the person, so the second volunteer is not a "duplicate"
— while a redelivery of one volunteer's event (under another event id) still credits once."""
from __future__ import annotations

from shared.testing import make_client

from .helpers import ADMIN, CLERK, balance, cloud_event, deliver


def _shift_event(shift_id: str, person_id: str) -> dict:
    return cloud_event("relief.volunteer_shift.completed.v1", {
        "shift_id": shift_id, "person_id": person_id, "activity": "environment_cleanup", "hours": "2.00",
        "completed_at": "2024-09-21T10:00:00+08:00"})


def test_every_volunteer_of_one_shift_is_credited_once(db_url):
    client = make_client("points", db_url)
    assert client.post("/api/v1/rules", headers=ADMIN, json={
        "code": "environment_cleanup", "category": "civility_campaign", "unit": "hour", "points": 10,
        "activities": ["environment_cleanup"]}).status_code == 201
    shift_id = "0192f000-0000-7000-8000-000000000001"
    people = ["P100001", "P100002", "P100003"]
    assert deliver(db_url, *[_shift_event(shift_id, p) for p in people]) == ["ack"] * 3
    # the same fact again under new event ids (a republish by another relay): nothing more
    assert deliver(db_url, *[_shift_event(shift_id, p) for p in people]) == ["ack"] * 3
    assert [balance(client, p)["balance"] for p in people] == [20, 20, 20]
    entries = client.get(f"/api/v1/accounts/{people[1]}/entries", headers=CLERK).get_json()["items"]
    assert len(entries) == 1
