"""Points: the scoring rules (before anything that earns under them), the supermarket's catalogue (``sku``),
the alliance's merchants (``ref``); and the redemption at the end of the rider's story, made only once the
credits the story earned have arrived through the events.
"""
from __future__ import annotations

import os
import time
from datetime import datetime

from .client import Api, Progress, Refused, Where, idem_key, run_parallel
from .data import Scenario

POINTS = "points.json"
#: the scenario's wording of a rule's unit ("per") → the API's ``unit`` (an API value passes unchanged)
UNITS = {"resolved case": "case", "verified report": "report", "hour": "hour", "appraised item": "appraisal",
         "service hour": "service_hour", "service": "service_count", "occasion": "manual"}
RULE_FIELDS = ("code", "category", "points", "roles", "activities", "cap_per_person_per_day",
               "cap_per_person_per_month", "valid_from", "valid_to")
ITEM_FIELDS = {"sku": "sku", "name": "name", "points": "points_price", "points_price": "points_price",
               "stock": "stock", "category": "category", "per_person_limit": "per_person_limit",
               "limit_period": "limit_period", "low_stock_threshold": "low_stock_threshold",
               "active_from": "active_from", "active_to": "active_to", "merchant_ref": "merchant_ref"}
MERCHANT_FIELDS = ("ref", "name", "trade", "operator_person_id", "joined_on")


def rule_body(rule: dict) -> dict:
    body = {k: rule[k] for k in RULE_FIELDS if k in rule}
    unit = rule.get("unit") or rule.get("per")
    body["unit"] = UNITS.get(unit, unit)
    return body


def load(api: Api, scenario: Scenario, show: bool = True) -> None:
    seed = scenario.json(POINTS)
    if seed is None:
        return
    rules, items, merchants = seed.get("rules", []), seed.get("catalogue", []), seed.get("merchants", [])
    progress = Progress("points rules/items/shops", len(rules) + len(items) + len(merchants), show)
    for n, rule in enumerate(rules):  # in order: a later version of a code follows the earlier one
        api.post("/rules", rule_body(rule), Where(POINTS, None, f"rules[{n}] {rule.get('code')}"), "scoring rule",
                 ok=(200, 201))
        progress.update()
    run_parallel(lambda p: api.post("/catalogue", {ITEM_FIELDS[k]: v for k, v in p[1].items() if k in ITEM_FIELDS},
                                    Where(POINTS, None, f"catalogue[{p[0]}] {p[1].get('sku')}"), "catalogue item",
                                    ok=(200, 201)), list(enumerate(items)), progress)
    run_parallel(lambda p: api.post("/merchants", {k: p[1][k] for k in MERCHANT_FIELDS if p[1].get(k) is not None},
                                    Where(POINTS, None, f"merchants[{p[0]}] {p[1].get('ref')}"), "merchant",
                                    ok=(200, 201)), list(enumerate(merchants)), progress)
    progress.close()


def redemption(api: Api, person_id: str, step: dict, where: Where, wait_seconds: float | None = None) -> None:
    """Redeem ``step``'s items for ``person_id`` at the counter at the story's time, once the person's available
    points cover them (credits arrive through events: wait for them). Already redeemed: nothing."""
    lines = step.get("items") or [{"sku": step["sku"], "quantity": step.get("quantity", 1)}]
    at = datetime.fromisoformat(step["at"])
    wanted = sorted((line["sku"], line["quantity"]) for line in lines)
    for r in api.items("/redemptions", {"person_id": person_id}):
        if (r["status"] in ("reserved", "redeemed") and datetime.fromisoformat(r["reserved_at"]) == at
                and sorted((i["sku"], i["quantity"]) for i in r["items"]) == wanted):
            return
    cost = sum(api.get(f"/catalogue/{line['sku']}", where=where).body["points_price"] * line["quantity"]
               for line in lines)
    wait_seconds = float(os.environ.get("REPLAY_WAIT", "180")) if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait_seconds
    available = 0
    while True:
        answer = api.get(f"/accounts/{person_id}", where=where, ok=(200, 404))
        available = answer.body.get("available", 0) if answer.status == 200 else 0
        if available >= cost:
            break
        if time.monotonic() > deadline:
            raise Refused(f"waited {wait_seconds:.0f}s for {person_id}'s credits before {where}: {available} points "
                          f"available, {cost} needed (are the workers running?)")
        time.sleep(0.5)
    api.post("/redemptions", {"person_id": person_id, "items": lines, "reserved_at": step["at"], "collect": True},
             where, "redemption", key=idem_key("redemption", person_id, step["at"]), ok=(201,))
