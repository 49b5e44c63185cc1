"""Workers and their daily sign-in."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import Conflict
from shared.http import Blueprint, command, db
from shared.pagination import PageArgs, paginate

from ..domain import workers as worker_rules
from ..models import SignIn, Worker
from ..schemas import (SignInArgs, SignInCreateSchema, SignInPage, SignInSchema, WorkerCreateSchema, WorkerPage,
                       WorkerSchema, WorkerUpdateSchema)
from .access import STAFF, WORKER, acting_worker, is_staff, staff_only_times, visible_worker

workers = Blueprint("workers", __name__, url_prefix="", description="Gig workers and the daily sign-in")


def _sign_in_out(row: SignIn, worker: Worker) -> dict:
    return {"id": row.id, "worker_id": worker.id, "card_no": worker.card_no, "day": row.day, "seq": row.seq,
            "signed_in_at": row.signed_in_at}


@workers.route("/workers")
class WorkersResource(MethodView):
    @workers.roles(WORKER, *STAFF)
    @workers.arguments(WorkerCreateSchema)
    @command
    @workers.response(201, WorkerSchema)
    @workers.problems(409)
    def post(self, data):
        """Register a gig worker: market card number (``W-0001``; the next free one when left out), optional
        registry ``person_id``, private ``name`` and ``phone``, ``skills`` (codes).

        Staff register anyone; a worker registers themself (their ``person_id`` is their login). 409 when the
        card number or person_id is taken.
        """
        principal = current_principal()
        if not is_staff():
            staff_only_times(data, "registered_at")
            if db().scalar(select(Worker.id).where(Worker.person_id == principal.sub)):
                raise Conflict("You are already registered.", code="person-registered")
            data["person_id"] = principal.sub
        return worker_rules.register_worker(db(), data, principal.sub)

    @workers.roles(*STAFF)
    @workers.arguments(PageArgs, location="query")
    @workers.response(200, WorkerPage)
    def get(self, args):
        """All workers, in registration order (cursor pages; ``limit`` 1–200)."""
        return paginate(db(), select(Worker), Worker.created_at, Worker.id, args)


@workers.route("/workers/<ref>")
class WorkerResource(MethodView):
    @workers.roles(WORKER, *STAFF)
    @workers.response(200, WorkerSchema)
    @workers.problems(404)
    def get(self, ref):
        """One worker by card number, person_id or id. A worker sees only themself (another is 404)."""
        return visible_worker(ref)

    @workers.roles(WORKER, *STAFF)
    @workers.arguments(WorkerUpdateSchema)
    @command
    @workers.response(200, WorkerSchema)
    @workers.problems(404, 409)
    def patch(self, data, ref):
        """Change name, phone, skills (a worker their own; staff also the ``person_id``)."""
        worker = visible_worker(ref)
        if not is_staff():
            data.pop("person_id", None)
        return worker_rules.update_worker(db(), worker, data)


@workers.route("/sign-ins")
class SignInsResource(MethodView):
    @workers.roles(WORKER, *STAFF)
    @workers.arguments(SignInCreateSchema)
    @command
    @workers.response(201, SignInSchema)
    @workers.problems(404, 409)
    def post(self, data):
        """Sign a worker in for the day (Asia/Shanghai day of ``signed_in_at``, default now).

        Answers the day's sequence number ``seq`` (1, 2, ... in arrival order), which is the dispatch order.
        409 when already signed in that day.
        """
        staff_only_times(data, "signed_in_at")
        worker = acting_worker(data.get("worker"))
        row = worker_rules.sign_in(db(), worker, data.get("signed_in_at"), current_principal().sub)
        return _sign_in_out(row, worker)

    @workers.roles(*STAFF)
    @workers.arguments(SignInArgs, location="query")
    @workers.response(200, SignInPage)
    def get(self, args):
        """The sign-in list of ``day``, in sign-in order (cursor pages)."""
        stmt = select(SignIn).where(SignIn.day == args["day"])
        page = paginate(db(), stmt, SignIn.signed_in_at, SignIn.id, args)
        return {"items": [_sign_in_out(r, db().get(Worker, r.worker_id)) for r in page["items"]],
                "next_cursor": page["next_cursor"]}
