"""disputes: marshmallow schemas of the HTTP API (strict: unknown fields, blanks, NUL, naive times refused).

Channel and subcategory codes are configurable (``domain.policy``), so the schemas check their shape and the
domain checks them against the configured lists (422 naming the field either way).
"""
from __future__ import annotations

from shared import schemas as s
from shared.pagination import PageArgs, page_schema
from shared.schemas import ValidationError, validates_schema

from .domain.lifecycle import STATUSES
from .domain.policy import (ASSIGNEE_KINDS, DEFAULT_CATEGORIES, DEFAULT_CHANNELS, GRADES, PARTICIPANT_ROLES)

CODE = r"^[a-z][a-z0-9_]*$"
CATEGORIES = tuple(DEFAULT_CATEGORIES)


def _code(max_length: int = 40, **kw):
    return s.String(max_length=max_length, validate=s.validate.Regexp(CODE, error="Must be a lower-case code."),
                    **kw)


def _factor(**kw):
    return s.Integer(minimum=1, maximum=3, **kw)


class ReporterSchema(s.Schema):
    person_id = s.String(max_length=64, metadata={"description": "resident-registry id (opaque)"})
    name = s.String(max_length=100, metadata={"description": "private; masked in every view"})
    phone = s.String(max_length=30, validate=s.validate.Regexp(r"^[0-9+\- ]{3,30}$", error="Not a phone number."),
                     metadata={"description": "private; masked in every view"})


class CaseCreateSchema(s.Schema):
    ref = s.String(max_length=64, metadata={"description": "the intake's own reference (unique), e.g. FX-0001"})
    channel = _code(required=True, metadata={"description": "configured channel; default: " + ", ".join(DEFAULT_CHANNELS)})
    category = s.Enum(CATEGORIES, required=True)
    subcategory = _code(metadata={"description": "a configured subcategory of the category (GLOSSARY.md)"})
    estate = s.String(required=True, max_length=100)
    grid = s.String(max_length=100)
    summary = s.String(required=True, max_length=500)
    description = s.String(max_length=10000)
    reporter = s.Nested(ReporterSchema)
    reporter_person_id = s.String(max_length=64, metadata={"description": "shorthand for reporter.person_id"})
    photos = s.List(s.String(max_length=500), max_items=20, metadata={"description": "media references"})
    households_affected = s.Integer(minimum=0, maximum=100000)
    reported_at = s.AwareDateTime(metadata={"description": "when the resident raised it (default: now)"})
    scale = _factor(metadata={"description": "grading factor 1-3; with all three the case is graded at once"})
    difficulty = _factor()
    social_impact = _factor()

    @validates_schema
    def _shape(self, data, **_):
        factors = [k for k in ("scale", "difficulty", "social_impact") if k in data]
        if factors and len(factors) != 3:
            missing = [k for k in ("scale", "difficulty", "social_impact") if k not in data]
            raise ValidationError("Give all three grading factors or none.", field_name=missing[0])
        if "reporter_person_id" in data:
            reporter = data.setdefault("reporter", {})
            if reporter.get("person_id") not in (None, data["reporter_person_id"]):
                raise ValidationError("Differs from reporter.person_id.", field_name="reporter_person_id")
            reporter["person_id"] = data.pop("reporter_person_id")


class CasePublicReporterSchema(s.Schema):
    person_id = s.String(dump_only=True, allow_none=True)
    name = s.String(dump_only=True, allow_none=True, metadata={"description": "masked: 张*"})
    phone = s.String(dump_only=True, allow_none=True, metadata={"description": "masked: 138****1234"})


class CaseSchema(s.Schema):
    id = s.String(dump_only=True)
    ref = s.String(dump_only=True, allow_none=True)
    channel = s.String(dump_only=True)
    category = s.String(dump_only=True)
    subcategory = s.String(dump_only=True, allow_none=True)
    estate = s.String(dump_only=True)
    grid = s.String(dump_only=True, allow_none=True)
    summary = s.String(dump_only=True)
    description = s.String(dump_only=True, allow_none=True, max_length=10000)
    reporter = s.Nested(CasePublicReporterSchema, dump_only=True)
    photos = s.List(s.String(), dump_only=True)
    households_affected = s.Integer(dump_only=True, allow_none=True)
    status = s.String(dump_only=True, metadata={"enum": list(STATUSES)})
    grade = s.String(dump_only=True, allow_none=True)
    scale = s.Integer(dump_only=True, allow_none=True)
    difficulty = s.Integer(dump_only=True, allow_none=True)
    social_impact = s.Integer(dump_only=True, allow_none=True)
    deadline_at = s.AwareDateTime(dump_only=True, allow_none=True)
    escalated_at = s.AwareDateTime(dump_only=True, allow_none=True)
    assignee_kind = s.String(dump_only=True, allow_none=True)
    assignee_id = s.String(dump_only=True, allow_none=True)
    resolution_count = s.Integer(dump_only=True)
    reopen_count = s.Integer(dump_only=True)
    resolved_at = s.AwareDateTime(dump_only=True, allow_none=True)
    duplicate_candidates = s.List(s.String(), dump_only=True,
                                  metadata={"description": "open cases of the same subcategory and estate at intake"})
    session_ids = s.List(s.String(), dump_only=True, metadata={"description": "night-talk sessions that heard it"})
    reported_at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


