"""Statistics, the CSV export and the three-colour map data.

Period: cases whose ``reported_at`` falls on an Asia/Shanghai day in [``from``, ``to``] (both optional,
inclusive); sessions whose ``held_on`` does. Figures (source: issue 3 and expected.json's definitions):
- ``by_status``, ``by_category``, ``by_subcategory``, ``by_grade``, ``by_channel``, ``by_estate``, ``by_period``
  (per Asia/Shanghai day or month of ``reported_at``): case counts;
- ``sessions``: night-talk sessions held; ``resolved``: cases whose status is resolved (a re-resolved case
  counts once), ``resolved_by_category``; ``open``: every case not resolved; ``reopened``: cases reopened at
  least once by the evaluation desk;
- ``median_hours_to_resolve``: per grade, median of (latest ``resolved_at`` − ``reported_at``) in hours over
  resolved cases, one decimal;
- ``satisfaction_average``: mean of all ratings (1–5), two decimals; null without ratings.
"""
from __future__ import annotations

import csv
import io
import statistics as stats
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.timeutil import day_start, to_local

from ..models import Case, Evaluation, NightTalkSession
from .lifecycle import OPEN_STATUSES

GRADE_KEYS = ("blue", "yellow", "red", "ungraded")


def _case_filter(stmt, period: dict):
    if period.get("from"):
        stmt = stmt.where(Case.reported_at >= day_start(period["from"]))
    if period.get("to"):
        stmt = stmt.where(Case.reported_at < day_start(period["to"] + timedelta(days=1)))
    return stmt


def summary(session: Session, period: dict, granularity: str = "month") -> dict:
    """The statistics of the period (see the module docstring for each figure)."""
    cases = session.scalars(_case_filter(select(Case), period)).all()
    sessions = select(func.count()).select_from(NightTalkSession)
    if period.get("from"):
        sessions = sessions.where(NightTalkSession.held_on >= period["from"])
    if period.get("to"):
        sessions = sessions.where(NightTalkSession.held_on <= period["to"])
    ids = [c.id for c in cases]
    ratings = []
    for chunk in range(0, len(ids), 500):
        ratings += session.scalars(select(Evaluation.rating).where(Evaluation.case_id.in_(ids[chunk:chunk + 500]))).all()
    fmt = "%Y-%m-%d" if granularity == "day" else "%Y-%m"
    hours: dict[str, list[float]] = {}
    for c in cases:
        if c.status == "resolved" and c.resolved_at is not None:
            hours.setdefault(c.grade or "ungraded", []).append((c.resolved_at - c.reported_at).total_seconds() / 3600)
    resolved = [c for c in cases if c.status == "resolved"]
    return {
        "period": {"from": period.get("from"), "to": period.get("to"), "granularity": granularity},
        "cases": len(cases),
        "by_status": dict(Counter(c.status for c in cases)),
        "by_category": dict(Counter(c.category for c in cases)),
        "by_subcategory": dict(Counter(c.subcategory or "unclassified" for c in cases)),
        "by_grade": dict(Counter(c.grade or "ungraded" for c in cases)),
        "by_channel": dict(Counter(c.channel for c in cases)),
        "by_estate": dict(Counter(c.estate for c in cases)),
        "by_period": dict(sorted(Counter(to_local(c.reported_at).strftime(fmt) for c in cases).items())),
        "sessions": session.scalar(sessions),
        "resolved": len(resolved),
        "resolved_by_category": dict(Counter(c.category for c in resolved)),
        "open": len(cases) - len(resolved),
        "in_progress": sum(1 for c in cases if c.status in OPEN_STATUSES),
        "reopened": sum(1 for c in cases if c.evaluation_reopen_count > 0),
        "median_hours_to_resolve": {g: round(stats.median(v), 1) for g, v in sorted(hours.items())},
        "evaluations": len(ratings),
        "satisfaction_average": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }


CSV_COLUMNS = ("id", "ref", "reported_at", "channel", "category", "subcategory", "estate", "grid", "grade",
               "status", "households_affected", "resolution_count", "resolved_at", "assignee_kind")


def export_csv(session: Session, period: dict) -> str:
    """The period's cases as CSV (UTF-8, header row, times in +08:00), no personal data, oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in session.scalars(_case_filter(select(Case), period).order_by(Case.reported_at, Case.id)):
        row = []
        for col in CSV_COLUMNS:
            value = getattr(c, col)
            if col in ("reported_at", "resolved_at") and value is not None:
                value = to_local(value).isoformat()
            row.append("" if value is None else value)
        writer.writerow(row)
    return out.getvalue()


def three_colour_map(session: Session, estate: str | None = None) -> list[dict]:
    """Open cases per estate and grid by grade: ``[{estate, open, blue, yellow, red, ungraded, colour,
    grids: [{grid, open, blue, yellow, red, ungraded, colour}]}]``; ``colour`` is the worst open grade."""
    stmt = (select(Case.estate, Case.grid, Case.grade, func.count()).where(Case.status.in_(OPEN_STATUSES))
            .group_by(Case.estate, Case.grid, Case.grade))
    if estate:
        stmt = stmt.where(Case.estate == estate)
    estates: dict[str, dict] = {}
    for est, grid, grade, n in session.execute(stmt):
        e = estates.setdefault(est, {"estate": est, "grids": {}, **{k: 0 for k in GRADE_KEYS}})
        g = e["grids"].setdefault(grid, {"grid": grid, **{k: 0 for k in GRADE_KEYS}})
        for bucket in (e, g):
            bucket[grade or "ungraded"] += n
    out = []
    for e in sorted(estates.values(), key=lambda x: x["estate"]):
        grids = sorted(e.pop("grids").values(), key=lambda x: (x["grid"] is None, x["grid"] or ""))
        for bucket in [e, *grids]:
            bucket["open"] = sum(bucket[k] for k in GRADE_KEYS)
            bucket["colour"] = next((k for k in ("red", "yellow", "blue") if bucket[k]), None)
        out.append({**e, "grids": grids})
    return out

