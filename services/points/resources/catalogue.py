"""The points supermarket's catalogue: items with their points price label, stock and limits."""
from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_principal
from shared.errors import Forbidden, NotFound
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import catalogue as catalogue_rules
from ..domain.merchants import get_merchant
from ..models import CatalogueItem
from ..schemas import ItemCreateSchema, ItemListArgs, ItemPage, ItemSchema, ItemUpdateSchema, StockAdjustmentSchema
from .common import HOLDERS, STAFF, is_staff, merchant_refs, own_merchant

catalogue = Blueprint("catalogue", __name__, url_prefix="/catalogue", description="The points supermarket")


def item_view(item: CatalogueItem, refs: dict | None = None) -> dict:
    refs = refs if refs is not None else merchant_refs([item.merchant_id])
    return {**{c.key: getattr(item, c.key) for c in CatalogueItem.__table__.columns},
            "merchant_ref": refs.get(item.merchant_id)}


def items_view(items) -> list[dict]:
    refs = merchant_refs([i.merchant_id for i in items])
    return [item_view(i, refs) for i in items]


def _acting_merchant():
    """None for staff; the caller's own shop for a merchant (403 if the token names no shop)."""
    if is_staff():
        return None
    merchant = own_merchant()
    if merchant is None:
        raise Forbidden("This merchant token is not linked to an alliance merchant (operator_person_id).")
    return merchant


@catalogue.route("")
class CatalogueResource(MethodView):
    @catalogue.roles(*HOLDERS, "merchant", *STAFF)
    @catalogue.arguments(ItemListArgs, location="query")
    @catalogue.response(200, ItemPage)
    @catalogue.problems(404)
    def get(self, args):
        """Catalogue items, oldest first (cursor pages); ``merchant_ref`` filters one merchant's offers,
        ``available_at`` keeps items in stock and on offer at that time. Prices and stock are integers."""
        merchant = get_merchant(db(), args["merchant_ref"]) if args.get("merchant_ref") else None
        page = paginate(db(), catalogue_rules.list_stmt(merchant=merchant, available_at=args.get("available_at")),
                        CatalogueItem.created_at, CatalogueItem.id, args)
        return {"items": items_view(page["items"]), "next_cursor": page["next_cursor"]}

    @catalogue.roles("merchant", *STAFF)
    @catalogue.arguments(ItemCreateSchema)
    @command
    @catalogue.response(201, ItemSchema)
    @catalogue.alt_response(200, schema=ItemSchema, description="Same sku and description: nothing changed")
    @catalogue.problems(404, 409)
    def post(self, data):
        """List an item (sku natural key) with its points price label, initial stock, per-person limit
        (per Asia/Shanghai day, month or ever), active window and offering merchant. A merchant lists its own
        offers. 200 when the same sku with the same description exists (stock untouched); 409 when it exists
        with another; 404 unknown ``merchant_ref``."""
        merchant = _acting_merchant()
        if merchant is not None:
            data.pop("merchant_ref", None)
        item, created = catalogue_rules.create(db(), data, current_principal().sub, merchant)
        return item_view(item), (201 if created else 200)


@catalogue.route("/<sku>")
class ItemResource(MethodView):
    @catalogue.roles(*HOLDERS, "merchant", *STAFF)
    @catalogue.response(200, ItemSchema)
    @catalogue.problems(404)
    def get(self, sku):
        """One catalogue item by sku."""
        return item_view(catalogue_rules.get_item(db(), sku))

    @catalogue.roles("merchant", *STAFF)
    @catalogue.arguments(ItemUpdateSchema)
    @command
    @catalogue.response(200, ItemSchema)
    @catalogue.problems(404)
    def patch(self, data, sku):
        """Change an item's label, limits, window or description (stock: use stock adjustments). A merchant
        changes only its own offers (another's answers 404). Reserved redemptions keep their price."""
        return item_view(catalogue_rules.update_item(db(), sku, data, _acting_merchant()))


@catalogue.route("/<sku>/stock-adjustments")
class StockResource(MethodView):
    @catalogue.roles("merchant", *STAFF)
    @catalogue.arguments(StockAdjustmentSchema)
    @command
    @catalogue.response(200, ItemSchema)
    @catalogue.problems(404, 409)
    def post(self, data, sku):
        """Restock (``change`` > 0) or write off (``change`` < 0) units, atomically; stock never goes below
        zero (409). Send an ``Idempotency-Key`` to make a retry safe."""
        return item_view(catalogue_rules.adjust_stock(db(), sku, data["change"], data["reason"],
                                                      current_principal().sub, _acting_merchant()))


__all__ = ["catalogue", "item_view", "NotFound"]
