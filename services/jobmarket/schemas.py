"""jobmarket: marshmallow schemas of the HTTP API. Money is yuan as a decimal string; days are Asia/Shanghai."""
from __future__ import annotations

from shared import schemas as s
from shared.pagination import PageArgs, page_schema

from .domain.tools import CONDITIONS

CODE = s.validate.Regexp(r"^[a-z][a-z0-9_]*$", error="A code of lower-case letters, digits and _.")
CARD = s.validate.Regexp(r"^W-\d{4,8}$", error="A market card number like W-0001.")
PHONE = s.validate.Regexp(r"^\+?[0-9][0-9 -]{4,18}$", error="A phone number (digits).")
TOOL_REF = s.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", error="Letters, digits, - and _ (e.g. T-001).")
WHEN = {"description": "when it happened (aware); default now. Staff only: the past, with its own time."}


def _worker_ref(**kw):
    return s.String(max_length=64, metadata={"description": "market card number (W-0001), person_id or id; "
                                                           "a worker leaves it out (their own)"}, **kw)


# -- workers and employers ------------------------------------------------------------------------------
class WorkerCreateSchema(s.Schema):
    card_no = s.String(max_length=20, validate=CARD, metadata={"description": "W-0001; the next free one if absent"})
    person_id = s.String(max_length=64, metadata={"description": "resident registry id (optional)"})
    name = s.String(max_length=100)
    phone = s.String(max_length=20, validate=PHONE, metadata={"description": "private"})
    skills = s.List(s.String(max_length=40, validate=CODE), max_items=30)
    registered_at = s.AwareDateTime(metadata=WHEN)


class WorkerUpdateSchema(s.Schema):
    person_id = s.String(max_length=64, allow_none=True)
    name = s.String(max_length=100, allow_none=True)
    phone = s.String(max_length=20, validate=PHONE, allow_none=True)
    skills = s.List(s.String(max_length=40, validate=CODE), max_items=30)


class WorkerSchema(s.Schema):
    id = s.String(dump_only=True)
    card_no = s.String(dump_only=True)
    person_id = s.String(dump_only=True, allow_none=True)
    name = s.String(dump_only=True, allow_none=True, metadata={"description": "private: the worker and staff"})
    phone = s.String(dump_only=True, allow_none=True, metadata={"description": "private: the worker and staff"})
    skills = s.List(s.String(), dump_only=True)
    registered_at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


WorkerPage = page_schema(WorkerSchema, "WorkerPage")


class SignInCreateSchema(s.Schema):
    worker = _worker_ref()
    signed_in_at = s.AwareDateTime(metadata=WHEN)


class SignInSchema(s.Schema):
    id = s.String(dump_only=True)
    worker_id = s.String(dump_only=True)
    card_no = s.String(dump_only=True)
    day = s.Date(dump_only=True)
    seq = s.Integer(dump_only=True, metadata={"description": "sign-in number of the day, from 1"})
    signed_in_at = s.AwareDateTime(dump_only=True)


SignInPage = page_schema(SignInSchema, "SignInPage")


class SignInArgs(PageArgs):
    day = s.Date(required=True, metadata={"description": "Asia/Shanghai day"})


class EmployerCreateSchema(s.Schema):
    name = s.String(required=True, max_length=100)
    kind = s.Enum(("person", "company"), load_default="person")
    phone = s.String(max_length=20, validate=PHONE)
    account_sub = s.String(max_length=64, metadata={"description": "login id of the employer's user"})


