"""Campaigns, donations, caring units, totals; the campaign's applications and disbursements lists."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.http import Blueprint, command, db
from shared.pagination import PageArgs, paginate

from ..domain import applications as application_rules
from ..domain import campaigns as campaign_rules
from ..domain import funds
from ..domain import imports as import_rules
from ..models import Application, Campaign, Disbursement, Donation
from ..schemas import (ApplicationArgs, ApplicationCreateSchema, ApplicationImportBatchSchema, ApplicationImportSchema,
                       ApplicationPage, ApplicationSchema, AsOfArgs, CampaignCreateSchema, CampaignPage, CampaignSchema,
                       CaringUnitCreateSchema, CaringUnitListSchema, CaringUnitSchema, DisbursementArgs,
                       DisbursementPage, DonationArgs, DonationCreateSchema, DonationPage, DonationSchema,
                       ImportBatchResultSchema, OrganisationRankingSchema, RankingArgs, TotalsSchema)
from .common import CLERKS, READERS, VETTERS, application_view, vault

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns",
                description="Charity campaigns (送温暖、献爱心): donations, caring units, totals, applications")


def donation_view(d: Donation) -> dict:
    return {"id": d.id, "campaign_id": d.campaign_id, "receipt_no": d.receipt_no, "ref": d.ref,
            "donor": {"kind": d.donor_kind, "name": d.donor_name, "person_id": d.donor_person_id},
            "level": d.level, "county": d.county, "amount": d.amount, "received_at": d.received_at,
            "note": d.note, "created_at": d.created_at}


@blp.route("")
class Campaigns(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(CampaignCreateSchema)
    @command
    @blp.response(201, CampaignSchema)
    @blp.problems(409)
    def post(self, data):
        """Open a campaign: name, period (``opens_on``–``closes_on``, Asia/Shanghai days), the levels that collect
        (city, county) and the public notice length (``notice_days``, default 7). 409 if ``ref`` is taken."""
        return campaign_rules.create(db(), data, current_principal().sub)

    @blp.roles(*READERS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CampaignPage)
    def get(self, args):
        """Campaigns, oldest first (cursor pages)."""
        return paginate(db(), select(Campaign), Campaign.created_at, Campaign.id, args)


@blp.route("/<campaign_id>")
class CampaignResource(MethodView):
    @blp.roles(*READERS)
    @blp.response(200, CampaignSchema)
    @blp.problems(404)
    def get(self, campaign_id):
        """One campaign."""
        return campaign_rules.get(db(), campaign_id)


@blp.route("/<campaign_id>/donations")
class Donations(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(DonationCreateSchema)
    @command
    @blp.response(201, DonationSchema)
    @blp.alt_response(200, schema=DonationSchema, description="The receipt number was recorded before: the first "
                                                                "record, unchanged")
    @blp.problems(404, 409)
    def post(self, data, campaign_id):
        """Record a donation: donor (individual or organisation; ``caring_unit: true`` honours an organisation),
        level (city, or county with its name), ``amount`` (yuan string > 0, at most two decimals, never rounded),
        ``received_at`` (within the campaign's period), unique ``receipt_no``.

        The receipt number is the natural key: posting it again changes nothing and answers 200 with the first
        record (an overlapping list imports once). Publishes ``relief.donation.received.v1``. 409 if the receipt
        belongs to another campaign; 422 for a level or county the campaign does not collect at.
        """
        donation, created = campaign_rules.record_donation(db(), campaign_id, data, current_principal().sub)
        return donation_view(donation), (201 if created else 200)

    @blp.roles("clerk", "auditor", "admin")
    @blp.arguments(DonationArgs, location="query")
    @blp.response(200, DonationPage)
    @blp.problems(404)
    def get(self, args, campaign_id):
        """The campaign's donations by ``received_at`` (cursor pages; filter by level or county)."""
        campaign_rules.get(db(), campaign_id)
        page = paginate(db(), campaign_rules.donations_stmt(campaign_id, args.get("level"), args.get("county")),
                        Donation.received_at, Donation.id, args)
        return {"items": [donation_view(d) for d in page["items"]], "next_cursor": page["next_cursor"]}


@blp.route("/<campaign_id>/totals")
class Totals(MethodView):
    @blp.roles("clerk", "auditor", "admin")
    @blp.arguments(AsOfArgs, location="query")
    @blp.response(200, TotalsSchema)
    @blp.problems(404)
    def get(self, args, campaign_id):
        """Donations received up to ``as_of`` (default: all), exact yuan, by level and by county; and each paying
        body's funds now (donated, committed to disbursements, available)."""
        campaign_rules.get(db(), campaign_id)
        totals = campaign_rules.donation_totals(db(), campaign_id, args["as_of"])
        return {"campaign_id": campaign_id, "as_of": args["as_of"], "total": totals["total"], "city": totals["city"],
                "county": totals["county"], "count": totals["count"],
                "by_county": [{"county": k, **v} for k, v in totals["by_county"].items()],
                "funds": funds.all_funds(db(), campaign_id)}


@blp.route("/<campaign_id>/caring-units")
class CaringUnits(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(CaringUnitCreateSchema)
    @command
    @blp.response(201, CaringUnitSchema)
    @blp.problems(404)
    def post(self, data, campaign_id):
        """Honour an organisation that donated to the campaign as a caring unit (爱心单位); idempotent by name.
        422 if no donation from an organisation of that name is recorded in the campaign."""
        return campaign_rules.recognise(db(), campaign_id, data, current_principal().sub)

    @blp.roles(*READERS)
    @blp.response(200, CaringUnitListSchema)
    @blp.problems(404)
    def get(self, campaign_id):
        """The campaign's caring units, in the order they were honoured."""
        campaign_rules.get(db(), campaign_id)
        return {"items": campaign_rules.caring_units(db(), campaign_id)}


@blp.route("/<campaign_id>/organisations")
class Organisations(MethodView):
    @blp.roles("clerk", "auditor", "admin")
    @blp.arguments(RankingArgs, location="query")
    @blp.response(200, OrganisationRankingSchema)
    @blp.problems(404)
    def get(self, args, campaign_id):
        """Organisations by the total they gave (yuan), largest first: the list caring units are chosen from."""
        campaign_rules.get(db(), campaign_id)
        return {"items": campaign_rules.organisation_ranking(db(), campaign_id, args["limit"])}


@blp.route("/<campaign_id>/applications")
class Applications(MethodView):
    @blp.roles(*VETTERS)
    @blp.arguments(ApplicationCreateSchema)
    @command
    @blp.response(201, ApplicationSchema)
    @blp.problems(404, 409)
    def post(self, data, campaign_id):
        """Apply for temporary assistance: applicant (name, ID-card number checked by its GB 11643 check digit,
        phone), county, paying level, assistance type, household facts, requested amount (yuan string > 0).

        The ID number is stored encrypted; the answer shows the applicant masked. 409 ``duplicate-application``
        (with ``existing_application_id``) when the same ID number has a live application in the campaign.
        """
        application = application_rules.submit(db(), vault(), campaign_id, data, current_principal().sub)
        return application_view(application)

    @blp.roles(*READERS)
    @blp.arguments(ApplicationArgs, location="query")
    @blp.response(200, ApplicationPage)
    @blp.problems(404)
    def get(self, args, campaign_id):
        """The campaign's applications, applicants masked (cursor pages; filter by status or ref)."""
        campaign_rules.get(db(), campaign_id)
        page = paginate(db(), application_rules.applications_stmt(campaign_id, args.get("status"), args.get("ref")),
                        Application.created_at, Application.id, args)
        return {"items": [application_view(a) for a in page["items"]], "next_cursor": page["next_cursor"]}


@blp.route("/<campaign_id>/application-imports")
class ApplicationImports(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(ApplicationImportSchema)
    @command
    @blp.response(201, ApplicationSchema)
    @blp.alt_response(200, schema=ApplicationSchema, description="This application was stored before (same ref, "
                                                                 "or the same person's live application): as it "
                                                                 "stands, unchanged")
    @blp.problems(404, 409)
    def post(self, data, campaign_id):
        """Import one application with its whole recorded vetting (history loading, e.g. the seed scenario):
        the application, ``household_survey``, ``democratic_appraisal``, ``public_notice`` (``starts_on`` /
        ``ends_on``), ``objections`` with their handling, ``decision`` and, for an approved one, its
        ``disbursement`` (``amount``, ``paid_on``).

        The steps run in order in one transaction through the same rules as their own endpoints: the order of
        steps, every date against the record's own dates, the notice window, objections blocking approval, the
        paying body's funds taken by the same atomic update (409 ``insufficient-funds``), the same audit records
        and events. A refused step refuses the whole import with that step's problem, its fields prefixed with
        the step (``household_survey.surveyed_on``, ``objections.0.handled_on``, ``disbursement.amount``) and
        ``step`` naming it; nothing is stored.

        The same application again (same ``ref``, or without a ref the same person's live application in the
        campaign) answers 200 with the stored application and changes nothing. 409 ``duplicate-ref`` for a ref
        held by another applicant; 409 ``duplicate-application`` when the person's live application has another
        ref. Accepts ``Idempotency-Key``.
        """
        application, created = import_rules.import_application(db(), vault(), campaign_id, data,
                                                               current_principal().sub)
        return application_view(application), (201 if created else 200)


@blp.route("/<campaign_id>/application-import-batches")
class ApplicationImportBatches(MethodView):
    @blp.roles(*CLERKS)
    @blp.arguments(ApplicationImportBatchSchema)
    @command
    @blp.response(201, ImportBatchResultSchema)
    @blp.alt_response(200, schema=ImportBatchResultSchema, description="Every record was stored before: each as "
                                                                       "it stands, unchanged")
    @blp.problems(404, 409)
    def post(self, data, campaign_id):
        """Import 1 to 500 applications with their whole recorded vetting (history loading, e.g. the seed
        scenario): ``{"applications": [...]}``, each record exactly the body of ``application-imports``
        (dates as Asia/Shanghai days, amounts as yuan decimal strings).

        One transaction: the records are applied in order, each by the single import's own steps and rules
        (order of steps, dates, the notice window, objections, the paying body's funds by the same atomic update).
        A record already stored (same ``ref``, or without a ref the person's live application) is reported with
        ``created: false`` and left unchanged, as the single import's 200.

        Answer (201; 200 when every record was stored before): ``items`` in input order, each ``index``,
        ``ref``, ``id``, ``status``, ``created``; and the counts ``created`` and ``existing``.

        A refused record refuses the whole batch, nothing stored, with the problem (and status) the single import
        gives it — 422 for an invalid field or a broken rule, 409 ``insufficient-funds`` / ``notice-closed`` /
        ``duplicate-ref`` ... — its fields prefixed ``applications.<index>.`` (``applications.12.applicant.id_number``,
        ``applications.3.disbursement``) and the extension members ``index`` and ``ref`` naming the record (an
        invalid body names every invalid record in ``items``). Accepts ``Idempotency-Key``.
        """
        results = import_rules.import_batch(db(), vault(), campaign_id, data["applications"], current_principal().sub)
        created = sum(1 for r in results if r["created"])
        body = {"items": results, "created": created, "existing": len(results) - created}
        return body, (201 if created else 200)


@blp.route("/<campaign_id>/disbursements")
class CampaignDisbursements(MethodView):
    @blp.roles("clerk", "auditor", "admin")
    @blp.arguments(DisbursementArgs, location="query")
    @blp.response(200, DisbursementPage)
    @blp.problems(404)
    def get(self, args, campaign_id):
        """The campaign's disbursements, oldest first (cursor pages; filter by status)."""
        campaign_rules.get(db(), campaign_id)
        stmt = select(Disbursement).where(Disbursement.campaign_id == campaign_id)
        if args.get("status"):
            stmt = stmt.where(Disbursement.status == args["status"])
        return paginate(db(), stmt, Disbursement.created_at, Disbursement.id, args)
