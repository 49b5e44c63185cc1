"""disputes: marshmallow schemas of the HTTP API."""
from __future__ import annotations

from shared import schemas as s
from shared.schemas import ValidationError, validates_schema

from .domain.cases import CATEGORIES, CHANNELS, PARTICIPANT_ROLES

ALL_SUBCATEGORIES = sorted({sub for subs in CATEGORIES.values() for sub in subs})


class CaseCreateSchema(s.Schema):
    ref = s.String(max_length=64, metadata={"description": "the intake's own reference (unique), e.g. a hotline number"})
    channel = s.Enum(CHANNELS, required=True)
    category = s.Enum(tuple(CATEGORIES), required=True)
    subcategory = s.Enum(tuple(ALL_SUBCATEGORIES))
    estate = s.String(required=True, max_length=100)
    grid = s.String(max_length=100)
    summary = s.String(required=True, max_length=500)
    description = s.String(max_length=10000)
    reporter_person_id = s.String(max_length=64)
    reported_at = s.AwareDateTime(metadata={"description": "when the resident raised it (default: now)"})

    @validates_schema
    def _subcategory_fits(self, data, **_):
        sub = data.get("subcategory")
        if sub and sub not in CATEGORIES[data["category"]]:
            raise ValidationError(f"{sub} is not a subcategory of {data['category']}.", field_name="subcategory")


class CaseSchema(s.Schema):
    id = s.String(dump_only=True)
    ref = s.String(dump_only=True, allow_none=True)
    channel = s.String(dump_only=True)
    category = s.String(dump_only=True)
    subcategory = s.String(dump_only=True, allow_none=True)
    estate = s.String(dump_only=True)
    grid = s.String(dump_only=True, allow_none=True)
    summary = s.String(dump_only=True)
    status = s.String(dump_only=True)
    grade = s.String(dump_only=True, allow_none=True)
    resolution_count = s.Integer(dump_only=True)
    reported_at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


class ParticipantSchema(s.Schema):
    person_id = s.String(required=True, max_length=64)
    role = s.Enum(PARTICIPANT_ROLES, required=True)


class ResolutionCreateSchema(s.Schema):
    text = s.String(required=True, max_length=2000, metadata={"description": "what was decided"})
    session_id = s.String(max_length=36)
    resolved_at = s.AwareDateTime()
    participants = s.List(s.Nested(ParticipantSchema), required=True, max_items=100)


class ResolutionSchema(s.Schema):
    id = s.String(dump_only=True)
    case_id = s.String(dump_only=True)
    resolution_no = s.Integer(dump_only=True)
    session_id = s.String(dump_only=True, allow_none=True)
    text = s.String(dump_only=True)
    resolved_at = s.AwareDateTime(dump_only=True)
    participants = s.List(s.Nested(ParticipantSchema), dump_only=True)
