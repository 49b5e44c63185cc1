"""Meal delivery: recipients, daily orders, deliveries and welfare flags."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.http import Blueprint, command, db
from shared.pagination import PageArgs, paginate

from ..domain import meals as rules
from ..models import MealOrder, MealRecipient
from ..schemas import (DeliveryCreateSchema, OrderArgs, OrderCreateSchema, OrderPage, OrderSchema,
                       RecipientCreateSchema, RecipientPage, RecipientSchema, RecipientUpdateSchema,
                       WelfareResolveSchema)
from .common import COMMUNITY, recipient_view

blp = Blueprint("meals", __name__, url_prefix="",
                description="Meal delivery to elderly people who cannot go out (爱心食堂、送餐上门)")

READ = ("community_staff", "auditor", "admin")


@blp.route("/meal-recipients")
class Recipients(MethodView):
    @blp.roles(*COMMUNITY)
    @blp.arguments(RecipientCreateSchema)
    @command
    @blp.response(201, RecipientSchema)
    def post(self, data):
        """Register a recipient: ``name``, ``address``, ``care_level`` (dependent, semi_dependent), ``diet_notes``."""
        return recipient_view(rules.create_recipient(db(), data, current_principal().sub), unmasked=False)

    @blp.roles(*READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RecipientPage)
    def get(self, args):
        """Recipients, oldest first, names, phones and addresses masked (cursor pages)."""
        page = paginate(db(), select(MealRecipient), MealRecipient.created_at, MealRecipient.id, args)
        return {"items": [recipient_view(r, unmasked=False) for r in page["items"]], "next_cursor": page["next_cursor"]}


@blp.route("/meal-recipients/<recipient_id>")
class RecipientResource(MethodView):
    @blp.roles(*COMMUNITY)
    @command
    @blp.response(200, RecipientSchema)
    @blp.problems(404)
    def get(self, recipient_id):
        """One recipient unmasked (name, phone, address for the delivery); the read is audited."""
        return recipient_view(rules.read_recipient(db(), recipient_id, current_principal().sub), unmasked=True)

    @blp.roles(*COMMUNITY)
    @blp.arguments(RecipientUpdateSchema)
    @command
    @blp.response(200, RecipientSchema)
    @blp.problems(404)
    def patch(self, data, recipient_id):
        """Change care level, diet notes, address, phone or ``active``; audited."""
        return recipient_view(rules.update_recipient(db(), recipient_id, data, current_principal().sub), unmasked=False)


@blp.route("/meal-orders")
class Orders(MethodView):
    @blp.roles(*COMMUNITY)
    @blp.arguments(OrderCreateSchema)
    @command
    @blp.response(201, OrderSchema)
    @blp.problems(404, 409)
    def post(self, data):
        """Order a meal for a recipient on ``served_on`` (lunch or dinner). 409 ``duplicate-order``."""
        return rules.place_order(db(), data, current_principal().sub)

    @blp.roles(*READ)
    @blp.arguments(OrderArgs, location="query")
    @blp.response(200, OrderPage)
    def get(self, args):
        """Orders, oldest first (cursor pages; filter by day, recipient, ``welfare_flag``)."""
        stmt = rules.orders_stmt(args.get("served_on"), args.get("recipient_id"), args.get("welfare_flag"))
        return paginate(db(), stmt, MealOrder.created_at, MealOrder.id, args)


@blp.route("/meal-orders/<order_id>")
class OrderResource(MethodView):
    @blp.roles(*READ)
    @blp.response(200, OrderSchema)
    @blp.problems(404)
    def get(self, order_id):
        """One order with its delivery and welfare flag."""
        return rules.get_order(db(), order_id)


@blp.route("/meal-orders/<order_id>/delivery")
class Delivery(MethodView):
    @blp.roles("volunteer", *COMMUNITY)
    @blp.arguments(DeliveryCreateSchema)
    @command
    @blp.response(200, OrderSchema)
    @blp.problems(404, 409)
    def post(self, data, order_id):
        """Record the delivery by a meal_delivery ``shift_id`` on the order's day: ``outcome`` delivered or
        no_answer, optional ``concern`` (unwell, fall, other). No answer or a concern sets the welfare flag and
        publishes ``relief.meal_delivery.welfare_alert.v1``. A volunteer must be checked in on that shift."""
        principal = current_principal()
        volunteer = None if principal.has(*COMMUNITY) else principal.sub
        return rules.record_delivery(db(), order_id, data, principal.sub, volunteer)


@blp.route("/meal-orders/<order_id>/welfare-resolution")
class WelfareResolution(MethodView):
    @blp.roles(*COMMUNITY)
    @blp.arguments(WelfareResolveSchema)
    @command
    @blp.response(200, OrderSchema)
    @blp.problems(404, 409)
    def post(self, data, order_id):
        """The community checked on the person (``note``); closes the welfare flag. 409 unless flagged and open."""
        return rules.resolve_welfare(db(), order_id, data, current_principal().sub)
