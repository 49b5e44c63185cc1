"""Bad input of every kind on the points API: 422 (or 400/404/415) as problem+json naming the field, and
nothing stored; the same on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from shared.testing import make_client

from .helpers import CLERK, load_seed_configuration

ITEM = {"sku": "V-1", "name": "测试", "points_price": 10, "stock": 5}
CASES = [
    ("/api/v1/catalogue", {**ITEM, "name": "x" * 101}, "name"),
    ("/api/v1/catalogue", {**ITEM, "name": "a\x00b"}, "name"),
    ("/api/v1/catalogue", {**ITEM, "name": "   "}, "name"),
    ("/api/v1/catalogue", {**ITEM, "stock": 1.0}, "stock"),
    ("/api/v1/catalogue", {**ITEM, "stock": 2**31}, "stock"),
    ("/api/v1/catalogue", {**ITEM, "points_price": 0}, "points_price"),
    ("/api/v1/catalogue", {**ITEM, "active_from": "2024-09-01T00:00:00"}, "active_from"),
    ("/api/v1/catalogue", {**ITEM, "active_from": "2024-09-02T00:00:00+08:00",
                           "active_to": "2024-09-01T00:00:00+08:00"}, "active_to"),
    ("/api/v1/catalogue", {**ITEM, "sku": "bad sku"}, "sku"),
    ("/api/v1/redemptions", {"person_id": "P1", "items": [{"sku": "SOAP", "quantity": 1, "x": 1}]}, "items.0.x"),
    ("/api/v1/redemptions", {"person_id": "P1", "items": [{"sku": "SOAP", "quantity": True}]}, "items.0.quantity"),
    ("/api/v1/redemptions", {"person_id": "P1", "items": "SOAP"}, "items"),
    ("/api/v1/merchants", {"ref": "M-99", "name": "店", "joined_on": "2024-13-01"}, "joined_on"),
    ("/api/v1/item-donations", {"donor_person_id": "P1", "name": "书", "received_at": 17}, "received_at"),
    ("/api/v1/credits", {"person_id": "P1", "rule": "environment_cleanup", "hours": "NaN", "reason": "x"}, "hours"),
    ("/api/v1/credits", {"person_id": "P1", "rule": "environment_cleanup", "hours": "25", "reason": "x"}, "hours"),
]


def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(db_url):
    client = make_client("points", db_url)
    load_seed_configuration(client)
    before = client.get("/api/v1/reports/points", headers=CLERK).get_json()
    for path, body, field in CASES:
        r = client.post(path, json=body, headers=CLERK)
        assert r.status_code == 422, (path, body, r.get_json())
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert field in {e["field"] for e in r.get_json()["errors"]}, (path, body, r.get_json())
    for raw, status in (("[1, 2]", 422), ("not json", 400), ('{"sku": NaN}', 400)):
        r = client.post("/api/v1/catalogue", data=raw, content_type="application/json", headers=CLERK)
        assert r.status_code in (status, 422) and r.headers["Content-Type"].startswith("application/problem+json")
    r = client.post("/api/v1/catalogue", data="sku=x", content_type="application/x-www-form-urlencoded", headers=CLERK)
    assert r.status_code == 415
    for path in ("/api/v1/accounts/P%00X", "/api/v1/catalogue/A%00B", "/api/v1/redemptions/x%00y"):
        r = client.get(path, headers=CLERK)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/problem+json")
    assert client.get("/api/v1/nowhere", headers=CLERK).status_code == 404
    assert client.delete("/api/v1/catalogue", headers=CLERK).status_code == 405
    assert client.get("/api/v1/reports/points", headers=CLERK).get_json() == before
    assert client.get("/api/v1/item-donations", headers=CLERK).get_json()["items"] == []


@pytest.mark.parametrize("query", ["limit=-1", "limit=201", "limit=abc", "cursor=%00", "from=2024-01-01"])
def test_list_arguments_are_bounded(tmp_path, query):
    client = make_client("points", f"sqlite:///{tmp_path / 'v.sqlite3'}")
    path = "/api/v1/reports/honour-roll" if query.startswith("from") else "/api/v1/catalogue"
    r = client.get(f"{path}?{query}", headers=CLERK)
    assert r.status_code == 422 and r.headers["Content-Type"].startswith("application/problem+json")
