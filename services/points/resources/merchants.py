"""The caring-merchant alliance: profiles, their accounts, service records, monthly settlements."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared import schemas as s
from shared.auth import current_principal
from shared.errors import Unprocessable, field_error
from shared.http import Blueprint, command, db
from shared.pagination import PageArgs, paginate

from ..domain import ledger, merchants as merchant_rules, reports as report_rules
from ..models import Merchant, ServiceRecord, Transfer
from ..schemas import (AccountArgs, AccountSchema, EntryPage, MerchantCreateSchema, MerchantPage,
                       MerchantSchema, MerchantUpdateSchema, ReasonSchema, ServiceRecordArgs,
                       ServiceRecordCreateSchema, ServiceRecordPage, ServiceRecordSchema, SettlementSchema)
from .common import HOLDERS, STAFF, account_view, entry, statement_page, visible_merchant


def check_month(month: str) -> str:
    if not s.valid_month(month):
        raise Unprocessable("month must be YYYY-MM (1901-2999).",
                            errors=field_error("month", "YYYY-MM", location="path"))
    return month

merchants = Blueprint("merchants", __name__, url_prefix="/merchants", description="The caring-merchant alliance")


def record_view(record: ServiceRecord, ref: str) -> dict:
    return {**{c.key: getattr(record, c.key) for c in ServiceRecord.__table__.columns}, "merchant_ref": ref}


@merchants.route("")
class MerchantsResource(MethodView):
    @merchants.roles(*HOLDERS, "merchant", *STAFF)
    @merchants.arguments(PageArgs, location="query")
    @merchants.response(200, MerchantPage)
    def get(self, args):
        """The alliance's merchants, oldest first (cursor pages)."""
        return paginate(db(), select(Merchant), Merchant.created_at, Merchant.id, args)

    @merchants.roles(*STAFF)
    @merchants.arguments(MerchantCreateSchema)
    @command
    @merchants.response(201, MerchantSchema)
    @merchants.alt_response(200, schema=MerchantSchema, description="Same ref and profile: nothing changed")
    @merchants.problems(409)
    def post(self, data):
        """Register a merchant (natural key ``ref``) and open its points account. 200 when the same ref with
        the same profile exists; 409 when it exists with another (use PATCH)."""
        merchant, created = merchant_rules.create(db(), data, current_principal().sub)
        return merchant, (201 if created else 200)


@merchants.route("/<ref>")
class MerchantResource(MethodView):
    @merchants.roles(*HOLDERS, "merchant", *STAFF)
    @merchants.response(200, MerchantSchema)
    @merchants.problems(404)
    def get(self, ref):
        """One merchant's profile."""
        return merchant_rules.get_merchant(db(), ref)

    @merchants.roles(*STAFF)
    @merchants.arguments(MerchantUpdateSchema)
    @command
    @merchants.response(200, MerchantSchema)
    @merchants.problems(404, 409)
    def patch(self, data, ref):
        """Change a profile (name, trade, operator, joined_on) or leave the alliance (``active: false``)."""
        return merchant_rules.update_profile(db(), ref, data)


@merchants.route("/<ref>/account")
class MerchantAccountResource(MethodView):
    @merchants.roles("merchant", *STAFF)
    @merchants.arguments(AccountArgs, location="query")
    @merchants.response(200, AccountSchema)
    @merchants.problems(404)
    def get(self, args, ref):
        """The merchant's points account (its own shop only for a merchant token): balances in points, the
        20 newest entries, and with ``?as_of=`` the posted balance then."""
        account = ledger.merchant_account(db(), visible_merchant(ref).id)
        newest = ledger.newest_entries(db(), account.id)
        as_of = ledger.balance_as_of(db(), account.id, args["as_of"]) if args.get("as_of") else None
        return account_view(account, entries=[entry(t, account.id) for t in newest], balance_as_of=as_of)


@merchants.route("/<ref>/account/entries")
class MerchantEntriesResource(MethodView):
    @merchants.roles("merchant", *STAFF)
    @merchants.arguments(PageArgs, location="query")
    @merchants.response(200, EntryPage)
    @merchants.problems(404)
    def get(self, args, ref):
        """The merchant's statement, oldest first (cursor pages), with the running posted balance."""
        account = ledger.merchant_account(db(), visible_merchant(ref).id)
        return statement_page(account, paginate(db(), ledger.entries_stmt(account.id), Transfer.occurred_at,
                                                Transfer.id, args))


@merchants.route("/<ref>/service-records")
class ServiceRecordsResource(MethodView):
    @merchants.roles("merchant", *STAFF)
    @merchants.arguments(ServiceRecordArgs, location="query")
    @merchants.response(200, ServiceRecordPage)
    @merchants.problems(404)
    def get(self, args, ref):
        """The merchant's service records by service time (cursor pages)."""
        merchant = visible_merchant(ref)
        page = paginate(db(), merchant_rules.records_stmt(merchant, args.get("status")), ServiceRecord.served_at,
                        ServiceRecord.id, args)
        return {"items": [record_view(r, ref) for r in page["items"]], "next_cursor": page["next_cursor"]}

    @merchants.roles("merchant", *STAFF)
    @merchants.arguments(ServiceRecordCreateSchema)
    @command
    @merchants.response(201, ServiceRecordSchema)
    @merchants.problems(404, 409)
    def post(self, data, ref):
        """Record a service the merchant gave (``service_hours`` decimal string and/or ``service_count``);
        credited when staff confirm it. 409 if the merchant left the alliance."""
        merchant = visible_merchant(ref)
        return record_view(merchant_rules.record_service(db(), merchant, data, current_principal().sub), ref)


@merchants.route("/<ref>/service-records/<record_id>/confirmation")
class ConfirmResource(MethodView):
    @merchants.roles(*STAFF)
    @command
    @merchants.response(200, ServiceRecordSchema)
    @merchants.problems(404, 409)
    def post(self, ref, record_id):
        """Confirm a service record: the merchant is credited by the merchant service rules in force at
        ``served_at`` (floor of hours × points per hour; count × points), within caps, once. 409 if decided."""
        merchant = merchant_rules.get_merchant(db(), ref)
        merchant_rules.get_record(db(), record_id, merchant)
        return record_view(merchant_rules.confirm(db(), record_id, current_principal().sub), ref)


@merchants.route("/<ref>/service-records/<record_id>/rejection")
class RejectResource(MethodView):
    @merchants.roles(*STAFF)
    @merchants.arguments(ReasonSchema)
    @command
    @merchants.response(200, ServiceRecordSchema)
    @merchants.problems(404, 409)
    def post(self, data, ref, record_id):
        """Reject a service record with a ``reason``; nothing is credited. 409 if already decided."""
        merchant = merchant_rules.get_merchant(db(), ref)
        merchant_rules.get_record(db(), record_id, merchant)
        return record_view(merchant_rules.reject(db(), record_id, data["reason"], current_principal().sub), ref)


@merchants.route("/<ref>/settlements/<month>")
class SettlementResource(MethodView):
    @merchants.roles("merchant", *STAFF)
    @merchants.response(200, SettlementSchema)
    @merchants.problems(404, 422)
    def get(self, ref, month):
        """The merchant's settlement for an Asia/Shanghai month ``YYYY-MM`` (points): opening and closing
        balance, earned by rule, received for its offers, spent in the supermarket, service hours and count."""
        return report_rules.settlement(db(), visible_merchant(ref), check_month(month))
