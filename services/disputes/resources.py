"""disputes: HTTP resources. Routes parse, call the domain, answer."""
from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_principal
from shared.errors import NotFound
from shared.http import Blueprint, command, db

from .domain import cases as case_rules
from .schemas import CaseCreateSchema, CaseSchema, ResolutionCreateSchema, ResolutionSchema

STAFF = ("grid_worker", "mediator", "supervisor", "admin")

cases = Blueprint("cases", __name__, url_prefix="/cases", description="Cases raised by residents")


@cases.route("")
class CasesResource(MethodView):
    @cases.roles("resident", *STAFF)
    @cases.arguments(CaseCreateSchema)
    @command
    @cases.response(201, CaseSchema)
    @cases.problems(409)
    def post(self, data):
        """Register a case from any channel.

        A resident registers their own case (``reporter_person_id`` is then their own id); staff register on a
        resident's behalf (hotline calls, door-to-door visits). Answers 201 with the case.
        """
        principal = current_principal()
        if not principal.has(*STAFF):
            data["reporter_person_id"] = principal.sub
        return case_rules.register(db(), data, principal.sub)


@cases.route("/<case_id>")
class CaseResource(MethodView):
    @cases.roles("resident", *STAFF)
    @cases.response(200, CaseSchema)
    @cases.problems(404)
    def get(self, case_id):
        """One case. A resident sees only cases they reported (another's answers 404)."""
        principal = current_principal()
        case = case_rules.get(db(), case_id)
        if not principal.has(*STAFF) and case.reporter_person_id != principal.sub:
            raise NotFound("No such case.")
        return case


@cases.route("/<case_id>/resolutions")
class ResolutionsResource(MethodView):
    @cases.roles("mediator", "supervisor", "admin", "grid_worker")
    @cases.arguments(ResolutionCreateSchema)
    @command
    @cases.response(201, ResolutionSchema)
    @cases.problems(404, 409)
    def post(self, data, case_id):
        """Resolve a case: what was decided, and who took part (person ids with roles).

        Publishes ``disputes.case.resolved.v1``; the points service credits eligible participants once per
        case and person. 409 if the case cannot be resolved in its current status.
        """
        resolution = case_rules.resolve(db(), case_id, data, current_principal().sub)
        return resolution


BLUEPRINTS = [cases]