class CaseListArgs(PageArgs):
    status = s.Enum(STATUSES)
    category = s.Enum(CATEGORIES)
    subcategory = _code()
    grade = s.Enum(GRADES)
    channel = _code()
    estate = s.String(max_length=100)
    grid = s.String(max_length=100)
    ref = s.String(max_length=64)


class CaseBriefSchema(s.Schema):
    id = s.String(dump_only=True)
    ref = s.String(dump_only=True, allow_none=True)
    summary = s.String(dump_only=True)
    status = s.String(dump_only=True)
    grade = s.String(dump_only=True, allow_none=True)
    estate = s.String(dump_only=True)
    subcategory = s.String(dump_only=True, allow_none=True)
    reported_at = s.AwareDateTime(dump_only=True)


CasePage = page_schema(CaseSchema, "CasePage")


class DuplicateArgs(s.Schema):
    estate = s.String(required=True, max_length=100)
    subcategory = _code(required=True)


class DuplicateListSchema(s.Schema):
    items = s.List(s.Nested(CaseBriefSchema), dump_only=True)


class GradeCreateSchema(s.Schema):
    scale = _factor(required=True)
    difficulty = _factor(required=True)
    social_impact = _factor(required=True)
    grade = s.Enum(GRADES, metadata={"description": "override of the suggested grade (needs a reason)"})
    reason = s.String(max_length=500)
    graded_at = s.AwareDateTime()


class GradeChangeSchema(s.Schema):
    id = s.Integer(dump_only=True)
    case_id = s.String(dump_only=True)
    scale = s.Integer(dump_only=True)
    difficulty = s.Integer(dump_only=True)
    social_impact = s.Integer(dump_only=True)
    suggested_grade = s.String(dump_only=True)
    grade = s.String(dump_only=True)
    previous_grade = s.String(dump_only=True, allow_none=True)
    reason = s.String(dump_only=True, allow_none=True)
    deadline_at = s.AwareDateTime(dump_only=True)
    graded_by = s.String(dump_only=True)
    graded_at = s.AwareDateTime(dump_only=True)


class GradeHistorySchema(s.Schema):
    items = s.List(s.Nested(GradeChangeSchema), dump_only=True)


class AssignmentCreateSchema(s.Schema):
    assignee_kind = s.Enum(ASSIGNEE_KINDS, required=True)
    assignee_id = s.String(required=True, max_length=64, metadata={"description": "person_id or team/group id"})
    at = s.AwareDateTime()


class AssignmentSchema(s.Schema):
    id = s.Integer(dump_only=True)
    case_id = s.String(dump_only=True)
    assignee_kind = s.String(dump_only=True)
    assignee_id = s.String(dump_only=True)
    assigned_by = s.String(dump_only=True)
    assigned_at = s.AwareDateTime(dump_only=True)


class StepSchema(s.Schema):
    note = s.String(max_length=1000)
    at = s.AwareDateTime()


class ReferralSchema(s.Schema):
    reason = _code(required=True, metadata={"description": "e.g. beyond_mediation, legal_proceedings"})
    referred_to = _code(required=True, metadata={"description": "e.g. property_company, court, housing_authority"})
    note = s.String(max_length=1000)
    at = s.AwareDateTime()


class ClosureSchema(s.Schema):
    reason = _code(required=True, metadata={"description": "withdrawn, duplicate, out_of_scope, unreachable..."})
    duplicate_of_case_id = s.String(max_length=36)
    note = s.String(max_length=1000)
    at = s.AwareDateTime()


class ParticipantSchema(s.Schema):
    person_id = s.String(required=True, max_length=64)
    role = s.Enum(PARTICIPANT_ROLES, required=True)


