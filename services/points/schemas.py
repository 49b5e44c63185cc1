"""points: marshmallow schemas of the HTTP API (points are integers)."""
from __future__ import annotations

from shared import schemas as s
from shared.pagination import PageArgs, page_schema


class EntrySchema(s.Schema):
    """One ledger transfer as the account holder sees it: ``points`` is signed (+ credit, − debit)."""

    id = s.String(dump_only=True)
    points = s.Integer(dump_only=True)
    state = s.String(dump_only=True, metadata={"description": "posted, pending, post, void, posted_pending, voided"})
    kind = s.String(dump_only=True)
    rule = s.String(dump_only=True, attribute="rule_code", allow_none=True)
    rule_version = s.Integer(dump_only=True, allow_none=True)
    category = s.String(dump_only=True, allow_none=True)
    cause_event_id = s.String(dump_only=True, allow_none=True)
    note = s.String(dump_only=True, allow_none=True)
    occurred_at = s.AwareDateTime(dump_only=True)
    created_at = s.AwareDateTime(dump_only=True)


EntryPage = page_schema(EntrySchema, "EntryPage")


class AccountSchema(s.Schema):
    account_id = s.String(dump_only=True)
    person_id = s.String(dump_only=True, allow_none=True)
    kind = s.String(dump_only=True)
    balance = s.Integer(dump_only=True, metadata={"description": "posted balance, points"})
    available = s.Integer(dump_only=True, metadata={"description": "balance less reserved redemptions, points"})
    balance_as_of = s.Integer(dump_only=True, allow_none=True,
                              metadata={"description": "posted balance at ?as_of= (only when asked)"})
    entries = s.List(s.Nested(EntrySchema), dump_only=True, metadata={"description": "the newest entries"})


class AccountArgs(s.Schema):
    as_of = s.AwareDateTime(load_default=None, metadata={"description": "also report the balance at this time"})


class EntryArgs(PageArgs):
    pass
