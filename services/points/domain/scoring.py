"""Scoring rules: which events earn points, how many, for whom, within which caps.

A rule is versioned: a change adds a version, and each credit records the version it was made under, so a rule
change never rewrites past credits. The rule that applies is the newest version whose validity window holds
the moment the work was done (the event's own time), not the moment it was processed.

Caps (per person per Asia/Shanghai day or month, by the work's own time): a credit that would pass a cap is
reduced to what is left, and to nothing once the cap is reached; either way a ``CreditDecision`` records why.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared.timeutil import SHANGHAI, utcnow

from ..models import Account, CreditDecision, Rule, Transfer
from . import ledger


@dataclass
class CreditResult:
    person_id: str
    granted: int
    transfer_id: str | None
    outcome: str  # credited | capped | refused | duplicate


def active_rule(session: Session, code: str, at: datetime) -> Rule | None:
    """The newest version of rule ``code`` valid at ``at`` and not retired by then."""
    stmt = (select(Rule).where(Rule.code == code,
                               or_(Rule.valid_from.is_(None), Rule.valid_from <= at),
                               or_(Rule.valid_to.is_(None), Rule.valid_to > at),
                               or_(Rule.retired_at.is_(None), Rule.retired_at > at))
            .order_by(Rule.version.desc()).limit(1))
    return session.scalars(stmt).first()


def rules_for_trigger(session: Session, trigger: str, at: datetime) -> list[Rule]:
    codes = session.scalars(select(Rule.code).where(Rule.trigger == trigger).distinct()).all()
    rules = [active_rule(session, code, at) for code in sorted(codes)]
    return [r for r in rules if r is not None]


def _period_bounds(at: datetime, period: str) -> tuple[datetime, datetime]:
    local = at.astimezone(SHANGHAI)
    if period == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _earned(session: Session, account_id: str, code: str, start: datetime, end: datetime) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(Transfer.amount), 0)).where(
        Transfer.credit_account_id == account_id, Transfer.rule_code == code, Transfer.kind == "credit",
        Transfer.occurred_at >= start, Transfer.occurred_at < end)))


def _decide(session, *, rule: Rule, person_id: str, cause_event_id: str | None, outcome: str,
            requested: int, granted: int, reason: str, at: datetime) -> None:
    session.add(CreditDecision(cause_event_id=cause_event_id, person_id=person_id, rule_code=rule.code,
                               rule_version=rule.version, outcome=outcome, requested=requested, granted=granted,
                               reason=reason[:300], occurred_at=at, created_at=utcnow()))


def credit(session: Session, *, rule: Rule, person_id: str, points: int, at: datetime, cause_key: str,
           cause_event_id: str | None, note: str | None = None, created_by: str | None = None) -> CreditResult:
    """Credit ``points`` to ``person_id`` under ``rule`` once per ``cause_key``, applying the rule's caps.

    Returns what was granted. A ``cause_key`` already credited is a duplicate and grants nothing.
    The issuing account is debited, the person's account credited (opened on first credit).
    """
    if session.scalar(select(Transfer.id).where(Transfer.cause_key == cause_key)) is not None:
        return CreditResult(person_id, 0, None, "duplicate")
    account = ledger.resident_account(session, person_id)
    granted, reasons = points, []
    for period, cap in (("day", rule.cap_per_person_per_day), ("month", rule.cap_per_person_per_month)):
        if cap is None:
            continue
        start, end = _period_bounds(at, period)
        left = max(0, cap - _earned(session, account.id, rule.code, start, end))
        if left < granted:
            granted = left
            reasons.append(f"cap of {cap} points per person per {period} ({start.date().isoformat()})")
    if granted <= 0:
        _decide(session, rule=rule, person_id=person_id, cause_event_id=cause_event_id, outcome="refused",
                requested=points, granted=0, reason="; ".join(reasons) or "nothing to credit", at=at)
        return CreditResult(person_id, 0, None, "refused")
    row = ledger.transfer(session, debit=ledger.system_account(session, ledger.ISSUING), credit=account,
                          amount=granted, kind="credit", occurred_at=at, rule_code=rule.code,
                          rule_version=rule.version, category=rule.category, cause_event_id=cause_event_id,
                          cause_key=cause_key, note=note, created_by=created_by)
    if granted < points:
        _decide(session, rule=rule, person_id=person_id, cause_event_id=cause_event_id, outcome="capped",
                requested=points, granted=granted, reason="; ".join(reasons), at=at)
        return CreditResult(person_id, granted, row.id, "capped")
    return CreditResult(person_id, granted, row.id, "credited")


def account_of(session: Session, person_id: str) -> Account | None:
    return ledger.resident_account(session, person_id, create=False)
