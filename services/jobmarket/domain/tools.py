"""Free tool loans: inventory by kind, a loan policy per kind, holds, check-out, return, overdue, repairs.

Source: the seed practice (0元工具租赁: generators, electric hammers, scaffolding lent free); the lending shape
of circulate and Lend Engine (a policy per kind: loan period, a limit per borrower; holds; repairs that take
an item out of circulation).

Rules (SQLite and PostgreSQL alike):

- A tool changes state only by ONE conditional update on its ``status`` (``... WHERE status = 'available'``):
  two check-outs of one tool never both succeed. One open loan, hold and repair per tool (unique keys).
- A worker's loans are serialised by a bump of the worker row (a row lock on PostgreSQL, the write lock on
  SQLite) before the limit per kind is counted, at the loan's own time (history obeys it too).
- A loan is due ``loan_days`` after it is lent (the kind's policy when lent). The overdue check (worker
  schedule) stamps ``overdue_notified_at`` with a conditional update and publishes
  ``jobmarket.tool.overdue.v1`` in the same transaction: exactly once per loan.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import to_local, utcnow

from .. import policy as policy_mod
from ..models import Tool, ToolHold, ToolKind, ToolLoan, ToolRepair, Worker
from .common import insert_ignore, own_time

CONDITIONS = ("good", "fair", "worn", "damaged")
KNOWN_KINDS = ("generator", "electric_hammer", "scaffolding", "angle_grinder")  # the glossary's; more are added
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def ensure_kind(session: Session, kind: str, actor: str) -> ToolKind:
    """The kind's policy row, created with the configured defaults on first use (kinds are extendable)."""
    policy = policy_mod.current()
    insert_ignore(session, ToolKind, {"kind": kind, "loan_days": policy.tool_loan_days,
                                      "limit_per_worker": policy.tool_limit_per_worker, "updated_by": actor,
                                      "updated_at": utcnow()})
    return session.get(ToolKind, kind)


def set_policy(session: Session, kind: str, data: dict, actor: str) -> ToolKind:
    """Set a kind's ``loan_days`` and ``limit_per_worker`` (new loans follow it; open loans keep their due time)."""
    row = ensure_kind(session, kind, actor)
    session.refresh(row)
    row.loan_days, row.limit_per_worker = data["loan_days"], data["limit_per_worker"]
    row.updated_by, row.updated_at = actor, utcnow()
    session.flush()
    return row


def add_tool(session: Session, data: dict, actor: str) -> Tool:
    """Register a tool: ``ref`` (``T-001``, unique; 409 if taken), ``kind``, ``name``, ``condition``."""
    if session.scalar(select(Tool.id).where(Tool.ref == data["ref"])):
        raise Conflict("A tool with this ref exists.", code="tool-exists", errors=field_error("ref", "Taken."))
    ensure_kind(session, data["kind"], actor)
    now = utcnow()
    tool = Tool(id=uuid7(), ref=data["ref"], kind=data["kind"], name=data["name"],
                condition=data.get("condition", "good"), status="available",
                acquired_at=own_time(data.get("acquired_at"), "acquired_at", now), created_by=actor, created_at=now)
    session.add(tool)
    session.flush()
    return tool


def get_tool(session: Session, ref: str) -> Tool:
    tool = session.scalars(select(Tool).where(or_(Tool.ref == ref, Tool.id == ref))).first()
    if tool is None:
        raise NotFound("No such tool.")
    return tool


