"""History import of one day's lunch tickets: each ticket issued (and served) as the single endpoints do it.

Source: the seed scenario's ``jobmarket.meals.jsonl`` (a day's tickets in number order), loaded until now by one
request per ticket. The import calls :func:`meals.issue_ticket` for each item, in the given order, inside the
caller's one transaction: the number from the day's counter by the same atomic conditional UPDATE (consecutive
from 1, never beyond capacity), one ticket per worker per day, the tariff of the day kept on each ticket,
serving in number order, the same event per ticket. Nothing is checked here that the single path does not
check, and nothing it checks is skipped; the import only adds what a list needs: the items' day is the path's.

A refused item refuses the whole import with the problem the single endpoint would answer, its fields prefixed
with the item (``tickets.7.issued_at``; ``tickets.7`` when the problem names no field, e.g. ``meals-sold-out``)
and the extension member ``index``; the caller's transaction is rolled back, so nothing is stored.

Repeats: a ticket is the same when the same worker already holds that day's ticket with the same ``issued_at``
(and, when the item gives one, the same ``served_at``). It is answered as ``existing`` with its stored number
and changes nothing; a held ticket with other times is the single endpoint's 409 ``ticket-exists``. So a
second import of the same items, or of a list that overlaps what is stored, changes nothing that is stored.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import Conflict, Problem, Unprocessable, field_error
from shared.timeutil import local_day

from ..models import MealTicket, Worker
from . import meals
from .common import worker_by_ref

ISSUED, EXISTING = "issued", "existing"


@contextmanager
def _item(index: int) -> Iterator[None]:
    """Name the item in a refusal: fields ``tickets.<index>.<field>`` and the member ``index``."""
    try:
        yield
    except Problem as exc:
        exc.within(f"tickets.{index}", index=index)
        raise


def _same_times(held: MealTicket, issued_at: datetime, served_at: datetime | None) -> None:
    """A held ticket is this item again only with the same times; else it is another ticket (409)."""
    if held.issued_at != issued_at:
        raise Conflict(f"This worker already has ticket {held.ticket_no} on {held.served_on}, issued at another "
                       f"time.", code="ticket-exists",
                       errors=field_error("issued_at", f"Holds ticket {held.ticket_no}, issued at "
                                                       f"{held.issued_at.isoformat()}."))
    if served_at is not None and held.served_at != served_at:
        stored = held.served_at.isoformat() if held.served_at else "not served"
        raise Conflict(f"This worker already has ticket {held.ticket_no} on {held.served_on}, served otherwise.",
                       code="ticket-exists",
                       errors=field_error("served_at", f"Ticket {held.ticket_no} is {stored}."))


def import_tickets(session: Session, served_on: date, items: list[dict],
                   actor: str) -> list[tuple[str, MealTicket, Worker]]:
    """Issue (and serve) ``items`` — ``{"worker", "issued_at", "served_at"?}`` in number order — on the day
    ``served_on``; returns ``(outcome, ticket, worker)`` per item in input order, ``outcome`` being
    ``"issued"`` or ``"existing"``.

    Raises, naming the item (see the module): 422 ``worker`` (unknown), ``issued_at`` (not on ``served_on`` in
    Asia/Shanghai, or in the future), ``served_at``; 409 ``ticket-exists`` (a worker named twice, or holding
    the day's ticket with other times), ``meals-sold-out``, ``not-next-number``.
    """
    # the day's tickets so far (at most its capacity): what a repeat is recognised by
    held = {t.worker_id: t for t in session.scalars(select(MealTicket).where(MealTicket.served_on == served_on))}
    named: set[str] = set()
    out: list[tuple[str, MealTicket, Worker]] = []
    for index, item in enumerate(items):
        with _item(index):
            worker = worker_by_ref(session, item["worker"], "worker")
            if worker.id in named:
                raise Conflict("This worker is named twice in the import.", code="ticket-exists",
                               errors=field_error("worker", "One ticket per worker per day."))
            named.add(worker.id)
            if local_day(item["issued_at"]) != served_on:
                raise Unprocessable(f"A ticket of {served_on} is issued on that day.", errors=field_error(
                    "issued_at", f"Must be on {served_on}, Asia/Shanghai time."))
            if worker.id in held:
                _same_times(held[worker.id], item["issued_at"], item.get("served_at"))
                out.append((EXISTING, held[worker.id], worker))
                continue
            ticket = meals.issue_ticket(session, worker, actor, issued_at=item["issued_at"], served_on=served_on,
                                        served_at=item.get("served_at"))
            out.append((ISSUED, ticket, worker))
    return out