class ResolutionCreateSchema(s.Schema):
    text = s.String(required=True, max_length=2000, metadata={"description": "what was decided"})
    session_id = s.String(max_length=36)
    session_ref = s.String(max_length=64, metadata={"description": "the session's natural ref (e.g. NT-197)"})
    resolved_at = s.AwareDateTime()
    responsible_party = s.String(max_length=200)
    due_on = s.Date(metadata={"description": "Asia/Shanghai day; opens a follow-up for the supervision post"})
    participants = s.List(s.Nested(ParticipantSchema), required=True, max_items=100)

    @validates_schema
    def _one_session(self, data, **_):
        if data.get("session_id") and data.get("session_ref"):
            raise ValidationError("Give session_id or session_ref, not both.", field_name="session_ref")


class ResolutionSchema(s.Schema):
    id = s.String(dump_only=True)
    case_id = s.String(dump_only=True)
    resolution_no = s.Integer(dump_only=True)
    session_id = s.String(dump_only=True, allow_none=True)
    text = s.String(dump_only=True)
    responsible_party = s.String(dump_only=True, allow_none=True)
    due_on = s.Date(dump_only=True, allow_none=True)
    resolved_at = s.AwareDateTime(dump_only=True)
    participants = s.List(s.Nested(ParticipantSchema), dump_only=True)


class ResolutionListSchema(s.Schema):
    items = s.List(s.Nested(ResolutionSchema), dump_only=True)


class TimelineEntrySchema(s.Schema):
    id = s.Integer(dump_only=True)
    kind = s.String(dump_only=True)
    detail = s.fields.Dict(dump_only=True, allow_none=True)
    actor = s.String(dump_only=True)
    at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


class TimelineSchema(s.Schema):
    items = s.List(s.Nested(TimelineEntrySchema), dump_only=True)


class ContactArgs(s.Schema):
    purpose = s.String(max_length=200, metadata={"description": "why it is read (kept in the audit)"})


class ContactSchema(s.Schema):
    case_id = s.String(dump_only=True)
    person_id = s.String(dump_only=True, allow_none=True)
    name = s.String(dump_only=True, allow_none=True)
    phone = s.String(dump_only=True, allow_none=True)


class FeedbackCreateSchema(s.Schema):
    text = s.String(required=True, max_length=4000)
    kind = s.Enum(("progress", "reply", "note"), metadata={"description": "staff only; note is private"})
    public = s.Boolean(metadata={"description": "default true; private notes never reach the wall"})
    at = s.AwareDateTime()


class FeedbackSchema(s.Schema):
    id = s.String(dump_only=True)
    case_id = s.String(dump_only=True)
    kind = s.String(dump_only=True)
    public = s.Boolean(dump_only=True)
    text = s.String(dump_only=True, max_length=4000)
    author = s.String(dump_only=True)
    at = s.AwareDateTime(dump_only=True)


class WallArgs(PageArgs):
    estate = s.String(max_length=100)
    case_id = s.String(max_length=36)


class WallItemSchema(s.Schema):
    id = s.String(dump_only=True)
    case_id = s.String(dump_only=True)
    case_ref = s.String(dump_only=True, allow_none=True)
    estate = s.String(dump_only=True)
    category = s.String(dump_only=True)
    subcategory = s.String(dump_only=True, allow_none=True)
    status = s.String(dump_only=True)
    case_summary = s.String(dump_only=True, metadata={"description": "masked"})
    reporter = s.String(dump_only=True, allow_none=True, metadata={"description": "masked name: 张*"})
    kind = s.String(dump_only=True)
    text = s.String(dump_only=True, max_length=4000, metadata={"description": "phone numbers and names masked"})
    at = s.AwareDateTime(dump_only=True)


WallPage = page_schema(WallItemSchema, "WallPage")


class EvaluationCreateSchema(s.Schema):
    rating = s.Integer(required=True, minimum=1, maximum=5)
    comment = s.String(max_length=1000)
    evaluated_at = s.AwareDateTime()


class EvaluationSchema(s.Schema):
    id = s.String(dump_only=True)
    case_id = s.String(dump_only=True)
    resolution_no = s.Integer(dump_only=True)
    rating = s.Integer(dump_only=True)
    comment = s.String(dump_only=True, allow_none=True)
    reopened = s.Boolean(dump_only=True)
    evaluated_at = s.AwareDateTime(dump_only=True)


class EvaluationListSchema(s.Schema):
    items = s.List(s.Nested(EvaluationSchema), dump_only=True)


