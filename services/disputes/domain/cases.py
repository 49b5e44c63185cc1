"""Cases: registration and resolution (the backbone's first flow; the full lifecycle builds on it).

Source: the seed practice (府西夜话): cases arrive from five channels, are decided at night-talk sessions,
and each resolution credits its participants in the points service through ``disputes.case.resolved.v1``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import Case, Resolution, ResolutionParticipant, TimelineEntry

CHANNELS = ("grid_wechat_group", "hotline", "qr_code", "night_talk", "door_to_door_visit")
CATEGORIES = {
    "neighbour_family": ("water_leak", "elder_support", "parking", "noise"),
    "estate_internal": ("facility_repair", "ev_charger", "falling_tiles", "utility_arrears"),
    "external": ("property_management", "developer"),
}
PARTICIPANT_ROLES = ("grid_worker", "mediator", "volunteer", "building_head")
RESOLVABLE = ("received", "graded", "assigned", "in_mediation", "reopened")


def _note(session: Session, case: Case, kind: str, actor: str, at: datetime, detail: dict | None = None) -> None:
    session.add(TimelineEntry(case_id=case.id, kind=kind, detail=detail, actor=actor, at=at, created_at=utcnow()))


def register(session: Session, data: dict, actor: str) -> Case:
    """Register a case from any channel; publishes ``disputes.case.received.v1`` when the catalogue has it."""
    now = utcnow()
    case = Case(id=uuid7(), ref=data.get("ref"), channel=data["channel"], category=data["category"],
                subcategory=data.get("subcategory"), estate=data["estate"], grid=data.get("grid"),
                summary=data["summary"], description=data.get("description"),
                reporter_person_id=data.get("reporter_person_id"), status="received",
                resolution_count=0, reported_at=data.get("reported_at") or now, created_by=actor,
                created_at=now, updated_at=now)
    session.add(case)
    session.flush()
    _note(session, case, "received", actor, case.reported_at, {"channel": case.channel})
    return case


def get(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.")
    return case


def resolve(session: Session, case_id: str, data: dict, actor: str) -> Resolution:
    """Record a resolution with its participants and publish ``disputes.case.resolved.v1``.

    Raises 404 for an unknown case and 409 when the case is not in a state that can be resolved.
    """
    case = get(session, case_id)
    if case.status not in RESOLVABLE:
        raise Conflict(f"A case that is {case.status} cannot be resolved.", code="invalid-transition")
    resolved_at = data.get("resolved_at") or utcnow()
    case.resolution_count += 1
    resolution = Resolution(id=uuid7(), case_id=case.id, resolution_no=case.resolution_count,
                            session_id=data.get("session_id"), text=data["text"], resolved_at=resolved_at,
                            created_by=actor, created_at=utcnow())
    seen = set()
    for p in data["participants"]:
        if p["person_id"] in seen:
            continue
        seen.add(p["person_id"])
        resolution.participants.append(ResolutionParticipant(person_id=p["person_id"], role=p["role"]))
    session.add(resolution)
    case.status = "resolved"
    case.updated_at = utcnow()
    _note(session, case, "resolved", actor, resolved_at, {"resolution_no": resolution.resolution_no})
    session.flush()
    outbox.publish(session, "disputes.case.resolved.v1", {
        "case_id": case.id, "resolution_no": resolution.resolution_no, "category": case.category,
        "subcategory": case.subcategory, "grade": case.grade, "estate": case.estate,
        "resolved_at": resolved_at.isoformat(), "session_id": resolution.session_id,
        "participants": [{"person_id": p.person_id, "role": p.role} for p in resolution.participants],
    }, subject=f"cases/{case.id}", time=resolved_at)
    return resolution
