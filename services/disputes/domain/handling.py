"""Handling a case: assignment, mediation, resolution, referral, closure and reopening (lifecycle table).

Each step checks the lifecycle table (409 otherwise), takes its own event time (``at``; default now; never
before the case was reported), adds a timeline entry and publishes its event.
Source: the seed practice (grid workers, the women's mediation team and the red deliberation group visit and
mediate; a night-talk session decides; the supervision post follows up) and issue 3.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import local_day, utcnow

from ..models import Assignment, Case, FollowUp, NightTalkSession, Resolution, ResolutionParticipant, SessionCase
from .cases import not_before, note
from .lifecycle import next_status
from .times import iso


def _at(data: dict, case: Case, field: str = "at"):
    at = data.get(field) or utcnow()
    not_before(at, case.reported_at, field, "the case was reported")
    return at


def assign(session: Session, case: Case, data: dict, actor: str) -> Assignment:
    """Assign or reassign ``case`` to ``assignee_kind`` (grid_worker, mediation_team, deliberation_group)
    ``assignee_id`` (a grid worker's person_id, or the team's/group's id) at ``at``.

    Publishes ``disputes.case.assigned.v1`` with the previous assignee. 409 from received (grade it first) or
    an ended case.
    """
    status = next_status("assign", case.status)
    at = _at(data, case)
    previous_kind, previous_id = case.assignee_kind, case.assignee_id
    row = Assignment(case_id=case.id, assignee_kind=data["assignee_kind"], assignee_id=data["assignee_id"],
                     assigned_by=actor, assigned_at=at, created_at=utcnow())
    session.add(row)
    case.assignee_kind, case.assignee_id, case.status, case.updated_at = (data["assignee_kind"],
                                                                          data["assignee_id"], status, utcnow())
    note(session, case, "assigned", actor, at, {"assignee_kind": row.assignee_kind, "assignee_id": row.assignee_id,
                                                "previous_assignee_kind": previous_kind})
    outbox.publish(session, "disputes.case.assigned.v1", {
        "case_id": case.id, "assignee_kind": row.assignee_kind, "assignee_id": row.assignee_id,
        "assignee_person_id": row.assignee_id if row.assignee_kind == "grid_worker" else None,
        "previous_assignee_kind": previous_kind, "previous_assignee_id": previous_id,
        "assigned_at": iso(at)}, subject=f"cases/{case.id}", time=at)
    session.flush()
    return row


def start_mediation(session: Session, case: Case, data: dict, actor: str) -> Case:
    """Mark that mediation has begun (a night visit, a first talk). ``data``: at?, note?. 409 per the table."""
    case.status = next_status("start_mediation", case.status)
    at = _at(data, case)
    case.updated_at = utcnow()
    note(session, case, "mediation_started", actor, at, {"note": data.get("note")})
    return case


def hear(session: Session, case: Case, night_talk: NightTalkSession, actor: str, at) -> None:
    """Record that ``night_talk`` heard ``case`` (links both ways); an open case moves to in_mediation.

    An ended case may still be discussed: the link is kept and its status is left alone.
    """
    exists = session.scalar(select(SessionCase.id).where(SessionCase.session_id == night_talk.id,
                                                         SessionCase.case_id == case.id))
    if exists is None:
        session.add(SessionCase(session_id=night_talk.id, case_id=case.id))
        note(session, case, "heard", actor, at, {"session_id": night_talk.id, "session_ref": night_talk.ref})
    if case.status in ("received", "graded", "assigned", "reopened"):
        case.status = next_status("hear", case.status)
        case.updated_at = utcnow()


def _session_for(session: Session, case: Case, data: dict) -> NightTalkSession | None:
    if data.get("session_id"):
        night_talk, field = session.get(NightTalkSession, data["session_id"]), "session_id"
    elif data.get("session_ref"):
        night_talk = session.scalars(select(NightTalkSession).where(
            NightTalkSession.ref == data["session_ref"])).first()
        field = "session_ref"
    else:
        return None
    if night_talk is None:
        raise Unprocessable("No such night-talk session.", errors=field_error(field, "No such session."))
    if night_talk.estate != case.estate:
        raise Unprocessable("The session was held in another estate.", errors=field_error(
            field, "A case is decided at a session of its own estate."))
    return night_talk


def resolve(session: Session, case: Case, data: dict, actor: str) -> Resolution:
    """Record a resolution with its participants and publish ``disputes.case.resolved.v1``.

    ``data``: text, participants [{person_id, role}], session_id? or session_ref? (a session of the case's
    estate held on the Asia/Shanghai day of ``resolved_at``), resolved_at? (default: now), responsible_party?,
    due_on? (a follow-up for the supervision post is opened when given). ``resolution_no`` counts rounds.
    Raises 404 (case), 409 (lifecycle), 422 (unknown session, other estate or day, time before the report).
    """
    status = next_status("resolve", case.status)
    resolved_at = _at(data, case, "resolved_at")
    night_talk = _session_for(session, case, data)
    if night_talk is not None and local_day(resolved_at) != night_talk.held_on:
        raise Unprocessable("resolved_at is not on the day of the session.", errors=field_error(
            "resolved_at", f"Must be on {night_talk.held_on.isoformat()} (Asia/Shanghai), the session's day."))
    if data.get("due_on") and data["due_on"] < local_day(resolved_at):
        raise Unprocessable("due_on is before the resolution.", errors=field_error("due_on", "Must not be before the resolution day."))
    case.resolution_count += 1
    resolution = Resolution(id=uuid7(), case_id=case.id, resolution_no=case.resolution_count,
                            session_id=night_talk.id if night_talk else None, text=data["text"],
                            responsible_party=data.get("responsible_party"), due_on=data.get("due_on"),
                            resolved_at=resolved_at, created_by=actor, created_at=utcnow())
    seen = set()
    for p in data["participants"]:
        if p["person_id"] not in seen:
            seen.add(p["person_id"])
            resolution.participants.append(ResolutionParticipant(person_id=p["person_id"], role=p["role"]))
    session.add(resolution)
    if night_talk is not None:
        hear(session, case, night_talk, actor, resolved_at)
    case.status, case.resolved_at, case.updated_at = status, resolved_at, utcnow()
    note(session, case, "resolved", actor, resolved_at, {"resolution_no": resolution.resolution_no,
                                                         "session_id": resolution.session_id})
    session.flush()
    if resolution.due_on is not None:
        session.add(FollowUp(id=uuid7(), case_id=case.id, resolution_id=resolution.id,
                             resolution_no=resolution.resolution_no, task=resolution.text,
                             responsible_party=resolution.responsible_party, due_on=resolution.due_on,
                             status="open", progress=[], created_by=actor, created_at=utcnow()))
    outbox.publish(session, "disputes.case.resolved.v1", {
        "case_id": case.id, "resolution_no": resolution.resolution_no, "category": case.category,
        "subcategory": case.subcategory, "grade": case.grade, "estate": case.estate,
        "resolved_at": iso(resolved_at), "session_id": resolution.session_id,
        "participants": [{"person_id": p.person_id, "role": p.role} for p in resolution.participants],
    }, subject=f"cases/{case.id}", time=resolved_at)
    return resolution


def refer(session: Session, case: Case, data: dict, actor: str) -> Case:
    """Hand ``case`` to an outside body: reason (code), referred_to (code, e.g. property_company, court), at?.

    Publishes ``disputes.case.referred.v1``. 409 per the lifecycle table.
    """
    case.status = next_status("refer", case.status)
    at = _at(data, case)
    case.ended_at, case.end_reason, case.updated_at = at, data["reason"], utcnow()
    note(session, case, "referred", actor, at, {"reason": data["reason"], "referred_to": data["referred_to"],
                                                "note": data.get("note")})
    outbox.publish(session, "disputes.case.referred.v1", {
        "case_id": case.id, "reason": data["reason"], "referred_at": iso(at),
        "referred_to": data["referred_to"], "category": case.category, "grade": case.grade},
        subject=f"cases/{case.id}", time=at)
    return case


def close(session: Session, case: Case, data: dict, actor: str) -> Case:
    """Close ``case`` unresolved: reason (withdrawn, duplicate, out_of_scope, unreachable…), duplicate_of? (a case
    id, required when reason is duplicate), at?. Publishes ``disputes.case.closed.v1``. 409 per the table."""
    case.status = next_status("close", case.status)
    at = _at(data, case)
    duplicate_of = data.get("duplicate_of_case_id")
    if data["reason"] == "duplicate":
        if not duplicate_of or duplicate_of == case.id or session.get(Case, duplicate_of) is None:
            raise Unprocessable("A duplicate names the case it duplicates.", errors=field_error(
                "duplicate_of_case_id", "Required for reason duplicate: another existing case id."))
    else:
        duplicate_of = None
    case.ended_at, case.end_reason, case.updated_at = at, data["reason"], utcnow()
    note(session, case, "closed", actor, at, {"reason": data["reason"], "duplicate_of_case_id": duplicate_of,
                                              "note": data.get("note")})
    outbox.publish(session, "disputes.case.closed.v1", {
        "case_id": case.id, "reason": data["reason"], "closed_at": iso(at),
        "duplicate_of_case_id": duplicate_of, "category": case.category}, subject=f"cases/{case.id}", time=at)
    return case


def reopen(session: Session, case: Case, *, reason: str, actor: str, at, rating: int | None = None,
           note_text: str | None = None, field: str = "at") -> Case:
    """Reopen a resolved ``case`` (``reason``: evaluation or supervisor). Publishes ``disputes.case.reopened.v1``.

    409 unless the case is resolved; 422 if ``at`` is before the latest resolution.
    """
    case.status = next_status("reopen", case.status)
    not_before(at, case.resolved_at, field, "the resolution")
    case.reopen_count += 1
    if reason == "evaluation":
        case.evaluation_reopen_count += 1
    case.updated_at = utcnow()
    note(session, case, "reopened", actor, at, {"reason": reason, "rating": rating, "note": note_text,
                                                "resolution_no": case.resolution_count})
    outbox.publish(session, "disputes.case.reopened.v1", {
        "case_id": case.id, "reason": reason, "reopened_at": iso(at),
        "resolution_no": case.resolution_count, "rating": rating}, subject=f"cases/{case.id}", time=at)
    return case


def latest_resolution(session: Session, case: Case) -> Resolution:
    """The latest resolution round of ``case`` (404 if it has none)."""
    row = session.scalars(select(Resolution).where(Resolution.case_id == case.id)
                          .order_by(Resolution.resolution_no.desc()).limit(1)).first()
    if row is None:
        raise NotFound("This case has no resolution yet.")
    return row