class SessionCreateSchema(s.Schema):
    ref = s.String(max_length=64, metadata={"description": "natural reference (unique), e.g. NT-197"})
    held_on = s.Date(required=True, metadata={"description": "Asia/Shanghai day"})
    estate = s.String(required=True, max_length=100)
    attendees = s.Integer(required=True, minimum=0, maximum=100000)
    notes = s.String(max_length=2000)
    case_ids = s.List(s.String(max_length=36), max_items=200)
    case_refs = s.List(s.String(max_length=64), max_items=200)


class HeardCaseSchema(s.Schema):
    case_id = s.String(dump_only=True)
    case_ref = s.String(dump_only=True, allow_none=True)


class DecisionSchema(s.Schema):
    case_id = s.String(dump_only=True)
    resolution_id = s.String(dump_only=True)
    resolution_no = s.Integer(dump_only=True)
    text = s.String(dump_only=True)
    responsible_party = s.String(dump_only=True, allow_none=True)
    due_on = s.Date(dump_only=True, allow_none=True)
    resolved_at = s.AwareDateTime(dump_only=True)


class SessionSchema(s.Schema):
    id = s.String(dump_only=True)
    ref = s.String(dump_only=True, allow_none=True)
    held_on = s.Date(dump_only=True)
    estate = s.String(dump_only=True)
    attendees = s.Integer(dump_only=True)
    notes = s.String(dump_only=True, allow_none=True, max_length=2000)
    cases = s.List(s.Nested(HeardCaseSchema), dump_only=True)
    decisions = s.List(s.Nested(DecisionSchema), dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


class SessionListArgs(PageArgs):
    estate = s.String(max_length=100)
    ref = s.String(max_length=64)


class SessionBriefSchema(s.Schema):
    id = s.String(dump_only=True)
    ref = s.String(dump_only=True, allow_none=True)
    held_on = s.Date(dump_only=True)
    estate = s.String(dump_only=True)
    attendees = s.Integer(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


SessionPage = page_schema(SessionBriefSchema, "SessionPage")


class FollowUpCreateSchema(s.Schema):
    task = s.String(required=True, max_length=1000)
    due_on = s.Date(required=True, metadata={"description": "Asia/Shanghai day"})
    responsible_party = s.String(max_length=200)
    resolution_no = s.Integer(minimum=1, metadata={"description": "default: the latest resolution"})


class ProgressEntrySchema(s.Schema):
    note = s.String(dump_only=True)
    at = s.String(dump_only=True)
    by = s.String(dump_only=True)


class FollowUpSchema(s.Schema):
    id = s.String(dump_only=True)
    case_id = s.String(dump_only=True)
    resolution_no = s.Integer(dump_only=True)
    task = s.String(dump_only=True)
    responsible_party = s.String(dump_only=True, allow_none=True)
    due_on = s.Date(dump_only=True)
    status = s.String(dump_only=True, metadata={"enum": ["open", "done"]})
    progress = s.List(s.Nested(ProgressEntrySchema), dump_only=True)
    completed_at = s.AwareDateTime(dump_only=True, allow_none=True)
    created_at = s.AwareDateTime(dump_only=True)


class FollowUpListSchema(s.Schema):
    items = s.List(s.Nested(FollowUpSchema), dump_only=True)


class ProgressCreateSchema(s.Schema):
    note = s.String(required=True, max_length=1000)
    at = s.AwareDateTime()


class OverdueArgs(s.Schema):
    as_of = s.Date(metadata={"description": "Asia/Shanghai day (default today)"})


class OverdueItemSchema(s.Schema):
    follow_up = s.Nested(FollowUpSchema, dump_only=True)
    case_ref = s.String(dump_only=True, allow_none=True)
    estate = s.String(dump_only=True)
    grade = s.String(dump_only=True, allow_none=True)
    days_overdue = s.Integer(dump_only=True)


class OverdueGroupSchema(s.Schema):
    grade = s.String(dump_only=True, allow_none=True)
    items = s.List(s.Nested(OverdueItemSchema), dump_only=True)


class OverdueBoardSchema(s.Schema):
    as_of = s.Date(dump_only=True)
    groups = s.List(s.Nested(OverdueGroupSchema), dump_only=True)


class HazardCreateSchema(s.Schema):
    photo = s.String(required=True, max_length=500, metadata={"description": "media reference (id or URL)"})
    estate = s.String(required=True, max_length=100)
    grid = s.String(max_length=100)
    location = s.String(required=True, max_length=300)
    description = s.String(max_length=2000)
    reporter_person_id = s.String(max_length=64, metadata={"description": "staff only: reporting on behalf"})
    reported_at = s.AwareDateTime()


class HazardSchema(s.Schema):
    id = s.String(dump_only=True)
    reporter_person_id = s.String(dump_only=True)
    estate = s.String(dump_only=True)
    grid = s.String(dump_only=True, allow_none=True)
    location = s.String(dump_only=True)
    description = s.String(dump_only=True, allow_none=True)
    photo = s.String(dump_only=True)
    status = s.String(dump_only=True, metadata={"enum": ["pending", "verified", "rejected"]})
    reported_at = s.AwareDateTime(dump_only=True)
    decided_by = s.String(dump_only=True, allow_none=True)
    decided_at = s.AwareDateTime(dump_only=True, allow_none=True)
    decision_note = s.String(dump_only=True, allow_none=True)


HazardPage = page_schema(HazardSchema, "HazardPage")


class HazardListArgs(PageArgs):
    status = s.Enum(("pending", "verified", "rejected"))
    estate = s.String(max_length=100)


class DecisionCreateSchema(s.Schema):
    note = s.String(max_length=1000)
    at = s.AwareDateTime()


class RejectionCreateSchema(s.Schema):
    note = s.String(required=True, max_length=1000, metadata={"description": "why it was rejected"})
    at = s.AwareDateTime()


class PeriodArgs(s.Schema):
    from_ = s.Date(data_key="from", attribute="from", metadata={"description": "first Asia/Shanghai day"})
    to = s.Date(metadata={"description": "last Asia/Shanghai day (inclusive)"})

    @validates_schema
    def _order(self, data, **_):
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            raise ValidationError("Must not be before from.", field_name="to")


class StatisticsArgs(PeriodArgs):
    granularity = s.Enum(("day", "month"), load_default="month")


def _counts(description: str):
    return s.fields.Dict(keys=s.fields.String(), values=s.fields.Integer(), dump_only=True,
                         metadata={"description": description})


class PeriodSchema(s.Schema):
    from_ = s.Date(data_key="from", attribute="from", dump_only=True, allow_none=True)
    to = s.Date(dump_only=True, allow_none=True)
    granularity = s.String(dump_only=True)


class StatisticsSchema(s.Schema):
    period = s.Nested(PeriodSchema, dump_only=True)
    cases = s.Integer(dump_only=True)
    by_status = _counts("cases per status")
    by_category = _counts("cases per category")
    by_subcategory = _counts("cases per subcategory")
    by_grade = _counts("cases per grade (ungraded included)")
    by_channel = _counts("cases per channel")
    by_estate = _counts("cases per estate")
    by_period = _counts("cases per Asia/Shanghai day or month of reported_at")
    sessions = s.Integer(dump_only=True, metadata={"description": "night-talk sessions held in the period"})
    resolved = s.Integer(dump_only=True)
    resolved_by_category = _counts("resolved cases per category")
    open = s.Integer(dump_only=True, metadata={"description": "cases not resolved"})
    in_progress = s.Integer(dump_only=True, metadata={"description": "cases neither resolved, referred nor closed"})
    reopened = s.Integer(dump_only=True, metadata={"description": "cases reopened at least once by an evaluation"})
    median_hours_to_resolve = s.fields.Dict(keys=s.fields.String(), values=s.fields.Float(), dump_only=True)
    evaluations = s.Integer(dump_only=True)
    satisfaction_average = s.fields.Float(dump_only=True, allow_none=True)


class MapArgs(s.Schema):
    estate = s.String(max_length=100)


class GridCellSchema(s.Schema):
    grid = s.String(dump_only=True, allow_none=True)
    open = s.Integer(dump_only=True)
    blue = s.Integer(dump_only=True)
    yellow = s.Integer(dump_only=True)
    red = s.Integer(dump_only=True)
    ungraded = s.Integer(dump_only=True)
    colour = s.String(dump_only=True, allow_none=True, metadata={"description": "worst open grade"})


class EstateCellSchema(GridCellSchema):
    estate = s.String(dump_only=True)
    grids = s.List(s.Nested(GridCellSchema), dump_only=True)


class MapSchema(s.Schema):
    estates = s.List(s.Nested(EstateCellSchema), dump_only=True)


class PolicySchema(s.Schema):
    channels = s.List(s.String(), dump_only=True)
    categories = s.fields.Dict(keys=s.fields.String(), values=s.fields.List(s.fields.String()), dump_only=True)
    deadline_days = _counts("handling deadline per grade, Asia/Shanghai days after the grading day")
    reopen_threshold = s.Integer(dump_only=True)
    grading_rule = s.String(dump_only=True)
