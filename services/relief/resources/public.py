"""Public disclosure (公开), without login: campaigns, the campaign report, the public notice list, donations.
Names and ID-card numbers are masked (张*, 1408**********123X)."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.http import Blueprint, db
from shared.pagination import PageArgs, paginate

from ..domain import applications as application_rules
from ..domain import campaigns as campaign_rules
from ..domain.personal import mask_name
from ..domain.report import campaign_report
from ..models import Application, Campaign, Donation
from ..schemas import (AsOfArgs, CampaignPage, DonationArgs, NoticeArgs, PublicDonationPage, PublicNoticePage,
                       ReportSchema)

blp = Blueprint("public", __name__, url_prefix="/public",
                description="Public disclosure without login: campaign report, public notice list, donations")


@blp.route("/campaigns")
class PublicCampaigns(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CampaignPage)
    def get(self, args):
        """Campaigns, oldest first (public)."""
        return paginate(db(), select(Campaign), Campaign.created_at, Campaign.id, args)


@blp.route("/campaigns/<campaign_id>/report")
class Report(MethodView):
    @blp.arguments(AsOfArgs, location="query")
    @blp.response(200, ReportSchema)
    @blp.problems(404)
    def get(self, args, campaign_id):
        """The campaign's report at ``as_of`` (default now): donations (yuan) by level and county, disbursements
        **paid** by level and county, people helped (distinct applicants paid) by level, applications approved
        and rejected, caring units. Public; no personal data."""
        return campaign_report(db(), campaign_id, args["as_of"])


@blp.route("/campaigns/<campaign_id>/notices")
class Notices(MethodView):
    @blp.arguments(NoticeArgs, location="query")
    @blp.response(200, PublicNoticePage)
    @blp.problems(404)
    def get(self, args, campaign_id):
        """The public notice list (公示): applications that went on notice (``?on=`` a day: those open that
        day), names and ID-card numbers masked. Public."""
        campaign_rules.get(db(), campaign_id)
        page = paginate(db(), application_rules.notices_stmt(campaign_id, args.get("on")), Application.created_at,
                        Application.id, args)
        return {"items": [{"application_id": a.id, "name": mask_name(a.applicant_name), "id_number": a.id_number_masked,
                           "county": a.county, "level": a.level, "assistance_type": a.assistance_type,
                           "requested_amount": a.requested_amount, "notice_starts_on": a.notice_starts_on,
                           "notice_ends_on": a.notice_ends_on, "status": a.status} for a in page["items"]],
                "next_cursor": page["next_cursor"]}


@blp.route("/campaigns/<campaign_id>/donations")
class PublicDonations(MethodView):
    @blp.arguments(DonationArgs, location="query")
    @blp.response(200, PublicDonationPage)
    @blp.problems(404)
    def get(self, args, campaign_id):
        """The public donation list by ``received_at``: organisations named, individuals masked (张*). Public."""
        campaign_rules.get(db(), campaign_id)
        page = paginate(db(), campaign_rules.donations_stmt(campaign_id, args.get("level"), args.get("county")),
                        Donation.received_at, Donation.id, args)
        return {"items": [{"receipt_no": d.receipt_no, "donor_kind": d.donor_kind,
                           "donor": d.donor_name if d.donor_kind == "organisation" else mask_name(d.donor_name),
                           "level": d.level, "county": d.county, "amount": d.amount, "received_at": d.received_at}
                          for d in page["items"]], "next_cursor": page["next_cursor"]}
