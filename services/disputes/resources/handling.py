"""Handling a case: grading, assignment, mediation, resolution, referral, closure, reopening (lifecycle table)."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.http import command, db

from ..domain import grading, handling
from ..models import Assignment, Resolution
from ..schemas import (AssignmentCreateSchema, AssignmentSchema, CaseSchema, ClosureSchema, GradeChangeSchema,
                       GradeCreateSchema, GradeHistorySchema, ReferralSchema, ResolutionCreateSchema,
                       ResolutionListSchema, ResolutionSchema, StepSchema)
from .cases import cases
from .common import HANDLERS, LEADS, STAFF, case_view, policy, visible_case


@cases.route("/<case_id>/grades")
class GradesResource(MethodView):
    @cases.roles(*STAFF)
    @cases.arguments(GradeCreateSchema)
    @command
    @cases.response(201, GradeChangeSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """Grade or regrade: factors 1–3 give ``suggested_grade`` (total ≥ 7 or social_impact 3 → red; total 3 →
        blue; else yellow); ``grade`` may override it with a ``reason`` (422 without). Sets ``deadline_at``
        (end of the Asia/Shanghai day N days after grading; N per grade, configurable); red escalates at once.
        Publishes ``disputes.case.graded.v1``. 409 for a resolved, referred or closed case."""
        return grading.grade(db(), policy(), visible_case(case_id), data, current_principal().sub)

    @cases.roles(*STAFF)
    @cases.response(200, GradeHistorySchema)
    @cases.problems(404)
    def get(self, case_id):
        """Every grading of the case (factors, suggestion, grade, previous grade, reason, deadline), oldest first."""
        return {"items": grading.history(db(), visible_case(case_id))}


@cases.route("/<case_id>/assignments")
class AssignmentsResource(MethodView):
    @cases.roles(*LEADS, "grid_worker")
    @cases.arguments(AssignmentCreateSchema)
    @command
    @cases.response(201, AssignmentSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """Assign or reassign to a grid worker (person_id), the mediation team or a deliberation group.
        Publishes ``disputes.case.assigned.v1``. 409 for an ungraded (received) or ended case."""
        return handling.assign(db(), visible_case(case_id), data, current_principal().sub)

    @cases.roles(*STAFF)
    @cases.response(200, AssignmentSchema(many=True))
    @cases.problems(404)
    def get(self, case_id):
        """The case's assignments, oldest first."""
        case = visible_case(case_id)
        return db().scalars(select(Assignment).where(Assignment.case_id == case.id)
                            .order_by(Assignment.assigned_at, Assignment.id)).all()


@cases.route("/<case_id>/mediation")
class MediationResource(MethodView):
    @cases.roles(*HANDLERS)
    @cases.arguments(StepSchema)
    @command
    @cases.response(200, CaseSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """Mark that mediation began (``at``, ``note``): graded/assigned/reopened → in_mediation; 409 otherwise."""
        return case_view(handling.start_mediation(db(), visible_case(case_id), data, current_principal().sub))


@cases.route("/<case_id>/resolutions")
class ResolutionsResource(MethodView):
    @cases.roles(*HANDLERS)
    @cases.arguments(ResolutionCreateSchema)
    @command
    @cases.response(201, ResolutionSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """Resolve a case: what was decided, who took part (person ids with roles), optionally at which
        night-talk session (``session_id`` or ``session_ref``: same estate, same Asia/Shanghai day as
        ``resolved_at``), the responsible party and a due day (opens a supervision follow-up).

        Publishes ``disputes.case.resolved.v1``; the points service credits eligible participants once per
        case and person. 409 if the case cannot be resolved in its current status; 422 for a bad session.
        """
        return handling.resolve(db(), visible_case(case_id), data, current_principal().sub)

    @cases.roles("resident", *STAFF)
    @cases.response(200, ResolutionListSchema)
    @cases.problems(404)
    def get(self, case_id):
        """The case's resolution rounds (1, 2… per reopening) with participants; a resident only their own."""
        case = visible_case(case_id)
        return {"items": db().scalars(select(Resolution).where(Resolution.case_id == case.id)
                                      .order_by(Resolution.resolution_no)).all()}


@cases.route("/<case_id>/referral")
class ReferralResource(MethodView):
    @cases.roles("mediator", *LEADS)
    @cases.arguments(ReferralSchema)
    @command
    @cases.response(200, CaseSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """Refer the case to an outside body (e.g. a property company, a court). Publishes
        ``disputes.case.referred.v1``. 409 unless graded, assigned, in mediation or reopened."""
        return case_view(handling.refer(db(), visible_case(case_id), data, current_principal().sub))


@cases.route("/<case_id>/closure")
class ClosureResource(MethodView):
    @cases.roles(*LEADS)
    @cases.arguments(ClosureSchema)
    @command
    @cases.response(200, CaseSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """Close the case unresolved (withdrawn, duplicate of another case, out of scope, unreachable).
        Publishes ``disputes.case.closed.v1``. 409 for a resolved, referred or closed case."""
        return case_view(handling.close(db(), visible_case(case_id), data, current_principal().sub))


@cases.route("/<case_id>/reopening")
class ReopeningResource(MethodView):
    @cases.roles(*LEADS)
    @cases.arguments(StepSchema)
    @command
    @cases.response(200, CaseSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """The supervision post reopens a resolved case (``note``, ``at``). Publishes
        ``disputes.case.reopened.v1`` (reason supervisor). 409 unless resolved."""
        from shared.timeutil import utcnow
        case = visible_case(case_id)
        return case_view(handling.reopen(db(), case, reason="supervisor", actor=current_principal().sub,
                                         at=data.get("at") or utcnow(), note_text=data.get("note")))
