"""What the relief resources share: roles, the ID vault of this app, and the views of records."""
from __future__ import annotations

from flask import current_app

from ..domain.personal import IdVault, mask_name, mask_phone
from ..models import Application, MealRecipient

#: Civil-affairs clerks and admins run campaigns, vetting decisions and payments.
CLERKS = ("clerk", "admin")
#: Community staff also take applications and record household surveys, appraisals, notices and objections.
VETTERS = ("clerk", "community_staff", "admin")
#: Read-only access to the relief records (auditors never change anything).
READERS = ("clerk", "community_staff", "auditor", "admin")
#: Volunteer services and meal delivery are run by community staff.
COMMUNITY = ("community_staff", "admin")


def vault() -> IdVault:
    return current_app.extensions["relief_vault"]


def application_view(application: Application, personal: dict | None = None) -> dict:
    """An application as the API shows it: the applicant masked unless ``personal`` (an audited reveal) is given."""
    applicant = personal or {"name": mask_name(application.applicant_name), "id_number": application.id_number_masked,
                             "phone": mask_phone(application.phone), "person_id": application.applicant_person_id}
    survey, appraisal = application.survey, application.appraisal
    return {
        "id": application.id, "campaign_id": application.campaign_id, "ref": application.ref,
        "applicant": applicant, "masked": personal is None, "county": application.county, "level": application.level,
        "assistance_type": application.assistance_type,
        "household": {"size": application.household_size, "monthly_income": application.household_monthly_income,
                      "notes": application.household_notes},
        "requested_amount": application.requested_amount, "granted_amount": application.granted_amount,
        "applied_on": application.applied_on, "status": application.status,
        "household_survey": survey and {"surveyed_on": survey.surveyed_on, "surveyors": survey.surveyors,
                                        "findings": survey.findings, "recorded_by": survey.recorded_by},
        "democratic_appraisal": appraisal and {"appraised_on": appraisal.appraised_on,
                                               "participants": appraisal.participants, "outcome": appraisal.outcome,
                                               "notes": appraisal.notes, "recorded_by": appraisal.recorded_by},
        "public_notice": ({"starts_on": application.notice_starts_on, "ends_on": application.notice_ends_on}
                          if application.notice_starts_on else None),
        "objections": list(application.objections), "decided_on": application.decided_on,
        "decision_reason": application.decision_reason, "created_at": application.created_at,
        "updated_at": application.updated_at,
    }


def recipient_view(recipient: MealRecipient, unmasked: bool) -> dict:
    out = {c: getattr(recipient, c) for c in ("id", "name", "person_id", "phone", "address", "community",
                                              "care_level", "diet_notes", "active", "created_at")}
    if not unmasked:
        out.update(name=mask_name(recipient.name), phone=mask_phone(recipient.phone), address="***")
    out["masked"] = not unmasked
    return out
