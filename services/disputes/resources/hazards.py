"""Hazard photo reports (随手拍): report, read, list, verify, reject."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import NotFound, Unprocessable, field_error
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import hazards as hazard_rules
from ..models import HazardReport
from ..schemas import (DecisionCreateSchema, HazardCreateSchema, HazardListArgs, HazardPage, HazardSchema,
                       RejectionCreateSchema)
from .common import STAFF, is_staff

hazards = Blueprint("hazard_reports", __name__, url_prefix="/hazard-reports",
                    description="Hazard photo reports (随手拍安全隐患)")


def _visible(report_id: str) -> HazardReport:
    row = hazard_rules.get(db(), report_id)
    if not is_staff() and row.reporter_person_id != current_principal().sub:
        raise NotFound("No such hazard report.")
    return row


@hazards.route("")
class HazardsResource(MethodView):
    @hazards.roles("resident", *STAFF)
    @hazards.arguments(HazardCreateSchema)
    @command
    @hazards.response(201, HazardSchema)
    def post(self, data):
        """Report a hazard: photo (media reference), estate, location, grid?, description?, reported_at?.
        A resident reports as themself; staff may record for ``reporter_person_id`` (422 without it)."""
        principal = current_principal()
        reporter = data.pop("reporter_person_id", None)
        if not is_staff():
            reporter = principal.sub
        elif reporter is None:
            raise Unprocessable("Staff record a report for a resident.",
                                errors=field_error("reporter_person_id", "Required when staff report."))
        return hazard_rules.report(db(), data, reporter, principal.sub)

    @hazards.roles("resident", *STAFF)
    @hazards.arguments(HazardListArgs, location="query")
    @hazards.response(200, HazardPage)
    def get(self, args):
        """Reports, oldest first, by status and estate; a resident sees only their own. Cursor-paginated."""
        stmt = select(HazardReport)
        if not is_staff():
            stmt = stmt.where(HazardReport.reporter_person_id == current_principal().sub)
        for key in ("status", "estate"):
            if args.get(key):
                stmt = stmt.where(getattr(HazardReport, key) == args[key])
        return paginate(db(), stmt, HazardReport.reported_at, HazardReport.id, args)


@hazards.route("/<report_id>")
class HazardResource(MethodView):
    @hazards.roles("resident", *STAFF)
    @hazards.response(200, HazardSchema)
    @hazards.problems(404)
    def get(self, report_id):
        """One report; a resident sees only their own (404 otherwise)."""
        return _visible(report_id)


@hazards.route("/<report_id>/verification")
class VerificationResource(MethodView):
    @hazards.roles("grid_worker", "admin")
    @hazards.arguments(DecisionCreateSchema)
    @command
    @hazards.response(200, HazardSchema)
    @hazards.problems(404, 409)
    def post(self, data, report_id):
        """Verify a pending report (``at``, ``note``). Publishes ``disputes.hazard_report.verified.v1`` (the
        points service credits the reporter). 409 if already verified or rejected."""
        return hazard_rules.verify(db(), hazard_rules.get(db(), report_id), data, current_principal().sub)


@hazards.route("/<report_id>/rejection")
class RejectionResource(MethodView):
    @hazards.roles("grid_worker", "admin")
    @hazards.arguments(RejectionCreateSchema)
    @command
    @hazards.response(200, HazardSchema)
    @hazards.problems(404, 409)
    def post(self, data, report_id):
        """Reject a pending report with the reason (``note``). No event. 409 if already decided."""
        return hazard_rules.reject(db(), hazard_rules.get(db(), report_id), data, current_principal().sub)
