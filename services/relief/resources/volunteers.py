"""Volunteer services: activities, shifts, sign-ups, check-in and check-out."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import NotFound, Unprocessable, field_error
from shared.http import Blueprint, command, db
from shared.pagination import PageArgs, paginate

from ..domain import volunteers as rules
from ..models import ShiftSignup, VolunteerActivity, VolunteerShift
from ..schemas import (ActivityCreateSchema, ActivityPage, ActivitySchema, MomentSchema, ShiftArgs, ShiftCreateSchema,
                       ShiftPage, ShiftSchema, SignupArgs, SignupCreateSchema, SignupPage, SignupSchema)
from .common import COMMUNITY

blp = Blueprint("volunteers", __name__, url_prefix="",
                description="Volunteer services: meal delivery rounds, free haircuts, clean-ups; shifts and hours")

SEE_SHIFTS = ("volunteer", "community_staff", "auditor", "admin")
STAFF_VIEW = ("community_staff", "auditor", "admin")


def _own_signup(signup_id: str) -> ShiftSignup:
    """The sign-up; a volunteer who is not staff sees only their own (another's answers 404)."""
    signup = rules.get_signup(db(), signup_id)
    principal = current_principal()
    if not principal.has(*STAFF_VIEW) and signup.person_id != principal.sub:
        raise NotFound("No such sign-up.")
    return signup


@blp.route("/volunteer-activities")
class Activities(MethodView):
    @blp.roles(*COMMUNITY)
    @blp.arguments(ActivityCreateSchema)
    @command
    @blp.response(201, ActivitySchema)
    def post(self, data):
        """Create an activity: ``kind`` (meal_delivery, haircut, environment_cleanup), ``title``, ``community``."""
        return rules.create_activity(db(), data, current_principal().sub)

    @blp.roles(*SEE_SHIFTS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ActivityPage)
    def get(self, args):
        """Activities, oldest first (cursor pages)."""
        return paginate(db(), select(VolunteerActivity), VolunteerActivity.created_at, VolunteerActivity.id, args)


@blp.route("/volunteer-activities/<activity_id>")
class ActivityResource(MethodView):
    @blp.roles(*SEE_SHIFTS)
    @blp.response(200, ActivitySchema)
    @blp.problems(404)
    def get(self, activity_id):
        """One activity."""
        return rules.get_activity(db(), activity_id)


@blp.route("/volunteer-activities/<activity_id>/shifts")
class ActivityShifts(MethodView):
    @blp.roles(*COMMUNITY)
    @blp.arguments(ShiftCreateSchema)
    @command
    @blp.response(201, ShiftSchema)
    @blp.problems(404)
    def post(self, data, activity_id):
        """Add a shift: ``starts_at``–``ends_at`` (at most 24 hours), ``capacity`` (volunteers), ``place``."""
        return rules.create_shift(db(), activity_id, data, current_principal().sub)


@blp.route("/volunteer-shifts")
class Shifts(MethodView):
    @blp.roles(*SEE_SHIFTS)
    @blp.arguments(ShiftArgs, location="query")
    @blp.response(200, ShiftPage)
    def get(self, args):
        """Shifts by start time (cursor pages; filter by activity), with places booked."""
        return paginate(db(), rules.shifts_stmt(args.get("activity_id")), VolunteerShift.starts_at,
                        VolunteerShift.id, args)


@blp.route("/volunteer-shifts/<shift_id>")
class ShiftResource(MethodView):
    @blp.roles(*SEE_SHIFTS)
    @blp.response(200, ShiftSchema)
    @blp.problems(404)
    def get(self, shift_id):
        """One shift with its capacity and places booked."""
        return rules.get_shift(db(), shift_id)


@blp.route("/volunteer-shifts/<shift_id>/signups")
class ShiftSignups(MethodView):
    @blp.roles("volunteer", *COMMUNITY)
    @blp.arguments(SignupCreateSchema)
    @command
    @blp.response(201, SignupSchema)
    @blp.problems(404, 409)
    def post(self, data, shift_id):
        """Sign up for a shift: a volunteer signs themselves up; staff sign up ``person_id``.

        Never over-booked: 409 ``shift-full`` once the capacity is taken, however many arrive together;
        409 ``already-signed-up``; 409 ``shift-over`` if signed up after the shift ended. Accepts
        ``Idempotency-Key``.
        """
        principal = current_principal()
        if principal.has(*COMMUNITY):
            person_id = data.get("person_id") or principal.sub
        else:
            if data.get("person_id") not in (None, principal.sub):
                raise Unprocessable("A volunteer signs up only themselves.",
                                    errors=field_error("person_id", "Your own id, or leave it out."))
            person_id = principal.sub
        return rules.sign_up(db(), shift_id, person_id, data.get("signed_up_at"), principal.sub)


@blp.route("/shift-signups")
class Signups(MethodView):
    @blp.roles(*SEE_SHIFTS)
    @blp.arguments(SignupArgs, location="query")
    @blp.response(200, SignupPage)
    def get(self, args):
        """Sign-ups oldest first (cursor pages). A volunteer sees only their own."""
        principal = current_principal()
        person_id = args.get("person_id") if principal.has(*STAFF_VIEW) else principal.sub
        return paginate(db(), rules.signups_stmt(args.get("shift_id"), person_id), ShiftSignup.created_at,
                        ShiftSignup.id, args)


@blp.route("/shift-signups/<signup_id>")
class SignupResource(MethodView):
    @blp.roles(*SEE_SHIFTS)
    @blp.response(200, SignupSchema)
    @blp.problems(404)
    def get(self, signup_id):
        """One sign-up (a volunteer: only their own)."""
        return _own_signup(signup_id)


@blp.route("/shift-signups/<signup_id>/cancel")
class Cancel(MethodView):
    @blp.roles("volunteer", *COMMUNITY)
    @command
    @blp.response(200, SignupSchema)
    @blp.problems(404, 409)
    def post(self, signup_id):
        """Cancel before check-in; the place is given back. 409 after check-in."""
        _own_signup(signup_id)
        return rules.cancel(db(), signup_id, current_principal().sub)


@blp.route("/shift-signups/<signup_id>/check-in")
class CheckIn(MethodView):
    @blp.roles(*COMMUNITY)
    @blp.arguments(MomentSchema)
    @command
    @blp.response(200, SignupSchema)
    @blp.problems(404, 409)
    def post(self, data, signup_id):
        """The volunteer arrived at ``at`` (default now; from an hour before the shift until its end)."""
        return rules.check_in(db(), signup_id, data.get("at"), current_principal().sub)


@blp.route("/shift-signups/<signup_id>/check-out")
class CheckOut(MethodView):
    @blp.roles(*COMMUNITY)
    @blp.arguments(MomentSchema)
    @command
    @blp.response(200, SignupSchema)
    @blp.problems(404, 409)
    def post(self, data, signup_id):
        """The volunteer left at ``at``: ``hours`` = time since check-in (hours, two decimals, half up).
        Publishes ``relief.volunteer_shift.completed.v1``; the points service credits it. 409 unless checked in."""
        return rules.check_out(db(), signup_id, data.get("at"), current_principal().sub)
