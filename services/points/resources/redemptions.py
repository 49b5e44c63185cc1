"""Redemptions: reserve (points and stock held) → hand over (post) or cancel (void); expiry by the worker."""
from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_principal
from shared.errors import Forbidden, NotFound, Unprocessable, field_error
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import ledger, redemptions as redemption_rules
from ..domain.merchants import get_merchant
from ..models import Redemption
from ..schemas import FinishSchema, RedemptionCreateSchema, RedemptionListArgs, RedemptionPage, RedemptionSchema
from .common import HOLDERS, STAFF, is_staff, merchant_refs, own_merchant

redemptions = Blueprint("redemptions", __name__, url_prefix="/redemptions",
                        description="Redemptions in the points supermarket (two-phase)")


def view(redemption: Redemption, refs: dict | None = None) -> dict:
    refs = refs if refs is not None else merchant_refs([redemption.merchant_id])
    lines = redemption_rules.lines_of(db(), redemption.id)
    return {**{c.key: getattr(redemption, c.key) for c in Redemption.__table__.columns},
            "merchant_ref": refs.get(redemption.merchant_id),
            "items": [{"sku": ln.sku, "quantity": ln.quantity, "points_price": ln.points_price} for ln in lines]}


def _visible(redemption_id: str) -> Redemption:
    """The redemption; a resident or merchant sees only their own (another's answers 404)."""
    redemption = redemption_rules.get(db(), redemption_id)
    if is_staff():
        return redemption
    merchant = own_merchant()
    mine = (redemption.merchant_id == merchant.id) if merchant else (
        redemption.merchant_id is None and redemption.person_id == current_principal().sub)
    if not mine:
        raise NotFound("No such redemption.")
    return redemption


def _holder(data: dict):
    """(account, person_id, merchant) of whoever redeems: a resident themselves, a merchant its shop, staff
    whoever the body names."""
    principal = current_principal()
    if is_staff():
        if data.get("merchant_ref"):
            merchant = get_merchant(db(), data["merchant_ref"])
        elif data.get("person_id"):
            return ledger.resident_account(db(), data["person_id"], create=False), data["person_id"], None
        else:
            raise Unprocessable("Name whose points: person_id or merchant_ref.", errors=field_error("person_id", "required"))
    elif principal.has("merchant") and data.get("merchant_ref"):
        merchant = own_merchant()
        if merchant is None or merchant.ref != data["merchant_ref"]:
            raise NotFound("No such merchant.")
    else:
        if data.get("person_id") not in (None, principal.sub) or data.get("merchant_ref"):
            raise NotFound("No such account.")
        return ledger.resident_account(db(), principal.sub, create=False), principal.sub, None
    if not merchant.operator_person_id:
        raise Unprocessable("The merchant has no operator_person_id to redeem under.",
                            errors=field_error("merchant_ref", "merchant has no operator"))
    return ledger.merchant_account(db(), merchant.id), merchant.operator_person_id, merchant


@redemptions.route("")
class RedemptionsResource(MethodView):
    @redemptions.roles(*HOLDERS, "merchant", *STAFF)
    @redemptions.arguments(RedemptionListArgs, location="query")
    @redemptions.response(200, RedemptionPage)
    def get(self, args):
        """Redemptions, oldest first (cursor pages). Residents see their own, merchants their shop's."""
        stmt = redemption_rules.list_stmt(status=args.get("status"))
        if is_staff():
            if args.get("person_id"):
                stmt = stmt.where(Redemption.person_id == args["person_id"])
        else:
            merchant = own_merchant()
            stmt = stmt.where(Redemption.merchant_id == merchant.id) if merchant else stmt.where(
                Redemption.person_id == current_principal().sub, Redemption.merchant_id.is_(None))
        page = paginate(db(), stmt, Redemption.created_at, Redemption.id, args)
        refs = merchant_refs([r.merchant_id for r in page["items"]])
        return {"items": [view(r, refs) for r in page["items"]], "next_cursor": page["next_cursor"]}

    @redemptions.roles(*HOLDERS, "merchant", *STAFF)
    @redemptions.arguments(RedemptionCreateSchema)
    @command
    @redemptions.response(201, RedemptionSchema)
    @redemptions.problems(404, 409)
    def post(self, data):
        """Reserve items: the points (``sum(quantity × points_price)``, integers) and the stock are held
        together until hand-over, cancellation or ``expires_at`` (default 72 hours). A resident redeems with
        their own points, a merchant with its shop's (``merchant_ref``), staff at the counter for anyone and may
        record the past (``reserved_at``) and hand over at once (``collect``). Send an ``Idempotency-Key``:
        a retry gets the first answer. 409: ``insufficient-points``, ``out-of-stock``, ``per-person-limit``,
        ``not-on-offer``; 422: unknown sku, own offer; 404: another's account."""
        if data.get("collect") and not is_staff():
            raise Forbidden("Only staff hand goods over.")
        account, person_id, merchant = _holder(data)
        by = current_principal().sub
        at = data.get("reserved_at") if is_staff() else None
        redemption = redemption_rules.reserve(db(), account=account, person_id=person_id, merchant=merchant,
                                              lines=data["items"], at=at, expires_at=data.get("expires_at"), by=by)
        if data.get("collect"):
            redemption_rules.hand_over(db(), redemption.id, at=redemption.reserved_at, by=by)
        return view(redemption)


@redemptions.route("/<redemption_id>")
class RedemptionResource(MethodView):
    @redemptions.roles(*HOLDERS, "merchant", *STAFF)
    @redemptions.response(200, RedemptionSchema)
    @redemptions.problems(404)
    def get(self, redemption_id):
        """One redemption (another's answers 404)."""
        return view(_visible(redemption_id))


@redemptions.route("/<redemption_id>/hand-over")
class HandOverResource(MethodView):
    @redemptions.roles(*STAFF)
    @redemptions.arguments(FinishSchema)
    @command
    @redemptions.response(200, RedemptionSchema)
    @redemptions.problems(404, 409)
    def post(self, data, redemption_id):
        """Hand the goods over (post): the held points are spent and the units leave the shelf; publishes
        ``points.redeemed.v1``. 409 ``not-reserved`` if already handed over, cancelled or expired."""
        redemption_rules.get(db(), redemption_id)
        return view(redemption_rules.hand_over(db(), redemption_id, at=data.get("at"), by=current_principal().sub))


@redemptions.route("/<redemption_id>/cancellation")
class CancelResource(MethodView):
    @redemptions.roles(*HOLDERS, "merchant", *STAFF)
    @redemptions.arguments(FinishSchema)
    @command
    @redemptions.response(200, RedemptionSchema)
    @redemptions.problems(404, 409)
    def post(self, data, redemption_id):
        """Cancel a reservation (void): points back to the account, units back to the stock; publishes
        ``points.redemption.voided.v1``. The holder or staff; 409 ``not-reserved`` if no longer reserved."""
        _visible(redemption_id)
        at = data.get("at") if is_staff() else None
        return view(redemption_rules.void(db(), redemption_id, reason="cancelled", at=at, by=current_principal().sub))
