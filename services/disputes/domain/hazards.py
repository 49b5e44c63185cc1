"""Hazard photo reports (随手拍安全隐患): a resident reports a hazard with a photo reference and a location;
a grid worker verifies or rejects it once. Verification publishes ``disputes.hazard_report.verified.v1``
(the points service credits the reporter under its ``hazard_photo_report`` rule; the exact spot stays here).
Source: the seed's delivery-rider story (points.json) and issue 3.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import HazardReport
from .cases import not_before
from .times import iso


def report(session: Session, data: dict, reporter_person_id: str, actor: str) -> HazardReport:
    """Record a report: photo (media reference), estate, location, grid?, description?, reported_at?
    (default now; 422 if in the future)."""
    now = utcnow()
    reported_at = data.get("reported_at") or now
    if reported_at > now:
        raise Unprocessable("reported_at is in the future.", errors=field_error("reported_at", "Must not be in the future."))
    row = HazardReport(id=uuid7(), reporter_person_id=reporter_person_id, estate=data["estate"],
                       grid=data.get("grid"), location=data["location"], description=data.get("description"),
                       photo=data["photo"], status="pending", reported_at=reported_at, created_by=actor,
                       created_at=now)
    session.add(row)
    session.flush()
    return row


def get(session: Session, report_id: str) -> HazardReport:
    """The report ``report_id`` (404 if none)."""
    row = session.get(HazardReport, report_id)
    if row is None:
        raise NotFound("No such hazard report.")
    return row


def _decide(session: Session, row: HazardReport, status: str, data: dict, actor: str):
    at = data.get("at") or utcnow()
    not_before(at, row.reported_at, "at", "the report")
    done = session.execute(update(HazardReport).where(HazardReport.id == row.id, HazardReport.status == "pending")
                           .values(status=status, decided_by=actor, decided_at=at, decision_note=data.get("note")))
    if done.rowcount != 1:
        raise Conflict(f"This report was already {row.status}.", code="already-decided")
    session.refresh(row)
    return at


def verify(session: Session, row: HazardReport, data: dict, actor: str) -> HazardReport:
    """Verify a pending report (at?, note?); publishes ``disputes.hazard_report.verified.v1``. 409 if decided."""
    at = _decide(session, row, "verified", data, actor)
    outbox.publish(session, "disputes.hazard_report.verified.v1", {
        "report_id": row.id, "reporter_person_id": row.reporter_person_id, "estate": row.estate,
        "verified_at": iso(at), "reported_at": iso(row.reported_at), "verifier_person_id": actor},
        subject=f"hazard-reports/{row.id}", time=at)
    return row


def reject(session: Session, row: HazardReport, data: dict, actor: str) -> HazardReport:
    """Reject a pending report with a ``note`` (the reason); no event. 409 if already decided."""
    _decide(session, row, "rejected", data, actor)
    return row
