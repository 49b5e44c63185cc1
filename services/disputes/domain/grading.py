"""Grading: three factors (1–3) → a suggested three-colour grade; staff may override with a reason.

Every grading is kept (``grade_changes``) and noted in the timeline; the grade sets the handling deadline
(``Policy.deadline``: the end of an Asia/Shanghai day, configurable per grade); a red case is escalated at once.
Publishes ``disputes.case.graded.v1``. Source: the seed's three-colour map and issue 3.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Unprocessable, field_error
from shared.timeutil import utcnow

from ..models import Case, GradeChange
from . import cases as case_rules
from .lifecycle import next_status
from .policy import Policy, suggest_grade
from .times import iso


def grade(session: Session, policy: Policy, case: Case, data: dict, actor: str) -> GradeChange:
    """Grade or regrade ``case``.

    ``data``: scale, difficulty, social_impact (1–3), grade? (blue/yellow/red; an override of the suggestion
    needs ``reason``), reason?, graded_at? (aware; default now; not before the case was reported).
    Raises 409 for an ended case (lifecycle table), 422 for an override without a reason.
    Returns the recorded change (suggested_grade, grade, deadline_at, escalated).
    """
    status = next_status("grade", case.status)
    graded_at = data.get("graded_at") or utcnow()
    case_rules.not_before(graded_at, case.reported_at, "graded_at", "the case was reported")
    suggested = suggest_grade(data["scale"], data["difficulty"], data["social_impact"])
    chosen = data.get("grade") or suggested
    reason = data.get("reason")
    if chosen != suggested and not reason:
        raise Unprocessable("A grade other than the suggested one needs a reason.", errors=field_error(
            "reason", f"Required when grade differs from the suggested grade ({suggested})."))
    previous = case.grade
    deadline = policy.deadline(chosen, graded_at)
    change = GradeChange(case_id=case.id, scale=data["scale"], difficulty=data["difficulty"],
                         social_impact=data["social_impact"], suggested_grade=suggested, grade=chosen,
                         previous_grade=previous, reason=reason, deadline_at=deadline, graded_by=actor,
                         graded_at=graded_at, created_at=utcnow())
    session.add(change)
    case.grade, case.scale, case.difficulty, case.social_impact = chosen, data["scale"], data["difficulty"], \
        data["social_impact"]
    case.deadline_at = deadline
    case.status = status
    case.updated_at = utcnow()
    case_rules.note(session, case, "graded", actor, graded_at, {
        "grade": chosen, "suggested_grade": suggested, "previous_grade": previous, "reason": reason,
        "deadline_at": iso(deadline)})
    if chosen == "red" and case.escalated_at is None:
        case.escalated_at = graded_at
        case_rules.note(session, case, "escalated", actor, graded_at, {"reason": "red_grade"})
    outbox.publish(session, "disputes.case.graded.v1", {
        "case_id": case.id, "grade": chosen, "scale": data["scale"], "difficulty": data["difficulty"],
        "social_impact": data["social_impact"], "deadline_at": iso(deadline), "previous_grade": previous,
        "graded_at": iso(graded_at)}, subject=f"cases/{case.id}", time=graded_at)
    session.flush()
    return change


def history(session: Session, case: Case) -> list[GradeChange]:
    """Every grading of ``case``, oldest first."""
    return list(session.scalars(select(GradeChange).where(GradeChange.case_id == case.id)
                                .order_by(GradeChange.graded_at, GradeChange.id)))


def escalate_overdue(session: Session, now) -> int:
    """Escalate open cases whose handling deadline has passed by wall-clock ``now`` (once per case).

    Run by the worker's schedule; returns how many cases it escalated.
    """
    from .lifecycle import OPEN_STATUSES
    rows = session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES), Case.escalated_at.is_(None),
                                              Case.deadline_at.is_not(None), Case.deadline_at < now)
                           .order_by(Case.deadline_at, Case.id).limit(500)).all()
    for case in rows:
        case.escalated_at = now
        case.updated_at = now
        case_rules.note(session, case, "escalated", "system", now, {"reason": "deadline_passed",
                                                                    "deadline_at": iso(case.deadline_at)})
    return len(rows)
