"""Free tool loans: kinds and their policy, inventory, holds, loans, returns, overdue, repairs."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import NotFound
from shared.http import Blueprint, command, db
from shared.pagination import paginate
from shared.timeutil import utcnow

from ..domain import tools as tool_rules
from ..models import Tool, ToolHold, ToolKind, ToolLoan, Worker
from ..schemas import (HoldCreateSchema, HoldSchema, LoanArgs, LoanCreateSchema, LoanPage, LoanSchema,
                       RepairCloseSchema, RepairCreateSchema, RepairSchema, ReturnSchema, ToolArgs,
                       ToolCreateSchema, ToolKindListSchema, ToolKindSchema, ToolKindUpdateSchema, ToolPage,
                       ToolSchema)
from .access import STAFF, WORKER, acting_worker, is_staff, own_worker, staff_only_times, visible_worker

tools = Blueprint("tools", __name__, url_prefix="", description="Free tool loans")


def _loan(loan: ToolLoan) -> dict:
    tool, worker = db().get(Tool, loan.tool_id), db().get(Worker, loan.worker_id)
    return {**{c: getattr(loan, c) for c in ("id", "tool_id", "kind", "worker_id", "status", "lent_at", "due_at",
                                             "returned_at", "condition_out", "condition_in", "notes_out",
                                             "notes_in", "overdue_notified_at")},
            "tool_ref": tool.ref, "card_no": worker.card_no,
            "overdue": loan.status == "on_loan" and loan.due_at <= utcnow()}


def _visible_loan(loan_id: str) -> ToolLoan:
    loan = tool_rules.get_loan(db(), loan_id)
    if not is_staff() and loan.worker_id != own_worker().id:
        raise NotFound("No such loan.")
    return loan


@tools.route("/tool-kinds")
class KindsResource(MethodView):
    @tools.roles(WORKER, *STAFF)
    @tools.response(200, ToolKindListSchema)
    def get(self):
        """Tool kinds and their loan policy (loan period in days, tools of the kind per worker at once)."""
        return {"items": db().scalars(select(ToolKind).order_by(ToolKind.kind)).all()}


@tools.route("/tool-kinds/<kind>")
class KindResource(MethodView):
    @tools.roles(*STAFF)
    @tools.arguments(ToolKindUpdateSchema)
    @command
    @tools.response(200, ToolKindSchema)
    def put(self, data, kind):
        """Set a kind's loan policy (creating the kind: kinds are extendable). Open loans keep their due time."""
        if not tool_rules.CODE_RE.match(kind) or len(kind) > 40:
            raise NotFound("No such tool kind.")
        return tool_rules.set_policy(db(), kind, data, current_principal().sub)


@tools.route("/tools")
class ToolsResource(MethodView):
    @tools.roles(*STAFF)
    @tools.arguments(ToolCreateSchema)
    @command
    @tools.response(201, ToolSchema)
    @tools.problems(409)
    def post(self, data):
        """Register a tool: ``ref`` (``T-001``), ``kind`` (new kinds get the default policy), ``name``,
        ``condition``. 409 when the ref is taken."""
        return tool_rules.add_tool(db(), data, current_principal().sub)

    @tools.roles(WORKER, *STAFF)
    @tools.arguments(ToolArgs, location="query")
    @tools.response(200, ToolPage)
    def get(self, args):
        """The inventory, by ``kind`` and ``status`` (cursor pages)."""
        stmt = select(Tool)
        if args.get("kind"):
            stmt = stmt.where(Tool.kind == args["kind"])
        if args.get("status"):
            stmt = stmt.where(Tool.status == args["status"])
        return paginate(db(), stmt, Tool.created_at, Tool.id, args)


@tools.route("/tools/<ref>")
class ToolResource(MethodView):
    @tools.roles(WORKER, *STAFF)
    @tools.response(200, ToolSchema)
    @tools.problems(404)
    def get(self, ref):
        """One tool by ref or id."""
        return tool_rules.get_tool(db(), ref)


@tools.route("/tools/<ref>/holds")
class HoldsResource(MethodView):
    @tools.roles(WORKER, *STAFF)
    @tools.arguments(HoldCreateSchema)
    @command
    @tools.response(201, HoldSchema)
    @tools.problems(404, 409)
    def post(self, data, ref):
        """Hold an available tool for a worker (it is kept for them for the configured hours, then freed by
        the worker's schedule). 409 ``tool-unavailable`` when it is not available."""
        staff_only_times(data, "held_at")
        worker = acting_worker(data.get("worker"))
        return tool_rules.place_hold(db(), tool_rules.get_tool(db(), ref), worker, data.get("held_at"),
                                     current_principal().sub)


