"""The double-entry ledger: every movement is a transfer between two accounts, immutable once written.

Limits hold under concurrency on SQLite and PostgreSQL alike because every debit is one atomic conditional
UPDATE (``... WHERE debits_posted + debits_pending + :n <= credits_posted``): two redemptions racing for the
last points cannot both pass it. Two-phase transfers (TigerBeetle's pending → post / void) reserve points for
redemptions until they are handed over or cancelled.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from shared.errors import Conflict, NotFound
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import Account, Transfer
from .dbutil import insert_ignore, insert_ignore_many

ISSUING = "issuing"
SUPERMARKET = "supermarket"


class InsufficientPoints(Conflict):
    code = "insufficient-points"


def _open(session: Session, where, **values) -> Account:
    """The account matching ``where``, opened with ``values`` if missing. Two requests opening the same account
    at once both get the one row (INSERT ... ON CONFLICT DO NOTHING, then read), never a unique violation."""
    account = session.scalars(select(Account).where(where)).first()
    if account is None:
        insert_ignore(session, Account, id=uuid7(), debits_posted=0, credits_posted=0, debits_pending=0,
                      credits_pending=0, created_at=utcnow(), **values)
        account = session.scalars(select(Account).where(where)).one()
    return account


#: The balance columns: changed by atomic SQL updates, so expired (reloaded on next read) after each transfer.
SUMS = ["debits_posted", "credits_posted", "debits_pending", "credits_pending"]


def system_account(session: Session, code: str) -> Account:
    """The community's own account ``code`` (``issuing`` or ``supermarket``), created on first use.

    Looked up once per session (a consumer batch credits many people from the same issuing account).
    """
    cache = session.info.setdefault("points_system_accounts", {})
    if code not in cache:
        cache[code] = _open(session, Account.code == code, kind=code, code=code,
                            debits_must_not_exceed_credits=(code != ISSUING))
    return cache[code]


def resident_account(session: Session, person_id: str, *, create: bool = True) -> Account | None:
    """The personal account of ``person_id``; opened on the first credit (EVENTS.md)."""
    if not create:
        return session.scalars(select(Account).where(Account.person_id == person_id)).first()
    return resident_accounts(session, [person_id])[person_id]


def resident_accounts(session: Session, person_ids: Iterable[str]) -> dict[str, Account]:
    """``{person_id: Account}`` for every id of ``person_ids``, opening the missing ones (on the first credit,
    EVENTS.md). One read when all exist; else one insert for all the missing (``ON CONFLICT DO NOTHING``, so a
    racing twin is no error) and one more read."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    found = {a.person_id: a for a in session.scalars(select(Account).where(Account.person_id.in_(wanted)))}
    missing = [p for p in wanted if p not in found]
    if missing:
        now = utcnow()
        insert_ignore_many(session, Account, [
            dict(id=uuid7(), kind="resident", person_id=p, merchant_id=None, code=None, debits_posted=0,
                 credits_posted=0, debits_pending=0, credits_pending=0, debits_must_not_exceed_credits=True,
                 created_at=now) for p in missing])
        found.update({a.person_id: a for a in session.scalars(select(Account).where(Account.person_id.in_(missing)))})
    return found


def merchant_account(session: Session, merchant_id: str, *, create: bool = True) -> Account | None:
    """The account of alliance merchant ``merchant_id`` (opened with the merchant profile)."""
    if not create:
        return session.scalars(select(Account).where(Account.merchant_id == merchant_id)).first()
    return _open(session, Account.merchant_id == merchant_id, kind="merchant", merchant_id=merchant_id,
                 debits_must_not_exceed_credits=True)


