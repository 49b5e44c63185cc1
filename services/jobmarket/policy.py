"""jobmarket: the market's configurable policy (environment variables, 12-factor; defaults are the seed's
practice as issue 6 describes it: about 30 lunches a day, a five-yuan lunch that really costs nine, a
two-yuan nap reserved the day before).

Staff change the meal tariff (``/meal-tariffs``), a day's capacity (``/meal-days``) and each tool kind's loan
policy (``/tool-kinds``) through the API; these settings are only the defaults used before they do.

| variable | default | meaning |
|---|---|---|
| ``JOBMARKET_MEAL_CAPACITY`` | 30 | portions of a meal day created without a capacity |
| ``JOBMARKET_MEAL_PRICE`` | 5.00 | yuan a worker pays per meal while no tariff is recorded |
| ``JOBMARKET_MEAL_COST`` | 9.00 | real cost per meal in yuan while no tariff is recorded (subsidy = cost − price) |
| ``JOBMARKET_NAP_PRICE`` | 2.00 | yuan per nap |
| ``JOBMARKET_NAP_CHECKIN_DEADLINE`` | 12:30 | Asia/Shanghai time on the nap day after which an unclaimed bed is released |
| ``JOBMARKET_NAP_BOOKING_DAYS`` | 7 | how many days ahead a bed may be requested |
| ``JOBMARKET_TOOL_LOAN_DAYS`` | 3 | loan period of a new tool kind |
| ``JOBMARKET_TOOL_LIMIT_PER_WORKER`` | 1 | tools of one kind a worker may hold at once (new kinds) |
| ``JOBMARKET_TOOL_HOLD_HOURS`` | 24 | how long a hold keeps a tool for a worker |
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from functools import lru_cache


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Policy:
    meal_capacity: int = 30
    meal_price: Decimal = Decimal("5.00")
    meal_cost: Decimal = Decimal("9.00")
    nap_price: Decimal = Decimal("2.00")
    nap_checkin_deadline: time = time(12, 30)
    nap_booking_days: int = 7
    tool_loan_days: int = 3
    tool_limit_per_worker: int = 1
    tool_hold_hours: int = 24


@lru_cache(maxsize=1)
def current() -> Policy:
    """The policy of this process, read once from the environment."""
    try:
        hh, mm = _env("JOBMARKET_NAP_CHECKIN_DEADLINE", "12:30").split(":")
        return Policy(
            meal_capacity=int(_env("JOBMARKET_MEAL_CAPACITY", "30")),
            meal_price=Decimal(_env("JOBMARKET_MEAL_PRICE", "5.00")).quantize(Decimal("0.01")),
            meal_cost=Decimal(_env("JOBMARKET_MEAL_COST", "9.00")).quantize(Decimal("0.01")),
            nap_price=Decimal(_env("JOBMARKET_NAP_PRICE", "2.00")).quantize(Decimal("0.01")),
            nap_checkin_deadline=time(int(hh), int(mm)),
            nap_booking_days=int(_env("JOBMARKET_NAP_BOOKING_DAYS", "7")),
            tool_loan_days=int(_env("JOBMARKET_TOOL_LOAN_DAYS", "3")),
            tool_limit_per_worker=int(_env("JOBMARKET_TOOL_LIMIT_PER_WORKER", "1")),
            tool_hold_hours=int(_env("JOBMARKET_TOOL_HOLD_HOURS", "24")),
        )
    except (ValueError, ArithmeticError) as exc:
        raise SystemExit(f"jobmarket policy settings are invalid: {exc}") from exc
