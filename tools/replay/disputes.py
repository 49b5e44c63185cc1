"""Disputes: cases (with their grading factors), night-talk sessions, resolutions and the evaluation desk's
ratings, replayed in the order they happened; the hazard photo reports of the rider's story.

Mapping (services/disputes/openapi.json): a case is registered with its ``ref``, ``reported_at`` and its three
grading factors (so it is graded at intake); a session with its ``ref`` and the ``case_refs`` it heard; a
resolution names its ``session_ref`` and its participants (``person_id`` and ``role`` only: names and phones
stay out of other services' events); an evaluation is recorded by the desk with its own ``evaluated_at``.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .client import Api, Progress, Refused, Where, idem_key, run_parallel
from .data import Record, Scenario

CASES, SESSIONS = "disputes.cases.jsonl", "disputes.sessions.jsonl"
CASE_FIELDS = ("ref", "reported_at", "channel", "category", "subcategory", "estate", "grid", "summary",
               "description", "households_affected", "scale", "difficulty", "social_impact")
#: a night talk is an evening meeting; a session is placed in the timeline at this hour of its day (or just
#: before the first resolution decided at it, if that was earlier)
SESSION_HOUR = "19:00:00"
ORDER = {"session": 0, "resolution": 1, "evaluation": 2}


def case_body(rec: Record) -> dict:
    body = {k: rec[k] for k in CASE_FIELDS if rec.get(k) is not None}
    reporter = rec.get("reporter")
    if reporter:
        body["reporter"] = {k: reporter[k] for k in ("person_id", "name", "phone") if reporter.get(k)}
    return body


def participants(rec: Record) -> list[dict]:
    return [{"person_id": p["person_id"], "role": p["role"]} for p in rec.get("participants", [])]


def timeline(cases: list[Record], sessions: list[Record]) -> list[tuple]:
    """Sessions, resolutions and evaluations in the order they happened: ``(time, kind, record, round)``."""
    first_use: dict[str, datetime] = {}
    steps = []
    for c in cases:
        for n, r in enumerate(c.get("resolutions", []), 1):
            at = datetime.fromisoformat(r["resolved_at"])
            steps.append((at, "resolution", c, n))
            if r.get("session_ref"):
                first_use[r["session_ref"]] = min(at, first_use.get(r["session_ref"], at))
            if r.get("evaluation"):
                steps.append((datetime.fromisoformat(r["evaluation"]["at"]), "evaluation", c, n))
    for s in sessions:
        at = datetime.fromisoformat(f"{s['held_on']}T{SESSION_HOUR}+08:00")
        if s["ref"] in first_use and first_use[s["ref"]] <= at:
            at = first_use[s["ref"]] - timedelta(seconds=1)
        steps.append((at, "session", s, 0))
    steps.sort(key=lambda s: (s[0], ORDER[s[1]], s[2].line))
    return steps


class CaseState:
    """What the service already holds of a case (a second run skips it)."""

    def __init__(self, case_id: str, resolutions: int = 0, evaluations: int = 0):
        self.id, self.resolutions, self.evaluations = case_id, resolutions, evaluations


def load(api: Api, scenario: Scenario, show: bool = True) -> None:
    cases, sessions = scenario.jsonl(CASES), scenario.jsonl(SESSIONS)
    if not cases and not sessions:
        return
    state: dict[str, CaseState] = {}
    stored = {c["ref"]: c for c in api.items("/cases") if c.get("ref")}
    held = {s["ref"] for s in api.items("/sessions") if s.get("ref")}

    def register(rec: Record) -> None:
        where = Where(rec.file, rec.line, rec["ref"])
        case = stored.get(rec["ref"])
        if case is None:
            answer = api.post("/cases", case_body(rec), where, "register the case", ok=(201,),
                              tolerate=("duplicate-ref",))
            if answer.status == 201:
                state[rec["ref"]] = CaseState(answer["id"], answer.get("resolution_count", 0))
                return
            found = api.get("/cases", {"ref": rec["ref"]}, where).body["items"]
            if not found:
                raise Refused(f"disputes says {where} exists but lists no case with that ref")
            case = found[0]
        # registered by an earlier run: continue from what is stored
        evaluations = 0
        if any(r.get("evaluation") for r in rec.get("resolutions", [])):
            evaluations = len(api.get(f"/cases/{case['id']}/evaluations", where=where).body["items"])
        state[rec["ref"]] = CaseState(case["id"], case["resolution_count"], evaluations)

    steps = timeline(cases, sessions)
    progress = Progress("disputes cases", len(cases), show)
    run_parallel(register, cases, progress)
    progress.close()

    progress = Progress("disputes sessions/steps", len(steps), show)
    for _, kind, rec, n in steps:
        if kind == "session":
            if rec["ref"] in held:
                progress.update()
                continue
            where = Where(rec.file, rec.line, rec["ref"])
            body = {"ref": rec["ref"], "held_on": rec["held_on"], "estate": rec["estate"],
                    "attendees": rec["attendees"], "case_refs": list(rec.get("case_refs", []))}
            if rec.get("notes"):
                body["notes"] = rec["notes"]
            api.post("/sessions", body, where, "record the session",
                     ok=(201,), tolerate=("duplicate-ref",))
        else:
            where = Where(rec.file, rec.line, rec["ref"])
            case = state[rec["ref"]]
            res = rec["resolutions"][n - 1]
            if kind == "resolution":
                if n <= case.resolutions:
                    progress.update()
                    continue
                body = {"text": res["resolution"], "resolved_at": res["resolved_at"],
                        "participants": participants(rec)}
                if res.get("session_ref"):
                    body["session_ref"] = res["session_ref"]
                api.post(f"/cases/{case.id}/resolutions", body, where, f"resolution round {n}",
                         key=idem_key("resolution", rec["ref"], n), ok=(201,))
            else:
                if n <= case.evaluations:
                    progress.update()
                    continue
                body = {"rating": res["evaluation"]["rating"], "evaluated_at": res["evaluation"]["at"]}
                if res["evaluation"].get("comment"):
                    body["comment"] = res["evaluation"]["comment"]
                api.post(f"/cases/{case.id}/evaluations", body, where, f"evaluation of round {n}",
                         key=idem_key("evaluation", rec["ref"], n), ok=(201,))
        progress.update()
    progress.close()


def hazard_report(api: Api, person_id: str, step: dict, where: Where) -> None:
    """File a hazard photo report for ``person_id`` (recorded by a grid worker) and verify it if the story says
    so. Already filed (same reporter, estate, location and time): only the missing verification is done."""
    reported_at = datetime.fromisoformat(step["reported_at"])
    existing = None
    for item in api.items("/hazard-reports", {"estate": step["estate"]}):
        if (item["reporter_person_id"] == person_id and item["location"] == step["location"]
                and datetime.fromisoformat(item["reported_at"]) == reported_at):
            existing = item
            break
    if existing is None:
        body = {"reporter_person_id": person_id, "estate": step["estate"], "location": step["location"],
                "photo": step["photo_ref"], "reported_at": step["reported_at"]}
        if step.get("note"):
            body["description"] = step["note"]
        existing = api.post("/hazard-reports", body, where, "file the hazard report",
                            key=idem_key("hazard", person_id, step["reported_at"]), ok=(201,)).body
    if step.get("verified") and existing["status"] == "pending":
        # the story records that it was verified, not when: the verification is recorded at the report's time
        api.post(f"/hazard-reports/{existing['id']}/verification", {"at": step.get("verified_at") or step["reported_at"]},
                 where, "verify the hazard report", key=idem_key("hazard-verified", existing["id"]), ok=(200,))
