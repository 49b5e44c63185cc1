"""The five-yuan lunch: tariff, meal days and capacity, numbered tickets, serving."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from .. import policy
from ..domain import meals as meal_rules
from ..domain import ticket_imports
from ..models import MealTariff, MealTicket, Worker
from ..schemas import (CallSchema, MealDayCreateSchema, MealDaySchema, MealDayUpdateSchema, TariffCreateSchema,
                       TariffListSchema, TariffSchema, TicketArgs, TicketCreateSchema, TicketImportResultSchema,
                       TicketImportSchema, TicketPage, TicketSchema)
from .access import path_day, STAFF, WORKER, acting_worker, is_staff, own_worker, staff_only_times, visible_worker

meals = Blueprint("meals", __name__, url_prefix="", description="Five-yuan lunch: meal days and numbered tickets")


def _tariff(price, cost, effective_from=None, created_at=None) -> dict:
    return {"effective_from": effective_from, "price": price, "cost": cost, "subsidy": cost - price,
            "created_at": created_at}


def _day(day) -> dict:
    return {"served_on": day.served_on, "capacity": day.capacity, "issued": day.issued, "called": day.called,
            "remaining": day.capacity - day.issued}


def _ticket(t: MealTicket, worker: Worker | None = None) -> dict:
    worker = worker or db().get(Worker, t.worker_id)
    return {"id": t.id, "served_on": t.served_on, "ticket_no": t.ticket_no, "worker_id": t.worker_id,
            "card_no": worker.card_no, "price": t.price, "cost": t.cost, "subsidy": t.cost - t.price,
            "status": t.status, "issued_at": t.issued_at, "served_at": t.served_at}


@meals.route("/meal-tariffs")
class TariffsResource(MethodView):
    @meals.roles(*STAFF)
    @meals.response(200, TariffListSchema)
    def get(self):
        """The meal tariffs (price a worker pays, real cost, subsidy = cost − price; yuan) and the default."""
        rows = db().scalars(select(MealTariff).order_by(MealTariff.effective_from)).all()
        p = policy.current()
        return {"items": [_tariff(r.price, r.cost, r.effective_from, r.created_at) for r in rows],
                "default": _tariff(p.meal_price, p.meal_cost)}

    @meals.roles(*STAFF)
    @meals.arguments(TariffCreateSchema)
    @command
    @meals.response(201, TariffSchema)
    @meals.problems(409)
    def post(self, data):
        """Set price and cost per meal (yuan strings) from ``effective_from``; tickets keep the tariff of their
        day, so history is never rewritten. 422 (``cost``) if cost < price; 409 if a tariff starts that day."""
        r = meal_rules.set_tariff(db(), data, current_principal().sub)
        return _tariff(r.price, r.cost, r.effective_from, r.created_at)


@meals.route("/meal-days")
class MealDaysResource(MethodView):
    @meals.roles(*STAFF)
    @meals.arguments(MealDayCreateSchema)
    @command
    @meals.response(201, MealDaySchema)
    @meals.problems(409)
    def post(self, data):
        """Open a meal day with its capacity in portions (default 30, configured). A ticket on a day not
        opened opens it with the default. 409 if the day exists (change its capacity with PATCH)."""
        return _day(meal_rules.create_day(db(), data["served_on"], data.get("capacity"), current_principal().sub))


@meals.route("/meal-days/<served_on>")
class MealDayResource(MethodView):
    @meals.roles(*STAFF)
    @meals.response(200, MealDaySchema)
    @meals.problems(404)
    def get(self, served_on: str):
        """A meal day: capacity, tickets issued, numbers called, portions remaining."""
        return _day(meal_rules.get_day(db(), path_day(served_on)))

    @meals.roles(*STAFF)
    @meals.arguments(MealDayUpdateSchema)
    @command
    @meals.response(200, MealDaySchema)
    @meals.problems(404, 409)
    def patch(self, data, served_on: str):
        """Change the day's capacity (staff add portions on busy days). 409 below the tickets issued."""
        return _day(meal_rules.set_capacity(db(), path_day(served_on), data["capacity"]))


@meals.route("/meal-days/<served_on>/calls")
class CallsResource(MethodView):
    @meals.roles(*STAFF)
    @meals.arguments(CallSchema)
    @command
    @meals.response(200, TicketSchema)
    @meals.problems(404, 409)
    def post(self, data, served_on: str):
        """Serving: call the next number of the day; its ticket is served (``served_at``, default now).

        409 ``no-ticket-waiting`` when every issued number has been called; 422 (``served_at``) before the
        ticket's issue or on another day.
        """
        return _ticket(meal_rules.call_next(db(), path_day(served_on), data.get("served_at")))


