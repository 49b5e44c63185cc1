"""relief: marshmallow schemas of the HTTP API. Money is yuan as a decimal string; hours a decimal string;
dates are Asia/Shanghai days (``YYYY-MM-DD``); times ISO 8601 with an offset."""
from __future__ import annotations

from shared import schemas as s
from shared.errors import MAX_FIELD_ERRORS, Unprocessable, flatten_messages, invalid_fields
from shared.pagination import PageArgs, page_schema
from shared.schemas import ValidationError

from .domain.applications import APPRAISAL_OUTCOMES, ASSISTANCE_TYPES, OBJECTION_OUTCOMES, STATUSES
from .domain.campaigns import DONOR_KINDS
from .domain.funds import LEVELS
from .domain.meals import CARE_LEVELS, CONCERNS, MEALS, OUTCOMES
from .domain.personal import check_id_number, valid_phone
from .domain.volunteers import ACTIVITY_KINDS

CODE = r"^[a-z][a-z0-9_]*$"
#: records in one history import batch
BATCH_MAX = 500


def PositiveMoney(**kw):
    """Yuan > 0 as a decimal string, at most two decimals (never rounded)."""
    return s.Money(exclusive_minimum=True, **kw)


class IdCardNumber(s.String):
    """A resident ID-card number (GB 11643-1999): 17 digits and a valid check character; ``x`` becomes ``X``."""

    def __init__(self, **kw):
        super().__init__(max_length=18, **kw)
        self.metadata.setdefault("pattern", r"^\d{17}[\dXx]$")

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            return check_id_number(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class Phone(s.String):
    def __init__(self, **kw):
        super().__init__(max_length=20, **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value and not valid_phone(value):
            raise ValidationError("Not a phone number (digits, spaces, dashes, an optional leading +).")
        return value


class QueryBool(s.String):
    """A query-string flag: exactly ``true`` or ``false``."""

    def __init__(self, **kw):
        super().__init__(max_length=5, **kw)
        self.metadata["enum"] = ["true", "false"]

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value not in ("true", "false"):
            raise ValidationError("Must be true or false.")
        return value == "true"


# -- campaigns and donations ---------------------------------------------------------------------------------
class CampaignCreateSchema(s.Schema):
    ref = s.String(max_length=64, metadata={"description": "the bureau's own reference (unique), e.g. SNXAX-2023"})
    name = s.String(required=True, max_length=200)
    opens_on = s.Date(required=True)
    closes_on = s.Date(required=True)
    levels = s.List(s.Enum(LEVELS), min_items=1, max_items=2, metadata={"description": "default both"})
    notice_days = s.Integer(minimum=1, maximum=60, metadata={"description": "public notice length in days (default 7)"})


class CampaignSchema(s.Schema):
    id = s.String(dump_only=True)
    ref = s.String(dump_only=True, allow_none=True)
    name = s.String(dump_only=True)
    opens_on = s.Date(dump_only=True)
    closes_on = s.Date(dump_only=True)
    levels = s.List(s.String(), dump_only=True)
    notice_days = s.Integer(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


CampaignPage = page_schema(CampaignSchema, "CampaignPage")


class DonorSchema(s.Schema):
    kind = s.Enum(DONOR_KINDS, required=True)
    name = s.String(required=True, max_length=200)
    person_id = s.String(max_length=64, allow_none=True, metadata={"description": "registry id of an individual"})
    caring_unit = s.Boolean(load_only=True, metadata={"description": "honour this organisation as a caring unit"})


class DonationCreateSchema(s.Schema):
    receipt_no = s.String(required=True, max_length=64, metadata={"description": "unique; the natural key"})
    ref = s.String(max_length=64)
    donor = s.Nested(DonorSchema, required=True)
    level = s.Enum(LEVELS, required=True)
    county = s.String(max_length=40, allow_none=True, metadata={"description": "required for level county"})
    amount = PositiveMoney(required=True)
    received_at = s.AwareDateTime(required=True)
    note = s.String(max_length=500)


class DonationSchema(s.Schema):
    id = s.String(dump_only=True)
    campaign_id = s.String(dump_only=True)
    receipt_no = s.String(dump_only=True)
    ref = s.String(dump_only=True, allow_none=True)
    donor = s.Nested(DonorSchema, dump_only=True)
    level = s.String(dump_only=True)
    county = s.String(dump_only=True, allow_none=True)
    amount = s.Money(dump_only=True)
    received_at = s.AwareDateTime(dump_only=True)
    note = s.String(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


DonationPage = page_schema(DonationSchema, "DonationPage")


class DonationArgs(PageArgs):
    level = s.Enum(LEVELS)
    county = s.String(max_length=40)


class PublicDonationSchema(s.Schema):
    receipt_no = s.String(dump_only=True)
    donor_kind = s.String(dump_only=True)
    donor = s.String(dump_only=True, metadata={"description": "organisations by name; individuals masked (张*)"})
    level = s.String(dump_only=True)
    county = s.String(dump_only=True, allow_none=True)
    amount = s.Money(dump_only=True)
    received_at = s.AwareDateTime(dump_only=True)


PublicDonationPage = page_schema(PublicDonationSchema, "PublicDonationPage")


class CaringUnitCreateSchema(s.Schema):
    name = s.String(required=True, max_length=200, metadata={"description": "the organisation, as it donated"})
    citation = s.String(max_length=500)


class CaringUnitSchema(s.Schema):
    name = s.String(dump_only=True)
    citation = s.String(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


class CaringUnitListSchema(s.Schema):
    items = s.List(s.Nested(CaringUnitSchema), dump_only=True)


class RankingArgs(s.Schema):
    limit = s.Integer(load_default=20, minimum=1, maximum=200)


class OrganisationTotalSchema(s.Schema):
    name = s.String(dump_only=True)
    total = s.Money(dump_only=True)
    donations = s.Integer(dump_only=True)
    caring_unit = s.Boolean(dump_only=True)


class OrganisationRankingSchema(s.Schema):
    items = s.List(s.Nested(OrganisationTotalSchema), dump_only=True)


class AsOfArgs(s.Schema):
    as_of = s.AwareDateTime(load_default=None, metadata={"description": "figures at this moment (default now)"})


class CountyAmountSchema(s.Schema):
    county = s.String(dump_only=True)
    amount = s.Money(dump_only=True)
    count = s.Integer(dump_only=True)


class FundSchema(s.Schema):
    level = s.String(dump_only=True)
    county = s.String(dump_only=True, allow_none=True)
    donated = s.Money(dump_only=True)
    committed = s.Money(dump_only=True, metadata={"description": "issued disbursements (paid, pending or failed)"})
    available = s.Money(dump_only=True)


class TotalsSchema(s.Schema):
    campaign_id = s.String(dump_only=True)
    as_of = s.AwareDateTime(dump_only=True, allow_none=True)
    total = s.Money(dump_only=True)
    city = s.Money(dump_only=True)
    county = s.Money(dump_only=True)
    count = s.Integer(dump_only=True)
    by_county = s.List(s.Nested(CountyAmountSchema), dump_only=True)
    funds = s.List(s.Nested(FundSchema), dump_only=True, metadata={"description": "now (not as_of)"})


class CountyReportSchema(s.Schema):
    county = s.String(dump_only=True)
    donations = s.Money(dump_only=True)
    donation_count = s.Integer(dump_only=True)
    disbursed = s.Money(dump_only=True)
    people_helped = s.Integer(dump_only=True)


class ReportSchema(s.Schema):
    campaign_id = s.String(dump_only=True)
    name = s.String(dump_only=True)
    opens_on = s.Date(dump_only=True)
    closes_on = s.Date(dump_only=True)
    as_of = s.AwareDateTime(dump_only=True, allow_none=True)
    donations_total = s.Money(dump_only=True)
    donations_city = s.Money(dump_only=True)
    donations_county = s.Money(dump_only=True)
    donations_count = s.Integer(dump_only=True)
    disbursed_total = s.Money(dump_only=True, metadata={"description": "disbursements paid"})
    disbursed_city = s.Money(dump_only=True)
    disbursed_county = s.Money(dump_only=True)
    people_helped = s.Integer(dump_only=True, metadata={"description": "distinct applicants paid"})
    people_city = s.Integer(dump_only=True)
    people_county = s.Integer(dump_only=True)
    applications_approved = s.Integer(dump_only=True)
    applications_rejected = s.Integer(dump_only=True)
    caring_units = s.List(s.String(), dump_only=True)
    by_county = s.List(s.Nested(CountyReportSchema), dump_only=True)


# -- applications and vetting --------------------------------------------------------------------------------
class ApplicantSchema(s.Schema):
    name = s.String(required=True, max_length=50)
    id_number = IdCardNumber(required=True)
    phone = Phone(required=True)
    person_id = s.String(max_length=64, allow_none=True)


class HouseholdSchema(s.Schema):
    size = s.Integer(required=True, minimum=1, maximum=50, metadata={"description": "people in the household"})
    monthly_income = s.Money(required=True, metadata={"description": "household income a month, yuan"})
    notes = s.String(max_length=2000)


class ApplicationCreateSchema(s.Schema):
    ref = s.String(max_length=64, metadata={"description": "the intake's own reference (unique)"})
    applicant = s.Nested(ApplicantSchema, required=True)
    county = s.String(required=True, max_length=40, metadata={"description": "the applicant's county"})
    level = s.Enum(LEVELS, required=True, metadata={"description": "paying body: the city, or that county"})
    assistance_type = s.Enum(ASSISTANCE_TYPES, required=True)
    household = s.Nested(HouseholdSchema, required=True)
    requested_amount = PositiveMoney(required=True)
    applied_on = s.Date()


class ApplicantViewSchema(s.Schema):
    name = s.String(dump_only=True)
    id_number = s.String(dump_only=True)
    phone = s.String(dump_only=True)
    person_id = s.String(dump_only=True, allow_none=True)


class SurveyCreateSchema(s.Schema):
    surveyed_on = s.Date(required=True)
    surveyors = s.String(max_length=200, metadata={"description": "who visited (default: the caller)"})
    findings = s.String(required=True, max_length=2000)


class SurveySchema(s.Schema):
    surveyed_on = s.Date(dump_only=True)
    surveyors = s.String(dump_only=True)
    findings = s.String(dump_only=True)
    recorded_by = s.String(dump_only=True)


class AppraisalCreateSchema(s.Schema):
    appraised_on = s.Date(required=True)
    participants = s.Integer(required=True, minimum=1, maximum=10000)
    outcome = s.Enum(APPRAISAL_OUTCOMES, required=True)
    notes = s.String(max_length=2000)


class AppraisalSchema(s.Schema):
    appraised_on = s.Date(dump_only=True)
    participants = s.Integer(dump_only=True)
    outcome = s.String(dump_only=True)
    notes = s.String(dump_only=True, allow_none=True)
    recorded_by = s.String(dump_only=True)


class NoticeCreateSchema(s.Schema):
    starts_on = s.Date(required=True)
    ends_on = s.Date(metadata={"description": "default starts_on + the campaign's notice_days; never earlier"})


class NoticeSchema(s.Schema):
    starts_on = s.Date(dump_only=True)
    ends_on = s.Date(dump_only=True)


class ObjectionCreateSchema(s.Schema):
    raised_on = s.Date(required=True)
    text = s.String(required=True, max_length=2000)


class ObjectionHandleSchema(s.Schema):
    handled_on = s.Date(required=True)
    outcome = s.Enum(OBJECTION_OUTCOMES, required=True)
    finding = s.String(required=True, max_length=2000)


class ObjectionSchema(s.Schema):
    id = s.String(dump_only=True)
    raised_on = s.Date(dump_only=True)
    text = s.String(dump_only=True)
    handled_on = s.Date(dump_only=True, allow_none=True)
    outcome = s.String(dump_only=True, allow_none=True)
    finding = s.String(dump_only=True, allow_none=True)


class DecisionCreateSchema(s.Schema):
    approved = s.Boolean(required=True)
    decided_on = s.Date(required=True)
    reason = s.String(max_length=500, metadata={"description": "required to reject"})
    granted_amount = PositiveMoney(metadata={"description": "approvals: at most requested (default requested)"})


class ObjectionImportSchema(s.Schema):
    raised_on = s.Date(required=True)
    text = s.String(required=True, max_length=2000)
    handled_on = s.Date(metadata={"description": "with outcome and finding, once handled"})
    outcome = s.Enum(OBJECTION_OUTCOMES)
    finding = s.String(max_length=2000)

    @s.validates_schema
    def _handled_together(self, data, **kwargs):
        given = [k for k in ("handled_on", "outcome", "finding") if data.get(k) is not None]
        if given and len(given) != 3:
            missing = [k for k in ("handled_on", "outcome", "finding") if k not in given]
            raise ValidationError({k: ["Required with the objection's handling."] for k in missing})


class DisbursementImportSchema(s.Schema):
    amount = PositiveMoney(required=True)
    issued_on = s.Date()
    paid_on = s.Date(metadata={"description": "the payment arrived (else it stays issued)"})


class ApplicationImportSchema(ApplicationCreateSchema):
    """One application with its whole recorded vetting, each step as its own endpoint takes it."""

    household_survey = s.Nested(SurveyCreateSchema, required=True)
    democratic_appraisal = s.Nested(AppraisalCreateSchema, required=True)
    public_notice = s.Nested(NoticeCreateSchema, metadata={"description": "supported applications"})
    objections = s.List(s.Nested(ObjectionImportSchema), load_default=list, validate=s.validate.Length(max=50))
    decision = s.Nested(DecisionCreateSchema)
    disbursement = s.Nested(DisbursementImportSchema, metadata={"description": "approved applications"})


class ApplicationImportBatchSchema(s.Schema):
    """1 to 500 applications, each exactly as the single history import takes it."""

    applications = s.Nested(ApplicationImportSchema, many=True, required=True,
                            validate=s.validate.Length(min=1, max=BATCH_MAX))

    def handle_error(self, error, data, **kwargs):
        """Invalid records are named by index in the field paths (``applications.12.applicant.id_number``) and,
        beside them, by their ``ref``: extension members ``index`` and ``ref`` (the first) and ``items`` (each)."""
        records = data.get("applications") if isinstance(data, dict) else None
        messages = error.messages.get("applications") if isinstance(error.messages, dict) else None
        if not isinstance(records, list) or not isinstance(messages, dict):
            return
        named = [{"index": i, "ref": _ref_of(records[i])} for i in sorted(k for k in messages if isinstance(k, int))
                 if i < len(records)][:MAX_FIELD_ERRORS]
        if named:
            detail, errors = invalid_fields(flatten_messages(error.messages))
            raise Unprocessable(detail, code="unprocessable-entity", errors=errors, index=named[0]["index"],
                                ref=named[0]["ref"], items=named)


def _ref_of(record) -> str | None:
    ref = record.get("ref") if isinstance(record, dict) else None
    return ref[:64] if isinstance(ref, str) else None


class ImportResultSchema(s.Schema):
    index = s.Integer(dump_only=True, metadata={"description": "the record's place in the request (from 0)"})
    ref = s.String(dump_only=True, allow_none=True)
    id = s.String(dump_only=True, metadata={"description": "the application's id"})
    status = s.String(dump_only=True, metadata={"enum": list(STATUSES)})
    created = s.Boolean(dump_only=True, metadata={"description": "false: stored before (same ref, or the same "
                                                                 "person's live application), left unchanged"})


class ImportBatchResultSchema(s.Schema):
    items = s.List(s.Nested(ImportResultSchema), dump_only=True, metadata={"description": "in input order"})
    created = s.Integer(dump_only=True, metadata={"description": "records stored by this request"})
    existing = s.Integer(dump_only=True, metadata={"description": "records stored before, unchanged"})


class ApplicationSchema(s.Schema):
    id = s.String(dump_only=True)
    campaign_id = s.String(dump_only=True)
    ref = s.String(dump_only=True, allow_none=True)
    applicant = s.Nested(ApplicantViewSchema, dump_only=True)
    masked = s.Boolean(dump_only=True, metadata={"description": "false only in an audited ?reveal=true read"})
    county = s.String(dump_only=True)
    level = s.String(dump_only=True)
    assistance_type = s.String(dump_only=True)
    household = s.Nested(HouseholdSchema, dump_only=True)
    requested_amount = s.Money(dump_only=True)
    granted_amount = s.Money(dump_only=True, allow_none=True)
    applied_on = s.Date(dump_only=True, allow_none=True)
    status = s.String(dump_only=True, metadata={"enum": list(STATUSES)})
    household_survey = s.Nested(SurveySchema, dump_only=True, allow_none=True)
    democratic_appraisal = s.Nested(AppraisalSchema, dump_only=True, allow_none=True)
    public_notice = s.Nested(NoticeSchema, dump_only=True, allow_none=True)
    objections = s.List(s.Nested(ObjectionSchema), dump_only=True)
    decided_on = s.Date(dump_only=True, allow_none=True)
    decision_reason = s.String(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)
    updated_at = s.AwareDateTime(dump_only=True)


ApplicationPage = page_schema(ApplicationSchema, "ApplicationPage")


class ApplicationArgs(PageArgs):
    status = s.Enum(STATUSES)
    ref = s.String(max_length=64)


class RevealArgs(s.Schema):
    reveal = QueryBool(load_default=False, metadata={"description": "unmasked applicant (clerk, auditor, admin; audited)"})
    purpose = s.String(max_length=200, metadata={"description": "why the personal data is read (kept in the audit log)"})


class PublicNoticeSchema(s.Schema):
    application_id = s.String(dump_only=True)
    name = s.String(dump_only=True, metadata={"description": "masked: 张*"})
    id_number = s.String(dump_only=True, metadata={"description": "masked: 1408**********123X"})
    county = s.String(dump_only=True)
    level = s.String(dump_only=True)
    assistance_type = s.String(dump_only=True)
    requested_amount = s.Money(dump_only=True)
    notice_starts_on = s.Date(dump_only=True)
    notice_ends_on = s.Date(dump_only=True)
    status = s.String(dump_only=True)


PublicNoticePage = page_schema(PublicNoticeSchema, "PublicNoticePage")


class NoticeArgs(PageArgs):
    on = s.Date(metadata={"description": "only notices open on this day"})


# -- disbursements -------------------------------------------------------------------------------------------
class DisbursementCreateSchema(s.Schema):
    amount = PositiveMoney(required=True)
    issued_on = s.Date()


class PaidSchema(s.Schema):
    paid_on = s.Date(required=True)


class FailedSchema(s.Schema):
    reason = s.String(required=True, max_length=60, validate=s.validate.Regexp(CODE),
                      metadata={"description": "a code: account_closed, account_invalid, bank_rejected..."})
    failed_at = s.AwareDateTime()


class AttemptSchema(s.Schema):
    attempt_no = s.Integer(dump_only=True)
    outcome = s.String(dump_only=True, allow_none=True)
    reason = s.String(dump_only=True, allow_none=True)
    settled_at = s.AwareDateTime(dump_only=True, allow_none=True)


class DisbursementSchema(s.Schema):
    id = s.String(dump_only=True)
    application_id = s.String(dump_only=True)
    campaign_id = s.String(dump_only=True)
    level = s.String(dump_only=True)
    county = s.String(dump_only=True, allow_none=True)
    assistance_type = s.String(dump_only=True)
    amount = s.Money(dump_only=True)
    status = s.String(dump_only=True, metadata={"enum": ["issued", "paid", "failed"]})
    attempt_no = s.Integer(dump_only=True)
    issued_on = s.Date(dump_only=True, allow_none=True)
    paid_on = s.Date(dump_only=True, allow_none=True)
    failure_reason = s.String(dump_only=True, allow_none=True)
    attempts = s.List(s.Nested(AttemptSchema), dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


DisbursementPage = page_schema(DisbursementSchema, "DisbursementPage")


class DisbursementArgs(PageArgs):
    status = s.Enum(("issued", "paid", "failed"))


# -- audit ---------------------------------------------------------------------------------------------------
class AuditArgs(PageArgs):
    entity = s.String(max_length=40)
    entity_id = s.String(max_length=64)
    actor = s.String(max_length=64)
    action = s.String(max_length=60)


class AuditEntrySchema(s.Schema):
    id = s.String(dump_only=True)
    at = s.AwareDateTime(dump_only=True)
    actor = s.String(dump_only=True)
    action = s.String(dump_only=True)
    entity = s.String(dump_only=True)
    entity_id = s.String(dump_only=True)
    detail = s.fields.Dict(dump_only=True, allow_none=True)


AuditPage = page_schema(AuditEntrySchema, "AuditPage")


# -- volunteers ----------------------------------------------------------------------------------------------
class ActivityCreateSchema(s.Schema):
    kind = s.Enum(ACTIVITY_KINDS, required=True)
    title = s.String(required=True, max_length=200)
    community = s.String(max_length=100)
    description = s.String(max_length=2000)


class ActivitySchema(s.Schema):
    id = s.String(dump_only=True)
    kind = s.String(dump_only=True)
    title = s.String(dump_only=True)
    community = s.String(dump_only=True, allow_none=True)
    description = s.String(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


ActivityPage = page_schema(ActivitySchema, "ActivityPage")


class ShiftCreateSchema(s.Schema):
    starts_at = s.AwareDateTime(required=True)
    ends_at = s.AwareDateTime(required=True)
    capacity = s.Integer(required=True, minimum=1, maximum=1000)
    place = s.String(max_length=200)


class ShiftSchema(s.Schema):
    id = s.String(dump_only=True)
    activity_id = s.String(dump_only=True)
    activity = s.String(dump_only=True, attribute="activity.kind")
    starts_at = s.AwareDateTime(dump_only=True)
    ends_at = s.AwareDateTime(dump_only=True)
    capacity = s.Integer(dump_only=True)
    booked = s.Integer(dump_only=True)
    place = s.String(dump_only=True, allow_none=True)


ShiftPage = page_schema(ShiftSchema, "ShiftPage")


class ShiftArgs(PageArgs):
    activity_id = s.String(max_length=36)


class SignupCreateSchema(s.Schema):
    person_id = s.String(max_length=64, metadata={"description": "staff sign a volunteer up; a volunteer signs up self"})
    signed_up_at = s.AwareDateTime()


class MomentSchema(s.Schema):
    at = s.AwareDateTime(metadata={"description": "when it happened (default now)"})


class SignupSchema(s.Schema):
    id = s.String(dump_only=True)
    shift_id = s.String(dump_only=True)
    person_id = s.String(dump_only=True)
    status = s.String(dump_only=True, metadata={"enum": ["signed_up", "checked_in", "completed", "cancelled"]})
    signed_up_at = s.AwareDateTime(dump_only=True)
    checked_in_at = s.AwareDateTime(dump_only=True, allow_none=True)
    checked_out_at = s.AwareDateTime(dump_only=True, allow_none=True)
    hours = s.Hours(dump_only=True, allow_none=True)


SignupPage = page_schema(SignupSchema, "SignupPage")


class SignupArgs(PageArgs):
    shift_id = s.String(max_length=36)
    person_id = s.String(max_length=64)


# -- meal delivery -------------------------------------------------------------------------------------------
class RecipientCreateSchema(s.Schema):
    name = s.String(required=True, max_length=50)
    person_id = s.String(max_length=64)
    phone = Phone()
    address = s.String(required=True, max_length=200)
    community = s.String(max_length=100)
    care_level = s.Enum(CARE_LEVELS, required=True)
    diet_notes = s.String(max_length=500)


class RecipientUpdateSchema(s.Schema):
    phone = Phone()
    address = s.String(max_length=200, allow_blank=False)
    care_level = s.Enum(CARE_LEVELS)
    diet_notes = s.String(max_length=500)
    active = s.Boolean()


class RecipientSchema(s.Schema):
    id = s.String(dump_only=True)
    name = s.String(dump_only=True)
    person_id = s.String(dump_only=True, allow_none=True)
    phone = s.String(dump_only=True, allow_none=True)
    address = s.String(dump_only=True)
    community = s.String(dump_only=True, allow_none=True)
    care_level = s.String(dump_only=True)
    diet_notes = s.String(dump_only=True, allow_none=True)
    active = s.Boolean(dump_only=True)
    masked = s.Boolean(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


RecipientPage = page_schema(RecipientSchema, "RecipientPage")


class OrderCreateSchema(s.Schema):
    recipient_id = s.String(required=True, max_length=36)
    served_on = s.Date(required=True)
    meal = s.Enum(MEALS, required=True)


class DeliveryCreateSchema(s.Schema):
    shift_id = s.String(required=True, max_length=36)
    outcome = s.Enum(OUTCOMES, required=True)
    concern = s.Enum(CONCERNS, allow_none=True)
    reported_at = s.AwareDateTime()
    note = s.String(max_length=500)


class WelfareResolveSchema(s.Schema):
    resolved_at = s.AwareDateTime()
    note = s.String(required=True, max_length=500)


class OrderSchema(s.Schema):
    id = s.String(dump_only=True)
    recipient_id = s.String(dump_only=True)
    served_on = s.Date(dump_only=True)
    meal = s.String(dump_only=True)
    status = s.String(dump_only=True, metadata={"enum": ["ordered", "delivered", "no_answer"]})
    shift_id = s.String(dump_only=True, allow_none=True)
    delivered_by = s.String(dump_only=True, allow_none=True)
    delivery_reported_at = s.AwareDateTime(dump_only=True, allow_none=True)
    welfare_flag = s.Boolean(dump_only=True)
    alert_kind = s.String(dump_only=True, allow_none=True)
    welfare_note = s.String(dump_only=True, allow_none=True)
    welfare_resolved_at = s.AwareDateTime(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


OrderPage = page_schema(OrderSchema, "OrderPage")


class OrderArgs(PageArgs):
    served_on = s.Date()
    recipient_id = s.String(max_length=36)
    welfare_flag = QueryBool()
