"""The evaluation desk (评议台) and the feedback wall (回音壁).

Evaluation: the reporter rates the latest resolution 1–5 with a comment, once per resolution; a rating at or
below the configured threshold (default 2) reopens the case. Publishes ``disputes.case.evaluated.v1`` (and
``disputes.case.reopened.v1`` when it reopens).
Feedback wall: public progress notes and replies per case, readable without login, with the reporter's name
and every phone number masked, in free text too; private notes never appear there.
Source: the seed practice (民情评价机制, 民情反馈机制), GLOSSARY.md and issue 3.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import Case, Evaluation, Feedback
from . import handling
from .cases import not_before, note
from .masking import mask_name, mask_text
from .policy import Policy
from .times import iso


def evaluate(session: Session, policy: Policy, case: Case, data: dict, actor: str) -> Evaluation:
    """Rate the latest resolution of a resolved ``case``: rating (1–5), comment?, evaluated_at? (default now).

    409 ``not-resolved`` unless the case is resolved now; 409 ``already-evaluated`` for a second rating of the
    same resolution; 422 if ``evaluated_at`` precedes the resolution. A rating ≤ ``policy.reopen_threshold``
    reopens the case (reason evaluation).
    """
    if case.status != "resolved":
        raise Conflict("Only a resolved case can be rated.", code="not-resolved")
    resolution = handling.latest_resolution(session, case)
    if session.scalar(select(Evaluation.id).where(Evaluation.resolution_id == resolution.id)) is not None:
        raise Conflict("This resolution has already been rated.", code="already-evaluated")
    at = data.get("evaluated_at") or utcnow()
    not_before(at, resolution.resolved_at, "evaluated_at", "the resolution")
    reopens = data["rating"] <= policy.reopen_threshold
    row = Evaluation(id=uuid7(), case_id=case.id, resolution_id=resolution.id,
                     resolution_no=resolution.resolution_no, rating=data["rating"], comment=data.get("comment"),
                     reopened=reopens, evaluated_by=actor, evaluated_at=at, created_at=utcnow())
    session.add(row)
    note(session, case, "evaluated", actor, at, {"resolution_no": resolution.resolution_no,
                                                 "rating": data["rating"], "reopened": reopens})
    outbox.publish(session, "disputes.case.evaluated.v1", {
        "case_id": case.id, "resolution_no": resolution.resolution_no, "rating": data["rating"],
        "reopened": reopens, "evaluated_at": iso(at)}, subject=f"cases/{case.id}", time=at)
    if reopens:
        handling.reopen(session, case, reason="evaluation", actor=actor, at=at, rating=data["rating"],
                        field="evaluated_at")
    session.flush()
    return row


def evaluations(session: Session, case: Case) -> list[Evaluation]:
    return list(session.scalars(select(Evaluation).where(Evaluation.case_id == case.id)
                                .order_by(Evaluation.resolution_no)))


def add_feedback(session: Session, case: Case, data: dict, actor: str, *, staff: bool) -> Feedback:
    """A note on ``case``: staff write progress notes, replies or private notes; the reporter writes messages.

    ``data``: text, kind? (staff: progress, reply or note; a resident's is always message), public? (default
    true; a ``note`` is always private), at? (default now; not before the report).
    """
    at = data.get("at") or utcnow()
    not_before(at, case.reported_at, "at", "the case was reported")
    kind = data.get("kind") or ("progress" if staff else "message")
    if not staff:
        kind = "message"
    public = False if kind == "note" else data.get("public", True)
    row = Feedback(id=uuid7(), case_id=case.id, kind=kind, public=public, text=data["text"], author=actor,
                   at=at, created_at=utcnow())
    session.add(row)
    note(session, case, "note" if not public else "feedback", actor, at,
         {"feedback_id": row.id, "kind": kind, "public": public})
    session.flush()
    return row


def wall_stmt(filters: dict):
    """Public feedback rows joined with their case, filtered by estate and/or case id."""
    stmt = select(Feedback).join(Case, Case.id == Feedback.case_id).where(Feedback.public.is_(True))
    if filters.get("estate"):
        stmt = stmt.where(Case.estate == filters["estate"])
    if filters.get("case_id"):
        stmt = stmt.where(Case.id == filters["case_id"])
    return stmt


def wall_item(row: Feedback, case: Case) -> dict:
    """One feedback-wall entry as the public sees it: masked reporter, masked text, no person ids."""
    names = [case.reporter_name] if case.reporter_name else []
    return {"id": row.id, "case_id": case.id, "case_ref": case.ref, "estate": case.estate,
            "category": case.category, "subcategory": case.subcategory, "status": case.status,
            "case_summary": mask_text(case.summary, names), "reporter": mask_name(case.reporter_name),
            "kind": row.kind, "text": mask_text(row.text, names), "at": row.at}