def _debit(session: Session, account_id: str, amount: int, *, pending: bool) -> None:
    column = Account.debits_pending if pending else Account.debits_posted
    result = session.execute(
        update(Account)
        .where(Account.id == account_id,
               or_(Account.debits_must_not_exceed_credits.is_(False),
                   Account.debits_posted + Account.debits_pending + amount <= Account.credits_posted))
        .values({column: column + amount})
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InsufficientPoints("Not enough points in the account for this transfer.")


def _credit(session: Session, account_id: str, amount: int, *, pending: bool) -> None:
    column = Account.credits_pending if pending else Account.credits_posted
    session.execute(update(Account).where(Account.id == account_id).values({column: column + amount})
                    .execution_options(synchronize_session=False))


def transfer(session: Session, *, debit: Account, credit: Account, amount: int, kind: str,
             occurred_at: datetime, transfer_id: str | None = None, pending: bool = False,
             rule_code: str | None = None, rule_version: int | None = None, category: str | None = None,
             cause_event_id: str | None = None, cause_key: str | None = None, note: str | None = None,
             created_by: str | None = None, redemption_id: str | None = None) -> Transfer:
    """Move ``amount`` points (a positive integer) from ``debit`` to ``credit``.

    ``pending=True`` reserves it (two-phase); :func:`post_pending` or :func:`void_pending` completes it.
    Raises :class:`InsufficientPoints` (409) when ``debit`` may not go below zero and would.
    """
    if amount <= 0:
        raise ValueError("a transfer moves a positive number of points")
    _debit(session, debit.id, amount, pending=pending)
    _credit(session, credit.id, amount, pending=pending)
    row = Transfer(id=transfer_id or uuid7(), debit_account_id=debit.id, credit_account_id=credit.id,
                   amount=amount, state="pending" if pending else "posted", kind=kind, rule_code=rule_code,
                   rule_version=rule_version, category=category, cause_event_id=cause_event_id,
                   cause_key=cause_key, note=note, created_by=created_by, occurred_at=occurred_at,
                   redemption_id=redemption_id, created_at=utcnow())
    session.add(row)
    session.flush()
    for account in (debit, credit):
        session.expire(account, SUMS)  # changed in SQL above; ids and owners stay loaded
    return row


def issue(session: Session, postings: list[dict]) -> None:
    """Post every credit of ``postings`` from the community's issuing account, with a fixed number of statements
    however many there are: one insert of the transfers, one update per credited account (one
    ``executemany``), one debit of the issuing account by the total.

    Each posting holds the transfer's columns: ``id``, ``credit_account_id``, ``amount`` (a positive integer),
    ``occurred_at`` and the optional ``rule_code``, ``rule_version``, ``category``, ``cause_event_id``,
    ``cause_key``, ``note``, ``created_by``. The kind is ``credit``, the state ``posted``. A ``cause_key``
    already in the ledger fails the insert (unique): the caller checked, so that is a racing twin.
    """
    if not postings:
        return
    issuing = system_account(session, ISSUING)
    now, optional = utcnow(), ("rule_code", "rule_version", "category", "cause_event_id", "cause_key", "note",
                               "created_by")
    rows = [{**{k: None for k in optional}, **p, "debit_account_id": issuing.id, "state": "posted",
             "kind": "credit", "pending_id": None, "redemption_id": None, "created_at": now} for p in postings]
    if any(r["amount"] <= 0 for r in rows):
        raise ValueError("a transfer moves a positive number of points")
    _debit(session, issuing.id, sum(r["amount"] for r in rows), pending=False)
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r["credit_account_id"]] += r["amount"]
    connection = session.connection()
    connection.execute(update(Account.__table__).where(Account.__table__.c.id == bindparam("account_id"))
                       .values(credits_posted=Account.__table__.c.credits_posted + bindparam("points")),
                       [{"account_id": a, "points": n} for a, n in sorted(totals.items())])  # lock order: by id
    connection.execute(insert(Transfer.__table__), rows)
    for account in [issuing, *(session.identity_map.get(session.identity_key(Account, a)) for a in totals)]:
        if account is not None:
            session.expire(account, SUMS)  # changed in SQL above; ids and owners stay loaded


