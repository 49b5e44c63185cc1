"""points: marshmallow schemas of the HTTP API. Points are integers; hours are decimal strings; times carry an
offset (answers in Asia/Shanghai time)."""
from __future__ import annotations

from shared import schemas as s
from shared.pagination import PageArgs, page_schema

from .domain.catalogue import LIMIT_PERIODS
from .domain.donations import CONDITIONS
from .domain.rules import ACTIVITIES, PARTICIPANT_ROLES, UNITS
from .models import ACCOUNT_KINDS, CATEGORIES

CODE = s.validate.Regexp(r"^[a-z][a-z0-9_]{1,59}$", error="lower-case letters, digits and _ (2-60), e.g. hazard_photo_report")
SKU = s.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$", error="letters, digits, '.', '_', '-' (1-60), e.g. TISSUE-1")
REF = s.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", error="letters, digits, '.', '_', '-' (1-40), e.g. M-01")
POINTS = dict(minimum=1, maximum=1_000_000)
PERSON = dict(max_length=64)


# -- accounts and the ledger ----------------------------------------------------------------------------
class EntrySchema(s.Schema):
    """One ledger transfer as the account holder sees it: ``points`` is signed (+ credit, − debit)."""

    id = s.String(dump_only=True)
    points = s.Integer(dump_only=True)
    state = s.String(dump_only=True, metadata={"description": "posted, pending, post, void, posted_pending, voided"})
    kind = s.String(dump_only=True, metadata={"description": "credit or redemption"})
    rule = s.String(dump_only=True, attribute="rule_code", allow_none=True)
    rule_version = s.Integer(dump_only=True, allow_none=True)
    category = s.String(dump_only=True, allow_none=True)
    cause_event_id = s.String(dump_only=True, allow_none=True)
    redemption_id = s.String(dump_only=True, allow_none=True)
    note = s.String(dump_only=True, allow_none=True, max_length=500)
    balance_after = s.Integer(dump_only=True, allow_none=True,
                              metadata={"description": "posted balance after this entry (statement pages only)"})
    occurred_at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


EntryPage = page_schema(EntrySchema, "EntryPage")


class AccountSchema(s.Schema):
    account_id = s.String(dump_only=True)
    person_id = s.String(dump_only=True, allow_none=True)
    merchant_ref = s.String(dump_only=True, allow_none=True)
    code = s.String(dump_only=True, allow_none=True, metadata={"description": "system accounts: issuing, supermarket"})
    kind = s.String(dump_only=True)
    balance = s.Integer(dump_only=True, metadata={"description": "posted balance, points"})
    available = s.Integer(dump_only=True, metadata={"description": "balance less reserved redemptions, points"})
    reserved = s.Integer(dump_only=True, metadata={"description": "points held by reserved redemptions"})
    balance_as_of = s.Integer(dump_only=True, allow_none=True,
                              metadata={"description": "posted balance at ?as_of= (only when asked)"})
    entries = s.List(s.Nested(EntrySchema), dump_only=True, metadata={"description": "the newest entries"})


AccountPage = page_schema(AccountSchema, "AccountPage")


class AccountArgs(s.Schema):
    as_of = s.AwareDateTime(load_default=None, metadata={"description": "also report the balance at this time"})


class AccountListArgs(PageArgs):
    kind = s.Enum(ACCOUNT_KINDS)



# -- rules ------------------------------------------------------------------------------------------------
class RuleCreateSchema(s.Schema):
    code = s.String(required=True, max_length=60, validate=CODE)
    category = s.Enum(CATEGORIES, required=True)
    unit = s.Enum(UNITS, required=True, metadata={"description": "case (resolved case), report (verified hazard report), "
                  "hour (volunteer shift hour), appraisal (appraised used item), service_hour / service_count "
                  "(merchant service record), manual (per occasion, manual credits only)"})
    points = s.Integer(allow_none=True, load_default=None, **POINTS,
                       metadata={"description": "points per unit; null only for appraisal (the appraised value)"})
    roles = s.List(s.Enum(PARTICIPANT_ROLES), max_items=10, load_default=list,
                   metadata={"description": "case rules: participant roles credited"})
    activities = s.List(s.Enum(ACTIVITIES), max_items=10, load_default=list,
                        metadata={"description": "hour rules: volunteer activities credited"})
    cap_per_person_per_day = s.Integer(allow_none=True, load_default=None, **POINTS)
    cap_per_person_per_month = s.Integer(allow_none=True, load_default=None, **POINTS)
    valid_from = s.AwareDateTime(allow_none=True, load_default=None)
    valid_to = s.AwareDateTime(allow_none=True, load_default=None)