def _move(session: Session, tool: Tool, to: str, from_states: tuple, what: str) -> None:
    done = session.execute(update(Tool).where(Tool.id == tool.id, Tool.status.in_(from_states))
                           .values(status=to).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(tool)
        raise Conflict(f"The tool is {tool.status}; it cannot be {what}.", code="tool-unavailable",
                       tool_status=tool.status)
    session.refresh(tool)


def _active_hold(session: Session, tool: Tool) -> ToolHold | None:
    return session.scalars(select(ToolHold).where(ToolHold.active_tool_id == tool.id)).first()


def place_hold(session: Session, tool: Tool, worker: Worker, at: datetime | None, actor: str) -> ToolHold:
    """Keep an available tool for ``worker`` for ``tool_hold_hours``. 409 when the tool is not available."""
    at = own_time(at, "held_at")
    _move(session, tool, "on_hold", ("available",), "held")
    hold = ToolHold(id=uuid7(), tool_id=tool.id, worker_id=worker.id, status="active", active_tool_id=tool.id,
                    held_at=at, expires_at=at + timedelta(hours=policy_mod.current().tool_hold_hours),
                    created_by=actor, created_at=utcnow())
    session.add(hold)
    session.flush()
    return hold


def end_hold(session: Session, hold: ToolHold, status: str, at: datetime) -> bool:
    """Close an active hold (``cancelled``, ``expired`` or ``fulfilled``); the tool returns to the shelf unless
    it is being lent. False when the hold was no longer active."""
    done = session.execute(update(ToolHold).where(ToolHold.id == hold.id, ToolHold.status == "active")
                           .values(status=status, active_tool_id=None, ended_at=at)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    if status != "fulfilled":
        session.execute(update(Tool).where(Tool.id == hold.tool_id, Tool.status == "on_hold").values(status="available"))
    session.refresh(hold)
    return True


def lend(session: Session, tool: Tool, worker: Worker, data: dict, actor: str) -> ToolLoan:
    """Check a tool out to ``worker`` at ``lent_at`` (default now), due after the kind's ``loan_days``.

    ``data``: ``lent_at``, ``condition`` (as handed out; default the tool's), ``notes``. A tool on hold goes
    only to the worker holding it. Raises 409 ``tool-unavailable`` (on loan, held for another, in repair),
    409 ``loan-limit`` when the worker already holds ``limit_per_worker`` tools of this kind at that time.
    """
    now = utcnow()
    at = own_time(data.get("lent_at"), "lent_at", now)
    kind = ensure_kind(session, tool.kind, actor)
    # serialise this worker's loans, then count what they hold at the loan's own time
    session.execute(update(Worker).where(Worker.id == worker.id).values(lock_seq=Worker.lock_seq + 1))
    holding = session.scalar(select(func.count()).select_from(ToolLoan).where(
        ToolLoan.worker_id == worker.id, ToolLoan.kind == tool.kind, ToolLoan.lent_at <= at,
        or_(ToolLoan.returned_at.is_(None), ToolLoan.returned_at > at)))
    if holding >= kind.limit_per_worker:
        raise Conflict(f"The worker already has {holding} {tool.kind} on loan (limit {kind.limit_per_worker}).",
                       code="loan-limit")
    hold = _active_hold(session, tool)
    if hold is not None and hold.worker_id != worker.id:
        raise Conflict("The tool is held for another worker.", code="tool-unavailable", tool_status="on_hold")
    _move(session, tool, "on_loan", ("available", "on_hold") if hold else ("available",), "lent")
    if hold is not None:
        end_hold(session, hold, "fulfilled", at)
    if data.get("condition"):
        tool.condition = data["condition"]
    loan = ToolLoan(id=uuid7(), tool_id=tool.id, worker_id=worker.id, kind=tool.kind, status="on_loan",
                    active_tool_id=tool.id, lent_at=at, due_at=at + timedelta(days=kind.loan_days),
                    condition_out=tool.condition, notes_out=data.get("notes"), created_by=actor, created_at=now)
    session.add(loan)
    session.flush()
    return loan


def get_loan(session: Session, loan_id: str) -> ToolLoan:
    loan = session.get(ToolLoan, loan_id)
    if loan is None:
        raise NotFound("No such loan.")
    return loan


def give_back(session: Session, loan: ToolLoan, data: dict, actor: str) -> ToolLoan:
    """Return a loan: ``returned_at`` (default now; 422 if before ``lent_at``), ``condition`` as returned,
    ``notes``; ``send_to_repair`` opens a repair at once. 409 when already returned."""
    at = own_time(data.get("returned_at"), "returned_at")
    if at < loan.lent_at:
        raise Unprocessable("A tool is returned after it is lent.",
                            errors=field_error("returned_at", "Must be after lent_at."))
    done = session.execute(update(ToolLoan).where(ToolLoan.id == loan.id, ToolLoan.status == "on_loan")
                           .values(status="returned", active_tool_id=None, returned_at=at,
                                   condition_in=data["condition"], notes_in=data.get("notes"))
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("This loan is already returned.", code="already-returned")
    session.refresh(loan)
    tool = session.get(Tool, loan.tool_id)
    tool.condition = data["condition"]
    _move(session, tool, "available", ("on_loan",), "returned")
    if data.get("send_to_repair"):
        open_repair(session, tool, {"reason": data.get("notes") or f"returned {data['condition']}",
                                    "opened_at": at}, actor)
    return loan


def open_repair(session: Session, tool: Tool, data: dict, actor: str) -> ToolRepair:
    """Take an available (or held: the hold is cancelled) tool out of circulation for repair. 409 otherwise."""
    at = own_time(data.get("opened_at"), "opened_at")
    hold = _active_hold(session, tool)
    _move(session, tool, "in_repair", ("available", "on_hold"), "sent to repair")
    if hold is not None:
        session.execute(update(ToolHold).where(ToolHold.id == hold.id, ToolHold.status == "active")
                        .values(status="cancelled", active_tool_id=None, ended_at=at))
    repair = ToolRepair(id=uuid7(), tool_id=tool.id, active_tool_id=tool.id, reason=data["reason"],
                        opened_at=at, created_by=actor, created_at=utcnow())
    session.add(repair)
    session.flush()
    return repair


def close_repair(session: Session, repair: ToolRepair, data: dict) -> ToolRepair:
    """Back in circulation: ``closed_at``, ``outcome``, the tool's ``condition`` after repair. 409 if closed."""
    at = own_time(data.get("closed_at"), "closed_at")
    if at < repair.opened_at:
        raise Unprocessable("A repair closes after it opens.", errors=field_error("closed_at", "Must be after opened_at."))
    done = session.execute(update(ToolRepair).where(ToolRepair.id == repair.id, ToolRepair.closed_at.is_(None))
                           .values(closed_at=at, outcome=data.get("outcome"), active_tool_id=None)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("This repair is already closed.", code="repair-closed")
    session.refresh(repair)
    tool = session.get(Tool, repair.tool_id)
    tool.condition = data.get("condition", "good")
    _move(session, tool, "available", ("in_repair",), "put back")
    return repair


def get_repair(session: Session, repair_id: str) -> ToolRepair:
    row = session.get(ToolRepair, repair_id)
    if row is None:
        raise NotFound("No such repair.")
    return row


def overdue_stmt(now: datetime):
    """Loans not returned whose due time has passed by ``now`` (oldest due first)."""
    return select(ToolLoan).where(ToolLoan.status == "on_loan", ToolLoan.due_at <= now)


def notify_overdue(session: Session, now: datetime | None = None) -> int:
    """Publish ``jobmarket.tool.overdue.v1`` once for each loan overdue by wall-clock ``now``; returns how many."""
    now = now or utcnow()
    sent = 0
    for loan in session.scalars(overdue_stmt(now).where(ToolLoan.overdue_notified_at.is_(None))).all():
        done = session.execute(update(ToolLoan).where(ToolLoan.id == loan.id, ToolLoan.status == "on_loan",
                                                      ToolLoan.overdue_notified_at.is_(None))
                               .values(overdue_notified_at=now).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            continue
        worker = session.get(Worker, loan.worker_id)
        outbox.publish(session, "jobmarket.tool.overdue.v1", {
            "loan_id": loan.id, "tool_id": loan.tool_id, "worker_person_id": worker.event_ref,
            "due_at": to_local(loan.due_at).isoformat(), "tool_kind": loan.kind,
            "lent_at": to_local(loan.lent_at).isoformat()},
            subject=f"loans/{loan.id}", time=loan.due_at)
        sent += 1
    return sent


def expire_holds(session: Session, now: datetime | None = None) -> int:
    """End every active hold whose ``expires_at`` has passed by wall-clock ``now``; the tool is free again."""
    now = now or utcnow()
    count = 0
    for hold in session.scalars(select(ToolHold).where(ToolHold.status == "active", ToolHold.expires_at <= now)).all():
        count += end_hold(session, hold, "expired", now)
    return count
