"""Reports for the community office and the bureau: points issued and redeemed, honour roll, low stock,
merchants' monthly settlements."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.http import Blueprint, db
from shared.pagination import paginate
from shared.timeutil import utcnow

from ..domain import catalogue as catalogue_rules, reports as report_rules
from ..models import CatalogueItem, Merchant
from ..schemas import HonourArgs, HonourRollSchema, LowStockPage, SettlementArgs, SettlementPage, SummaryArgs, SummarySchema
from .catalogue import items_view
from .common import STAFF
from shared.pagination import PageArgs

reports = Blueprint("reports", __name__, url_prefix="/reports", description="Reports")


@reports.route("/points")
class PointsReport(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(SummaryArgs, location="query")
    @reports.response(200, SummarySchema)
    def get(self, args):
        """Points issued (by rule and category) and redeemed (by item category) in ``[from, to)`` (both
        optional; the records' own times), redemptions handed over, outstanding points (issued − redeemed up to
        ``to``), reserved points, catalogue stock per sku, active merchants, accounts by kind; with
        ``group_by=day|month`` a series per Asia/Shanghai period. All points are integers."""
        return report_rules.summary(db(), args.get("from_"), args.get("to"), args.get("group_by"))


@reports.route("/honour-roll")
class HonourRoll(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(HonourArgs, location="query")
    @reports.response(200, HonourRollSchema)
    def get(self, args):
        """Residents ranked by points credited in ``[from, to)`` (optionally one ``category``): the top
        ``limit`` (1–200, default 20). Ties rank by person_id."""
        return {"items": report_rules.honour_roll(db(), args.get("from_"), args.get("to"), args.get("category"),
                                                  args["limit"])}


@reports.route("/low-stock")
class LowStock(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(PageArgs, location="query")
    @reports.response(200, LowStockPage)
    def get(self, args):
        """Catalogue items still on offer whose unreserved stock is at or below their ``low_stock_threshold``
        (donated one-off items excepted), oldest first (cursor pages)."""
        page = paginate(db(), catalogue_rules.low_stock_stmt(utcnow()), CatalogueItem.created_at,
                        CatalogueItem.id, args)
        return {"items": items_view(page["items"]), "next_cursor": page["next_cursor"]}


@reports.route("/merchant-settlements")
class Settlements(MethodView):
    @reports.roles(*STAFF)
    @reports.arguments(SettlementArgs, location="query")
    @reports.response(200, SettlementPage)
    def get(self, args):
        """Every merchant's settlement for an Asia/Shanghai ``month`` (``YYYY-MM``), merchants oldest first
        (cursor pages); see ``/merchants/{ref}/settlements/{month}``."""
        page = paginate(db(), select(Merchant), Merchant.created_at, Merchant.id, args)
        return {"items": [report_rules.settlement(db(), m, args["month"]) for m in page["items"]],
                "next_cursor": page["next_cursor"]}
