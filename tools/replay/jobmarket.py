"""Jobmarket: the workers named by the records (market card numbers), meal days with their capacity, every
lunch ticket issued and served in its number order, the nap room's beds, nap-bed requests in arrival order,
and the tool inventory.

Days are independent of each other, so days run on the thread pool; within a day tickets go in number order,
in one history import a day (``POST /meal-days/{day}/ticket-imports``, up to 500 tickets a request: the same
rules as one request a ticket, 275 requests instead of 7,588), and nap requests in the order they arrived
(first come, first served).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from datetime import datetime, timedelta

from .client import Answer, Api, Progress, Refused, Where, describe_problem, idem_key, run_parallel
from .data import Record, Scenario

MEAL_DAYS, MEALS, NAPS, TOOLS = ("jobmarket.meal_days.jsonl", "jobmarket.meals.jsonl", "jobmarket.naps.jsonl",
                                 "jobmarket.tools.jsonl")
TOOL_FIELDS = ("ref", "kind", "name", "condition", "acquired_at")
#: tickets a history import takes at most (the service's limit)
IMPORT_MAX = 500


def ticket_times(served_on: str, ticket_no: int) -> tuple[str, str]:
    """The records give a ticket's day and number, not its times: number n is issued at 07:00 + 10 s × n and
    served at 11:00 + 10 s × n (Asia/Shanghai), which keeps every number in order within its own day."""
    day = datetime.fromisoformat(f"{served_on}T00:00:00+08:00")
    step = timedelta(seconds=10 * ticket_no)
    issued, served = day + timedelta(hours=7) + step, day + timedelta(hours=11) + step
    if served.date() != day.date():
        raise Refused(f"ticket number {ticket_no} of {served_on} is beyond what one day's times can hold")
    return issued.isoformat(), served.isoformat()


def nap_beds(scenario: Scenario) -> int | None:
    """How many beds the nap room has: ``NAP_BEDS`` in the environment, else what the scenario's README states
    ("12 beds"). The scenario has no data file for the room (noted as a gap in the report of issue 8)."""
    if os.environ.get("NAP_BEDS"):
        return int(os.environ["NAP_BEDS"])
    match = re.search(r"(\d+)\s+beds\b", scenario.text("README.md"))
    return int(match.group(1)) if match else None


def load(api: Api, scenario: Scenario, show: bool = True) -> None:
    days, meals, naps, tools = (scenario.jsonl(n) for n in (MEAL_DAYS, MEALS, NAPS, TOOLS))
    if not (days or meals or naps or tools):
        return
    registered = {w["card_no"] for w in api.items("/workers")}
    cards = sorted(({r["worker"] for r in meals} | {r["worker"] for r in naps}) - registered)
    progress = Progress("jobmarket workers", len(cards), show)
    run_parallel(lambda card: api.post("/workers", {"card_no": card}, Where("worker card", None, card),
                                       "register the worker", ok=(201,),
                                       tolerate=("card-taken",)), cards, progress)
    progress.close()

    progress = Progress("jobmarket meal days", len(days), show)
    run_parallel(lambda rec: meal_day(api, rec), days, progress)
    progress.close()

    by_day: dict[str, list[Record]] = defaultdict(list)
    for rec in meals:
        by_day[rec["served_on"]].append(rec)
    progress = Progress("jobmarket meal tickets", len(meals), show)
    run_parallel(lambda day: tickets_of_day(api, day, by_day[day], progress), sorted(by_day), progress,
                 weight=lambda _: 0)
    progress.close()

    if naps:
        beds = nap_beds(scenario)
        if beds is None:
            raise Refused("the scenario does not say how many nap beds there are: set NAP_BEDS")
        in_service = api.get("/nap-beds").body["in_service"]
        for n in range(in_service, beds):
            api.post("/nap-beds", {}, Where("README.md", None, f"nap bed {n + 1}"), "add a nap bed", ok=(201,))
    by_nap_day: dict[str, list[Record]] = defaultdict(list)
    for rec in naps:
        by_nap_day[rec["nap_on"]].append(rec)
    progress = Progress("jobmarket nap requests", len(naps), show)
    run_parallel(lambda day: naps_of_day(api, day, by_nap_day[day], progress), sorted(by_nap_day), progress,
                 weight=lambda _: 0)
    progress.close()

    listed = {t["ref"] for t in api.items("/tools")}
    tools = [t for t in tools if t["ref"] not in listed]
    progress = Progress("jobmarket tools", len(tools), show)
    run_parallel(lambda rec: api.post("/tools", {k: rec[k] for k in TOOL_FIELDS if rec.get(k) is not None},
                                      Where(rec.file, rec.line, rec["ref"]), "register the tool",
                                      ok=(201,), tolerate=("tool-exists",)),
                 tools, progress)
    progress.close()


def meal_day(api: Api, rec: Record) -> None:
    where = Where(rec.file, rec.line, rec["served_on"])
    body = {"served_on": rec["served_on"]}
    if rec.get("capacity") is not None:
        body["capacity"] = rec["capacity"]
    answer = api.post("/meal-days", body, where, "open the meal day",
                      ok=(201,), tolerate=("meal-day-exists",))
    if answer.status == 201 or rec.get("capacity") is None:
        return
    stored = api.get(f"/meal-days/{rec['served_on']}", where=where).body
    if stored["capacity"] != rec["capacity"]:
        api.post(f"/meal-days/{rec['served_on']}", {"capacity": rec["capacity"]}, where, "set the day's capacity",
                 ok=(200,), method="PATCH")


def tickets_of_day(api: Api, day: str, records: list[Record], progress: Progress) -> None:
    """The day's tickets in number order through the history import, up to IMPORT_MAX a request (issued and
    served by the same rules as one by one); those already issued are checked, not sent again."""
    stored = {t["ticket_no"]: t for t in api.items("/meal-tickets", {"served_on": day})}
    missing = []
    for rec in sorted(records, key=lambda r: r["ticket_no"]):
        have = stored.get(rec["ticket_no"])
        if have is None:
            missing.append(rec)
        elif have["card_no"] != rec["worker"]:
            raise Refused(f"jobmarket holds ticket {rec['ticket_no']} of {day} for {have['card_no']}, "
                          f"but {_where(rec)} gives it to {rec['worker']} (field worker)")
    progress.update(len(records) - len(missing))
    for start in range(0, len(missing), IMPORT_MAX):
        chunk = missing[start:start + IMPORT_MAX]
        body = {"tickets": [{"worker": rec["worker"], **dict(zip(("issued_at", "served_at"),
                                                                   ticket_times(day, rec["ticket_no"])))}
                            for rec in chunk]}
        path = f"/meal-days/{day}/ticket-imports"
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]  # records may change
        answer = api.request("POST", path, body=body, key=idem_key("tickets", day, chunk[0]["ticket_no"], digest))
        if answer.status != 200:
            rec = chunk[_refused_index(answer, len(chunk))]
            raise Refused(f"jobmarket refused {_where(rec)} (issue and serve the ticket, in the day's import):\n"
                          f"    POST {path}\n    {describe_problem(answer)}")
        for rec, got in zip(chunk, answer["tickets"]):
            if got["ticket_no"] != rec["ticket_no"]:
                raise Refused(f"jobmarket numbered {_where(rec)} {got['ticket_no']} (field ticket_no): an earlier "
                              f"number of the day is missing from the records")
        progress.update(len(chunk))


def _where(rec: Record) -> Where:
    return Where(rec.file, rec.line, f"{rec['served_on']} ticket {rec['ticket_no']}")


def _refused_index(answer: Answer, size: int) -> int:
    """Which item of an import the service refused: its ``index`` member, else the first ``tickets.<n>`` field
    (a schema error); 0 when neither names one."""
    body = answer.body if isinstance(answer.body, dict) else {}
    index = body.get("index")
    if not isinstance(index, int):
        fields = [str(e.get("field", "")) for e in (body.get("errors") or []) if isinstance(e, dict)]
        found = [int(m.group(1)) for f in fields if (m := re.match(r"tickets\.(\d+)\b", f))]
        index = min(found, default=0)
    return index if 0 <= index < size else 0


def naps_of_day(api: Api, day: str, records: list[Record], progress: Progress) -> None:
    """Nap requests for ``day`` in arrival order; requests already recorded (same worker and time) are skipped."""
    stored = {(r["card_no"], datetime.fromisoformat(r["requested_at"]))
              for r in api.items("/nap-reservations", {"nap_on": day})}
    for rec in records:  # the file's order is the arrival order
        if (rec["worker"], datetime.fromisoformat(rec["requested_at"])) not in stored:
            api.post("/nap-reservations", {"worker": rec["worker"], "nap_on": day,
                                           "requested_at": rec["requested_at"]},
                     Where(rec.file, rec.line, f"{day} {rec['worker']}"), "request a nap bed",
                     key=idem_key("nap", day, rec["worker"], rec["requested_at"]), ok=(201,))
        progress.update()
