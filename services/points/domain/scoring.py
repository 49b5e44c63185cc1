"""Scoring rules: which events earn points, how many, for whom, within which caps.

A rule is versioned: a change adds a version, and each credit records the version it was made under, so a rule
change never rewrites past credits. The rule that applies is the newest version whose validity window holds
the moment the work was done (the event's own time), not the moment it was processed.

Caps (per holder per Asia/Shanghai day or month, by the work's own time): a credit that would pass a cap is
reduced to what is left, and to nothing once the cap is reached; either way a ``CreditDecision`` records why.
Caps are counted in ``CapCounter`` rows changed by compare-and-set UPDATEs, so two credits racing for the
last points of a cap (two worker replicas, a manual credit beside an event) cannot both get them.

Hours are decimals; points are whole: ``points = floor(hours × points per hour)`` (the seed's rule,
``hours_rounding: floor to whole points``): 1.75 h at 10 points an hour is 17 points, 0.05 h is nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shared.errors import Conflict
from shared.timeutil import SHANGHAI, utcnow

from ..models import Account, CapCounter, CreditDecision, Rule, Transfer
from . import ledger
from .dbutil import insert_ignore


@dataclass
class CreditResult:
    holder: str | None        # person_id (resident) or merchant id
    granted: int              # points credited
    transfer_id: str | None   # the ledger transfer (None when nothing was credited)
    outcome: str              # credited | capped | refused | duplicate
    requested: int = 0
    reason: str | None = None
    account_id: str | None = None

    @property
    def person_id(self) -> str | None:  # the backbone's name
        return self.holder


def hours_points(hours: Decimal, per_hour: int) -> int:
    """Whole points for ``hours`` (a decimal) at ``per_hour`` points an hour, rounded down (floor)."""
    return int((Decimal(hours) * per_hour).to_integral_value(rounding=ROUND_FLOOR))


def active_rule(session: Session, code: str, at: datetime) -> Rule | None:
    """The newest version of rule ``code`` valid at ``at`` and not retired by then."""
    stmt = (select(Rule).where(Rule.code == code,
                               or_(Rule.valid_from.is_(None), Rule.valid_from <= at),
                               or_(Rule.valid_to.is_(None), Rule.valid_to > at),
                               or_(Rule.retired_at.is_(None), Rule.retired_at > at))
            .order_by(Rule.version.desc()).limit(1))
    return session.scalars(stmt).first()


def _in_force(rule: Rule, at: datetime) -> bool:
    return ((rule.valid_from is None or rule.valid_from <= at) and (rule.valid_to is None or rule.valid_to > at)
            and (rule.retired_at is None or rule.retired_at > at))


def rules_for_trigger(session: Session, trigger: str, at: datetime) -> list[Rule]:
    """The active version (at ``at``) of every rule code whose trigger is ``trigger``, by code.

    Every version of the trigger's rules is read once per session (a consumer batch handles many events of
    one type) and the one in force at ``at`` is chosen here, by the same test as :func:`active_rule`.
    """
    cache = session.info.setdefault("points_rules_by_trigger", {})
    if trigger not in cache:
        cache[trigger] = session.scalars(select(Rule).where(Rule.trigger == trigger)
                                         .order_by(Rule.code, Rule.version.desc())).all()
    chosen: dict[str, Rule] = {}
    for rule in cache[trigger]:
        if rule.code not in chosen and _in_force(rule, at):
            chosen[rule.code] = rule
    return [chosen[code] for code in sorted(chosen)]


def period_keys(at: datetime) -> dict[str, str]:
    """The Asia/Shanghai day (``2024-09-10``) and month (``2024-09``) of ``at``."""
    local = at.astimezone(SHANGHAI)
    return {"day": local.strftime("%Y-%m-%d"), "month": local.strftime("%Y-%m")}


def _take(session: Session, account_id: str, code: str, key: str, cap: int, want: int) -> int:
    """Take up to ``want`` points of ``cap`` for (account, rule code, period); return what was taken."""
    insert_ignore(session, CapCounter, account_id=account_id, rule_code=code, period_key=key, earned=0)
    where = (CapCounter.account_id == account_id, CapCounter.rule_code == code, CapCounter.period_key == key)
    for _ in range(50):
        earned = session.scalar(select(CapCounter.earned).where(*where).execution_options(populate_existing=True))
        grant = max(0, min(want, cap - earned))
        if grant == 0:
            return 0
        done = session.execute(update(CapCounter).where(*where, CapCounter.earned == earned)
                               .values(earned=earned + grant).execution_options(synchronize_session=False))
        if done.rowcount == 1:
            return grant
    raise Conflict("Too many concurrent credits for this holder; retry.", code="busy")


def _give_back(session: Session, account_id: str, code: str, key: str, points: int) -> None:
    session.execute(update(CapCounter).where(CapCounter.account_id == account_id, CapCounter.rule_code == code,
                                             CapCounter.period_key == key)
                    .values(earned=CapCounter.earned - points).execution_options(synchronize_session=False))


def _apply_caps(session: Session, rule: Rule, account: Account, points: int, at: datetime) -> tuple[int, list[str]]:
    keys = period_keys(at)
    granted, reasons, taken = points, [], []
    for period, cap in (("day", rule.cap_per_person_per_day), ("month", rule.cap_per_person_per_month)):
        if cap is None:
            continue
        got = _take(session, account.id, rule.code, keys[period], cap, granted)
        taken.append((keys[period], got))
        if got < granted:
            reasons.append(f"cap of {cap} points per person per {period} reached ({keys[period]}, Asia/Shanghai)")
            for key, was in taken[:-1]:  # an earlier period's counter took more than this one allowed
                _give_back(session, account.id, rule.code, key, was - got)
            granted = got
    return granted, reasons


def _decide(session, *, rule: Rule, holder: str | None, account_id: str | None, cause_event_id: str | None,
            outcome: str, requested: int, granted: int, reason: str, at: datetime) -> None:
    session.add(CreditDecision(cause_event_id=cause_event_id, person_id=holder, account_id=account_id,
                               rule_code=rule.code, rule_version=rule.version, outcome=outcome,
                               requested=requested, granted=granted, reason=reason[:300], occurred_at=at,
                               created_at=utcnow()))


def credit_account(session: Session, *, rule: Rule, account: Account, holder: str | None, points: int,
                   at: datetime, cause_key: str, cause_event_id: str | None, note: str | None = None,
                   created_by: str | None = None) -> CreditResult:
    """Credit ``points`` (an integer) to ``account`` under ``rule`` once per ``cause_key``, within the caps.

    The community's issuing account is debited. A ``cause_key`` already credited grants nothing (outcome
    ``duplicate``); a cap reached grants what is left (``capped``) or nothing (``refused``); ``points`` < 1
    (hours that round down to nothing) is ``refused``. Every outcome but ``credited`` records a
    ``CreditDecision`` with the reason.
    """
    def decided(outcome: str, granted: int, reason: str, transfer_id: str | None = None) -> CreditResult:
        _decide(session, rule=rule, holder=holder, account_id=account.id, cause_event_id=cause_event_id,
                outcome=outcome, requested=points, granted=granted, reason=reason, at=at)
        return CreditResult(holder, granted, transfer_id, outcome, points, reason, account.id)

    if session.scalar(select(Transfer.id).where(Transfer.cause_key == cause_key)) is not None:
        return decided("duplicate", 0, f"already credited for {cause_key}")
    if points < 1:
        return decided("refused", 0, "less than one whole point after rounding down")
    granted, reasons = _apply_caps(session, rule, account, points, at)
    if granted <= 0:
        return decided("refused", 0, "; ".join(reasons))
    row = ledger.transfer(session, debit=ledger.system_account(session, ledger.ISSUING), credit=account,
                          amount=granted, kind="credit", occurred_at=at, rule_code=rule.code,
                          rule_version=rule.version, category=rule.category, cause_event_id=cause_event_id,
                          cause_key=cause_key, note=note, created_by=created_by)
    if granted < points:
        return decided("capped", granted, "; ".join(reasons), row.id)
    return CreditResult(holder, granted, row.id, "credited", points, None, account.id)


def credit(session: Session, *, rule: Rule, person_id: str, points: int, at: datetime, cause_key: str,
           cause_event_id: str | None, note: str | None = None, created_by: str | None = None) -> CreditResult:
    """Credit a resident (their account is opened on the first credit); see :func:`credit_account`."""
    account = ledger.resident_account(session, person_id)
    return credit_account(session, rule=rule, account=account, holder=person_id, points=points, at=at,
                          cause_key=cause_key, cause_event_id=cause_event_id, note=note, created_by=created_by)


def account_of(session: Session, person_id: str) -> Account | None:
    return ledger.resident_account(session, person_id, create=False)
