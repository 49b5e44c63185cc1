"""Volunteer shifts (capacity never over-booked, even at once), check-in/check-out hours with the event for
the points service, volunteers seeing only their own sign-ups; meal delivery with the welfare alert."""
from __future__ import annotations

import threading

from shared.testing import auth, make_client

from .helpers import API, AUDITOR, STAFF, outbox_events

SHIFT = {"starts_at": "2024-09-21T08:00:00+08:00", "ends_at": "2024-09-21T10:00:00+08:00", "capacity": 3,
         "place": "府西社区"}


def _post(client, path, body=None, headers=STAFF, expect=201):
    r = client.post(API + path, json=body if body is not None else {}, headers=headers)
    assert r.status_code == expect, (path, r.get_json())
    return r.get_json()


def _shift(client, kind="environment_cleanup", **overrides):
    activity = _post(client, "/volunteer-activities", {"kind": kind, "title": "环境整治", "community": "府西社区"})
    return _post(client, f"/volunteer-activities/{activity['id']}/shifts", {**SHIFT, **overrides})


def test_check_out_gives_hours_and_one_event_per_volunteer(db_url):
    client = make_client("relief", db_url)
    shift = _shift(client)
    rider = auth("P009718", "volunteer")
    mine = _post(client, f"/volunteer-shifts/{shift['id']}/signups", {"signed_up_at": "2024-09-20T18:00:00+08:00"},
                 headers=rider)
    assert mine["person_id"] == "P009718" and mine["status"] == "signed_up"
    _post(client, f"/volunteer-shifts/{shift['id']}/signups", {"person_id": "P000002"}, headers=rider, expect=422)
    other = _post(client, f"/volunteer-shifts/{shift['id']}/signups", {"person_id": "P000002",
                                                                       "signed_up_at": "2024-09-20T19:00:00+08:00"})
    _post(client, f"/shift-signups/{mine['id']}/check-out", {"at": "2024-09-21T10:00:00+08:00"}, expect=409)
    _post(client, f"/shift-signups/{mine['id']}/check-in", {"at": "2024-09-21T06:59:00+08:00"}, expect=422)
    _post(client, f"/shift-signups/{mine['id']}/check-in", {"at": "2024-09-21T08:00:00+08:00"}, headers=rider, expect=403)
    _post(client, f"/shift-signups/{mine['id']}/check-in", {"at": "2024-09-21T08:00:00+08:00"}, expect=200)
    _post(client, f"/shift-signups/{mine['id']}/cancel", headers=rider, expect=409)  # checked in already
    r = _post(client, f"/shift-signups/{mine['id']}/check-out", {"at": "2024-09-21T07:59:00+08:00"}, expect=422)
    assert r["errors"][0]["field"] == "at"
    done = _post(client, f"/shift-signups/{mine['id']}/check-out", {"at": "2024-09-21T10:00:00+08:00"}, expect=200)
    assert done["hours"] == "2.00" and done["status"] == "completed"
    _post(client, f"/shift-signups/{mine['id']}/check-out", {"at": "2024-09-21T10:05:00+08:00"}, expect=409)
    _post(client, f"/shift-signups/{other['id']}/check-in", {"at": "2024-09-21T08:10:00+08:00"}, expect=200)
    assert _post(client, f"/shift-signups/{other['id']}/check-out", {"at": "2024-09-21T09:30:20+08:00"},
                 expect=200)["hours"] == "1.34"  # 1 h 20 min 20 s, half up to two decimals

    events = [e["data"] for e in outbox_events(db_url, "relief.volunteer_shift.completed.v1")]
    assert events[0] == {"shift_id": shift["id"], "person_id": "P009718", "activity": "environment_cleanup",
                         "hours": "2.00", "completed_at": "2024-09-21T10:00:00+08:00",
                         "started_at": "2024-09-21T08:00:00+08:00", "activity_id": shift["activity_id"],
                         "signup_id": mine["id"]}
    assert [(e["person_id"], e["hours"]) for e in events] == [("P009718", "2.00"), ("P000002", "1.34")]

    # a volunteer sees only their own sign-ups; another's answers 404
    own = client.get(f"{API}/shift-signups?person_id=P000002", headers=rider).get_json()["items"]
    assert [s["person_id"] for s in own] == ["P009718"]
    assert client.get(f"{API}/shift-signups/{other['id']}", headers=rider).status_code == 404
    assert client.get(f"{API}/shift-signups/{other['id']}", headers=AUDITOR).status_code == 200