@tools.route("/tool-holds/<hold_id>/cancellation")
class HoldCancelResource(MethodView):
    @tools.roles(WORKER, *STAFF)
    @command
    @tools.response(200, HoldSchema)
    @tools.problems(404, 409)
    def post(self, hold_id):
        """Cancel an active hold; the tool is available again. 409 when the hold has ended."""
        hold = db().get(ToolHold, hold_id)
        if hold is None or (not is_staff() and hold.worker_id != own_worker().id):
            raise NotFound("No such hold.")
        if not tool_rules.end_hold(db(), hold, "cancelled", utcnow()):
            raise tool_rules.Conflict("The hold has ended.", code="hold-ended")
        return hold


@tools.route("/tools/<ref>/loans")
class LoansOfToolResource(MethodView):
    @tools.roles(*STAFF)
    @tools.arguments(LoanCreateSchema)
    @command
    @tools.response(201, LoanSchema)
    @tools.problems(404, 409)
    def post(self, data, ref):
        """Check a tool out to a worker (free), due after the kind's loan period; condition and notes as it
        leaves. 409 ``tool-unavailable`` (on loan, held for another, in repair), 409 ``loan-limit``."""
        worker = acting_worker(data.get("worker"))
        return _loan(tool_rules.lend(db(), tool_rules.get_tool(db(), ref), worker, data, current_principal().sub))


@tools.route("/tool-loans")
class LoansResource(MethodView):
    @tools.roles(WORKER, *STAFF)
    @tools.arguments(LoanArgs, location="query")
    @tools.response(200, LoanPage)
    @tools.problems(404)
    def get(self, args):
        """Loans in lending order (cursor pages); ``overdue=true``: the overdue list (not returned, past
        due now); ``status``, ``worker``. A worker sees their own."""
        stmt = select(ToolLoan)
        if not is_staff():
            stmt = stmt.where(ToolLoan.worker_id == own_worker().id)
        if args.get("worker"):
            stmt = stmt.where(ToolLoan.worker_id == visible_worker(args["worker"]).id)
        if args.get("status"):
            stmt = stmt.where(ToolLoan.status == args["status"])
        if args.get("overdue") is True:
            stmt = stmt.where(ToolLoan.status == "on_loan", ToolLoan.due_at <= utcnow())
        page = paginate(db(), stmt, ToolLoan.lent_at, ToolLoan.id, args)
        return {"items": [_loan(x) for x in page["items"]], "next_cursor": page["next_cursor"]}


@tools.route("/tool-loans/<loan_id>")
class LoanResource(MethodView):
    @tools.roles(WORKER, *STAFF)
    @tools.response(200, LoanSchema)
    @tools.problems(404)
    def get(self, loan_id):
        """One loan (a worker's own; another's is 404)."""
        return _loan(_visible_loan(loan_id))


@tools.route("/tool-loans/<loan_id>/return")
class ReturnResource(MethodView):
    @tools.roles(*STAFF)
    @tools.arguments(ReturnSchema)
    @command
    @tools.response(200, LoanSchema)
    @tools.problems(404, 409)
    def post(self, data, loan_id):
        """Take a tool back with its condition and notes; ``send_to_repair`` takes it out of circulation.
        409 when already returned; 422 (``returned_at``) before it was lent."""
        return _loan(tool_rules.give_back(db(), _visible_loan(loan_id), data, current_principal().sub))


@tools.route("/tools/<ref>/repairs")
class RepairsResource(MethodView):
    @tools.roles(*STAFF)
    @tools.arguments(RepairCreateSchema)
    @command
    @tools.response(201, RepairSchema)
    @tools.problems(404, 409)
    def post(self, data, ref):
        """Send a tool to repair: out of circulation until the repair closes (an active hold is cancelled).
        409 when it is on loan or already in repair."""
        return tool_rules.open_repair(db(), tool_rules.get_tool(db(), ref), data, current_principal().sub)


@tools.route("/tool-repairs/<repair_id>/closure")
class RepairCloseResource(MethodView):
    @tools.roles(*STAFF)
    @tools.arguments(RepairCloseSchema)
    @command
    @tools.response(200, RepairSchema)
    @tools.problems(404, 409)
    def post(self, data, repair_id):
        """Close a repair: the tool is back in circulation with its condition. 409 when already closed."""
        return tool_rules.close_repair(db(), tool_rules.get_repair(db(), repair_id), data)
