"""The evaluation desk and the feedback wall (public, masked)."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import desk
from ..models import Case, Feedback
from ..schemas import (EvaluationCreateSchema, EvaluationListSchema, EvaluationSchema, FeedbackCreateSchema,
                       FeedbackSchema, WallArgs, WallPage)
from .cases import cases
from .common import LEADS, STAFF, is_staff, policy, visible_case

wall = Blueprint("feedback_wall", __name__, url_prefix="/feedback-wall",
                 description="The public feedback wall (回音壁): progress notes and replies, masked")


@cases.route("/<case_id>/evaluations")
class EvaluationsResource(MethodView):
    @cases.roles("resident", *LEADS)
    @cases.arguments(EvaluationCreateSchema)
    @command
    @cases.response(201, EvaluationSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """Rate the latest resolution 1–5 with a comment (the reporter; the evaluation desk staff may record it
        for them, with ``evaluated_at``). Once per resolution (409 ``already-evaluated``); only a resolved case
        (409 ``not-resolved``). A rating ≤ the reopen threshold (default 2) reopens the case. Publishes
        ``disputes.case.evaluated.v1`` (and ``disputes.case.reopened.v1``)."""
        return desk.evaluate(db(), policy(), visible_case(case_id), data, current_principal().sub)

    @cases.roles("resident", *STAFF)
    @cases.response(200, EvaluationListSchema)
    @cases.problems(404)
    def get(self, case_id):
        """The ratings given to the case's resolutions, by round."""
        return {"items": desk.evaluations(db(), visible_case(case_id))}


@cases.route("/<case_id>/feedback")
class FeedbackResource(MethodView):
    @cases.roles("resident", *STAFF)
    @cases.arguments(FeedbackCreateSchema)
    @command
    @cases.response(201, FeedbackSchema)
    @cases.problems(404)
    def post(self, data, case_id):
        """Add a progress note, reply or private note (staff) or a message (the reporter) to the case. Public
        ones appear on the feedback wall, masked; ``kind: note`` is always private."""
        return desk.add_feedback(db(), visible_case(case_id), data, current_principal().sub, staff=is_staff())

    @cases.roles("resident", *STAFF)
    @cases.response(200, FeedbackSchema(many=True))
    @cases.problems(404)
    def get(self, case_id):
        """The case's feedback, oldest first, unmasked for its own reporter and staff; private notes for staff."""
        case = visible_case(case_id)
        stmt = select(Feedback).where(Feedback.case_id == case.id)
        if not is_staff():
            stmt = stmt.where(Feedback.public.is_(True))
        return db().scalars(stmt.order_by(Feedback.at, Feedback.id)).all()


@wall.route("")
class WallResource(MethodView):
    @wall.arguments(WallArgs, location="query")
    @wall.response(200, WallPage)
    def get(self, args):
        """Public, no login: progress notes and replies, newest first, optionally of one estate or case.
        Reporter names are masked (张*), phone numbers masked everywhere, in free text too (138****1234);
        private notes never appear. Cursor-paginated."""
        page = paginate(db(), desk.wall_stmt(args), Feedback.at, Feedback.id, args, descending=True)
        return {"items": [desk.wall_item(f, db().get(Case, f.case_id)) for f in page["items"]],
                "next_cursor": page["next_cursor"]}
