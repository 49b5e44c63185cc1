"""Helpers of the disputes HTTP layer: roles, the configured policy, and who may see which case."""
from __future__ import annotations

from flask import current_app

from shared.auth import current_principal
from shared.errors import NotFound
from shared.http import db

from ..domain import cases as case_rules
from ..domain import policy as policy_mod
from ..domain import sessions as session_rules
from ..domain.masking import mask_name, mask_phone
from ..models import Case

STAFF = ("grid_worker", "mediator", "supervisor", "admin")
HANDLERS = ("grid_worker", "mediator", "supervisor", "admin")
LEADS = ("supervisor", "admin")


def policy() -> policy_mod.Policy:
    """The configured policy of this app (env, then ``Settings.extra``), computed once per app."""
    cached = current_app.extensions.get("disputes_policy")
    if cached is None:
        cached = current_app.extensions["disputes_policy"] = policy_mod.load(
            current_app.config["WEIZHILI_SETTINGS"].extra)
    return cached


def is_staff() -> bool:
    return current_principal().has(*STAFF)


def visible_case(case_id: str) -> Case:
    """The case if the caller may see it: staff see all; a resident only their own (404 otherwise)."""
    case = case_rules.get(db(), case_id)
    principal = current_principal()
    if not principal.has(*STAFF) and case.reporter_person_id != principal.sub:
        raise NotFound("No such case.")
    return case


def case_view(case: Case) -> dict:
    """A case as the API shows it: the reporter masked, the sessions that heard it listed."""
    view = {c.key: getattr(case, c.key) for c in Case.__table__.columns}
    view["reporter"] = {"person_id": case.reporter_person_id, "name": mask_name(case.reporter_name),
                        "phone": mask_phone(case.reporter_phone)}
    view["session_ids"] = [s.id for s in session_rules.of_case(db(), case)]
    return view
