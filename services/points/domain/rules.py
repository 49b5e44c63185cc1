"""The scoring rules' administration: add a version, retire a rule, read them.

Versions are never edited: a change is a new version (``version`` + 1) and every credit keeps the version that
priced it, so a change never rewrites past credits. Posting a rule identical to the code's current version
creates nothing (replaying a configuration twice changes nothing).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.timeutil import utcnow

from ..models import Rule
from .credits import TRIGGERS

UNITS = tuple(TRIGGERS)
PARTICIPANT_ROLES = ("grid_worker", "mediator", "volunteer", "building_head")
ACTIVITIES = ("meal_delivery", "haircut", "environment_cleanup")
COMPARED = ("category", "unit", "points", "roles", "activities", "cap_per_person_per_day",
            "cap_per_person_per_month", "valid_from", "valid_to")


def current_version(session: Session, code: str) -> Rule | None:
    """The newest version of ``code`` that is not retired (None if none)."""
    return session.scalars(select(Rule).where(Rule.code == code, Rule.retired_at.is_(None))
                           .order_by(Rule.version.desc()).limit(1)).first()


def _normalised(data: dict) -> dict:
    out = {k: data.get(k) for k in COMPARED}
    out["roles"] = sorted(set(data.get("roles") or []))
    out["activities"] = sorted(set(data.get("activities") or []))
    return out


def _check(data: dict) -> None:
    unit = data["unit"]
    if data.get("points") is None and unit != "appraisal":
        raise Unprocessable("Only an appraisal rule may leave points empty.", errors=field_error("points", "required"))
    if unit == "case" and not data.get("roles"):
        raise Unprocessable("A case rule lists the participant roles it credits.", errors=field_error("roles", "required"))
    if unit == "hour" and not data.get("activities"):
        raise Unprocessable("An hour rule lists the activities it credits.",
                            errors=field_error("activities", "required"))
    if data.get("roles") and unit != "case":
        raise Unprocessable("Only a case rule lists roles.", errors=field_error("roles", "only for unit case"))
    if data.get("activities") and unit != "hour":
        raise Unprocessable("Only an hour rule lists activities.", errors=field_error("activities", "only for unit hour"))
    if data.get("valid_from") and data.get("valid_to") and data["valid_to"] <= data["valid_from"]:
        raise Unprocessable("valid_to must be after valid_from.", errors=field_error("valid_to", "after valid_from"))


def add_version(session: Session, data: dict, by: str) -> tuple[Rule, bool]:
    """Add a version of rule ``data["code"]``; return ``(rule, created)``.

    Identical to the current version: ``(current, False)``, nothing stored. Errors: 422 (inconsistent
    fields; a unit different from the code's earlier versions), 409 (an hour rule claiming an activity that
    another rule in force already pays for: the volunteer would be paid twice).
    """
    _check(data)
    wanted = _normalised(data)
    current = current_version(session, data["code"])
    if current is not None and _normalised({k: getattr(current, k) for k in COMPARED}) == wanted:
        return current, False
    earlier_unit = session.scalar(select(Rule.unit).where(Rule.code == data["code"]).limit(1))
    if earlier_unit is not None and earlier_unit != data["unit"]:
        raise Unprocessable(f"Rule {data['code']} pays per {earlier_unit}; use a new code for another unit.",
                            errors=field_error("unit", f"must stay {earlier_unit}"))
    if data["unit"] == "hour":
        for other in session.scalars(select(Rule.code).where(Rule.unit == "hour", Rule.code != data["code"])
                                     .distinct()).all():
            rule = current_version(session, other)
            clash = set(rule.activities or []) & set(wanted["activities"]) if rule else set()
            if clash:
                raise Conflict(f"Rule {other} already pays for {', '.join(sorted(clash))}.", code="activity-taken")
    version = (session.scalar(select(func.max(Rule.version)).where(Rule.code == data["code"])) or 0) + 1
    rule = Rule(code=data["code"], version=version, trigger=TRIGGERS[data["unit"]], created_by=by,
                created_at=utcnow(), **wanted)
    session.add(rule)
    session.flush()
    return rule, True


def retire(session: Session, code: str, at: datetime | None, by: str) -> Rule:
    """Retire every version of ``code`` from ``at`` (default now): work done from then on earns nothing under it.

    Work done before ``at`` still earns under it when its event arrives late. Errors: 404 (no such rule),
    409 (already retired).
    """
    at = at or utcnow()
    if session.scalar(select(Rule.id).where(Rule.code == code).limit(1)) is None:
        raise NotFound("No such rule.")
    done = session.execute(update(Rule).where(Rule.code == code, Rule.retired_at.is_(None)).values(retired_at=at)
                           .execution_options(synchronize_session=False))
    if done.rowcount == 0:
        raise Conflict("The rule is already retired.", code="already-retired")
    latest = session.scalars(select(Rule).where(Rule.code == code).order_by(Rule.version.desc()).limit(1)).first()
    session.refresh(latest)
    return latest


def versions(session: Session, code: str) -> list[Rule]:
    rows = session.scalars(select(Rule).where(Rule.code == code).order_by(Rule.version)).all()
    if not rows:
        raise NotFound("No such rule.")
    return list(rows)


def list_stmt(code: str | None, include_retired: bool):
    stmt = select(Rule)
    if code:
        stmt = stmt.where(Rule.code == code)
    if not include_retired:
        stmt = stmt.where(Rule.retired_at.is_(None))
    return stmt
