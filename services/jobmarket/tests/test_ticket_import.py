"""The history import of a day's lunch tickets (issue 8): the same rules as one ticket at a time, all or nothing,
a refused item named by index and field, a repeat that changes nothing, and racing single requests for the
day's last portions, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from shared.testing import auth, make_client

from .helpers import API, STAFF, outbox_events, register, serve, ticket

DAY = "2024-03-05"
IMPORTS = f"{API}/meal-days/{DAY}/ticket-imports"
ISSUED = "jobmarket.meal_ticket.issued.v1"


def at(minute: int, hour: int = 11) -> str:
    return f"{DAY}T{hour:02d}:{minute:02d}:00+08:00"


def item(worker: str, minute: int, served: int | None = None) -> dict:
    body = {"worker": worker, "issued_at": at(minute)}
    if served is not None:
        body["served_at"] = at(served, 12)
    return body


def day_of(client) -> dict:
    return client.get(f"{API}/meal-days/{DAY}", headers=STAFF).get_json()


def stored(client) -> list[tuple[int, str, str]]:
    items = client.get(f"{API}/meal-tickets", query_string={"served_on": DAY, "limit": 200}, headers=STAFF)
    return sorted((t["ticket_no"], t["card_no"], t["status"]) for t in items.get_json()["items"])


@pytest.fixture
def client(db_url):
    client = make_client("jobmarket", db_url)
    for i in range(1, 9):
        register(client, f"W-000{i}", person_id=f"P00010{i}")
    return client


def test_import_numbers_serves_and_prices_each_ticket_like_the_single_issue(client, db_url):
    tariff = {"effective_from": "2024-03-01", "price": "6.00", "cost": "10.50"}
    assert client.post(f"{API}/meal-tariffs", json=tariff, headers=STAFF).status_code == 201
    assert client.post(f"{API}/meal-days", json={"served_on": DAY, "capacity": 5}, headers=STAFF).status_code == 201
    assert ticket(client, "W-0001", at(0), served_at=at(0, 12)).get_json()["ticket_no"] == 1
    # workers named by card number and by person_id, as the single issue names them; the last one not served
    body = {"tickets": [item("W-0002", 1, 1), item("P000103", 2, 2), item("W-0004", 3)]}
    r = client.post(IMPORTS, json=body, headers=STAFF)
    assert r.status_code == 200, r.get_json()
    answer = r.get_json()
    assert (answer["served_on"], answer["issued"], answer["existing"]) == (DAY, 3, 0)
    assert [(t["ticket_no"], t["card_no"], t["status"], t["outcome"]) for t in answer["tickets"]] == [
        (2, "W-0002", "served", "issued"), (3, "W-0003", "served", "issued"), (4, "W-0004", "issued", "issued")]
    assert all((t["price"], t["cost"], t["subsidy"]) == ("6.00", "10.50", "4.50") for t in answer["tickets"])
    assert answer["tickets"][1]["served_at"] == at(2, 12)
    assert {k: day_of(client)[k] for k in ("issued", "called", "remaining")} == {"issued": 4, "called": 3,
                                                                                 "remaining": 1}
    events = [e["data"] for e in outbox_events(db_url, ISSUED)]
    assert [(e["ticket_no"], e["worker_person_id"], e["subsidy"]) for e in events] == [
        (1, "P000101", "4.50"), (2, "P000102", "4.50"), (3, "P000103", "4.50"), (4, "P000104", "4.50")]
    # serving goes on in number order after the import
    call = client.post(f"{API}/meal-days/{DAY}/calls", json={"served_at": at(30, 12)}, headers=STAFF)
    assert call.get_json()["ticket_no"] == 4

    # the same import again: every ticket answered as it stands, nothing changed, no event
    again = client.post(IMPORTS, json=body, headers=STAFF)
    assert again.status_code == 200 and again.get_json()["issued"] == 0, again.get_json()
    assert [(t["ticket_no"], t["outcome"]) for t in again.get_json()["tickets"]] == [
        (2, "existing"), (3, "existing"), (4, "existing")]
    assert again.get_json()["tickets"][2]["status"] == "served"  # as stored now, not as the item said
    # overlapping what is stored: the held ones unchanged, the new one gets the next number
    more = client.post(IMPORTS, json={"tickets": [item("W-0004", 3), item("W-0005", 4, 40)]}, headers=STAFF)
    assert more.status_code == 200 and (more.get_json()["issued"], more.get_json()["existing"]) == (1, 1)
    assert [(t["ticket_no"], t["outcome"]) for t in more.get_json()["tickets"]] == [(4, "existing"), (5, "issued")]
    assert len(outbox_events(db_url, ISSUED)) == 5
    assert stored(client) == [(n, f"W-000{n}", "served") for n in range(1, 6)]
    # the day is full: the single issue and the import answer alike, and nothing is stored
    single = ticket(client, "W-0006", at(5))
    full = client.post(IMPORTS, json={"tickets": [item("W-0006", 5)]}, headers=STAFF)
    assert single.status_code == full.status_code == 409
    problem = full.get_json()
    assert problem["type"] == single.get_json()["type"] and problem["type"].endswith("/meals-sold-out")
    assert problem["index"] == 0 and [e["field"] for e in problem["errors"]] == ["tickets.0"]
    assert day_of(client)["issued"] == 5 and len(outbox_events(db_url, ISSUED)) == 5


REFUSED = [
    # (why, items, status, problem type, field)
    ("unknown worker", [item("W-0001", 1), item("W-9999", 2)], 422, "unprocessable", "tickets.1.worker"),
    ("issued on another day", [item("W-0001", 1), {"worker": "W-0002", "issued_at": "2024-03-04T23:59:00+08:00"}],
     422, "unprocessable", "tickets.1.issued_at"),
    ("issued in UTC's day, not Beijing's", [{"worker": "W-0001", "issued_at": f"{DAY}T16:30:00Z"}], 422,
     "unprocessable", "tickets.0.issued_at"),
    ("served before issued", [item("W-0001", 1), {**item("W-0002", 30), "served_at": at(10)}], 422,
     "unprocessable", "tickets.1.served_at"),
    ("a worker twice", [item("W-0001", 1), item("W-0002", 2), item("W-0001", 3)], 409, "ticket-exists",
     "tickets.2.worker"),
    ("served before an earlier number", [item("W-0001", 1), item("W-0002", 2, 5)], 409, "not-next-number",
     "tickets.1.served_at"),
    ("beyond capacity", [item(f"W-000{i}", i) for i in range(1, 5)], 409, "meals-sold-out", "tickets.3"),
    ("held with other times", [item("W-0002", 1), item("W-0007", 20)], 409, "ticket-exists",
     "tickets.1.issued_at"),
    ("no issued_at", [item("W-0001", 1), {"worker": "W-0002"}], 422, "unprocessable-entity", "tickets.1.issued_at"),
    ("a day in the item", [{**item("W-0001", 1), "served_on": DAY}], 422, "unprocessable-entity",
     "tickets.0.served_on"),
    ("naive time", [{"worker": "W-0001", "issued_at": f"{DAY}T11:30:00"}], 422, "unprocessable-entity",
     "tickets.0.issued_at"),
    ("no tickets", [], 422, "unprocessable-entity", "tickets"),
    ("too many tickets", [item("W-0001", 1)] * 501, 422, "unprocessable-entity", "tickets"),
]


def test_a_refused_item_refuses_the_whole_import_naming_it_and_stores_nothing(client, db_url):
    assert client.post(f"{API}/meal-days", json={"served_on": DAY, "capacity": 4}, headers=STAFF).status_code == 201
    assert ticket(client, "W-0007", at(0)).status_code == 201  # number 1, issued (not served)
    before = (day_of(client), stored(client), len(outbox_events(db_url, ISSUED)))
    for why, items, status, kind, field in REFUSED:
        r = client.post(IMPORTS, json={"tickets": items}, headers=STAFF)
        problem = r.get_json()
        assert r.status_code == status, (why, problem)
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert problem["type"].endswith("/" + kind), (why, problem)
        assert field in {e["field"] for e in problem["errors"]}, (why, problem)
        if kind != "unprocessable-entity":  # a rule's refusal (not the schema's) names the item's index too
            assert problem["index"] == int(field.split(".")[1]), (why, problem)
        assert (day_of(client), stored(client), len(outbox_events(db_url, ISSUED))) == before, why


def test_roles_idempotency_key_and_a_day_that_is_no_day(client):
    body = {"tickets": [item("W-0001", 1, 1)]}
    assert client.post(IMPORTS, json=body).status_code == 401
    assert client.post(IMPORTS, json=body, headers=auth("P000101", "worker")).status_code == 403
    assert client.post(f"{API}/meal-days/2024-02-30/ticket-imports", json=body, headers=STAFF).status_code == 404
    keyed = {**STAFF, "Idempotency-Key": "import-1"}
    first = client.post(IMPORTS, json=body, headers=keyed)
    replayed = client.post(IMPORTS, json=body, headers=keyed)
    assert first.status_code == replayed.status_code == 200 and first.get_json()["issued"] == 1
    assert replayed.headers.get("Idempotency-Replayed") == "true" and replayed.get_json() == first.get_json()
    other = client.post(IMPORTS, json={"tickets": [item("W-0002", 2)]}, headers=keyed)
    assert other.status_code == 422 and other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    # an admin may import too; a day not opened is opened with the default capacity, as by the single issue
    later = f"{API}/meal-days/2024-03-06/ticket-imports"
    r = client.post(later, json={"tickets": [{"worker": "W-0003", "issued_at": "2024-03-06T11:00:00+08:00"}]},
                    headers=auth("admin-1", "admin"))
    assert r.status_code == 200 and r.get_json()["tickets"][0]["ticket_no"] == 1
    assert client.get(f"{API}/meal-days/2024-03-06", headers=STAFF).get_json()["capacity"] == 30
    assert stored(client) == [(1, "W-0001", "served")]


CAPACITY, IMPORTED, SINGLES = 12, 8, 10


def test_an_import_and_single_requests_race_for_the_last_portions(db_url, tmp_path):
    """Two imports of 8 and ten single requests at once for a day of 12 portions, against a real gunicorn
    (3 processes x 8 threads): never beyond capacity, every number once, each import all or nothing with
    consecutive numbers (one transaction holds the day's counter)."""
    client = make_client("jobmarket", db_url)
    cards = [register(client, f"W-{i:04d}")["card_no"] for i in range(1, 2 * IMPORTED + SINGLES + 1)]
    assert client.post(f"{API}/meal-days", json={"served_on": DAY, "capacity": CAPACITY},
                       headers=STAFF).status_code == 201
    batches = [cards[:IMPORTED], cards[IMPORTED:2 * IMPORTED]]
    singles = cards[2 * IMPORTED:]
    proc, base = serve(db_url, tmp_path)
    start = threading.Barrier(len(batches) + len(singles))
    try:
        def send(job):
            kind, payload = job
            start.wait(30)
            if kind == "import":
                r = requests.post(base + IMPORTS, headers=STAFF, timeout=60,
                                  json={"tickets": [item(c, 1 + n) for n, c in enumerate(payload)]})
            else:
                r = requests.post(f"{base}{API}/meal-tickets", headers=STAFF, timeout=60,
                                  json={"worker": payload, "issued_at": at(50)})
            return kind, payload, r.status_code, r.json()
        jobs = [("import", b) for b in batches] + [("single", c) for c in singles]
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            answers = list(pool.map(send, jobs))
    finally:
        proc.stop()

    won = {"import": 200, "single": 201}
    refused = [body for kind, _, status, body in answers if status != won[kind]]
    assert all(b["status"] == 409 and b["type"].endswith("/meals-sold-out") for b in refused), refused
    numbers = []
    for kind, payload, status, body in answers:
        if kind == "import" and status == 200:
            got = [t["ticket_no"] for t in body["tickets"]]
            assert [t["card_no"] for t in body["tickets"]] == payload
            assert got == list(range(got[0], got[0] + IMPORTED)), got
            numbers += got
        elif kind == "single" and status == 201:
            numbers.append(body["ticket_no"])
    assert sorted(numbers) == list(range(1, len(numbers) + 1)) and len(numbers) <= CAPACITY
    # what is stored is exactly what was answered: a refused import left none of its workers a ticket
    held = stored(client)
    assert [n for n, _, _ in held] == sorted(numbers)
    winners = {c for kind, payload, status, _ in answers if status == won[kind]
               for c in (payload if kind == "import" else [payload])}
    assert {card for _, card, _ in held} == winners
    assert day_of(client)["issued"] == len(numbers)
    # demand was 26 for 12 portions: the day is full unless an import was refused with room left for fewer
    left = CAPACITY - len(numbers)
    assert left == 0 or (left < IMPORTED and any(kind == "import" and status == 409
                                                 for kind, _, status, _ in answers))
