"""Reports: meals and subsidy, bed use, tool loans and overdue, jobs filled and wages, and a summary."""
from __future__ import annotations

from flask.views import MethodView

from shared.http import Blueprint, db
from shared.timeutil import utcnow

from ..domain import reports as report_rules
from ..schemas import JobReportSchema, MealReportSchema, NapReportSchema, ReportArgs, SummarySchema, ToolReportSchema
from .access import STAFF

reports = Blueprint("reports", __name__, url_prefix="/reports", description="Reports by day and month")


@reports.route("/meals")
class MealReport(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(ReportArgs, location="query")
    @reports.response(200, MealReportSchema)
    def get(self, args):
        """Meals served and subsidy over [``from``, ``to``] (Asia/Shanghai days), by ``group_by`` day or month.

        A meal counts when its ticket is served; subsidy = Σ (cost − price) of the meals served, each at its
        own day's tariff (yuan strings, exact). ``days_over_30``: days that served more than 30 meals.
        """
        return report_rules.meal_report(db(), args.get("from"), args.get("to"), args["group_by"])


@reports.route("/naps")
class NapReport(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(ReportArgs, location="query")
    @reports.response(200, NapReportSchema)
    def get(self, args):
        """Bed use over the period: requests (refused ones included), accepted, refused (lobby seat offered),
        checked in, cancelled, released; beds in service now."""
        return report_rules.nap_report(db(), args.get("from"), args.get("to"), args["group_by"])


@reports.route("/tools")
class ToolReport(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(ReportArgs, location="query")
    @reports.response(200, ToolReportSchema)
    def get(self, args):
        """Tool loans lent in the period, returned, overdue now and notified, repairs; the inventory by kind
        and status now."""
        return report_rules.tool_report(db(), args.get("from"), args.get("to"), utcnow())


@reports.route("/jobs")
class JobReport(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(ReportArgs, location="query")
    @reports.response(200, JobReportSchema)
    def get(self, args):
        """Jobs by work day: posted, places, places filled, completed, worker-days and wages (yuan)."""
        return report_rules.job_report(db(), args.get("from"), args.get("to"), args["group_by"])


@reports.route("/summary")
class Summary(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(ReportArgs, location="query")
    @reports.response(200, SummarySchema)
    def get(self, args):
        """The headline figures over the period in one answer: meals_served, meal_price, meal_cost,
        subsidy_total, days, busiest_day_meals, days_over_30, nap_beds, nap_requests, nap_accepted,
        nap_refused, tool_loans, tools_overdue, jobs_completed, places_filled, wages_total."""
        start, end = args.get("from"), args.get("to")
        meals = report_rules.meal_report(db(), start, end, "month")
        naps = report_rules.nap_report(db(), start, end, "month")
        tools = report_rules.tool_report(db(), start, end, utcnow())
        jobs = report_rules.job_report(db(), start, end, "month")
        return {"from": start, "to": end,
                **{k: meals[k] for k in ("meals_served", "meal_price", "meal_cost", "subsidy_total", "days",
                                         "busiest_day_meals", "days_over_30")},
                **{k: naps[k] for k in ("nap_beds", "nap_requests", "nap_accepted", "nap_refused")},
                "tool_loans": tools["loans"], "tools_overdue": tools["overdue_now"],
                "jobs_completed": jobs["jobs_completed"], "places_filled": jobs["places_filled"],
                "wages_total": jobs["wages_total"]}
