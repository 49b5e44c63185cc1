"""The supervision post (监督岗): each resolution's follow-up tasks with due days, progress and completion.

A follow-up is due on an Asia/Shanghai day; it is overdue from the next day on while still open. The overdue
board lists them by grade (red, yellow, blue, ungraded), oldest due first. Completing the last open follow-up
of a resolution closes the loop (a timeline entry). The worker publishes ``disputes.follow_up.overdue.v1``
once per overdue follow-up. Source: the seed practice (民情监督机制) and issue 3.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import local_day, to_local, utcnow

from ..models import Case, FollowUp, Resolution
from .cases import not_before, note
from .times import iso

GRADE_ORDER = ("red", "yellow", "blue", None)


def create(session: Session, case: Case, resolution: Resolution, data: dict, actor: str) -> FollowUp:
    """Open a follow-up of ``resolution``: task, due_on (not before the resolution day), responsible_party?."""
    if data["due_on"] < local_day(resolution.resolved_at):
        raise Unprocessable("due_on is before the resolution.", errors=field_error("due_on", "Must not be before the resolution day."))
    row = FollowUp(id=uuid7(), case_id=case.id, resolution_id=resolution.id, resolution_no=resolution.resolution_no,
                   task=data["task"], responsible_party=data.get("responsible_party"), due_on=data["due_on"],
                   status="open", progress=[], created_by=actor, created_at=utcnow())
    session.add(row)
    note(session, case, "follow_up_opened", actor, utcnow(), {"follow_up_id": row.id, "due_on": row.due_on.isoformat()})
    session.flush()
    return row


def get(session: Session, follow_up_id: str) -> FollowUp:
    """The follow-up ``follow_up_id`` (404 if none)."""
    row = session.get(FollowUp, follow_up_id)
    if row is None:
        raise NotFound("No such follow-up.")
    return row


def add_progress(session: Session, row: FollowUp, data: dict, actor: str) -> FollowUp:
    """Add a progress note (note, at?) to an open follow-up; 409 once it is done."""
    if row.status != "open":
        raise Conflict("This follow-up is already completed.", code="follow-up-done")
    at = data.get("at") or utcnow()
    row.progress = [*row.progress, {"note": data["note"], "at": to_local(at).isoformat(), "by": actor}]
    note(session, session.get(Case, row.case_id), "follow_up_progress", actor, at,
         {"follow_up_id": row.id, "note": data["note"]})
    return row


def complete(session: Session, row: FollowUp, data: dict, actor: str) -> FollowUp:
    """Complete an open follow-up at ``at`` (409 if done; 422 if before its resolution). When it was the last
    open one of its resolution, the loop is closed (timeline ``loop_closed``)."""
    at = data.get("at") or utcnow()
    resolution = session.get(Resolution, row.resolution_id)
    not_before(at, resolution.resolved_at, "at", "the resolution")
    done = session.execute(update(FollowUp).where(FollowUp.id == row.id, FollowUp.status == "open")
                           .values(status="done", completed_at=at))
    if done.rowcount != 1:
        raise Conflict("This follow-up is already completed.", code="follow-up-done")
    session.refresh(row)
    case = session.get(Case, row.case_id)
    note(session, case, "follow_up_completed", actor, at, {"follow_up_id": row.id, "note": data.get("note")})
    still_open = session.scalar(select(FollowUp.id).where(FollowUp.resolution_id == row.resolution_id,
                                                          FollowUp.status == "open"))
    if still_open is None:
        note(session, case, "loop_closed", actor, at, {"resolution_no": row.resolution_no})
    return row


def of_case(session: Session, case: Case) -> list[FollowUp]:
    return list(session.scalars(select(FollowUp).where(FollowUp.case_id == case.id)
                                .order_by(FollowUp.due_on, FollowUp.id)))


def overdue_board(session: Session, as_of: date) -> list[dict]:
    """Open follow-ups due before ``as_of`` (Asia/Shanghai day): ``[{grade, items: [...]}]``, red first,
    oldest due first within a grade; ``days_overdue`` counts whole days past ``due_on``."""
    rows = session.execute(select(FollowUp, Case.grade, Case.ref, Case.estate).join(Case, Case.id == FollowUp.case_id)
                           .where(FollowUp.status == "open", FollowUp.due_on < as_of)
                           .order_by(FollowUp.due_on, FollowUp.id)).all()
    groups: dict = {g: [] for g in GRADE_ORDER}
    for row, grade, ref, estate in rows:
        groups[grade].append({"follow_up": row, "case_ref": ref, "estate": estate, "grade": grade,
                              "days_overdue": (as_of - row.due_on).days})
    return [{"grade": g, "items": groups[g]} for g in GRADE_ORDER if groups[g]]


def publish_overdue(session: Session, now: datetime) -> int:
    """Publish ``disputes.follow_up.overdue.v1`` once for each open follow-up whose due day has passed by
    wall-clock ``now`` (worker schedule; the conditional update makes it once even with two workers)."""
    today = local_day(now)
    rows = session.execute(select(FollowUp, Case.grade).join(Case, Case.id == FollowUp.case_id)
                           .where(FollowUp.status == "open", FollowUp.due_on < today,
                                  FollowUp.overdue_published_at.is_(None)).limit(500)).all()
    count = 0
    for row, grade in rows:
        claimed = session.execute(update(FollowUp).where(FollowUp.id == row.id,
                                                         FollowUp.overdue_published_at.is_(None))
                                  .values(overdue_published_at=now))
        if claimed.rowcount != 1:
            continue
        outbox.publish(session, "disputes.follow_up.overdue.v1", {
            "case_id": row.case_id, "follow_up_id": row.id, "due_on": row.due_on.isoformat(), "grade": grade,
            "resolution_no": row.resolution_no, "detected_at": iso(now)},
            subject=f"follow-ups/{row.id}", time=now)
        count += 1
    return count
