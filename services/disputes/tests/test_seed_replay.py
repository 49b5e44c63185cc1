"""Replay a slice of the seed scenario through the HTTP API with its own past times (as issue 8's loader will)
and check the statistics against what the slice itself implies (computed here from the slice, not hard-coded).

Mapping of a seed record to the API: a case is registered with its ``ref``, ``reported_at``, channel,
classification, estate, reporter, households and its three grading factors (so it is graded at intake: a
seed case that is still ``received`` is ``graded`` here); sessions are recorded with their ``ref`` and the
slice's cases they heard; each resolution names its ``session_ref`` and participants (person_id and role
only); each evaluation is recorded by the evaluation desk with its own time. Events are replayed in time order.
"""
from __future__ import annotations

import json
import statistics as stats
from collections import Counter
from datetime import datetime
from pathlib import Path

from services.disputes.domain.policy import DEFAULT_REOPEN_THRESHOLD, suggest_grade
from shared.testing import make_client

from .helpers import ADMIN, MEDIATOR, SUPERVISOR

SEED = Path("/work/shared/data/seed-scenario")
SLICE = 30


def _load():
    cases = [json.loads(line) for line in (SEED / "disputes.cases.jsonl").open(encoding="utf-8")][:SLICE]
    refs = {c["ref"] for c in cases}
    wanted = {r["session_ref"] for c in cases for r in c.get("resolutions", [])} | {
        h for c in cases for h in c.get("heard_at", [])}
    sessions = [s for s in map(json.loads, (SEED / "disputes.sessions.jsonl").open(encoding="utf-8"))
                if s["ref"] in wanted]
    for s in sessions:
        s["case_refs"] = [r for r in s["case_refs"] if r in refs]
    return cases, sessions


def _replay(client, cases, sessions):
    steps = []
    for s in sessions:
        steps.append((datetime.fromisoformat(s["held_on"] + "T19:00:00+08:00"), "session", s))
    for c in cases:
        for r in c.get("resolutions", []):
            steps.append((datetime.fromisoformat(r["resolved_at"]), "resolution", (c, r)))
            steps.append((datetime.fromisoformat(r["evaluation"]["at"]), "evaluation", (c, r)))
    for c in cases:
        body = {k: c[k] for k in ("ref", "reported_at", "channel", "category", "subcategory", "estate", "summary",
                                  "reporter", "households_affected", "scale", "difficulty", "social_impact")}
        r = client.post("/api/v1/cases", json=body, headers=ADMIN)
        assert r.status_code == 201, r.get_json()
        c["id"] = r.get_json()["id"]
    for _, kind, item in sorted(steps, key=lambda s: (s[0], ["session", "resolution", "evaluation"].index(s[1]))):
        if kind == "session":
            r = client.post("/api/v1/sessions", headers=MEDIATOR, json={
                "ref": item["ref"], "held_on": item["held_on"], "estate": item["estate"],
                "attendees": item["attendees"], "case_refs": item["case_refs"]})
        elif kind == "resolution":
            case, res = item
            r = client.post(f"/api/v1/cases/{case['id']}/resolutions", headers=MEDIATOR, json={
                "text": res["resolution"], "session_ref": res["session_ref"], "resolved_at": res["resolved_at"],
                "participants": [{"person_id": p["person_id"], "role": p["role"]} for p in case["participants"]]})
        else:
            case, res = item
            r = client.post(f"/api/v1/cases/{case['id']}/evaluations", headers=SUPERVISOR, json={
                "rating": res["evaluation"]["rating"], "evaluated_at": res["evaluation"]["at"]})
        assert r.status_code == 201, (kind, r.get_json())


def test_seed_slice_replays_and_statistics_match(db_url):
    cases, sessions = _load()
    client = make_client("disputes", db_url)
    _replay(client, cases, sessions)
    got = client.get("/api/v1/statistics", headers=SUPERVISOR).get_json()

    resolved = [c for c in cases if c["status"] == "resolved"]
    assert got["cases"] == len(cases)
    assert got["sessions"] == len(sessions)
    assert got["resolved"] == len(resolved)
    assert got["resolved_by_category"] == dict(Counter(c["category"] for c in resolved))
    assert got["open"] == len(cases) - len(resolved)
    assert got["reopened"] == sum(1 for c in cases if any(
        r["evaluation"]["rating"] <= DEFAULT_REOPEN_THRESHOLD for r in c.get("resolutions", [])))
    status_here = {"received": "graded"}  # graded at intake from the seed's factors
    assert got["by_status"] == dict(Counter(status_here.get(c["status"], c["status"]) for c in cases))
    for key in ("category", "subcategory", "channel", "estate"):
        assert got[f"by_{key}"] == dict(Counter(c[key] for c in cases)), key
    grades = {c["ref"]: suggest_grade(c["scale"], c["difficulty"], c["social_impact"]) for c in cases}
    assert got["by_grade"] == dict(Counter(grades.values()))
    hours: dict[str, list[float]] = {}
    for c in resolved:
        span = datetime.fromisoformat(c["resolutions"][-1]["resolved_at"]) - datetime.fromisoformat(c["reported_at"])
        hours.setdefault(grades[c["ref"]], []).append(span.total_seconds() / 3600)
    assert got["median_hours_to_resolve"] == {g: round(stats.median(v), 1) for g, v in sorted(hours.items())}
    ratings = [r["evaluation"]["rating"] for c in cases for r in c.get("resolutions", [])]
    assert got["evaluations"] == len(ratings)
    assert got["satisfaction_average"] == round(sum(ratings) / len(ratings), 2)
    assert sum(got["by_period"].values()) == len(cases)
    # a period: one Asia/Shanghai month of reports
    month = cases[0]["reported_at"][:7]
    in_month = [c for c in cases if c["reported_at"][:7] == month]
    first, last = month + "-01", max(c["reported_at"][:10] for c in in_month)
    part = client.get(f"/api/v1/statistics?from={first}&to={last}", headers=SUPERVISOR).get_json()
    assert part["cases"] == len(in_month)
    # the session records link back into each case heard
    some = next(c for c in cases if c.get("resolutions"))
    got_case = client.get(f"/api/v1/cases/{some['id']}", headers=ADMIN).get_json()
    assert len(got_case["session_ids"]) == len({r["session_ref"] for r in some["resolutions"]} | set(some.get("heard_at", [])))
    assert got_case["resolution_count"] == len(some["resolutions"])
