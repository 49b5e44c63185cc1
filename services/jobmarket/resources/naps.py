"""Two-yuan nap beds: the beds, reservations made in advance, cancellation, check-in."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import NotFound
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import naps as nap_rules
from ..models import NapBed, NapReservation, Worker
from ..schemas import (BedCreateSchema, BedListSchema, BedSchema, BedUpdateSchema, CheckInSchema, NapArgs,
                       NapCancelSchema, NapRequestSchema, NapReservationPage, NapReservationSchema)
from .access import STAFF, WORKER, acting_worker, is_staff, own_worker, staff_only_times

naps = Blueprint("naps", __name__, url_prefix="", description="Two-yuan nap beds and lobby seats")

LOBBY_SEAT = {"offered": True, "price": "0.00", "reservable": False,
              "message": "All beds are reserved for that day; rest free on a lobby seat (no reservation needed)."}


def _out(row: NapReservation) -> dict:
    worker = db().get(Worker, row.worker_id)
    return {**{k: getattr(row, k) for k in ("id", "nap_on", "worker_id", "status", "bed_no", "reason", "price",
                                          "requested_at", "checked_in_at", "cancelled_at", "released_at")},
            "card_no": worker.card_no, "lobby_seat": LOBBY_SEAT if row.lobby_seat_offered else None}


def _visible(reservation_id: str) -> NapReservation:
    row = nap_rules.get(db(), reservation_id)
    if not is_staff() and row.worker_id != own_worker().id:
        raise NotFound("No such reservation.")
    return row


@naps.route("/nap-beds")
class BedsResource(MethodView):
    @naps.roles(WORKER, *STAFF)
    @naps.response(200, BedListSchema)
    def get(self):
        """The beds of the nap room and how many are in service."""
        rows = db().scalars(select(NapBed).order_by(NapBed.bed_no)).all()
        return {"items": rows, "in_service": sum(1 for b in rows if b.in_service)}

    @naps.roles(*STAFF)
    @naps.arguments(BedCreateSchema)
    @command
    @naps.response(201, BedSchema)
    def post(self, data):
        """Add a bed (it gets the next number). Reservations count the beds in service."""
        return nap_rules.add_bed(db(), data.get("label"))


@naps.route("/nap-beds/<int:bed_no>")
class BedResource(MethodView):
    @naps.roles(*STAFF)
    @naps.arguments(BedUpdateSchema)
    @command
    @naps.response(200, BedSchema)
    @naps.problems(404)
    def patch(self, data, bed_no: int):
        """Take a bed out of service or put it back (standing reservations keep their bed)."""
        return nap_rules.set_bed_service(db(), bed_no, data["in_service"])


@naps.route("/nap-reservations")
class ReservationsResource(MethodView):
    @naps.roles(WORKER, *STAFF)
    @naps.arguments(NapRequestSchema)
    @command
    @naps.response(201, NapReservationSchema)
    @naps.problems(404, 409)
    def post(self, data):
        """Ask for a nap bed on ``nap_on`` (2 yuan), before that day begins; first come, first served.

        The request is always recorded. ``status``: ``reserved`` with a ``bed_no``, or ``refused`` with
        ``reason = beds_full`` and ``lobby_seat`` (a free lobby seat, not reservable). Never more
        reservations than beds in service, whoever races. Staff may record history (``requested_at``).
        422 (``nap_on``) on or after the day / beyond the booking window; 409 ``already-requested`` when the
        worker already holds a bed that day. Publishes ``jobmarket.nap_reservation.made.v1`` or ``.refused.v1``.
        """
        staff_only_times(data, "requested_at")
        worker = acting_worker(data.get("worker"))
        return _out(nap_rules.request_bed(db(), worker, data["nap_on"], data.get("requested_at"),
                                          current_principal().sub))

    @naps.roles(WORKER, *STAFF)
    @naps.arguments(NapArgs, location="query")
    @naps.response(200, NapReservationPage)
    def get(self, args):
        """Requests in arrival order (cursor pages), by ``nap_on`` and ``status``; a worker sees their own."""
        stmt = select(NapReservation)
        if not is_staff():
            stmt = stmt.where(NapReservation.worker_id == own_worker().id)
        if args.get("nap_on"):
            stmt = stmt.where(NapReservation.nap_on == args["nap_on"])
        if args.get("status"):
            stmt = stmt.where(NapReservation.status == args["status"])
        page = paginate(db(), stmt, NapReservation.requested_at, NapReservation.id, args)
        return {"items": [_out(r) for r in page["items"]], "next_cursor": page["next_cursor"]}


@naps.route("/nap-reservations/<reservation_id>")
class ReservationResource(MethodView):
    @naps.roles(WORKER, *STAFF)
    @naps.response(200, NapReservationSchema)
    @naps.problems(404)
    def get(self, reservation_id):
        """One request (a worker's own; another's is 404)."""
        return _out(_visible(reservation_id))


@naps.route("/nap-reservations/<reservation_id>/cancellation")
class CancelResource(MethodView):
    @naps.roles(WORKER, *STAFF)
    @naps.arguments(NapCancelSchema)
    @command
    @naps.response(200, NapReservationSchema)
    @naps.problems(404, 409)
    def post(self, data, reservation_id):
        """Cancel a reservation not yet used; the bed is free for the next request. 409 otherwise."""
        staff_only_times(data, "cancelled_at")
        return _out(nap_rules.cancel(db(), _visible(reservation_id), data.get("cancelled_at")))


@naps.route("/nap-reservations/<reservation_id>/check-in")
class CheckInResource(MethodView):
    @naps.roles(*STAFF)
    @naps.arguments(CheckInSchema)
    @command
    @naps.response(200, NapReservationSchema)
    @naps.problems(404, 409)
    def post(self, data, reservation_id):
        """The worker takes the bed: on the nap day by the check-in deadline (422 ``checked_in_at``
        otherwise); 409 unless reserved. Unclaimed reservations are released by the worker's schedule."""
        return _out(nap_rules.check_in(db(), _visible(reservation_id), data.get("checked_in_at")))
