"""The audit log: every change (who, when, what) and every read of unmasked personal data.

Source: ARCHITECTURE.md ("every read of unmasked personal data is audited (who, when, which record)";
"Every audit record is kept") and the issue's "every change audited". Entries are written in the same
transaction as the change, so a change and its audit record commit or roll back together.
"""
from __future__ import annotations

from decimal import Decimal
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import AuditEntry


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record(session: Session, actor: str, action: str, entity: str, entity_id: str, detail: dict | None = None) -> None:
    """Add one audit entry (``action`` e.g. ``donation.recorded``, ``application.read_personal_data``).

    ``detail`` must never hold an unmasked ID-card number (callers pass masked forms or nothing).
    """
    session.add(AuditEntry(id=uuid7(), at=utcnow(), actor=actor, action=action, entity=entity,
                           entity_id=str(entity_id), detail=_plain(detail) if detail else None))


def entries_stmt(entity: str | None = None, entity_id: str | None = None, actor: str | None = None,
                 action: str | None = None):
    stmt = select(AuditEntry)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return stmt
