"""Statistics, the CSV export, the three-colour map and the configured policy."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView

from shared.http import Blueprint, db

from ..domain import statistics
from ..domain.policy import suggest_grade
from ..schemas import MapArgs, MapSchema, PeriodArgs, PolicySchema, StatisticsArgs, StatisticsSchema
from .common import STAFF, policy

reports = Blueprint("reports", __name__, url_prefix="", description="Statistics, export, map and policy")


@reports.route("/statistics")
class StatisticsResource(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(StatisticsArgs, location="query")
    @reports.response(200, StatisticsSchema)
    def get(self, args):
        """Counts by status, category, subcategory, grade, channel, estate and day or month (Asia/Shanghai) of
        the cases reported in [``from``, ``to``]; sessions held; resolved (by category), open, reopened; median
        hours to resolve per grade; satisfaction average (1–5). Definitions: ``domain/statistics.py``."""
        return statistics.summary(db(), args, args.get("granularity", "month"))


@reports.route("/statistics/cases.csv")
class ExportResource(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(PeriodArgs, location="query")
    @reports.response(200, content_type="text/csv", description="CSV, UTF-8, header row; no personal data")
    @reports.doc(responses={"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args):
        """The cases reported in [``from``, ``to``] (Asia/Shanghai days) as CSV, oldest first."""
        return Response(statistics.export_csv(db(), args), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="cases.csv"'})


@reports.route("/map")
class MapResource(MethodView):
    @reports.arguments(MapArgs, location="query")
    @reports.response(200, MapSchema)
    def get(self, args):
        """Public, no login (counts only): the three-colour map — open cases per estate and grid by grade, and
        each one's colour (its worst open grade)."""
        return {"estates": statistics.three_colour_map(db(), args.get("estate"))}


@reports.route("/policy")
class PolicyResource(MethodView):
    @reports.response(200, PolicySchema)
    def get(self):
        """Public: the configured channels, categories and subcategories, deadlines per grade, the reopen
        threshold, and the grading rule in words."""
        p = policy()
        return {"channels": list(p.channels), "categories": {k: list(v) for k, v in p.categories.items()},
                "deadline_days": p.deadline_days, "reopen_threshold": p.reopen_threshold,
                "grading_rule": suggest_grade.__doc__.split("Source:")[0].strip()}
