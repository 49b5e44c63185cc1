"""An application's vetting steps, its audited personal-data read, and its disbursement."""
from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_principal
from shared.errors import Forbidden
from shared.http import Blueprint, command, db

from ..domain import applications as rules
from ..domain import disbursements as disbursement_rules
from ..schemas import (AppraisalCreateSchema, ApplicationSchema, DecisionCreateSchema, DisbursementCreateSchema,
                       DisbursementSchema, NoticeCreateSchema, ObjectionCreateSchema, ObjectionHandleSchema,
                       ObjectionSchema, RevealArgs, SurveyCreateSchema)
from .common import CLERKS, READERS, VETTERS, application_view, vault

blp = Blueprint("applications", __name__, url_prefix="/applications",
                description="Assistance applications and their vetting: household survey → democratic appraisal → "
                            "public notice → decision; then the disbursement")

REVEALERS = ("clerk", "auditor", "admin")


@blp.route("/<application_id>")
class ApplicationResource(MethodView):
    @blp.roles(*READERS)
    @blp.arguments(RevealArgs, location="query")
    @command
    @blp.response(200, ApplicationSchema)
    @blp.problems(404)
    def get(self, args, application_id):
        """One application with its vetting record, applicant masked.

        ``?reveal=true`` (clerk, auditor, admin; 403 otherwise) shows the name, ID-card number and phone
        unmasked and records the read in the audit log (who, when, which record, ``purpose``).
        """
        application = rules.get(db(), application_id)
        if not args["reveal"]:
            return application_view(application)
        principal = current_principal()
        if not principal.has(*REVEALERS):
            raise Forbidden("Reading unmasked personal data needs one of the roles: " + ", ".join(REVEALERS) + ".")
        personal = rules.reveal(db(), vault(), application, principal.sub, args.get("purpose"))
        return application_view(application, personal)


@blp.route("/<application_id>/household-survey")
class Survey(MethodView):
    @blp.roles(*VETTERS)
    @blp.arguments(SurveyCreateSchema)
    @command
    @blp.response(201, ApplicationSchema)
    @blp.problems(404, 409)
    def post(self, data, application_id):
        """Record the household survey (入户调查): ``surveyed_on``, ``surveyors`` (who), ``findings``.
        409 unless the application is ``submitted``; 422 for a date before ``applied_on``."""
        return application_view(rules.record_survey(db(), application_id, data, current_principal().sub))


@blp.route("/<application_id>/democratic-appraisal")
class Appraisal(MethodView):
    @blp.roles(*VETTERS)
    @blp.arguments(AppraisalCreateSchema)
    @command
    @blp.response(201, ApplicationSchema)
    @blp.problems(404, 409)
    def post(self, data, application_id):
        """Record the democratic appraisal (民主评议): ``appraised_on``, ``participants`` (count), ``outcome``
        (supported, not_supported). 409 unless surveyed; 422 for a date before the survey."""
        return application_view(rules.record_appraisal(db(), application_id, data, current_principal().sub))


@blp.route("/<application_id>/public-notice")
class Notice(MethodView):
    @blp.roles(*VETTERS)
    @blp.arguments(NoticeCreateSchema)
    @command
    @blp.response(201, ApplicationSchema)
    @blp.problems(404, 409)
    def post(self, data, application_id):
        """Put a supported application on public notice (公示) from ``starts_on`` for the campaign's
        ``notice_days`` (default 7 Asia/Shanghai days). 409 unless appraised and supported."""
        return application_view(rules.open_notice(db(), application_id, data, current_principal().sub))


@blp.route("/<application_id>/objections")
class Objections(MethodView):
    @blp.roles(*VETTERS)
    @blp.arguments(ObjectionCreateSchema)
    @command
    @blp.response(201, ObjectionSchema)
    @blp.problems(404, 409)
    def post(self, data, application_id):
        """Record an objection raised during the notice (``raised_on`` within it: 409 ``notice-closed``
        otherwise). An unhandled or upheld objection blocks approval."""
        return rules.raise_objection(db(), application_id, data, current_principal().sub)


@blp.route("/<application_id>/objections/<objection_id>/handling")
class ObjectionHandling(MethodView):
    @blp.roles(*VETTERS)
    @blp.arguments(ObjectionHandleSchema)
    @command
    @blp.response(200, ObjectionSchema)
    @blp.problems(404, 409)
    def post(self, data, application_id, objection_id):
        """How an objection was handled: ``handled_on``, ``outcome`` (dismissed, upheld), ``finding``.
        409 if handled already."""
        return rules.handle_objection(db(), application_id, objection_id, data, current_principal().sub)


@blp.route("/<application_id>/decision")
class Decision(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(DecisionCreateSchema)
    @command
    @blp.response(201, ApplicationSchema)
    @blp.problems(404, 409)
    def post(self, data, application_id):
        """Approve (after the notice ends, every objection handled, none upheld) or reject (with a ``reason``).

        409 ``notice-running`` / ``objections-pending`` / ``objection-upheld`` / ``invalid-transition``.
        Publishes ``relief.application.decided.v1``.
        """
        return application_view(rules.decide(db(), application_id, data, current_principal().sub))


@blp.route("/<application_id>/disbursement")
class ApplicationDisbursement(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(DisbursementCreateSchema)
    @command
    @blp.response(201, DisbursementSchema)
    @blp.problems(404, 409)
    def post(self, data, application_id):
        """Issue the payment of an approved application (``amount`` yuan, at most granted), taken from its
        paying body's funds (the city, or that county) atomically.

        409 ``insufficient-funds`` (with ``available``) when the body's donations less its disbursements cannot
        cover it — exactly as many concurrent requests succeed as the funds allow. 409 ``not-approved``,
        409 ``already-disbursed``. Accepts ``Idempotency-Key``.
        """
        return disbursement_rules.issue(db(), application_id, data, current_principal().sub)
