"""Used-item donations: intake, condition check and appraisal (the donor is credited, the item listed), or
rejection with a reason."""
from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_principal
from shared.errors import NotFound
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import donations as donation_rules
from ..models import CatalogueItem, ItemDonation
from ..schemas import (AppraisalSchema, DonationCreateSchema, DonationListArgs, DonationPage, DonationRejectionSchema,
                       DonationSchema)
from .common import HOLDERS, STAFF, is_staff

donations = Blueprint("item_donations", __name__, url_prefix="/item-donations",
                      description="Used items donated for points")


def view(donation: ItemDonation) -> dict:
    sku = db().get(CatalogueItem, donation.item_id).sku if donation.item_id else None
    return {**{c.key: getattr(donation, c.key) for c in ItemDonation.__table__.columns}, "sku": sku}


@donations.route("")
class DonationsResource(MethodView):
    @donations.roles(*STAFF)
    @donations.arguments(DonationListArgs, location="query")
    @donations.response(200, DonationPage)
    def get(self, args):
        """Item donations, oldest first (cursor pages), by ``status`` or donor."""
        page = paginate(db(), donation_rules.list_stmt(status=args.get("status"),
                                                       donor_person_id=args.get("donor_person_id")),
                        ItemDonation.created_at, ItemDonation.id, args)
        return {"items": [view(d) for d in page["items"]], "next_cursor": page["next_cursor"]}

    @donations.roles(*STAFF)
    @donations.arguments(DonationCreateSchema)
    @command
    @donations.response(201, DonationSchema)
    def post(self, data):
        """Take in a donated item (status ``received``); the condition check and appraisal follow."""
        return view(donation_rules.intake(db(), data, current_principal().sub))


@donations.route("/<donation_id>")
class DonationResource(MethodView):
    @donations.roles(*HOLDERS, *STAFF)
    @donations.response(200, DonationSchema)
    @donations.problems(404)
    def get(self, donation_id):
        """One donation; a resident sees only their own (another's answers 404)."""
        donation = donation_rules.get(db(), donation_id)
        if not is_staff() and donation.donor_person_id != current_principal().sub:
            raise NotFound("No such item donation.")
        return view(donation)


@donations.route("/<donation_id>/appraisal")
class AppraisalResource(MethodView):
    @donations.roles(*STAFF)
    @donations.arguments(AppraisalSchema)
    @command
    @donations.response(200, DonationSchema)
    @donations.problems(404, 409)
    def post(self, data, donation_id):
        """Accept after the condition check: the donor is credited the appraised ``points`` (integer) under the
        used-item donation rule in force (its caps apply), the item is listed with its label
        ``points_price`` (default the appraised value) under ``sku``; publishes
        ``points.item_donation.appraised.v1`` and ``points.credited.v1``. 409 already decided or sku taken;
        422 no appraisal rule in force."""
        return view(donation_rules.appraise(db(), donation_id, data, current_principal().sub))


@donations.route("/<donation_id>/rejection")
class RejectionResource(MethodView):
    @donations.roles(*STAFF)
    @donations.arguments(DonationRejectionSchema)
    @command
    @donations.response(200, DonationSchema)
    @donations.problems(404, 409)
    def post(self, data, donation_id):
        """Reject after the condition check, with the ``reason``; nothing is credited or listed. 409 already
        decided."""
        return view(donation_rules.reject(db(), donation_id, data, current_principal().sub))
