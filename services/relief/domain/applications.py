"""Assistance applications and their vetting (临时性救助: 入户调查 → 民主评议 → 公示 → 审批).

Source: the seed practice ("granted by type after a household survey and a democratic appraisal, openly and
fairly") and OpenSPP/OpenG2P's approval chains and grievances. Steps are recorded in order, each with its own
date, and every rule compares those dates (never the wall clock), so history is replayed under the same rules:

- household survey (``submitted`` → ``surveyed``): on or after ``applied_on``;
- democratic appraisal (→ ``appraised``): on or after the survey; outcome ``supported`` / ``not_supported``;
- public notice (→ ``in_notice``, supported only): starts on or after the appraisal, runs the campaign's
  ``notice_days`` (default 7 Asia/Shanghai days): objections may be raised on ``starts_on``..``ends_on``;
- decision: approval only after ``ends_on`` with every objection handled and none upheld; rejection (with a
  reason) after the appraisal or during/after the notice.

A step out of order is 409 ``invalid-transition``; a date before the step it follows is 422 naming the field.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import Application, DemocraticAppraisal, HouseholdSurvey, Objection
from . import audit, campaigns
from .common import transition
from .personal import IdVault, mask_name

ASSISTANCE_TYPES = ("temporary_hardship", "illness", "disaster", "accident")
APPRAISAL_OUTCOMES = ("supported", "not_supported")
OBJECTION_OUTCOMES = ("dismissed", "upheld")
STATUSES = ("submitted", "surveyed", "appraised", "in_notice", "approved", "rejected")


def _not_before(value: date, earliest: date | None, field: str, what: str) -> None:
    if earliest is not None and value < earliest:
        raise Unprocessable(f"{field} is before {what} ({earliest}).", errors=field_error(field, f"On or after {earliest}."))


def submit(session: Session, vault: IdVault, campaign_id: str, data: dict, actor: str) -> Application:
    """Register an application. ``data``: ``applicant`` {name, id_number (checked), phone, person_id?},
    ``county``, ``level`` (the paying body: city or that county), ``assistance_type``, ``household``
    {size, monthly_income, notes?}, ``requested_amount`` (yuan > 0), ``applied_on``?, ``ref``?.

    The ID-card number is stored encrypted with its keyed HMAC. 409 ``duplicate-application`` when the same
    person (same ID number) has a live application in the campaign; 409 when ``ref`` is taken; 422 for a level
    the campaign does not pay at.
    """
    campaign = campaigns.get(session, campaign_id)
    if data["level"] not in campaign.levels:
        raise Unprocessable(f"This campaign does not pay at {data['level']} level.",
                            errors=field_error("level", f"One of {', '.join(campaign.levels)}."))
    applicant = data["applicant"]
    digest = vault.digest(applicant["id_number"])
    active_key = f"{campaign_id}:{digest}"
    twin = session.scalar(select(Application.id).where(Application.active_key == active_key))
    if twin is not None:
        raise Conflict("This person already has an application in this campaign.", code="duplicate-application",
                       existing_application_id=twin)
    if data.get("ref") and session.scalar(select(Application.id).where(Application.ref == data["ref"])):
        raise Conflict("An application with this ref exists.", code="duplicate-ref")
    now = utcnow()
    household = data["household"]
    application = Application(
        id=uuid7(), campaign_id=campaign_id, ref=data.get("ref"), applicant_name=applicant["name"],
        applicant_person_id=applicant.get("person_id"), id_number_cipher=vault.encrypt(applicant["id_number"]),
        id_number_hmac=digest, id_number_masked=applicant["id_number"][:4] + "*" * 10 + applicant["id_number"][-4:],
        active_key=active_key, phone=applicant["phone"], county=data["county"], level=data["level"],
        assistance_type=data["assistance_type"], household_size=household["size"],
        household_monthly_income=household["monthly_income"], household_notes=household.get("notes"),
        requested_amount=data["requested_amount"], applied_on=data.get("applied_on"), status="submitted",
        created_by=actor, created_at=now, updated_at=now)
    session.add(application)
    session.flush()
    audit.record(session, actor, "application.submitted", "application", application.id,
                 {"name": mask_name(application.applicant_name), "id_number": application.id_number_masked,
                  "county": application.county, "level": application.level,
                  "assistance_type": application.assistance_type, "requested_amount": application.requested_amount})
    return application


def get(session: Session, application_id: str) -> Application:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound("No such application.")
    return application


def reveal(session: Session, vault: IdVault, application: Application, actor: str, purpose: str | None) -> dict:
    """The unmasked applicant (name, ID number, phone); the read is audited (who, when, which record, why)."""
    audit.record(session, actor, "application.personal_data_read", "application", application.id,
                 {"purpose": purpose} if purpose else None)
    return {"name": application.applicant_name, "id_number": vault.decrypt(application.id_number_cipher),
            "phone": application.phone, "person_id": application.applicant_person_id}


def record_survey(session: Session, application_id: str, data: dict, actor: str) -> Application:
    """入户调查: ``surveyed_on`` (date), ``surveyors`` (who; default the caller), ``findings``."""
    application = get(session, application_id)
    if application.status != "submitted":
        raise Conflict(f"The household survey comes first; this application is {application.status}.",
                       code="invalid-transition")
    _not_before(data["surveyed_on"], application.applied_on, "surveyed_on", "the application")
    session.add(HouseholdSurvey(application_id=application.id, surveyed_on=data["surveyed_on"],
                                surveyors=data.get("surveyors") or actor, findings=data["findings"],
                                recorded_by=actor, created_at=utcnow()))
    transition(session, application, ("submitted",), "surveyed", "The survey is already recorded.", updated_at=utcnow())
    audit.record(session, actor, "application.surveyed", "application", application.id,
                 {"surveyed_on": data["surveyed_on"], "surveyors": data.get("surveyors") or actor})
    return application


def record_appraisal(session: Session, application_id: str, data: dict, actor: str) -> Application:
    """民主评议: ``appraised_on`` (date, not before the survey), ``participants`` (count), ``outcome``."""
    application = get(session, application_id)
    if application.status != "surveyed":
        raise Conflict(f"The democratic appraisal follows the household survey; this application is "
                       f"{application.status}.", code="invalid-transition")
    _not_before(data["appraised_on"], application.survey.surveyed_on, "appraised_on", "the household survey")
    session.add(DemocraticAppraisal(application_id=application.id, appraised_on=data["appraised_on"],
                                    participants=data["participants"], outcome=data["outcome"],
                                    notes=data.get("notes"), recorded_by=actor, created_at=utcnow()))
    transition(session, application, ("surveyed",), "appraised", "The appraisal is already recorded.",
               updated_at=utcnow())
    audit.record(session, actor, "application.appraised", "application", application.id,
                 {k: data.get(k) for k in ("appraised_on", "participants", "outcome")})
    return application


def open_notice(session: Session, application_id: str, data: dict, actor: str) -> Application:
    """公示: ``starts_on`` (not before the appraisal); ``ends_on`` defaults to ``starts_on`` + the campaign's
    ``notice_days`` and may not be earlier (422). Only a supported application goes on notice (409)."""
    application = get(session, application_id)
    if application.status != "appraised":
        raise Conflict(f"The public notice follows the democratic appraisal; this application is "
                       f"{application.status}.", code="invalid-transition")
    if application.appraisal.outcome != "supported":
        raise Conflict("The appraisal did not support this application: record a rejection.",
                       code="invalid-transition")
    _not_before(data["starts_on"], application.appraisal.appraised_on, "starts_on", "the democratic appraisal")
    days = campaigns.get(session, application.campaign_id).notice_days
    shortest = data["starts_on"] + timedelta(days=days)
    ends_on = data.get("ends_on") or shortest
    if ends_on < shortest:
        raise Unprocessable(f"The public notice runs at least {days} days.",
                            errors=field_error("ends_on", f"On or after {shortest}."))
    transition(session, application, ("appraised",), "in_notice", "The notice is already open.",
               notice_starts_on=data["starts_on"], notice_ends_on=ends_on, updated_at=utcnow())
    audit.record(session, actor, "application.notice_opened", "application", application.id,
                 {"starts_on": data["starts_on"], "ends_on": ends_on})
    return application


def raise_objection(session: Session, application_id: str, data: dict, actor: str) -> Objection:
    """An objection during the notice: ``raised_on`` within ``starts_on``..``ends_on`` (409 otherwise), ``text``."""
    application = get(session, application_id)
    if application.status != "in_notice":
        raise Conflict(f"Objections are taken during the public notice; this application is {application.status}.",
                       code="invalid-transition")
    if not (application.notice_starts_on <= data["raised_on"] <= application.notice_ends_on):
        raise Conflict(f"The notice ran {application.notice_starts_on} to {application.notice_ends_on}.",
                       code="notice-closed", errors=field_error("raised_on", "Outside the notice period."))
    objection = Objection(id=uuid7(), application_id=application.id, raised_on=data["raised_on"], text=data["text"],
                          recorded_by=actor, created_at=utcnow())
    session.add(objection)
    session.flush()
    audit.record(session, actor, "objection.raised", "application", application.id,
                 {"objection_id": objection.id, "raised_on": objection.raised_on})
    return objection


def handle_objection(session: Session, application_id: str, objection_id: str, data: dict, actor: str) -> Objection:
    """How an objection was handled: ``handled_on`` (not before it was raised), ``outcome``, ``finding``.

    409 if it was handled already or the application is decided.
    """
    application = get(session, application_id)
    objection = session.get(Objection, objection_id)
    if objection is None or objection.application_id != application.id:
        raise NotFound("No such objection.")
    if application.status != "in_notice":
        raise Conflict(f"The application is {application.status}.", code="invalid-transition")
    _not_before(data["handled_on"], objection.raised_on, "handled_on", "the objection")
    done = session.execute(update(Objection).where(Objection.id == objection.id, Objection.outcome.is_(None)).values(
        handled_on=data["handled_on"], outcome=data["outcome"], finding=data["finding"], handled_by=actor)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("This objection is handled already.", code="invalid-transition")
    session.refresh(objection)
    audit.record(session, actor, "objection.handled", "application", application.id,
                 {"objection_id": objection.id, "handled_on": objection.handled_on, "outcome": objection.outcome})
    return objection


def decide(session: Session, application_id: str, data: dict, actor: str) -> Application:
    """Approve or reject: ``approved`` (bool), ``decided_on``, ``reason`` (required to reject),
    ``granted_amount`` (approvals; not above the requested amount; default the requested amount).

    Approval: only ``in_notice``, on a day after the notice ends (409 ``notice-running``), with no objection
    pending (409 ``objections-pending``) or upheld (409 ``objection-upheld``). Rejection: after the appraisal.
    Publishes ``relief.application.decided.v1``.
    """
    application = get(session, application_id)
    decided_on = data["decided_on"]
    if data["approved"]:
        if application.status != "in_notice":
            raise Conflict(f"Approval follows the public notice; this application is {application.status}.",
                           code="invalid-transition")
        if decided_on <= application.notice_ends_on:
            raise Conflict(f"The objection window runs until {application.notice_ends_on}.", code="notice-running",
                           errors=field_error("decided_on", f"After {application.notice_ends_on}."))
        objections = application.objections
        if any(o.outcome is None for o in objections):
            raise Conflict("An objection is not handled yet.", code="objections-pending")
        if any(o.outcome == "upheld" for o in objections):
            raise Conflict("An objection was upheld: the application can only be rejected.", code="objection-upheld")
        for o in objections:
            _not_before(decided_on, o.handled_on, "decided_on", "an objection's handling")
        granted = data.get("granted_amount") or application.requested_amount
        if granted > application.requested_amount:
            raise Unprocessable("More than requested.", errors=field_error("granted_amount",
                                f"At most the requested {application.requested_amount}."))
        values = dict(granted_amount=granted, decision_reason=data.get("reason"))
        to_state, from_states = "approved", ("in_notice",)
    else:
        if not data.get("reason"):
            raise Unprocessable("A rejection gives its reason.", errors=field_error("reason", "Required to reject."))
        if application.status not in ("appraised", "in_notice"):
            raise Conflict(f"A decision follows the democratic appraisal; this application is {application.status}.",
                           code="invalid-transition")
        values = dict(granted_amount=None, decision_reason=data["reason"], active_key=None)
        to_state, from_states = "rejected", ("appraised", "in_notice")
    _not_before(decided_on, application.notice_starts_on or application.appraisal.appraised_on, "decided_on",
                "the previous step")
    transition(session, application, from_states, to_state, "The application is decided already.",
               decided_on=decided_on, updated_at=utcnow(), **values)
    audit.record(session, actor, f"application.{to_state}", "application", application.id,
                 {"decided_on": decided_on, "reason": application.decision_reason,
                  "granted_amount": application.granted_amount})
    outbox.publish(session, "relief.application.decided.v1", {
        "application_id": application.id, "campaign_id": application.campaign_id, "level": application.level,
        "county": application.county if application.level == "county" else None,
        "assistance_type": application.assistance_type, "outcome": to_state, "decided_on": decided_on.isoformat(),
        "granted_amount": str(application.granted_amount) if application.granted_amount is not None else None,
    }, subject=f"applications/{application.id}")
    return application


def applications_stmt(campaign_id: str, status: str | None = None, ref: str | None = None):
    stmt = select(Application).where(Application.campaign_id == campaign_id)
    if status:
        stmt = stmt.where(Application.status == status)
    if ref:
        stmt = stmt.where(Application.ref == ref)
    return stmt


def notices_stmt(campaign_id: str, on: date | None = None):
    """Applications that went on public notice (optionally: whose notice was open on ``on``)."""
    stmt = select(Application).where(Application.campaign_id == campaign_id, Application.notice_starts_on.is_not(None))
    if on is not None:
        stmt = stmt.where(Application.notice_starts_on <= on, Application.notice_ends_on >= on)
    return stmt
