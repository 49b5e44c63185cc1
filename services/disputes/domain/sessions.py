"""Night-talk sessions (府西夜话): date, estate, attendance, the cases heard and what was decided for each.

A session is recorded once (its natural ``ref`` is unique); the cases it heard are linked both ways; the
decisions are the resolutions that name the session. Publishes ``disputes.session.held.v1``.
Source: the seed practice (disputes.sessions.jsonl: ref, held_on, estate, attendees, case_refs).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import SHANGHAI, local_day, utcnow

from ..models import Case, NightTalkSession, Resolution, SessionCase
from .handling import hear


def _cases(session: Session, data: dict) -> list[Case]:
    found: list[Case] = []
    for field, column in (("case_ids", Case.id), ("case_refs", Case.ref)):
        for i, value in enumerate(data.get(field) or []):
            case = session.scalars(select(Case).where(column == value)).first()
            if case is None:
                raise Unprocessable("A heard case does not exist.", errors=field_error(f"{field}.{i}", "No such case."))
            if case.estate != data["estate"]:
                raise Unprocessable("A heard case is of another estate.", errors=field_error(
                    f"{field}.{i}", "A session hears the cases of its own estate."))
            if case not in found:
                found.append(case)
    return found


def record(session: Session, data: dict, actor: str) -> NightTalkSession:
    """Record a session held on ``held_on`` (Asia/Shanghai day, not in the future) in ``estate``.

    ``data``: ref?, held_on, estate, attendees (≥ 0), notes?, case_ids? / case_refs? (cases of the same estate,
    reported by the end of that day). Open heard cases move to in_mediation. Raises 409 for a used ``ref``,
    422 naming the field for an unknown case, another estate's case, a case reported later or a future day.
    """
    if data["held_on"] > local_day(utcnow()):
        raise Unprocessable("held_on is in the future.", errors=field_error("held_on", "Must not be in the future."))
    if data.get("ref") and session.scalar(select(NightTalkSession.id).where(NightTalkSession.ref == data["ref"])):
        raise Conflict("A session with this ref is already recorded.", code="duplicate-ref")
    heard = _cases(session, data)
    day = data["held_on"]
    evening = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)
    for case in heard:
        if case.reported_at > evening:
            raise Unprocessable("A heard case was reported after the session.", errors=field_error(
                "case_ids" if data.get("case_ids") else "case_refs", f"Case {case.ref or case.id} was reported later."))
    night_talk = NightTalkSession(id=uuid7(), ref=data.get("ref"), held_on=day, estate=data["estate"],
                                  attendees=data["attendees"], notes=data.get("notes"), created_by=actor,
                                  created_at=utcnow())
    session.add(night_talk)
    session.flush()
    at = datetime(day.year, day.month, day.day, 19, 0, tzinfo=SHANGHAI)  # night talks start in the evening
    for case in heard:
        hear(session, case, night_talk, actor, max(at, case.reported_at))
    session.flush()
    outbox.publish(session, "disputes.session.held.v1", {
        "session_id": night_talk.id, "estate": night_talk.estate, "held_on": day.isoformat(),
        "attendees": night_talk.attendees, "case_ids": [c.id for c in heard], "resolved_case_ids": []},
        subject=f"sessions/{night_talk.id}", time=at)
    return night_talk


def get(session: Session, session_id: str) -> NightTalkSession:
    """The session ``session_id`` (404 if none)."""
    row = session.get(NightTalkSession, session_id)
    if row is None:
        raise NotFound("No such session.")
    return row


def view(session: Session, night_talk: NightTalkSession) -> dict:
    """The session with the cases it heard and the decision for each (resolution text, responsible party,
    due date, resolution_no)."""
    heard = session.execute(select(Case.id, Case.ref).join(SessionCase, SessionCase.case_id == Case.id)
                            .where(SessionCase.session_id == night_talk.id).order_by(SessionCase.id)).all()
    decisions = session.scalars(select(Resolution).where(Resolution.session_id == night_talk.id)
                                .order_by(Resolution.resolved_at, Resolution.id)).all()
    return {"id": night_talk.id, "ref": night_talk.ref, "held_on": night_talk.held_on, "estate": night_talk.estate,
            "attendees": night_talk.attendees, "notes": night_talk.notes, "created_at": night_talk.created_at,
            "cases": [{"case_id": cid, "case_ref": ref} for cid, ref in heard],
            "decisions": [{"case_id": r.case_id, "resolution_id": r.id, "resolution_no": r.resolution_no,
                           "text": r.text, "responsible_party": r.responsible_party, "due_on": r.due_on,
                           "resolved_at": r.resolved_at} for r in decisions]}


def of_case(session: Session, case: Case) -> list[NightTalkSession]:
    """The sessions that heard ``case``, oldest first."""
    return list(session.scalars(select(NightTalkSession).join(SessionCase, SessionCase.session_id == NightTalkSession.id)
                                .where(SessionCase.case_id == case.id)
                                .order_by(NightTalkSession.held_on, NightTalkSession.id)))
