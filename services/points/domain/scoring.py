"""Scoring rules: which events earn points, how many, for whom, within which caps.

A rule is versioned: a change adds a version, and each credit records the version it was made under, so a rule
change never rewrites past credits. The rule that applies is the newest version whose validity window holds
the moment the work was done (the event's own time), not the moment it was processed.

Caps (per holder per Asia/Shanghai day or month, by the work's own time): a credit that would pass a cap is
reduced to what is left, and to nothing once the cap is reached; either way a ``CreditDecision`` records why.
Caps are counted in ``CapCounter`` rows locked for the transaction that reads them, so two credits racing for
the last points of a cap (two worker replicas, a manual credit beside an event) cannot both get them.

Hours are decimals; points are whole: ``points = floor(hours × points per hour)`` (the seed's rule,
``hours_rounding: floor to whole points``): 1.75 h at 10 points an hour is 17 points, 0.05 h is nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import bindparam, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from shared.ids import uuid7
from shared.timeutil import SHANGHAI, utcnow

from ..models import Account, CapCounter, CreditDecision, Rule, Transfer
from . import ledger
from .dbutil import insert_ignore_many


@dataclass
class CreditResult:
    holder: str | None        # person_id (resident) or merchant id
    granted: int              # points credited
    transfer_id: str | None   # the ledger transfer (None when nothing was credited)
    outcome: str              # credited | capped | refused | duplicate
    requested: int = 0
    reason: str | None = None
    account_id: str | None = None
    account: Account | None = field(default=None, repr=False, compare=False)  # the credited account

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


@dataclass
class CreditRequest:
    """One credit to make: ``points`` (an integer, before caps) under ``rule`` for work done at ``at`` (aware),
    once per ``cause_key``; to ``account`` when given (a merchant), else to resident ``person_id``'s account
    (opened on the first credit). ``holder`` names who is credited in the result (default ``person_id``)."""

    rule: Rule
    points: int
    at: datetime
    cause_key: str
    cause_event_id: str | None = None
    person_id: str | None = None
    account: Account | None = None
    holder: str | None = None
    note: str | None = None
    created_by: str | None = None


def _lock_counters(session: Session, keys: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    """``{(account id, rule code, period key): earned}``, the rows created when missing and locked (``FOR
    UPDATE`` on PostgreSQL, in key order so two batches never wait on each other in a cycle; SQLite's
    ``BEGIN IMMEDIATE`` already gives the transaction the database) until the transaction ends."""
    if not keys:
        return {}
    ordered = sorted(keys)
    insert_ignore_many(session, CapCounter, [dict(account_id=a, rule_code=c, period_key=k, earned=0)
                                             for a, c, k in ordered])
    columns = (CapCounter.account_id, CapCounter.rule_code, CapCounter.period_key)
    rows = session.execute(select(*columns, CapCounter.earned).where(tuple_(*columns).in_(ordered))
                           .order_by(*columns).with_for_update())
    return {(a, c, k): earned for a, c, k, earned in rows}


def _save_counters(session: Session, counters: dict[tuple[str, str, str], int]) -> None:
    if counters:
        table = CapCounter.__table__
        session.connection().execute(
            update(table).where(table.c.account_id == bindparam("a"), table.c.rule_code == bindparam("c"),
                                table.c.period_key == bindparam("k")).values(earned=bindparam("earned")),
            [{"a": a, "c": c, "k": k, "earned": n} for (a, c, k), n in sorted(counters.items())])


def _caps(rule: Rule, at: datetime) -> list[tuple[str, int, str]]:
    keys = period_keys(at)
    return [(period, cap, keys[period]) for period, cap in (("day", rule.cap_per_person_per_day),
                                                             ("month", rule.cap_per_person_per_month))
            if cap is not None]


def credit_many(session: Session, requests: list[CreditRequest]) -> list[CreditResult]:
    """Make ``requests`` in their order, exactly as if one by one, with a fixed number of statements however
    many there are (the consumer credits a whole batch of events at once); one :class:`CreditResult` each.

    For each request: a ``cause_key`` already credited (in the ledger or earlier in the list) grants nothing
    (outcome ``duplicate``); ``points`` < 1 (hours that round down to nothing) is ``refused``; a cap reached
    grants what is left (``capped``) or nothing (``refused``). The community's issuing account is debited.
    Every outcome but ``credited`` records a ``CreditDecision`` with the reason.

    Caps hold under concurrency: the counters of the list are locked before they are read (see
    :func:`_lock_counters`), so two replicas crediting one holder wait for each other and count exactly.
    """
    residents = ledger.resident_accounts(session, [r.person_id for r in requests if r.account is None])
    accounts = [r.account if r.account is not None else residents[r.person_id] for r in requests]
    credited = set(session.scalars(select(Transfer.cause_key).where(
        Transfer.cause_key.in_(sorted({r.cause_key for r in requests})))))
    counters = _lock_counters(session, {(account.id, r.rule.code, key) for r, account in zip(requests, accounts)
                                        if r.points >= 1 and r.cause_key not in credited
                                        for _, _, key in _caps(r.rule, r.at)})
    changed: set[tuple[str, str, str]] = set()
    results, postings, decisions = [], [], []
    for r, account in zip(requests, accounts):
        holder = r.holder if r.holder is not None else r.person_id
        granted, reasons, transfer_id, used = r.points, [], None, []
        if r.cause_key in credited:
            outcome, granted, reasons = "duplicate", 0, [f"already credited for {r.cause_key}"]
        elif r.points < 1:
            outcome, granted, reasons = "refused", 0, ["less than one whole point after rounding down"]
        else:
            for period, cap, key in _caps(r.rule, r.at):
                used.append((account.id, r.rule.code, key))
                left = max(0, cap - counters[used[-1]])
                if left < granted:
                    reasons.append(f"cap of {cap} points per person per {period} reached ({key}, Asia/Shanghai)")
                    granted = left
            outcome = "refused" if granted <= 0 else "capped" if granted < r.points else "credited"
        if granted > 0:
            for key in used:
                counters[key] += granted
                changed.add(key)
            credited.add(r.cause_key)
            transfer_id = uuid7()
            postings.append(dict(id=transfer_id, credit_account_id=account.id, amount=granted,
                                 occurred_at=r.at, rule_code=r.rule.code, rule_version=r.rule.version,
                                 category=r.rule.category, cause_event_id=r.cause_event_id,
                                 cause_key=r.cause_key, note=r.note, created_by=r.created_by))
        reason = "; ".join(reasons) or None
        if outcome != "credited":
            decisions.append(dict(cause_event_id=r.cause_event_id, person_id=holder, account_id=account.id,
                                  rule_code=r.rule.code, rule_version=r.rule.version, outcome=outcome,
                                  requested=r.points, granted=max(granted, 0), reason=reason[:300],
                                  occurred_at=r.at, created_at=utcnow()))
        results.append(CreditResult(holder, max(granted, 0), transfer_id, outcome, r.points, reason, account.id,
                                    account))
    _save_counters(session, {key: counters[key] for key in changed})
    ledger.issue(session, postings)
    if decisions:
        session.connection().execute(insert(CreditDecision.__table__), decisions)
    return results


def credit_account(session: Session, *, rule: Rule, account: Account, holder: str | None, points: int,
                   at: datetime, cause_key: str, cause_event_id: str | None, note: str | None = None,
                   created_by: str | None = None) -> CreditResult:
    """Credit ``points`` (an integer) to ``account`` under ``rule`` once per ``cause_key``, within the caps;
    one request of :func:`credit_many`."""
    return credit_many(session, [CreditRequest(rule=rule, points=points, at=at, cause_key=cause_key,
                                               cause_event_id=cause_event_id, account=account, holder=holder,
                                               note=note, created_by=created_by)])[0]


def credit(session: Session, *, rule: Rule, person_id: str, points: int, at: datetime, cause_key: str,
           cause_event_id: str | None, note: str | None = None, created_by: str | None = None) -> CreditResult:
    """Credit a resident (their account is opened on the first credit); one request of :func:`credit_many`."""
    return credit_many(session, [CreditRequest(rule=rule, points=points, at=at, cause_key=cause_key,
                                               cause_event_id=cause_event_id, person_id=person_id, note=note,
                                               created_by=created_by)])[0]


def account_of(session: Session, person_id: str) -> Account | None:
    return ledger.resident_account(session, person_id, create=False)