class RuleSchema(s.Schema):
    code = s.String(dump_only=True)
    version = s.Integer(dump_only=True)
    category = s.String(dump_only=True)
    unit = s.String(dump_only=True)
    trigger = s.String(dump_only=True, metadata={"description": "the event type or step that earns under it"})
    points = s.Integer(dump_only=True, allow_none=True)
    roles = s.List(s.String(), dump_only=True)
    activities = s.List(s.String(), dump_only=True)
    cap_per_person_per_day = s.Integer(dump_only=True, allow_none=True)
    cap_per_person_per_month = s.Integer(dump_only=True, allow_none=True)
    valid_from = s.AwareDateTime(dump_only=True, allow_none=True)
    valid_to = s.AwareDateTime(dump_only=True, allow_none=True)
    retired_at = s.AwareDateTime(dump_only=True, allow_none=True)
    created_by = s.String(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


RulePage = page_schema(RuleSchema, "RulePage")


class RuleListArgs(PageArgs):
    code = s.String(max_length=60)
    include_retired = s.Boolean(load_default=False)


class RuleVersionsSchema(s.Schema):
    code = s.String(dump_only=True)
    current = s.Nested(RuleSchema, dump_only=True, allow_none=True)
    versions = s.List(s.Nested(RuleSchema), dump_only=True)


class RetireSchema(s.Schema):
    retired_at = s.AwareDateTime(load_default=None, metadata={"description": "default now"})


# -- credits ----------------------------------------------------------------------------------------------
class ManualCreditSchema(s.Schema):
    person_id = s.String(**PERSON)
    merchant_ref = s.String(max_length=40)
    rule = s.String(required=True, max_length=60)
    hours = s.Hours(exclusive_minimum=True, minimum="0", metadata={"description": "hour / service_hour rules"})
    quantity = s.Integer(minimum=1, maximum=1000, metadata={"description": "per-unit rules (default 1)"})
    points = s.Integer(**POINTS, metadata={"description": "appraisal rules: the appraised value"})
    reason = s.String(required=True, max_length=500)
    occurred_at = s.AwareDateTime(metadata={"description": "when the work was done (default now)"})

    @s.validates_schema
    def _one_holder(self, data, **_):
        if bool(data.get("person_id")) == bool(data.get("merchant_ref")):
            raise s.ValidationError("Give exactly one of person_id and merchant_ref.", field_name="person_id")


class CreditOutcomeSchema(s.Schema):
    credit_id = s.String(dump_only=True)
    outcome = s.String(dump_only=True, metadata={"description": "credited, capped or refused"})
    requested = s.Integer(dump_only=True)
    granted = s.Integer(dump_only=True)
    reason = s.String(dump_only=True, allow_none=True, max_length=300)
    entry_id = s.String(dump_only=True, allow_none=True)
    rule = s.String(dump_only=True)
    rule_version = s.Integer(dump_only=True)
    account_id = s.String(dump_only=True)
    person_id = s.String(dump_only=True, allow_none=True)
    merchant_ref = s.String(dump_only=True, allow_none=True)
    occurred_at = s.AwareDateTime(dump_only=True)


class DecisionSchema(s.Schema):
    id = s.Integer(dump_only=True)
    cause_event_id = s.String(dump_only=True, allow_none=True)
    person_id = s.String(dump_only=True, allow_none=True)
    account_id = s.String(dump_only=True, allow_none=True)
    rule = s.String(dump_only=True, attribute="rule_code")
    rule_version = s.Integer(dump_only=True, allow_none=True)
    outcome = s.String(dump_only=True, metadata={"description": "capped, refused or duplicate"})
    requested = s.Integer(dump_only=True)
    granted = s.Integer(dump_only=True)
    reason = s.String(dump_only=True, max_length=300)
    occurred_at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


DecisionPage = page_schema(DecisionSchema, "DecisionPage")


class DecisionArgs(PageArgs):
    person_id = s.String(**PERSON)
    outcome = s.Enum(("capped", "refused", "duplicate"))


# -- merchants --------------------------------------------------------------------------------------------
class MerchantCreateSchema(s.Schema):
    ref = s.String(required=True, max_length=40, validate=REF)
    name = s.String(required=True, max_length=100)
    trade = s.String(max_length=40, load_default=None)
    operator_person_id = s.String(load_default=None, **PERSON,
                                  metadata={"description": "the shopkeeper whose merchant token acts for the shop"})
    joined_on = s.Date(load_default=None)


class MerchantUpdateSchema(s.Schema):
    name = s.String(max_length=100, allow_blank=False)
    trade = s.String(max_length=40, allow_none=True)
    operator_person_id = s.String(allow_none=True, **PERSON)
    joined_on = s.Date(allow_none=True)
    active = s.Boolean()


class MerchantSchema(s.Schema):
    ref = s.String(dump_only=True)
    name = s.String(dump_only=True)
    trade = s.String(dump_only=True, allow_none=True)
    operator_person_id = s.String(dump_only=True, allow_none=True)
    active = s.Boolean(dump_only=True)
    joined_on = s.Date(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


MerchantPage = page_schema(MerchantSchema, "MerchantPage")


class ServiceRecordCreateSchema(s.Schema):
    service_hours = s.Hours(exclusive_minimum=True, minimum="0", load_default=None)
    service_count = s.Integer(minimum=1, maximum=10_000, load_default=None)
    description = s.String(required=True, max_length=300)
    served_at = s.AwareDateTime(metadata={"description": "when the service was given (default now)"})


class ServiceRecordSchema(s.Schema):
    id = s.String(dump_only=True)
    merchant_ref = s.String(dump_only=True)
    service_hours = s.Hours(dump_only=True, allow_none=True)
    service_count = s.Integer(dump_only=True, allow_none=True)
    description = s.String(dump_only=True, max_length=300)
    served_at = s.AwareDateTime(dump_only=True)
    status = s.String(dump_only=True, metadata={"description": "submitted, confirmed or rejected"})
    points = s.Integer(dump_only=True, allow_none=True, metadata={"description": "points credited on confirmation"})
    reason = s.String(dump_only=True, allow_none=True, max_length=300)
    decided_at = s.AwareDateTime(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


ServiceRecordPage = page_schema(ServiceRecordSchema, "ServiceRecordPage")


class ServiceRecordArgs(PageArgs):
    status = s.Enum(("submitted", "confirmed", "rejected"))


class ReasonSchema(s.Schema):
    reason = s.String(required=True, max_length=300)


class SettlementSchema(s.Schema):
    merchant_ref = s.String(dump_only=True)
    merchant_name = s.String(dump_only=True)
    month = s.String(dump_only=True)
    account_id = s.String(dump_only=True)
    opening_balance = s.Integer(dump_only=True)
    closing_balance = s.Integer(dump_only=True)
    earned_by_rule = s.fields.Dict(keys=s.String(), values=s.Integer(), dump_only=True)
    earned_total = s.Integer(dump_only=True)
    received_for_offers = s.Integer(dump_only=True)
    offers_redeemed = s.Integer(dump_only=True)
    spent_in_supermarket = s.Integer(dump_only=True)
    own_redemptions = s.Integer(dump_only=True)
    service_hours = s.Hours(dump_only=True, maximum="999999999999.99")
    service_count = s.Integer(dump_only=True)
    generated_at = s.AwareDateTime(dump_only=True)


SettlementPage = page_schema(SettlementSchema, "SettlementPage")


class SettlementArgs(PageArgs):
    month = s.Month(required=True)


# -- catalogue --------------------------------------------------------------------------------------------
class ItemCreateSchema(s.Schema):
    sku = s.String(required=True, max_length=60, validate=SKU)
    name = s.String(required=True, max_length=100)
    category = s.String(max_length=40, load_default="goods")
    points_price = s.Integer(required=True, **POINTS, metadata={"description": "the points price label (明码标分)"})
    stock = s.Integer(required=True, minimum=0, maximum=1_000_000, metadata={"description": "initial units"})
    low_stock_threshold = s.Integer(minimum=0, maximum=1_000_000, load_default=5)
    per_person_limit = s.Integer(minimum=1, maximum=1_000_000, allow_none=True, load_default=None)
    limit_period = s.Enum(LIMIT_PERIODS, load_default="month")
    active_from = s.AwareDateTime(allow_none=True, load_default=None)
    active_to = s.AwareDateTime(allow_none=True, load_default=None)
    merchant_ref = s.String(max_length=40, allow_none=True, load_default=None,
                            metadata={"description": "the alliance merchant offering it (staff only)"})


class ItemUpdateSchema(s.Schema):
    name = s.String(max_length=100, allow_blank=False)
    category = s.String(max_length=40, allow_blank=False)
    points_price = s.Integer(**POINTS)
    low_stock_threshold = s.Integer(minimum=0, maximum=1_000_000)
    per_person_limit = s.Integer(minimum=1, maximum=1_000_000, allow_none=True)
    limit_period = s.Enum(LIMIT_PERIODS)
    active_from = s.AwareDateTime(allow_none=True)
    active_to = s.AwareDateTime(allow_none=True)


class StockAdjustmentSchema(s.Schema):
    change = s.Integer(required=True, minimum=-1_000_000, maximum=1_000_000,
                       validate=s.validate.NoneOf([0], error="must not be 0"),
                       metadata={"description": "units added (restock) or removed (write-off, negative)"})
    reason = s.String(required=True, max_length=300)


class ItemSchema(s.Schema):
    sku = s.String(dump_only=True)
    name = s.String(dump_only=True)
    category = s.String(dump_only=True)
    points_price = s.Integer(dump_only=True)
    stock = s.Integer(dump_only=True, metadata={"description": "units that can still be reserved"})
    reserved = s.Integer(dump_only=True, metadata={"description": "units held by reserved redemptions"})
    low_stock_threshold = s.Integer(dump_only=True)
    per_person_limit = s.Integer(dump_only=True, allow_none=True)
    limit_period = s.String(dump_only=True)
    active_from = s.AwareDateTime(dump_only=True, allow_none=True)
    active_to = s.AwareDateTime(dump_only=True, allow_none=True)
    merchant_ref = s.String(dump_only=True, allow_none=True)
    donation_id = s.String(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)
    updated_at = s.AwareDateTime(dump_only=True)


ItemPage = page_schema(ItemSchema, "ItemPage")


class ItemListArgs(PageArgs):
    merchant_ref = s.String(max_length=40)
    available_at = s.AwareDateTime(metadata={"description": "only items in stock and on offer at this time"})


# -- redemptions ------------------------------------------------------------------------------------------
class LineSchema(s.Schema):
    sku = s.String(required=True, max_length=60)
    quantity = s.Integer(required=True, minimum=1, maximum=1000)


class RedemptionCreateSchema(s.Schema):
    person_id = s.String(**PERSON, metadata={"description": "staff at the counter: whose points (residents: their own)"})
    merchant_ref = s.String(max_length=40, metadata={"description": "a merchant redeeming with its own points"})
    items = s.List(s.Nested(LineSchema), required=True, min_items=1, max_items=50)
    reserved_at = s.AwareDateTime(metadata={"description": "default now (staff may record the past)"})
    expires_at = s.AwareDateTime(metadata={"description": "default reserved_at + 72 hours; at most 30 days"})
    collect = s.Boolean(load_default=False,
                        metadata={"description": "hand the goods over at once (counter sale; staff only)"})

    @s.validates_schema
    def _holder(self, data, **_):
        if data.get("person_id") and data.get("merchant_ref"):
            raise s.ValidationError("Give person_id or merchant_ref, not both.", field_name="merchant_ref")


class FinishSchema(s.Schema):
    at = s.AwareDateTime(metadata={"description": "when it happened (default now)"})


class RedemptionLineSchema(s.Schema):
    sku = s.String(dump_only=True)
    quantity = s.Integer(dump_only=True)
    points_price = s.Integer(dump_only=True)


class RedemptionSchema(s.Schema):
    id = s.String(dump_only=True)
    status = s.String(dump_only=True, metadata={"description": "reserved, redeemed, cancelled or expired"})
    person_id = s.String(dump_only=True)
    merchant_ref = s.String(dump_only=True, allow_none=True)
    account_id = s.String(dump_only=True)
    points = s.Integer(dump_only=True)
    items = s.List(s.Nested(RedemptionLineSchema), dump_only=True)
    reserved_at = s.AwareDateTime(dump_only=True)
    expires_at = s.AwareDateTime(dump_only=True)
    redeemed_at = s.AwareDateTime(dump_only=True, allow_none=True)
    voided_at = s.AwareDateTime(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


RedemptionPage = page_schema(RedemptionSchema, "RedemptionPage")


class RedemptionListArgs(PageArgs):
    person_id = s.String(**PERSON)
    status = s.Enum(("reserved", "redeemed", "cancelled", "expired"))


# -- item donations ---------------------------------------------------------------------------------------
class DonationCreateSchema(s.Schema):
    donor_person_id = s.String(required=True, **PERSON)
    name = s.String(required=True, max_length=100)
    description = s.String(max_length=500, load_default=None)
    received_at = s.AwareDateTime(metadata={"description": "default now"})


class AppraisalSchema(s.Schema):
    condition = s.Enum(CONDITIONS[:4], required=True, metadata={"description": "the condition check"})
    points = s.Integer(required=True, **POINTS, metadata={"description": "appraised value credited to the donor"})
    points_price = s.Integer(**POINTS, metadata={"description": "the label on the shelf (default: points)"})
    sku = s.String(max_length=60, validate=SKU)
    category = s.String(max_length=40)
    decided_at = s.AwareDateTime(metadata={"description": "default now"})


class DonationRejectionSchema(s.Schema):
    condition = s.Enum(CONDITIONS, required=True)
    reason = s.String(required=True, max_length=300)
    decided_at = s.AwareDateTime()


class DonationSchema(s.Schema):
    id = s.String(dump_only=True)
    donor_person_id = s.String(dump_only=True)
    name = s.String(dump_only=True)
    description = s.String(dump_only=True, allow_none=True, max_length=500)
    status = s.String(dump_only=True, metadata={"description": "received, listed or rejected"})
    condition = s.String(dump_only=True, allow_none=True)
    appraised_points = s.Integer(dump_only=True, allow_none=True)
    credited_points = s.Integer(dump_only=True, allow_none=True)
    sku = s.String(dump_only=True, allow_none=True)
    reason = s.String(dump_only=True, allow_none=True, max_length=300)
    received_at = s.AwareDateTime(dump_only=True)
    decided_at = s.AwareDateTime(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


DonationPage = page_schema(DonationSchema, "DonationPage")


class DonationListArgs(PageArgs):
    status = s.Enum(("received", "listed", "rejected"))
    donor_person_id = s.String(**PERSON)


# -- reports ----------------------------------------------------------------------------------------------
class WindowArgs(s.Schema):
    from_ = s.AwareDateTime(data_key="from", load_default=None, metadata={"description": "inclusive"})
    to = s.AwareDateTime(load_default=None, metadata={"description": "exclusive"})


class SummaryArgs(WindowArgs):
    group_by = s.Enum(("day", "month"), load_default=None, metadata={"description": "add a series per period"})


class PeriodSchema(s.Schema):
    period = s.String(dump_only=True)
    issued_by_rule = s.fields.Dict(keys=s.String(), values=s.Integer(), dump_only=True)
    issued_total = s.Integer(dump_only=True)
    redeemed_total = s.Integer(dump_only=True)


class ReservedSchema(s.Schema):
    redemptions = s.Integer(dump_only=True)
    points = s.Integer(dump_only=True)


class SummarySchema(s.Schema):
    from_ = s.AwareDateTime(data_key="from", attribute="from", dump_only=True, allow_none=True)
    to = s.AwareDateTime(dump_only=True, allow_none=True)
    issued_by_rule = s.fields.Dict(keys=s.String(), values=s.Integer(), dump_only=True)
    issued_by_category = s.fields.Dict(keys=s.String(), values=s.Integer(), dump_only=True)
    issued_total = s.Integer(dump_only=True)
    redeemed_total = s.Integer(dump_only=True)
    redeemed_by_category = s.fields.Dict(keys=s.String(), values=s.Integer(), dump_only=True)
    redemptions = s.Integer(dump_only=True, metadata={"description": "redemptions handed over"})
    outstanding_total = s.Integer(dump_only=True, metadata={"description": "issued - redeemed up to `to`"})
    reserved = s.Nested(ReservedSchema, dump_only=True)
    catalogue_stock = s.fields.Dict(keys=s.String(), values=s.Integer(), dump_only=True,
                             metadata={"description": "units on the shelf per sku (unreserved + reserved), now"})
    merchants = s.Integer(dump_only=True, metadata={"description": "active alliance merchants"})
    accounts = s.fields.Dict(keys=s.String(), values=s.Integer(), dump_only=True)
    periods = s.List(s.Nested(PeriodSchema), dump_only=True, allow_none=True)


class HonourArgs(WindowArgs):
    category = s.Enum(CATEGORIES)
    limit = s.Integer(minimum=1, maximum=200, load_default=20)


class HonourSchema(s.Schema):
    rank = s.Integer(dump_only=True)
    person_id = s.String(dump_only=True)
    points = s.Integer(dump_only=True)
    credits = s.Integer(dump_only=True)


class HonourRollSchema(s.Schema):
    items = s.List(s.Nested(HonourSchema), dump_only=True)


LowStockPage = page_schema(ItemSchema, "LowStockPage")