class EmployerSchema(s.Schema):
    id = s.String(dump_only=True)
    name = s.String(dump_only=True)
    kind = s.String(dump_only=True)
    phone = s.String(dump_only=True, allow_none=True)
    account_sub = s.String(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


EmployerPage = page_schema(EmployerSchema, "EmployerPage")


# -- jobs and dispatch ----------------------------------------------------------------------------------
class JobCreateSchema(s.Schema):
    employer_id = s.String(max_length=36, metadata={"description": "staff only; an employer posts as itself"})
    title = s.String(required=True, max_length=200)
    trade = s.String(max_length=40, validate=CODE)
    skills = s.List(s.String(max_length=40, validate=CODE), max_items=30)
    headcount = s.Integer(required=True, minimum=1, maximum=500)
    work_on = s.Date(required=True)
    place = s.String(required=True, max_length=200)
    wage_per_day = s.Money(required=True, exclusive_minimum=True, maximum="100000.00")
    posted_at = s.AwareDateTime(metadata=WHEN)


class JobSchema(s.Schema):
    id = s.String(dump_only=True)
    employer_id = s.String(dump_only=True)
    title = s.String(dump_only=True)
    trade = s.String(dump_only=True, allow_none=True)
    skills = s.List(s.String(), dump_only=True)
    headcount = s.Integer(dump_only=True)
    filled = s.Integer(dump_only=True)
    work_on = s.Date(dump_only=True)
    place = s.String(dump_only=True)
    wage_per_day = s.Money(dump_only=True)
    status = s.String(dump_only=True, metadata={"description": "open, filled, completed"})
    days = s.Integer(dump_only=True, allow_none=True)
    wage_total = s.Money(dump_only=True, allow_none=True)
    completed_on = s.Date(dump_only=True, allow_none=True)
    posted_at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


JobPage = page_schema(JobSchema, "JobPage")


class JobArgs(PageArgs):
    work_on = s.Date()
    status = s.Enum(("open", "filled", "completed"))


class DispatchRunSchema(s.Schema):
    method = s.Enum(("sign_in_order", "rotation"), load_default="sign_in_order",
                    metadata={"description": "sign_in_order, or rotation: longest without work first"})
    dispatched_at = s.AwareDateTime(metadata=WHEN)


class OverrideSchema(s.Schema):
    worker = _worker_ref(required=True)
    reason = s.String(required=True, max_length=500)
    dispatched_at = s.AwareDateTime(metadata=WHEN)


class DispatchSchema(s.Schema):
    id = s.String(dump_only=True)
    job_id = s.String(dump_only=True)
    worker_id = s.String(dump_only=True)
    card_no = s.String(dump_only=True)
    work_on = s.Date(dump_only=True)
    method = s.String(dump_only=True)
    reason = s.String(dump_only=True, allow_none=True)
    status = s.String(dump_only=True, metadata={"description": "dispatched, cancelled, completed"})
    days = s.Integer(dump_only=True, allow_none=True)
    wage = s.Money(dump_only=True, allow_none=True)
    paid_confirmed = s.Boolean(dump_only=True, allow_none=True)
    paid_confirmed_at = s.AwareDateTime(dump_only=True, allow_none=True)
    worker_rating = s.Integer(dump_only=True, allow_none=True, metadata={"description": "by the employer"})
    employer_rating = s.Integer(dump_only=True, allow_none=True, metadata={"description": "by the worker"})
    dispatched_at = s.AwareDateTime(dump_only=True)
    cancelled_at = s.AwareDateTime(dump_only=True, allow_none=True)


class DispatchListSchema(s.Schema):
    items = s.List(s.Nested(DispatchSchema), dump_only=True, max_items=500)


DispatchPage = page_schema(DispatchSchema, "DispatchPage")


class CancelDispatchSchema(s.Schema):
    reason = s.String(required=True, max_length=500)
    cancelled_at = s.AwareDateTime(metadata=WHEN)


class WorkerDaysSchema(s.Schema):
    dispatch_id = s.String(required=True, max_length=36)
    days = s.Integer(required=True, minimum=1, maximum=366)


class CompletionSchema(s.Schema):
    days = s.Integer(required=True, minimum=1, maximum=366, metadata={"description": "working days of the job"})
    workers = s.List(s.Nested(WorkerDaysSchema), max_items=500,
                     metadata={"description": "a worker's own days, where they differ"})
    completed_at = s.AwareDateTime(metadata=WHEN)


class PaidSchema(s.Schema):
    paid = s.Boolean(required=True)
    confirmed_at = s.AwareDateTime(metadata=WHEN)


class RatingSchema(s.Schema):
    rating = s.Integer(required=True, minimum=1, maximum=5)
    comment = s.String(max_length=500)


# -- lunch ----------------------------------------------------------------------------------------------
class TariffCreateSchema(s.Schema):
    effective_from = s.Date(required=True)
    price = s.Money(required=True, maximum="1000.00", metadata={"description": "what a worker pays, yuan"})
    cost = s.Money(required=True, maximum="1000.00", metadata={"description": "real cost per meal, yuan"})


class TariffSchema(s.Schema):
    effective_from = s.Date(dump_only=True, allow_none=True, metadata={"description": "null for the default"})
    price = s.Money(dump_only=True)
    cost = s.Money(dump_only=True)
    subsidy = s.Money(dump_only=True, minimum=None)
    created_at = s.AwareDateTime(dump_only=True, allow_none=True, metadata={"description": "null for the default"})


class TariffListSchema(s.Schema):
    items = s.List(s.Nested(TariffSchema), dump_only=True)
    default = s.Nested(TariffSchema, dump_only=True, metadata={"description": "used before the first tariff"})


class MealDayCreateSchema(s.Schema):
    served_on = s.Date(required=True)
    capacity = s.Integer(minimum=1, maximum=10000, metadata={"description": "portions; default 30 (configured)"})


class MealDayUpdateSchema(s.Schema):
    capacity = s.Integer(required=True, minimum=1, maximum=10000)


class MealDaySchema(s.Schema):
    served_on = s.Date(dump_only=True)
    capacity = s.Integer(dump_only=True)
    issued = s.Integer(dump_only=True, metadata={"description": "tickets issued: numbers 1..issued"})
    called = s.Integer(dump_only=True, metadata={"description": "numbers called (meals served)"})
    remaining = s.Integer(dump_only=True)


class TicketCreateSchema(s.Schema):
    worker = _worker_ref()
    issued_at = s.AwareDateTime(metadata=WHEN)
    served_on = s.Date(metadata={"description": "must be the Asia/Shanghai day of issued_at (a check)"})
    served_at = s.AwareDateTime(metadata={"description": "staff, history: the meal was also served then"})


class TicketSchema(s.Schema):
    id = s.String(dump_only=True)
    served_on = s.Date(dump_only=True)
    ticket_no = s.Integer(dump_only=True)
    worker_id = s.String(dump_only=True)
    card_no = s.String(dump_only=True)
    price = s.Money(dump_only=True)
    cost = s.Money(dump_only=True)
    subsidy = s.Money(dump_only=True, minimum=None)
    status = s.String(dump_only=True, metadata={"description": "issued, served"})
    issued_at = s.AwareDateTime(dump_only=True)
    served_at = s.AwareDateTime(dump_only=True, allow_none=True)


TicketPage = page_schema(TicketSchema, "TicketPage")


class TicketArgs(PageArgs):
    served_on = s.Date()
    worker = s.String(max_length=64)


class TicketImportItemSchema(TicketCreateSchema):
    """One ticket of a history import: as the single issue takes it, the day being the path's."""

    class Meta(s.Schema.Meta):
        exclude = ("served_on",)

    worker = s.String(required=True, max_length=64, metadata={"description": "market card number (W-0001), "
                                                                             "person_id or id"})
    issued_at = s.AwareDateTime(required=True, metadata={"description": "when the ticket was issued (aware); on "
                                                                        "the path's Asia/Shanghai day"})


class TicketImportSchema(s.Schema):
    tickets = s.List(s.Nested(TicketImportItemSchema), required=True, min_items=1, max_items=500,
                     metadata={"description": "1-500 tickets of the day in number order"})


class TicketImportedSchema(TicketSchema):
    outcome = s.String(dump_only=True, metadata={"enum": ["issued", "existing"],
                                                 "description": "issued by this import, or held before (unchanged)"})


class TicketImportResultSchema(s.Schema):
    served_on = s.Date(dump_only=True)
    issued = s.Integer(dump_only=True, metadata={"description": "tickets issued by this import"})
    existing = s.Integer(dump_only=True, metadata={"description": "tickets held before, left as they are"})
    tickets = s.List(s.Nested(TicketImportedSchema), dump_only=True, metadata={"description": "in input order"})


class CallSchema(s.Schema):
    served_at = s.AwareDateTime(metadata=WHEN)


# -- nap beds -------------------------------------------------------------------------------------------
class BedCreateSchema(s.Schema):
    label = s.String(max_length=100)


class BedUpdateSchema(s.Schema):
    in_service = s.Boolean(required=True)


class BedSchema(s.Schema):
    id = s.String(dump_only=True)
    bed_no = s.Integer(dump_only=True)
    label = s.String(dump_only=True, allow_none=True)
    in_service = s.Boolean(dump_only=True)


class BedListSchema(s.Schema):
    items = s.List(s.Nested(BedSchema), dump_only=True)
    in_service = s.Integer(dump_only=True)


class NapRequestSchema(s.Schema):
    worker = _worker_ref()
    nap_on = s.Date(required=True)
    requested_at = s.AwareDateTime(metadata=WHEN)


class LobbySeatSchema(s.Schema):
    offered = s.Boolean(dump_only=True)
    price = s.Money(dump_only=True)
    reservable = s.Boolean(dump_only=True)
    message = s.String(dump_only=True)


class NapReservationSchema(s.Schema):
    id = s.String(dump_only=True)
    nap_on = s.Date(dump_only=True)
    worker_id = s.String(dump_only=True)
    card_no = s.String(dump_only=True)
    status = s.String(dump_only=True, metadata={"description": "reserved, checked_in, cancelled, released, refused"})
    bed_no = s.Integer(dump_only=True, allow_none=True)
    reason = s.String(dump_only=True, allow_none=True, metadata={"description": "beds_full when refused"})
    lobby_seat = s.Nested(LobbySeatSchema, dump_only=True, allow_none=True)
    price = s.Money(dump_only=True)
    requested_at = s.AwareDateTime(dump_only=True)
    checked_in_at = s.AwareDateTime(dump_only=True, allow_none=True)
    cancelled_at = s.AwareDateTime(dump_only=True, allow_none=True)
    released_at = s.AwareDateTime(dump_only=True, allow_none=True)


NapReservationPage = page_schema(NapReservationSchema, "NapReservationPage")


class NapArgs(PageArgs):
    nap_on = s.Date()
    status = s.Enum(("reserved", "checked_in", "cancelled", "released", "refused"))


class NapCancelSchema(s.Schema):
    cancelled_at = s.AwareDateTime(metadata=WHEN)


class CheckInSchema(s.Schema):
    checked_in_at = s.AwareDateTime(metadata=WHEN)


# -- tools ----------------------------------------------------------------------------------------------
class ToolKindUpdateSchema(s.Schema):
    loan_days = s.Integer(required=True, minimum=1, maximum=365)
    limit_per_worker = s.Integer(required=True, minimum=1, maximum=100)


class ToolKindSchema(s.Schema):
    kind = s.String(dump_only=True)
    loan_days = s.Integer(dump_only=True)
    limit_per_worker = s.Integer(dump_only=True)
    updated_at = s.AwareDateTime(dump_only=True)


class ToolKindListSchema(s.Schema):
    items = s.List(s.Nested(ToolKindSchema), dump_only=True)


class ToolCreateSchema(s.Schema):
    ref = s.String(required=True, max_length=40, validate=TOOL_REF)
    kind = s.String(required=True, max_length=40, validate=CODE,
                    metadata={"description": "generator, electric_hammer, scaffolding, angle_grinder, ... (extendable)"})
    name = s.String(required=True, max_length=100)
    condition = s.Enum(CONDITIONS, load_default="good")
    acquired_at = s.AwareDateTime(metadata=WHEN)


class ToolSchema(s.Schema):
    id = s.String(dump_only=True)
    ref = s.String(dump_only=True)
    kind = s.String(dump_only=True)
    name = s.String(dump_only=True)
    condition = s.String(dump_only=True)
    status = s.String(dump_only=True, metadata={"description": "available, on_hold, on_loan, in_repair"})
    acquired_at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


ToolPage = page_schema(ToolSchema, "ToolPage")


class ToolArgs(PageArgs):
    kind = s.String(max_length=40)
    status = s.Enum(("available", "on_hold", "on_loan", "in_repair"))


class HoldCreateSchema(s.Schema):
    worker = _worker_ref()
    held_at = s.AwareDateTime(metadata=WHEN)


class HoldSchema(s.Schema):
    id = s.String(dump_only=True)
    tool_id = s.String(dump_only=True)
    worker_id = s.String(dump_only=True)
    status = s.String(dump_only=True, metadata={"description": "active, fulfilled, cancelled, expired"})
    held_at = s.AwareDateTime(dump_only=True)
    expires_at = s.AwareDateTime(dump_only=True)
    ended_at = s.AwareDateTime(dump_only=True, allow_none=True)


class LoanCreateSchema(s.Schema):
    worker = _worker_ref(required=True)
    lent_at = s.AwareDateTime(metadata=WHEN)
    condition = s.Enum(CONDITIONS)
    notes = s.String(max_length=500)


class ReturnSchema(s.Schema):
    returned_at = s.AwareDateTime(metadata=WHEN)
    condition = s.Enum(CONDITIONS, required=True)
    notes = s.String(max_length=500)
    send_to_repair = s.Boolean(load_default=False)


class LoanSchema(s.Schema):
    id = s.String(dump_only=True)
    tool_id = s.String(dump_only=True)
    tool_ref = s.String(dump_only=True)
    kind = s.String(dump_only=True)
    worker_id = s.String(dump_only=True)
    card_no = s.String(dump_only=True)
    status = s.String(dump_only=True, metadata={"description": "on_loan, returned"})
    overdue = s.Boolean(dump_only=True)
    lent_at = s.AwareDateTime(dump_only=True)
    due_at = s.AwareDateTime(dump_only=True)
    returned_at = s.AwareDateTime(dump_only=True, allow_none=True)
    condition_out = s.String(dump_only=True)
    condition_in = s.String(dump_only=True, allow_none=True)
    notes_out = s.String(dump_only=True, allow_none=True)
    notes_in = s.String(dump_only=True, allow_none=True)
    overdue_notified_at = s.AwareDateTime(dump_only=True, allow_none=True)


LoanPage = page_schema(LoanSchema, "LoanPage")


class LoanArgs(PageArgs):
    status = s.Enum(("on_loan", "returned"))
    overdue = s.QueryBoolean(metadata={"description": "true: only loans past their due time now"})
    worker = s.String(max_length=64)


class RepairCreateSchema(s.Schema):
    reason = s.String(required=True, max_length=500)
    opened_at = s.AwareDateTime(metadata=WHEN)


class RepairCloseSchema(s.Schema):
    closed_at = s.AwareDateTime(metadata=WHEN)
    outcome = s.String(max_length=500)
    condition = s.Enum(CONDITIONS, load_default="good")


class RepairSchema(s.Schema):
    id = s.String(dump_only=True)
    tool_id = s.String(dump_only=True)
    reason = s.String(dump_only=True)
    outcome = s.String(dump_only=True, allow_none=True)
    opened_at = s.AwareDateTime(dump_only=True)
    closed_at = s.AwareDateTime(dump_only=True, allow_none=True)


# -- reports --------------------------------------------------------------------------------------------
class ReportArgs(s.Schema):
    from_ = s.Date(data_key="from", attribute="from", metadata={"description": "first day (inclusive)"})
    to = s.Date(metadata={"description": "last day (inclusive)"})
    group_by = s.Enum(("day", "month"), load_default="month")

    @s.validates_schema
    def _order(self, data, **_):
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            raise s.ValidationError("Must not be before from.", field_name="to")


class MealPeriodSchema(s.Schema):
    period = s.String(dump_only=True, metadata={"description": "YYYY-MM-DD or YYYY-MM"})
    meals_served = s.Integer(dump_only=True)
    tickets_issued = s.Integer(dump_only=True)
    capacity = s.Integer(dump_only=True)
    paid_total = s.Money(dump_only=True)
    cost_total = s.Money(dump_only=True)
    subsidy_total = s.Money(dump_only=True, minimum=None)


class MealReportSchema(s.Schema):
    from_ = s.Date(dump_only=True, data_key="from", attribute="from", allow_none=True)
    to = s.Date(dump_only=True, allow_none=True)
    meals_served = s.Integer(dump_only=True)
    tickets_issued = s.Integer(dump_only=True)
    meal_days = s.Integer(dump_only=True)
    days = s.Integer(dump_only=True, metadata={"description": "days with at least one meal served"})
    busiest_day_meals = s.Integer(dump_only=True)
    days_over_30 = s.Integer(dump_only=True, metadata={"description": "days that served more than 30 meals"})
    meal_price = s.Money(dump_only=True)
    meal_cost = s.Money(dump_only=True)
    subsidy_per_meal = s.Money(dump_only=True, minimum=None)
    paid_total = s.Money(dump_only=True)
    cost_total = s.Money(dump_only=True)
    subsidy_total = s.Money(dump_only=True, minimum=None, metadata={"description": "Σ (cost − price) of meals served"})
    periods = s.List(s.Nested(MealPeriodSchema), dump_only=True, max_items=100000)


class NapPeriodSchema(s.Schema):
    period = s.String(dump_only=True)
    nap_requests = s.Integer(dump_only=True)
    nap_accepted = s.Integer(dump_only=True)
    nap_refused = s.Integer(dump_only=True)
    reserved = s.Integer(dump_only=True)
    checked_in = s.Integer(dump_only=True)
    cancelled = s.Integer(dump_only=True)
    released = s.Integer(dump_only=True)


class NapReportSchema(NapPeriodSchema):
    from_ = s.Date(dump_only=True, data_key="from", attribute="from", allow_none=True)
    to = s.Date(dump_only=True, allow_none=True)
    nap_beds = s.Integer(dump_only=True, metadata={"description": "beds in service now"})
    lobby_seats_offered = s.Integer(dump_only=True)
    periods = s.List(s.Nested(NapPeriodSchema), dump_only=True, max_items=100000)


class ToolKindFiguresSchema(s.Schema):
    kind = s.String(dump_only=True)
    tools = s.Integer(dump_only=True)
    loans = s.Integer(dump_only=True)
    on_loan = s.Integer(dump_only=True)
    overdue = s.Integer(dump_only=True)


class ToolReportSchema(s.Schema):
    from_ = s.Date(dump_only=True, data_key="from", attribute="from", allow_none=True)
    to = s.Date(dump_only=True, allow_none=True)
    tools = s.Integer(dump_only=True)
    by_status = s.fields.Dict(keys=s.fields.String(), values=s.fields.Integer(), dump_only=True,
                              metadata={"description": "tools by status now"})
    by_kind = s.List(s.Nested(ToolKindFiguresSchema), dump_only=True)
    loans = s.Integer(dump_only=True, metadata={"description": "loans lent in the period"})
    returned = s.Integer(dump_only=True)
    overdue_now = s.Integer(dump_only=True)
    overdue_notified = s.Integer(dump_only=True)
    repairs_opened = s.Integer(dump_only=True)


class JobPeriodSchema(s.Schema):
    period = s.String(dump_only=True)
    jobs_posted = s.Integer(dump_only=True)
    places = s.Integer(dump_only=True)
    places_filled = s.Integer(dump_only=True)
    jobs_completed = s.Integer(dump_only=True)
    worker_days = s.Integer(dump_only=True)
    wages_total = s.Money(dump_only=True)


class JobReportSchema(JobPeriodSchema):
    from_ = s.Date(dump_only=True, data_key="from", attribute="from", allow_none=True)
    to = s.Date(dump_only=True, allow_none=True)
    periods = s.List(s.Nested(JobPeriodSchema), dump_only=True, max_items=100000)


class SummarySchema(s.Schema):
    """The headline figures of the market over a period (the scenario's expected figures read from here)."""

    from_ = s.Date(dump_only=True, data_key="from", attribute="from", allow_none=True)
    to = s.Date(dump_only=True, allow_none=True)
    meals_served = s.Integer(dump_only=True)
    meal_price = s.Money(dump_only=True)
    meal_cost = s.Money(dump_only=True)
    subsidy_total = s.Money(dump_only=True, minimum=None)
    days = s.Integer(dump_only=True)
    busiest_day_meals = s.Integer(dump_only=True)
    days_over_30 = s.Integer(dump_only=True)
    nap_beds = s.Integer(dump_only=True)
    nap_requests = s.Integer(dump_only=True)
    nap_accepted = s.Integer(dump_only=True)
    nap_refused = s.Integer(dump_only=True)
    tool_loans = s.Integer(dump_only=True)
    tools_overdue = s.Integer(dump_only=True)
    jobs_completed = s.Integer(dump_only=True)
    places_filled = s.Integer(dump_only=True)
    wages_total = s.Money(dump_only=True)
