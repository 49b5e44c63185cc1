"""Manual credits by staff, and the decisions recorded when a credit was capped, refused or a duplicate."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import credits as credit_rules
from ..models import CreditDecision
from ..schemas import CreditOutcomeSchema, DecisionArgs, DecisionPage, ManualCreditSchema
from .common import STAFF

credits = Blueprint("credits", __name__, url_prefix="", description="Manual credits and credit decisions")


@credits.route("/credits")
class ManualCreditsResource(MethodView):
    @credits.roles(*STAFF)
    @credits.arguments(ManualCreditSchema)
    @command
    @credits.response(201, CreditOutcomeSchema)
    @credits.problems(404)
    def post(self, data):
        """Credit a resident (``person_id``) or a merchant (``merchant_ref``) by hand, e.g. for a clean-up day,
        with a ``reason``, under scoring rule ``rule`` in force at ``occurred_at``: ``hours`` (decimal string,
        points = floor(hours × points per hour)) for hour rules, ``quantity`` for per-unit rules, ``points``
        for appraisal rules. The rule's caps apply: the answer says ``credited``, ``capped`` or ``refused``
        with the reason. Send an ``Idempotency-Key`` to make a retry safe. 404: no such merchant; 422: no
        such rule in force, units missing."""
        return credit_rules.manual_credit(db(), data, current_principal().sub)


@credits.route("/credit-decisions")
class DecisionsResource(MethodView):
    @credits.roles(*STAFF)
    @credits.arguments(DecisionArgs, location="query")
    @credits.response(200, DecisionPage)
    def get(self, args):
        """Why credits were capped, refused or skipped as duplicates, oldest first (cursor pages)."""
        stmt = select(CreditDecision)
        if args.get("person_id"):
            stmt = stmt.where(CreditDecision.person_id == args["person_id"])
        if args.get("outcome"):
            stmt = stmt.where(CreditDecision.outcome == args["outcome"])
        return paginate(db(), stmt, CreditDecision.created_at, CreditDecision.id, args)