@meals.route("/meal-days/<served_on>/ticket-imports")
class TicketImportsResource(MethodView):
    @meals.roles(*STAFF)
    @meals.arguments(TicketImportSchema)
    @command
    @meals.response(200, TicketImportResultSchema)
    @meals.problems(404, 409)
    def post(self, data, served_on: str):
        """Import a day's lunch tickets from history (e.g. the seed scenario): ``tickets`` (1-500, in number
        order), each ``{"worker", "issued_at", "served_at"?}`` as ``POST /meal-tickets`` takes it, ``issued_at``
        on the path's Asia/Shanghai day.

        In one transaction each ticket is issued (and, with ``served_at``, served) by the same rules as
        ``POST /meal-tickets``: the number from the day's counter (consecutive from 1, never beyond capacity; a
        day not opened is opened with the default), one ticket per worker per day, the day's tariff kept on the
        ticket, serving in number order, one ``jobmarket.meal_ticket.issued.v1`` each. Answers the tickets in
        input order with ``ticket_no``, ``price``, ``cost``, ``subsidy`` (yuan strings) and ``outcome``:
        ``issued``, or ``existing`` for a worker who already holds the day's ticket with the same ``issued_at``
        (and ``served_at`` when given), left unchanged — so a repeated import changes nothing (``issued`` 0).

        A refused item refuses the whole import, nothing stored, with the answer ``POST /meal-tickets`` would
        give, its fields named ``tickets.<index>.<field>`` (``tickets.<index>`` when it names none) and the
        member ``index``: 422 ``worker`` (unknown), ``issued_at`` (another day, the future), ``served_at``
        (before the issue, another day); 409 ``ticket-exists`` (named twice, or held with other times),
        ``meals-sold-out``, ``not-next-number``. 404 for a path that is not a day. Accepts ``Idempotency-Key``.
        """
        day = path_day(served_on)
        results = ticket_imports.import_tickets(db(), day, data["tickets"], current_principal().sub)
        issued = sum(outcome == ticket_imports.ISSUED for outcome, _, _ in results)
        return {"served_on": day, "issued": issued, "existing": len(results) - issued,
                "tickets": [{**_ticket(t, w), "outcome": outcome} for outcome, t, w in results]}


@meals.route("/meal-tickets")
class TicketsResource(MethodView):
    @meals.roles(WORKER, *STAFF)
    @meals.arguments(TicketCreateSchema)
    @command
    @meals.response(201, TicketSchema)
    @meals.problems(404, 409)
    def post(self, data):
        """Issue the next lunch ticket of the day to a worker.

        The day is the Asia/Shanghai day of ``issued_at`` (default now; 00:30 Beijing time is the new day
        whatever the server's zone). Numbers run 1, 2, ... each day, never twice, never beyond the day's
        capacity. Staff may record history (``issued_at``, ``served_at``); the same limits apply by those
        times. Answers the ticket with ``ticket_no``, ``price``, ``cost`` and ``subsidy`` (yuan).
        409 ``meals-sold-out`` at capacity, 409 ``ticket-exists`` for a worker's second ticket that day.
        Publishes ``jobmarket.meal_ticket.issued.v1``.
        """
        staff_only_times(data, "issued_at", "served_at")
        worker = acting_worker(data.get("worker"))
        ticket = meal_rules.issue_ticket(db(), worker, current_principal().sub, issued_at=data.get("issued_at"),
                                         served_on=data.get("served_on"), served_at=data.get("served_at"))
        return _ticket(ticket, worker)

    @meals.roles(WORKER, *STAFF)
    @meals.arguments(TicketArgs, location="query")
    @meals.response(200, TicketPage)
    @meals.problems(404)
    def get(self, args):
        """Tickets in issue order (cursor pages), by ``served_on`` and/or ``worker``; a worker sees their own."""
        stmt = select(MealTicket)
        if not is_staff():
            stmt = stmt.where(MealTicket.worker_id == own_worker().id)
        if args.get("worker"):
            stmt = stmt.where(MealTicket.worker_id == visible_worker(args["worker"]).id)
        if args.get("served_on"):
            stmt = stmt.where(MealTicket.served_on == args["served_on"])
        page = paginate(db(), stmt, MealTicket.issued_at, MealTicket.id, args)
        return {"items": [_ticket(t) for t in page["items"]], "next_cursor": page["next_cursor"]}
