"""Cases: intake, reading, lists, the duplicate hint, the timeline and the audited contact read."""
from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_principal
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import cases as case_rules
from ..models import Case
from ..schemas import (CaseCreateSchema, CaseListArgs, CasePage, CaseSchema, ContactArgs, ContactSchema,
                       DuplicateArgs, DuplicateListSchema, TimelineSchema)
from .common import HANDLERS, STAFF, case_view, is_staff, policy, visible_case

cases = Blueprint("cases", __name__, url_prefix="/cases",
                  description="Cases raised by residents, their handling, evaluation and feedback")


@cases.route("")
class CasesResource(MethodView):
    @cases.roles("resident", *STAFF)
    @cases.arguments(CaseCreateSchema)
    @command
    @cases.response(201, CaseSchema)
    @cases.problems(409)
    def post(self, data):
        """Register a case from any configured channel (seed: five channels; real hotlines: more).

        A resident registers their own case (the reporter is then the caller); staff register on a resident's
        behalf (hotline calls, door-to-door visits) and may record the past (``reported_at``, ``ref``).
        With all three grading factors the case is graded at once. The answer lists ``duplicate_candidates``:
        open cases of the same subcategory in the same estate. Publishes ``disputes.case.received.v1``.
        422: unknown channel/subcategory, future time; 409: ``ref`` already used.
        """
        principal = current_principal()
        if not is_staff():
            data.setdefault("reporter", {})["person_id"] = principal.sub
        return case_view(case_rules.register(db(), policy(), data, principal.sub))

    @cases.roles("resident", *STAFF)
    @cases.arguments(CaseListArgs, location="query")
    @cases.response(200, CasePage)
    def get(self, args):
        """Cases, oldest reported first, filtered by status, category, subcategory, grade, channel, estate,
        grid or ref; a resident sees only their own. Cursor-paginated (``limit`` 1–200)."""
        mine = None if is_staff() else current_principal().sub
        stmt = case_rules.list_stmt(args, mine)
        if args.get("ref"):
            stmt = stmt.where(Case.ref == args["ref"])
        page = paginate(db(), stmt, Case.reported_at, Case.id, args)
        return {"items": [case_view(c) for c in page["items"]], "next_cursor": page["next_cursor"]}


@cases.route("/duplicates")
class DuplicatesResource(MethodView):
    @cases.roles(*STAFF)
    @cases.arguments(DuplicateArgs, location="query")
    @cases.response(200, DuplicateListSchema)
    def get(self, args):
        """The duplicate check before intake: open cases of ``subcategory`` in ``estate``, oldest first."""
        return {"items": case_rules.duplicates(db(), args["estate"], args["subcategory"])}


@cases.route("/<case_id>")
class CaseResource(MethodView):
    @cases.roles("resident", *STAFF)
    @cases.response(200, CaseSchema)
    @cases.problems(404)
    def get(self, case_id):
        """One case, reporter masked. A resident sees only cases they reported (another's answers 404)."""
        return case_view(visible_case(case_id))


@cases.route("/<case_id>/timeline")
class TimelineResource(MethodView):
    @cases.roles("resident", *STAFF)
    @cases.response(200, TimelineSchema)
    @cases.problems(404)
    def get(self, case_id):
        """Every step and note of the case, in the order they happened (who, when, what). Private notes are
        shown to staff only; a resident sees only their own case (404 otherwise)."""
        return {"items": case_rules.timeline(db(), visible_case(case_id), include_private=is_staff())}


@cases.route("/<case_id>/contact")
class ContactResource(MethodView):
    @cases.roles(*HANDLERS)
    @cases.arguments(ContactArgs, location="query")
    @command
    @cases.response(200, ContactSchema)
    @cases.problems(404)
    def get(self, args, case_id):
        """The reporter's unmasked name and phone, for calling back. Every read is audited (who, when, case)."""
        return case_rules.read_contact(db(), visible_case(case_id), current_principal().sub, args.get("purpose"))