def _finish_pending(session: Session, pending_id: str, *, post: bool, occurred_at: datetime,
                    created_by: str | None, note: str | None) -> Transfer:
    # claim the pending transfer atomically: only one of post/void (or a twin request) can win
    claimed = session.execute(update(Transfer).where(Transfer.id == pending_id, Transfer.state == "pending")
                              .values(state="posted_pending" if post else "voided")
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        if session.get(Transfer, pending_id) is None:
            raise NotFound("No such pending transfer.")
        raise Conflict("The transfer is no longer pending.", code="not-pending")
    pending = session.get(Transfer, pending_id)
    session.refresh(pending)
    amount = pending.amount
    session.execute(update(Account).where(Account.id == pending.debit_account_id).values(
        debits_pending=Account.debits_pending - amount,
        **({"debits_posted": Account.debits_posted + amount} if post else {})))
    session.execute(update(Account).where(Account.id == pending.credit_account_id).values(
        credits_pending=Account.credits_pending - amount,
        **({"credits_posted": Account.credits_posted + amount} if post else {})))
    row = Transfer(id=uuid7(), debit_account_id=pending.debit_account_id,
                   credit_account_id=pending.credit_account_id, amount=amount,
                   state="post" if post else "void", pending_id=pending_id, kind=pending.kind,
                   rule_code=pending.rule_code, category=pending.category, note=note, created_by=created_by,
                   redemption_id=pending.redemption_id, occurred_at=occurred_at, created_at=utcnow())
    session.add(row)
    session.flush()
    for account_id in (pending.debit_account_id, pending.credit_account_id):
        cached = session.get(Account, account_id)
        if cached is not None:
            session.expire(cached, SUMS)
    return row


def post_pending(session: Session, pending_id: str, *, occurred_at: datetime, created_by: str | None = None,
                 note: str | None = None) -> Transfer:
    """Second phase: the reserved points are spent (a redemption handed over)."""
    return _finish_pending(session, pending_id, post=True, occurred_at=occurred_at, created_by=created_by, note=note)


def void_pending(session: Session, pending_id: str, *, occurred_at: datetime, created_by: str | None = None,
                 note: str | None = None) -> Transfer:
    """Second phase: the reservation is released and the points return (cancelled or expired)."""
    return _finish_pending(session, pending_id, post=False, occurred_at=occurred_at, created_by=created_by, note=note)


def entries_stmt(account_id: str) -> list:
    """Transfers that touched ``account_id``, for a statement: the debit side and the credit side, each read
    through its own (account, occurred_at, id) index (``shared.pagination.paginate`` merges them; a transfer
    never has one account on both sides). Pending reservations and their post/void records are listed too.
    """
    return [select(Transfer).where(Transfer.debit_account_id == account_id),
            select(Transfer).where(Transfer.credit_account_id == account_id)]


def newest_entries(session: Session, account_id: str, count: int = 20) -> list[Transfer]:
    """The ``count`` newest transfers of ``account_id`` (newest first), at the same cost however long its history."""
    from shared.pagination import paginate
    return paginate(session, entries_stmt(account_id), Transfer.occurred_at, Transfer.id, {"limit": count},
                    descending=True)["items"]


POSTED_STATES = ("posted", "post")


def _posted_sum(session: Session, account_id: str, *conditions) -> int:
    posted = Transfer.state.in_(POSTED_STATES)
    credits = session.scalar(select(func.coalesce(func.sum(Transfer.amount), 0)).where(
        Transfer.credit_account_id == account_id, posted, *conditions))
    debits = session.scalar(select(func.coalesce(func.sum(Transfer.amount), 0)).where(
        Transfer.debit_account_id == account_id, posted, *conditions))
    return int(credits) - int(debits)


def balance_as_of(session: Session, account_id: str, moment: datetime) -> int:
    """The posted balance of ``account_id`` (points) counting transfers that occurred up to ``moment``.

    Transfers carry their own ``occurred_at`` (history recorded later counts at its own time); a pending
    reservation changes the posted balance only when it is posted (at the hand-over time).
    """
    return _posted_sum(session, account_id, Transfer.occurred_at <= moment)


def balance_before(session: Session, account_id: str, occurred_at: datetime, transfer_id: str) -> int:
    """The posted balance just before the transfer ``(occurred_at, transfer_id)`` in statement order."""
    return _posted_sum(session, account_id, or_(Transfer.occurred_at < occurred_at,
                                                and_(Transfer.occurred_at == occurred_at,
                                                     Transfer.id < transfer_id)))


def signed_posted(transfer: Transfer, account_id: str) -> int:
    """How ``transfer`` changed the posted balance of ``account_id`` (0 for pending/voided records)."""
    if transfer.state not in POSTED_STATES:
        return 0
    return transfer.amount if transfer.credit_account_id == account_id else -transfer.amount


__all__ = ["transfer", "post_pending", "void_pending", "resident_account", "merchant_account", "system_account",
           "balance_as_of", "balance_before", "signed_posted", "entries_stmt", "InsufficientPoints", "ISSUING",
           "SUPERMARKET"]