def test_capacity_is_never_over_booked_even_at_once(db_url):
    client = make_client("relief", db_url)
    shift = _shift(client, capacity=4)
    codes, lock, start = [], threading.Lock(), threading.Barrier(12)

    def sign(n):
        start.wait()
        r = client.application.test_client().post(f"{API}/volunteer-shifts/{shift['id']}/signups",
                                                   json={"signed_up_at": "2024-09-20T12:00:00+08:00"},
                                                   headers=auth(f"P1000{n:02d}", "volunteer"))
        with lock:
            codes.append(r.status_code)

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [201] * 4 + [409] * 8
    assert client.get(f"{API}/volunteer-shifts/{shift['id']}", headers=STAFF).get_json()["booked"] == 4
    first = client.get(f"{API}/shift-signups?shift_id={shift['id']}", headers=STAFF).get_json()["items"][0]
    _post(client, f"/shift-signups/{first['id']}/cancel", expect=200)  # a place is given back…
    before = "2024-09-20T20:00:00+08:00"
    _post(client, f"/volunteer-shifts/{shift['id']}/signups", {"person_id": "P200000", "signed_up_at": before})
    r = _post(client, f"/volunteer-shifts/{shift['id']}/signups", {"person_id": "P200001", "signed_up_at": before},
              expect=409)
    assert r["type"].endswith("shift-full")
    _post(client, f"/volunteer-shifts/{shift['id']}/signups", {"person_id": first["person_id"], "signed_up_at": before},
          expect=409)
    late = _shift(client, starts_at="2024-09-21T08:00:00+08:00", ends_at="2024-09-21T09:00:00+08:00")
    _post(client, f"/volunteer-shifts/{late['id']}/signups",
          {"person_id": "P3", "signed_up_at": "2024-09-21T09:01:00+08:00"}, expect=409)
    bad = _post(client, f"/volunteer-activities/{late['activity_id']}/shifts",
                {**SHIFT, "ends_at": "2024-09-21T07:00:00+08:00"}, expect=422)
    assert bad["errors"][0]["field"] == "ends_at"


def test_meal_delivery_no_answer_raises_a_welfare_alert(db_url):
    client = make_client("relief", db_url)
    shift = _shift(client, kind="meal_delivery", starts_at="2024-01-15T11:00:00+08:00",
                   ends_at="2024-01-15T12:30:00+08:00")
    cleanup = _shift(client, starts_at="2024-01-15T11:00:00+08:00", ends_at="2024-01-15T12:00:00+08:00")
    grandma = _post(client, "/meal-recipients", {"name": "王秀英", "address": "府西小区3号楼2单元101",
                                                 "phone": "13512345678", "care_level": "semi_dependent",
                                                 "diet_notes": "低盐、软食"})
    assert grandma["name"] == "王**" and grandma["address"] == "***" and grandma["masked"]
    _post(client, "/meal-recipients", {"name": "x", "address": "y", "care_level": "bedridden"}, expect=422)
    full = client.get(f"{API}/meal-recipients/{grandma['id']}", headers=STAFF).get_json()
    assert full["name"] == "王秀英" and full["diet_notes"] == "低盐、软食"
    reads = client.get(f"{API}/audit?action=recipient.personal_data_read", headers=AUDITOR).get_json()["items"]
    assert [(e["actor"], e["entity_id"]) for e in reads] == [("staff-1", grandma["id"])]

    lunch = _post(client, "/meal-orders", {"recipient_id": grandma["id"], "served_on": "2024-01-15", "meal": "lunch"})
    _post(client, "/meal-orders", {"recipient_id": grandma["id"], "served_on": "2024-01-15", "meal": "lunch"},
          expect=409)
    dinner = _post(client, "/meal-orders", {"recipient_id": grandma["id"], "served_on": "2024-01-15",
                                            "meal": "dinner"})
    volunteer = auth("P009718", "volunteer")
    delivery = {"shift_id": shift["id"], "outcome": "no_answer", "reported_at": "2024-01-15T11:42:00+08:00"}
    _post(client, f"/meal-orders/{lunch['id']}/delivery", {**delivery, "shift_id": cleanup["id"]}, expect=422)
    _post(client, f"/meal-orders/{lunch['id']}/delivery", delivery, headers=volunteer, expect=404)  # not on the shift
    signup = _post(client, f"/volunteer-shifts/{shift['id']}/signups", {"signed_up_at": "2024-01-14T09:00:00+08:00"},
                   headers=volunteer)
    _post(client, f"/shift-signups/{signup['id']}/check-in", {"at": "2024-01-15T10:55:00+08:00"}, expect=200)
    order = _post(client, f"/meal-orders/{lunch['id']}/delivery", delivery, headers=volunteer, expect=200)
    assert order["status"] == "no_answer" and order["welfare_flag"] and order["shift_id"] == shift["id"]
    _post(client, f"/meal-orders/{lunch['id']}/delivery", delivery, expect=409)
    ok = _post(client, f"/meal-orders/{dinner['id']}/delivery",
               {"shift_id": shift["id"], "outcome": "delivered", "reported_at": "2024-01-15T12:10:00+08:00"},
               expect=200)
    assert ok["status"] == "delivered" and not ok["welfare_flag"]

    [alert] = outbox_events(db_url, "relief.meal_delivery.welfare_alert.v1")
    assert alert["data"] == {"order_id": lunch["id"], "recipient_id": grandma["id"], "shift_id": shift["id"],
                             "reported_at": "2024-01-15T11:42:00+08:00", "alert_kind": "no_answer"}
    assert "王" not in str(alert) and "府西小区" not in str(alert)
    flagged = client.get(f"{API}/meal-orders?welfare_flag=true", headers=STAFF).get_json()["items"]
    assert [o["id"] for o in flagged] == [lunch["id"]]
    resolved = _post(client, f"/meal-orders/{lunch['id']}/welfare-resolution",
                     {"resolved_at": "2024-01-15T12:20:00+08:00", "note": "社区网格员上门，老人午睡未听见"}, expect=200)
    assert resolved["welfare_resolved_at"] == "2024-01-15T12:20:00+08:00"
    _post(client, f"/meal-orders/{lunch['id']}/welfare-resolution", {"note": "again"}, expect=409)
