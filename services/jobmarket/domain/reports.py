"""Reports: meals and subsidy, bed use, tool loans and overdue, jobs filled and wages, by day and month.

Every figure is computed from the records (never stored totals): a meal counts when its ticket was served;
subsidy per meal is the ticket's own cost − price (exact decimals, summed without rounding). Days are the
records' Asia/Shanghai days (``served_on``, ``nap_on``, ``work_on``), so the server's time zone never moves
a meal into another day. Periods are inclusive day ranges; omitted bounds mean "from the first" / "to the last".
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from shared.timeutil import day_start, local_day, utcnow

from ..models import Dispatch, Job, MealDay, MealTicket, NapReservation, Tool, ToolLoan, ToolRepair
from . import meals, naps

#: ``days_over_30``: days that served more than 30 meals (the portions the canteen prepares on a normal day).
BUSY_THRESHOLD = 30
ZERO = Decimal("0.00")


def _between(column, start: date | None, end: date | None):
    conds = []
    if start is not None:
        conds.append(column >= start)
    if end is not None:
        conds.append(column <= end)
    return and_(True, *conds)


def meal_report(session: Session, start: date | None, end: date | None, group_by: str = "day") -> dict:
    """Meals served and subsidy over [start, end].

    Returns ``{meals_served, tickets_issued, meal_days, days, busiest_day_meals, days_over_30, meal_price,
    meal_cost, subsidy_per_meal, paid_total, cost_total, subsidy_total, periods: [{period, meals_served,
    tickets_issued, capacity, paid_total, cost_total, subsidy_total}]}``; money as Decimal (yuan).
    ``meal_price``/``meal_cost`` are the tariff in effect on the period's last day. ``days``: days with at
    least one meal served.
    """
    where = _between(MealTicket.served_on, start, end)
    rows = session.execute(select(MealTicket.served_on, MealTicket.status, func.count(),
                                  func.sum(MealTicket.price), func.sum(MealTicket.cost))
                           .where(where).group_by(MealTicket.served_on, MealTicket.status)).all()
    days = session.execute(select(MealDay.served_on, MealDay.capacity)
                           .where(_between(MealDay.served_on, start, end))).all()
    per_day: dict[date, dict] = defaultdict(lambda: {"meals_served": 0, "tickets_issued": 0, "capacity": 0,
                                                      "paid_total": ZERO, "cost_total": ZERO})
    for day, capacity in days:
        per_day[day]["capacity"] = capacity
    if rows and session.get_bind().dialect.name == "sqlite":
        rows = _exact_sums(session, where)  # SQLite sums strings as floats: add the decimals here
    for day, status, count, paid, cost in rows:
        d = per_day[day]
        d["tickets_issued"] += count
        if status == "served":
            d["meals_served"] += count
            d["paid_total"] += Decimal(paid or 0)
            d["cost_total"] += Decimal(cost or 0)
    served_days = [d for d in per_day.values() if d["meals_served"]]
    last = end or (max(per_day) if per_day else local_day(utcnow()))
    price, cost = meals.tariff_on(session, last)
    paid_total = sum((d["paid_total"] for d in per_day.values()), ZERO)
    cost_total = sum((d["cost_total"] for d in per_day.values()), ZERO)
    return {
        "from": start, "to": end,
        "meals_served": sum(d["meals_served"] for d in per_day.values()),
        "tickets_issued": sum(d["tickets_issued"] for d in per_day.values()),
        "meal_days": len(days), "days": len(served_days),
        "busiest_day_meals": max((d["meals_served"] for d in served_days), default=0),
        "days_over_30": sum(1 for d in served_days if d["meals_served"] > BUSY_THRESHOLD),
        "meal_price": price, "meal_cost": cost, "subsidy_per_meal": cost - price,
        "paid_total": paid_total, "cost_total": cost_total, "subsidy_total": cost_total - paid_total,
        "periods": _periods(per_day, group_by, ("meals_served", "tickets_issued", "capacity", "paid_total",
                                                "cost_total"),
                            extra=lambda p: {"subsidy_total": p["cost_total"] - p["paid_total"]}),
    }


def _exact_sums(session: Session, where) -> list:
    out: dict = {}
    for day, status, price, cost in session.execute(select(MealTicket.served_on, MealTicket.status,
                                                           MealTicket.price, MealTicket.cost).where(where)):
        row = out.setdefault((day, status), [day, status, 0, ZERO, ZERO])
        row[2] += 1
        row[3] += price
        row[4] += cost
    return [tuple(r) for r in out.values()]


def _periods(per_day: dict, group_by: str, keys: tuple, extra=None) -> list[dict]:
    grouped: dict[str, dict] = {}
    for day in sorted(per_day):
        label = day.isoformat() if group_by == "day" else day.strftime("%Y-%m")
        g = grouped.setdefault(label, {"period": label, **{
            k: ZERO if isinstance(per_day[day][k], Decimal) else 0 for k in keys}})
        for k in keys:
            g[k] += per_day[day][k]
    out = list(grouped.values())
    if extra:
        for g in out:
            g.update(extra(g))
    return out


def nap_report(session: Session, start: date | None, end: date | None, group_by: str = "day") -> dict:
    """Bed use over [start, end]: ``{nap_beds (in service now), nap_requests (all, refused included),
    nap_accepted, nap_refused, checked_in, cancelled, released, lobby_seats_offered, periods: [...]}``."""
    rows = session.execute(select(NapReservation.nap_on, NapReservation.status, func.count())
                           .where(_between(NapReservation.nap_on, start, end))
                           .group_by(NapReservation.nap_on, NapReservation.status)).all()
    keys = ("nap_requests", "nap_accepted", "nap_refused", "reserved", "checked_in", "cancelled", "released")
    per_day: dict[date, dict] = defaultdict(lambda: {k: 0 for k in keys})
    for day, status, count in rows:
        d = per_day[day]
        d["nap_requests"] += count
        d["nap_refused" if status == "refused" else "nap_accepted"] += count
        if status != "refused":
            d[status] += count
    totals = {k: sum(d[k] for d in per_day.values()) for k in keys}
    return {"from": start, "to": end, "nap_beds": naps.beds_in_service(session), **totals,
            "lobby_seats_offered": totals["nap_refused"], "periods": _periods(per_day, group_by, keys)}


def tool_report(session: Session, start: date | None, end: date | None, now: datetime) -> dict:
    """Tool loans over [start, end] (by the day lent) and the state now: ``{tools, by_status, by_kind:
    [{kind, tools, loans, on_loan, overdue}], loans, returned, overdue_now, overdue_notified, repairs_opened}``."""
    lent = _between(ToolLoan.lent_at, day_start(start) if start else None, None)
    if end is not None:
        lent = and_(lent, ToolLoan.lent_at < day_start(end + timedelta(days=1)))
    tools = dict(session.execute(select(Tool.kind, func.count()).group_by(Tool.kind)).all())
    by_status = dict(session.execute(select(Tool.status, func.count()).group_by(Tool.status)).all())
    loans = dict(session.execute(select(ToolLoan.kind, func.count()).where(lent).group_by(ToolLoan.kind)).all())
    on_loan = dict(session.execute(select(ToolLoan.kind, func.count()).where(ToolLoan.status == "on_loan")
                                   .group_by(ToolLoan.kind)).all())
    overdue = dict(session.execute(select(ToolLoan.kind, func.count()).where(ToolLoan.status == "on_loan",
                                                                           ToolLoan.due_at <= now)
                                   .group_by(ToolLoan.kind)).all())
    kinds = sorted(set(tools) | set(loans))
    return {
        "from": start, "to": end, "tools": sum(tools.values()), "by_status": by_status,
        "by_kind": [{"kind": k, "tools": tools.get(k, 0), "loans": loans.get(k, 0), "on_loan": on_loan.get(k, 0),
                     "overdue": overdue.get(k, 0)} for k in kinds],
        "loans": sum(loans.values()),
        "returned": session.scalar(select(func.count()).select_from(ToolLoan).where(lent, ToolLoan.status == "returned")),
        "overdue_now": sum(overdue.values()),
        "overdue_notified": session.scalar(select(func.count()).select_from(ToolLoan)
                                           .where(lent, ToolLoan.overdue_notified_at.is_not(None))),
        "repairs_opened": session.scalar(select(func.count()).select_from(ToolRepair).where(
            _between(ToolRepair.opened_at, day_start(start) if start else None, None))),
    }


def job_report(session: Session, start: date | None, end: date | None, group_by: str = "day") -> dict:
    """Jobs over [start, end] by work day: ``{jobs_posted, places, places_filled, jobs_completed,
    worker_days, wages_total (yuan), periods: [...]}``; ``places_filled`` counts standing or completed
    dispatches."""
    jobs = session.scalars(select(Job).where(_between(Job.work_on, start, end))).all()
    keys = ("jobs_posted", "places", "places_filled", "jobs_completed", "worker_days", "wages_total")
    per_day: dict[date, dict] = defaultdict(lambda: {k: (ZERO if k == "wages_total" else 0) for k in keys})
    dispatches = session.execute(select(Dispatch.job_id, Dispatch.status, Dispatch.days, Dispatch.wage)
                                 .where(_between(Dispatch.work_on, start, end),
                                        Dispatch.status != "cancelled")).all()
    work_on = {j.id: j.work_on for j in jobs}
    for j in jobs:
        d = per_day[j.work_on]
        d["jobs_posted"] += 1
        d["places"] += j.headcount
        d["jobs_completed"] += j.status == "completed"
    for job_id, status, days, wage in dispatches:
        if job_id not in work_on:
            continue
        d = per_day[work_on[job_id]]
        d["places_filled"] += 1
        if status == "completed":
            d["worker_days"] += days or 0
            d["wages_total"] += wage or ZERO
    totals = {k: sum((d[k] for d in per_day.values()), ZERO if k == "wages_total" else 0) for k in keys}
    return {"from": start, "to": end, **totals, "periods": _periods(per_day, group_by, keys)}
