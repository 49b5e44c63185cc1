"""The scenario loader's jobmarket part (tools/replay/jobmarket.py) against a real gunicorn, on SQLite and
PostgreSQL: each day's tickets in one history import, a second run that changes nothing, a day begun one
ticket at a time carried on, and a refused ticket that stops the replay naming its file, line and field."""
from __future__ import annotations

import json

import pytest

from shared.testing import make_client, token
from tools.replay import jobmarket as loader
from tools.replay.client import Api, Refused
from tools.replay.data import Scenario

from .helpers import API, STAFF, serve, summary


def write_scenario(path, days: dict[str, list[str]], capacity: int = 30):
    """A scenario directory: the meal days and their tickets (workers in number order), 2 nap beds."""
    path.mkdir()
    (path / "README.md").write_text("The nap room has 2 beds.\n", encoding="utf-8")
    (path / loader.MEAL_DAYS).write_text("".join(json.dumps({"served_on": d, "capacity": capacity}) + "\n"
                                                 for d in days), encoding="utf-8")
    (path / loader.MEALS).write_text("".join(json.dumps({"served_on": d, "ticket_no": n, "worker": w}) + "\n"
                                             for d, workers in days.items() for n, w in enumerate(workers, 1)),
                                     encoding="utf-8")
    return Scenario(path)


@pytest.fixture
def service(db_url, tmp_path):
    client = make_client("jobmarket", db_url)
    proc, base = serve(db_url, tmp_path)
    try:
        yield client, Api("jobmarket", base=base, token=token("seed-loader", "market_staff"), pool=4)
    finally:
        proc.stop()


def tickets(client) -> list[tuple[str, int, str, str]]:
    out, cursor = [], None
    while True:
        page = client.get(f"{API}/meal-tickets", query_string={"limit": 200, **({"cursor": cursor} if cursor else {})},
                          headers=STAFF).get_json()
        out += [(t["served_on"], t["ticket_no"], t["card_no"], t["status"]) for t in page["items"]]
        if not (cursor := page["next_cursor"]):
            return sorted(out)


def test_days_go_in_as_imports_and_a_second_run_changes_nothing(service, tmp_path):
    client, api = service
    days = {"2024-03-01": [f"W-{i:04d}" for i in range(1, 36)], "2024-03-02": ["W-0003", "W-0001", "W-0002"]}
    scenario = write_scenario(tmp_path / "s", days, capacity=40)
    # a day begun one ticket at a time (an interrupted run of the old loader): carried on after its numbers
    assert client.post(f"{API}/workers", json={"card_no": "W-0003"}, headers=STAFF).status_code == 201
    first = client.post(f"{API}/meal-tickets", headers=STAFF, json={
        "worker": "W-0003", "issued_at": "2024-03-02T07:00:10+08:00", "served_at": "2024-03-02T11:00:10+08:00"})
    assert first.get_json()["ticket_no"] == 1
    loader.load(api, scenario, show=False)
    want = sorted((d, n, w, "served") for d, workers in days.items() for n, w in enumerate(workers, 1))
    assert tickets(client) == want
    before = summary(client)
    assert (before["meals_served"], before["busiest_day_meals"], before["days_over_30"]) == (38, 35, 1)
    loader.load(api, scenario, show=False)
    assert tickets(client) == want and summary(client) == before


def test_a_refused_ticket_stops_the_replay_naming_file_line_and_field(service, tmp_path):
    client, api = service
    # line 4 gives W-0001 a second ticket on the same day
    scenario = write_scenario(tmp_path / "bad", {"2024-03-01": ["W-0001", "W-0002", "W-0003", "W-0001"]})
    with pytest.raises(Refused) as caught:
        loader.load(api, scenario, show=False)
    message = str(caught.value)
    assert "jobmarket.meals.jsonl line 4" in message and "2024-03-01 ticket 4" in message, message
    assert "409 ticket-exists" in message and "field tickets.3.worker" in message, message
    assert tickets(client) == []  # the day's import stored nothing
