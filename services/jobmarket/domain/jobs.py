"""Jobs and dispatch: employers post day-labour jobs, the market sends the day's signed-in workers.

Source: the seed practice (招工 / 派工 at the "520" market); the worker-centre dispatch of Machete
(sign-in list, dispatch order, a fair rotation, staff override with a reason).

Dispatch order (``method``):

- ``sign_in_order``: the day's signed-in workers in their sign-in number order;
- ``rotation`` (the fair rotation): those longest without work first — ordered by the last day they were
  dispatched before the job's day (never dispatched comes first), ties by sign-in number;
- ``override``: staff name a worker, with a reason (recorded).

Candidates have every skill the job asks for and are not booked elsewhere that day. Rules held under
concurrency on SQLite and PostgreSQL: ``jobs.filled`` grows only by ``UPDATE ... WHERE filled < headcount``;
a worker is booked once per day by the unique key (``worker_id``, ``booked_on``), each attempt in a
savepoint so a lost race only skips that candidate.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import local_day, utcnow

from ..models import Dispatch, Employer, Job, SignIn, Worker
from .common import own_time

METHODS = ("sign_in_order", "rotation")


def post_job(session: Session, employer: Employer, data: dict, actor: str) -> Job:
    """Post a job: ``title``, ``trade``, ``skills``, ``headcount``, ``work_on`` (a day), ``place``,
    ``wage_per_day`` (yuan, decimal), ``posted_at`` (default now; 422 if after the work day)."""
    now = utcnow()
    posted_at = own_time(data.get("posted_at"), "posted_at", now)
    if local_day(posted_at) > data["work_on"]:
        raise Unprocessable("A job is posted before its day.", errors=field_error("work_on", "Must not be past."))
    job = Job(id=uuid7(), employer_id=employer.id, title=data["title"], trade=data.get("trade"),
              skills=sorted(set(data.get("skills") or [])), headcount=data["headcount"], filled=0,
              work_on=data["work_on"], place=data["place"], wage_per_day=data["wage_per_day"], status="open",
              posted_at=posted_at, created_by=actor, created_at=now)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("No such job.")
    return job


def _candidates(session: Session, job: Job, method: str) -> list[Worker]:
    signed = session.execute(select(Worker, SignIn.seq).join(SignIn, SignIn.worker_id == Worker.id)
                             .where(SignIn.day == job.work_on).order_by(SignIn.seq)).all()
    booked = set(session.scalars(select(Dispatch.worker_id).where(Dispatch.booked_on == job.work_on)).all())
    need = set(job.skills or [])
    pool = [(w, seq) for w, seq in signed if w.id not in booked and need <= set(w.skills or [])]
    if method == "rotation":
        last = dict(session.execute(select(Dispatch.worker_id, func.max(Dispatch.work_on))
                                    .where(Dispatch.status != "cancelled", Dispatch.work_on < job.work_on)
                                    .group_by(Dispatch.worker_id)).all())
        pool.sort(key=lambda ws: (last.get(ws[0].id) or date.min, ws[1]))
    return [w for w, _ in pool]


def _book(session: Session, job: Job, worker: Worker, method: str, reason: str | None, at: datetime,
          actor: str) -> Dispatch | None:
    """Take one place on the job and book the worker for the day; None if the worker was booked meanwhile."""
    taken = session.execute(update(Job).where(Job.id == job.id, Job.status == "open", Job.filled < Job.headcount)
                            .values(filled=Job.filled + 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise Conflict("The job has no open place.", code="job-full")
    row = Dispatch(id=uuid7(), job_id=job.id, worker_id=worker.id, work_on=job.work_on, booked_on=job.work_on,
                   method=method, reason=reason, status="dispatched", dispatched_at=at, created_by=actor,
                   created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        session.execute(update(Job).where(Job.id == job.id).values(filled=Job.filled - 1))
        return None
    return row


def _refresh_status(session: Session, job: Job) -> None:
    session.refresh(job)
    if job.status in ("open", "filled"):
        job.status = "filled" if job.filled >= job.headcount else "open"
    session.flush()


def dispatch(session: Session, job: Job, method: str, at: datetime | None, actor: str) -> list[Dispatch]:
    """Fill the job's open places from the day's signed-in workers by ``method`` (see the module doc).

    Returns the new dispatches (possibly none when nobody fits). 409 when the job is not open.
    """
    at = own_time(at, "dispatched_at")
    if job.status != "open":
        raise Conflict(f"A job that is {job.status} takes no more workers.", code="job-not-open")
    made = []
    for worker in _candidates(session, job, method):
        session.refresh(job)
        if job.filled >= job.headcount:
            break
        row = _book(session, job, worker, method, None, at, actor)
        if row is not None:
            made.append(row)
    _refresh_status(session, job)
    return made


def override(session: Session, job: Job, worker: Worker, reason: str, at: datetime | None, actor: str) -> Dispatch:
    """Staff send a named worker, with a reason (signed in or not). 409 when the job is full or not open,
    409 ``double-booking`` when the worker is already booked that day."""
    at = own_time(at, "dispatched_at")
    if job.status != "open":
        raise Conflict(f"A job that is {job.status} takes no more workers.", code="job-not-open")
    row = _book(session, job, worker, "override", reason, at, actor)
    if row is None:
        raise Conflict("The worker is already booked that day.", code="double-booking")
    _refresh_status(session, job)
    return row


def get_dispatch(session: Session, dispatch_id: str) -> Dispatch:
    row = session.get(Dispatch, dispatch_id)
    if row is None:
        raise NotFound("No such dispatch.")
    return row


def cancel_dispatch(session: Session, row: Dispatch, reason: str, at: datetime | None) -> Dispatch:
    """Cancel a standing dispatch: the worker's day and the job's place are free again. 409 otherwise."""
    at = own_time(at, "cancelled_at")
    done = session.execute(update(Dispatch).where(Dispatch.id == row.id, Dispatch.status == "dispatched")
                           .values(status="cancelled", booked_on=None, cancelled_at=at, reason=reason)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"A dispatch that is {row.status} cannot be cancelled.", code="not-cancellable")
    session.execute(update(Job).where(Job.id == row.job_id).values(filled=Job.filled - 1))
    session.refresh(row)
    _refresh_status(session, session.get(Job, row.job_id))
    return row


def complete(session: Session, job: Job, data: dict, actor: str) -> Job:
    """Record the job done: ``days`` worked (each worker; ``workers`` may give a worker's own ``days``),
    ``completed_at`` (default now). Wages: days × ``wage_per_day`` per worker, exact; ``wage_total`` their sum.

    Raises 409 when the job is cancelled/completed or has no worker, 422 (``workers.N.dispatch_id``) for a
    dispatch not on this job. Publishes ``jobmarket.job.completed.v1``.
    """
    at = own_time(data.get("completed_at"), "completed_at")
    if job.status not in ("open", "filled"):
        raise Conflict(f"A job that is {job.status} cannot be completed.", code="job-not-open")
    rows = session.scalars(select(Dispatch).where(Dispatch.job_id == job.id, Dispatch.status == "dispatched")
                           .order_by(Dispatch.dispatched_at, Dispatch.id)).all()
    if not rows:
        raise Conflict("No worker was dispatched to this job.", code="no-workers")
    per_worker = {}
    for i, item in enumerate(data.get("workers") or []):
        if item["dispatch_id"] not in {r.id for r in rows}:
            raise Unprocessable("Not a standing dispatch of this job.",
                                errors=field_error(f"workers.{i}.dispatch_id", "Not on this job."))
        per_worker[item["dispatch_id"]] = item["days"]
    total = Decimal("0.00")
    for r in rows:
        r.days = per_worker.get(r.id, data["days"])
        r.wage = (job.wage_per_day * r.days).quantize(Decimal("0.01"))
        r.status = "completed"
        total += r.wage
    job.status, job.days, job.wage_total = "completed", data["days"], total
    job.completed_at, job.completed_on = at, local_day(at)
    session.flush()
    workers = [session.get(Worker, r.worker_id).event_ref for r in rows]
    data_out = {"job_id": job.id, "worker_person_ids": list(dict.fromkeys(workers)), "days": job.days,
                "wage_total": f"{total:.2f}", "completed_on": job.completed_on.isoformat()}
    if job.trade:
        data_out["trade"] = job.trade
    outbox.publish(session, "jobmarket.job.completed.v1", data_out, subject=f"jobs/{job.id}", time=at)
    return job


def confirm_paid(session: Session, row: Dispatch, paid: bool, at: datetime | None) -> Dispatch:
    """The worker says whether they were paid for a completed dispatch. 409 before completion."""
    if row.status != "completed":
        raise Conflict("Payment is confirmed after the job is completed.", code="not-completed")
    row.paid_confirmed, row.paid_confirmed_at = paid, own_time(at, "confirmed_at")
    session.flush()
    return row


def rate(session: Session, row: Dispatch, by: str, rating: int, comment: str | None) -> Dispatch:
    """Rate the other side of a completed dispatch (``by``: employer rates the worker, worker rates the
    employer), 1–5, once each. 409 before completion or when already rated."""
    if row.status != "completed":
        raise Conflict("Ratings are given after the job is completed.", code="not-completed")
    column = "worker_rating" if by == "employer" else "employer_rating"
    if getattr(row, column) is not None:
        raise Conflict("Already rated.", code="already-rated")
    setattr(row, column, rating)
    setattr(row, column + "_comment", comment)
    session.flush()
    return row
