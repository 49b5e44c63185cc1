"""Disbursements: their payment results (paid, failed) and reissues."""
from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_principal
from shared.http import Blueprint, command, db

from ..domain import disbursements as rules
from ..schemas import DisbursementSchema, FailedSchema, PaidSchema
from .common import CLERKS

blp = Blueprint("disbursements", __name__, url_prefix="/disbursements",
                description="Assistance payments (救助金发放): paid, failed, reissued")


@blp.route("/<disbursement_id>")
class DisbursementResource(MethodView):
    @blp.roles("clerk", "auditor", "admin")
    @blp.response(200, DisbursementSchema)
    @blp.problems(404)
    def get(self, disbursement_id):
        """One disbursement with its payment attempts."""
        return rules.get(db(), disbursement_id)


@blp.route("/<disbursement_id>/paid")
class Paid(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(PaidSchema)
    @command
    @blp.response(200, DisbursementSchema)
    @blp.problems(404, 409)
    def post(self, data, disbursement_id):
        """The payment arrived on ``paid_on`` (not before the decision). Publishes ``relief.disbursement.made.v1``
        once per disbursement, even after reissues. 409 unless issued."""
        return rules.mark_paid(db(), disbursement_id, data, current_principal().sub)


@blp.route("/<disbursement_id>/failed")
class Failed(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(FailedSchema)
    @command
    @blp.response(200, DisbursementSchema)
    @blp.problems(404, 409)
    def post(self, data, disbursement_id):
        """The payment failed (``reason`` as a code). Publishes ``relief.disbursement.failed.v1``; the money stays
        committed for a reissue. 409 unless issued."""
        return rules.mark_failed(db(), disbursement_id, data, current_principal().sub)


@blp.route("/<disbursement_id>/reissue")
class Reissue(MethodView):
    @blp.roles(*CLERKS)
    @command
    @blp.response(200, DisbursementSchema)
    @blp.problems(404, 409)
    def post(self, disbursement_id):
        """Try a failed payment again (next attempt). 409 unless it failed."""
        return rules.reissue(db(), disbursement_id, current_principal().sub)
