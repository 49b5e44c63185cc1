"""The supervision post: follow-ups of resolutions, their progress and completion, and the overdue board."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import NotFound
from shared.http import Blueprint, command, db
from shared.timeutil import local_day, utcnow

from ..domain import handling, supervision
from ..models import Resolution
from ..schemas import (FollowUpCreateSchema, FollowUpListSchema, FollowUpSchema, OverdueArgs, OverdueBoardSchema,
                       ProgressCreateSchema, StepSchema)
from .cases import cases
from .common import LEADS, STAFF, visible_case

follow_ups = Blueprint("follow_ups", __name__, url_prefix="/follow-ups",
                       description="The supervision post (监督岗): follow-ups and the overdue board")


@cases.route("/<case_id>/follow-ups")
class CaseFollowUpsResource(MethodView):
    @cases.roles(*LEADS, "mediator")
    @cases.arguments(FollowUpCreateSchema)
    @command
    @cases.response(201, FollowUpSchema)
    @cases.problems(404)
    def post(self, data, case_id):
        """Open a follow-up of a resolution (default the latest): task, due day (Asia/Shanghai), responsible
        party. 404 if the case (or that resolution round) does not exist; 422 if due before the resolution."""
        case = visible_case(case_id)
        if data.get("resolution_no"):
            resolution = db().scalars(select(Resolution).where(Resolution.case_id == case.id,
                                                               Resolution.resolution_no == data["resolution_no"])).first()
            if resolution is None:
                raise NotFound("No such resolution round.")
        else:
            resolution = handling.latest_resolution(db(), case)
        return supervision.create(db(), case, resolution, data, current_principal().sub)

    @cases.roles(*STAFF)
    @cases.response(200, FollowUpListSchema)
    @cases.problems(404)
    def get(self, case_id):
        """The case's follow-ups, by due day."""
        return {"items": supervision.of_case(db(), visible_case(case_id))}


@follow_ups.route("/overdue")
class OverdueResource(MethodView):
    @follow_ups.roles(*STAFF)
    @follow_ups.arguments(OverdueArgs, location="query")
    @follow_ups.response(200, OverdueBoardSchema)
    def get(self, args):
        """The overdue board: open follow-ups due before ``as_of`` (Asia/Shanghai day, default today), grouped
        red, yellow, blue, ungraded, oldest due first, with whole days overdue."""
        as_of = args.get("as_of") or local_day(utcnow())
        return {"as_of": as_of, "groups": supervision.overdue_board(db(), as_of)}


@follow_ups.route("/<follow_up_id>/progress")
class ProgressResource(MethodView):
    @follow_ups.roles(*STAFF)
    @follow_ups.arguments(ProgressCreateSchema)
    @command
    @follow_ups.response(200, FollowUpSchema)
    @follow_ups.problems(404, 409)
    def post(self, data, follow_up_id):
        """Add a progress note (``note``, ``at``). 409 once the follow-up is completed."""
        return supervision.add_progress(db(), supervision.get(db(), follow_up_id), data, current_principal().sub)


@follow_ups.route("/<follow_up_id>/completion")
class CompletionResource(MethodView):
    @follow_ups.roles(*LEADS)
    @follow_ups.arguments(StepSchema)
    @command
    @follow_ups.response(200, FollowUpSchema)
    @follow_ups.problems(404, 409)
    def post(self, data, follow_up_id):
        """Complete the follow-up (``at``, ``note``); the last open one of a resolution closes the loop.
        409 if already completed; 422 if ``at`` is before the resolution."""
        return supervision.complete(db(), supervision.get(db(), follow_up_id), data, current_principal().sub)
