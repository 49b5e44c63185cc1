"""Cases: registration from any channel, lookup, lists, the duplicate hint, the timeline and contact reads.

Source: the seed practice (府西夜话): residents raise troubles through five channels (more on real hotlines);
staff may register on a resident's behalf; the reporter's name and phone stay in this service, masked in
every view and never on an event.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import Case, ContactRead, TimelineEntry
from . import grading
from .lifecycle import OPEN_STATUSES
from .policy import Policy
from .times import iso


def note(session: Session, case: Case, kind: str, actor: str, at: datetime, detail: dict | None = None) -> None:
    """Add one step to the case timeline (``kind``, who, when the fact happened, details)."""
    session.add(TimelineEntry(case_id=case.id, kind=kind, detail=detail, actor=actor, at=at, created_at=utcnow()))


def not_before(moment: datetime, earliest: datetime, field: str, what: str) -> None:
    """422 naming ``field`` when ``moment`` precedes ``earliest`` (records keep their own, consistent times)."""
    if moment < earliest:
        raise Unprocessable(f"{field} is before {what}.", errors=field_error(field, f"Must not be before {what}."))


def check_classification(policy: Policy, channel: str, category: str, subcategory: str | None) -> None:
    """422 unless ``channel`` and ``subcategory`` are configured ones (policy), the subcategory of ``category``."""
    if channel not in policy.channels:
        raise Unprocessable("Unknown channel.", errors=field_error(
            "channel", "Must be one of: " + ", ".join(policy.channels) + "."))
    if subcategory is not None and subcategory not in policy.categories[category]:
        raise Unprocessable("Subcategory does not fit the category.", errors=field_error(
            "subcategory", f"Must be one of: {', '.join(policy.categories[category])}."))


def duplicates(session: Session, estate: str, subcategory: str | None, before: datetime | None = None,
               exclude: str | None = None, limit: int = 20) -> list[Case]:
    """Open cases of the same ``subcategory`` in the same ``estate`` (reported no later than ``before``).

    The duplicate hint points staff to them; it never merges or refuses anything. Oldest first.
    """
    if subcategory is None:
        return []
    stmt = select(Case).where(Case.estate == estate, Case.subcategory == subcategory,
                              Case.status.in_(OPEN_STATUSES))
    if before is not None:
        stmt = stmt.where(Case.reported_at <= before)
    if exclude is not None:
        stmt = stmt.where(Case.id != exclude)
    return list(session.scalars(stmt.order_by(Case.reported_at, Case.id).limit(limit)))


def register(session: Session, policy: Policy, data: dict, actor: str) -> Case:
    """Register a case; publishes ``disputes.case.received.v1`` (and ``graded`` when factors are given).

    ``data``: channel, category, subcategory?, estate, grid?, summary, description?, reporter? {person_id?,
    name?, phone?}, photos? [media refs], households_affected?, ref?, reported_at? (aware; default now),
    scale/difficulty/social_impact? (1–3 each: grades the case at once with the suggested grade).
    Raises 422 for an unconfigured channel/subcategory or a future ``reported_at``; 409 for a used ``ref``.
    """
    check_classification(policy, data["channel"], data["category"], data.get("subcategory"))
    now = utcnow()
    reported_at = data.get("reported_at") or now
    if reported_at > now:
        raise Unprocessable("reported_at is in the future.", errors=field_error("reported_at", "Must not be in the future."))
    if data.get("ref") and session.scalar(select(Case.id).where(Case.ref == data["ref"])):
        raise Conflict("A case with this ref is already registered.", code="duplicate-ref")
    reporter = data.get("reporter") or {}
    case = Case(id=uuid7(), ref=data.get("ref"), channel=data["channel"], category=data["category"],
                subcategory=data.get("subcategory"), estate=data["estate"], grid=data.get("grid"),
                summary=data["summary"], description=data.get("description"),
                reporter_person_id=reporter.get("person_id"), reporter_name=reporter.get("name"),
                reporter_phone=reporter.get("phone"), photos=list(data.get("photos") or []),
                households_affected=data.get("households_affected"), status="received", resolution_count=0,
                reopen_count=0, evaluation_reopen_count=0, reported_at=reported_at, created_by=actor,
                created_at=now, updated_at=now)
    case.duplicate_candidates = [c.id for c in duplicates(session, case.estate, case.subcategory, reported_at)]
    session.add(case)
    session.flush()
    note(session, case, "received", actor, reported_at, {"channel": case.channel,
                                                         "duplicate_candidates": case.duplicate_candidates})
    data_out = {"case_id": case.id, "channel": case.channel, "category": case.category,
                "subcategory": case.subcategory, "estate": case.estate, "reported_at": iso(reported_at),
                "reporter_person_id": case.reporter_person_id, "received_at": iso(now)}
    if case.households_affected is not None:
        data_out["households_affected"] = case.households_affected
    outbox.publish(session, "disputes.case.received.v1", data_out,
                   subject=f"cases/{case.id}", time=reported_at)
    if all(data.get(k) is not None for k in ("scale", "difficulty", "social_impact")):
        grading.grade(session, policy, case, {"scale": data["scale"], "difficulty": data["difficulty"],
                                              "social_impact": data["social_impact"], "graded_at": reported_at},
                      actor)
    return case


def get(session: Session, case_id: str) -> Case:
    """The case ``case_id`` (404 if none)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.")
    return case


def get_by_ref(session: Session, ref: str) -> Case:
    """The case with the intake reference ``ref`` (404 if none)."""
    case = session.scalars(select(Case).where(Case.ref == ref)).first()
    if case is None:
        raise NotFound("No such case.")
    return case


def list_stmt(filters: dict, reporter_person_id: str | None = None):
    """A select of cases by ``filters`` (status, category, subcategory, grade, channel, estate, grid);
    only the cases of ``reporter_person_id`` when given (a resident's own list)."""
    stmt = select(Case)
    for key in ("status", "category", "subcategory", "grade", "channel", "estate", "grid"):
        if filters.get(key) is not None:
            stmt = stmt.where(getattr(Case, key) == filters[key])
    if reporter_person_id is not None:
        stmt = stmt.where(Case.reporter_person_id == reporter_person_id)
    return stmt


def timeline(session: Session, case: Case, include_private: bool) -> list[TimelineEntry]:
    """The case's steps and notes in the order they happened (time, then id); private notes only for staff."""
    rows = session.scalars(select(TimelineEntry).where(TimelineEntry.case_id == case.id)
                           .order_by(TimelineEntry.at, TimelineEntry.id)).all()
    if include_private:
        return list(rows)
    return [r for r in rows if not (r.kind == "note" and not (r.detail or {}).get("public"))]


def read_contact(session: Session, case: Case, reader: str, purpose: str | None) -> dict:
    """The reporter's unmasked contact; every read is audited (who, when, which case)."""
    session.add(ContactRead(case_id=case.id, reader=reader, purpose=purpose, read_at=utcnow()))
    return {"case_id": case.id, "person_id": case.reporter_person_id, "name": case.reporter_name,
            "phone": case.reporter_phone}
