"""Employers, jobs and dispatch, completion, paid confirmation and ratings."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import NotFound, Unprocessable, field_error
from shared.http import Blueprint, command, db
from shared.pagination import PageArgs, paginate

from ..domain import jobs as job_rules
from ..domain import workers as worker_rules
from ..models import Dispatch, Employer, Job, Worker
from ..schemas import (CancelDispatchSchema, CompletionSchema, DispatchListSchema, DispatchPage, DispatchRunSchema,
                       DispatchSchema, EmployerCreateSchema, EmployerPage, EmployerSchema, JobArgs,
                       JobCreateSchema, JobPage, JobSchema, OverrideSchema, PaidSchema, RatingSchema)
from .access import EMPLOYER, STAFF, WORKER, acting_worker, is_staff, own_worker, staff_only_times, visible_worker

employers = Blueprint("employers", __name__, url_prefix="/employers", description="Employers")
jobs = Blueprint("jobs", __name__, url_prefix="/jobs", description="Job postings and dispatch")
dispatches = Blueprint("dispatches", __name__, url_prefix="", description="Dispatched workers")


def _dispatch(row: Dispatch) -> dict:
    out = {c: getattr(row, c) for c in ("id", "job_id", "worker_id", "work_on", "method", "reason", "status",
                                        "days", "wage", "paid_confirmed", "paid_confirmed_at", "worker_rating",
                                        "employer_rating", "dispatched_at", "cancelled_at")}
    out["card_no"] = db().get(Worker, row.worker_id).card_no
    return out


def _own_employer() -> Employer:
    employer = worker_rules.employer_of(db(), current_principal().sub)
    if employer is None:
        raise NotFound("No employer is registered for this login.")
    return employer


def _visible_job(job_id: str, *, workers_too: bool = False) -> Job:
    """A job the caller may see: staff any; an employer its own; a worker (reads) any posting. Else 404."""
    job = job_rules.get_job(db(), job_id)
    principal = current_principal()
    if is_staff() or (workers_too and principal.has(WORKER)):
        return job
    if principal.has(EMPLOYER) and job.employer_id == _own_employer().id:
        return job
    raise NotFound("No such job.")


def _party(row: Dispatch) -> str:
    """``employer`` or ``worker``: the caller's side of a dispatch (404 for anyone else)."""
    principal = current_principal()
    if principal.has(EMPLOYER):
        employer = worker_rules.employer_of(db(), principal.sub)
        if employer is not None and db().get(Job, row.job_id).employer_id == employer.id:
            return "employer"
    if principal.has(WORKER) and row.worker_id == own_worker().id:
        return "worker"
    raise NotFound("No such dispatch.")


@employers.route("")
class EmployersResource(MethodView):
    @employers.roles(EMPLOYER, *STAFF)
    @employers.arguments(EmployerCreateSchema)
    @command
    @employers.response(201, EmployerSchema)
    @employers.problems(409)
    def post(self, data):
        """Register an employer (``name``, ``kind``, private ``phone``). Staff may link a login
        (``account_sub``); an employer registers itself with its own login. 409 when the login is taken."""
        if not is_staff():
            data["account_sub"] = current_principal().sub
        return worker_rules.register_employer(db(), data, current_principal().sub)

    @employers.roles(*STAFF)
    @employers.arguments(PageArgs, location="query")
    @employers.response(200, EmployerPage)
    def get(self, args):
        """All employers in registration order (cursor pages)."""
        return paginate(db(), select(Employer), Employer.created_at, Employer.id, args)


@employers.route("/<employer_id>")
class EmployerResource(MethodView):
    @employers.roles(EMPLOYER, *STAFF)
    @employers.response(200, EmployerSchema)
    @employers.problems(404)
    def get(self, employer_id):
        """One employer (an employer sees only itself; another is 404)."""
        employer = worker_rules.get_employer(db(), employer_id)
        if not is_staff() and employer.account_sub != current_principal().sub:
            raise NotFound("No such employer.")
        return employer


@jobs.route("")
class JobsResource(MethodView):
    @jobs.roles(EMPLOYER, *STAFF)
    @jobs.arguments(JobCreateSchema)
    @command
    @jobs.response(201, JobSchema)
    @jobs.problems(404)
    def post(self, data):
        """Post a job: ``title``, ``trade``, ``skills``, ``headcount``, ``work_on`` (day), ``place``,
        ``wage_per_day`` (yuan string). An employer posts its own; staff name ``employer_id`` (422 if absent)."""
        if is_staff():
            if not data.get("employer_id"):
                raise Unprocessable("Name the employer.", errors=field_error("employer_id", "Required for staff."))
            employer = db().get(Employer, data["employer_id"])
            if employer is None:
                raise Unprocessable("No such employer.", errors=field_error("employer_id", "Unknown employer."))
        else:
            staff_only_times(data, "posted_at")
            employer = _own_employer()
        return job_rules.post_job(db(), employer, data, current_principal().sub)

    @jobs.roles(EMPLOYER, WORKER, *STAFF)
    @jobs.arguments(JobArgs, location="query")
    @jobs.response(200, JobPage)
    @jobs.problems(404)
    def get(self, args):
        """Jobs in posting order (cursor pages), by ``work_on`` and ``status``. An employer sees its own (404 if
        no employer is registered for the login)."""
        stmt = select(Job)
        principal = current_principal()
        if not is_staff() and not principal.has(WORKER):
            stmt = stmt.where(Job.employer_id == _own_employer().id)
        if args.get("work_on"):
            stmt = stmt.where(Job.work_on == args["work_on"])
        if args.get("status"):
            stmt = stmt.where(Job.status == args["status"])
        return paginate(db(), stmt, Job.created_at, Job.id, args)


@jobs.route("/<job_id>")
class JobResource(MethodView):
    @jobs.roles(EMPLOYER, WORKER, *STAFF)
    @jobs.response(200, JobSchema)
    @jobs.problems(404)
    def get(self, job_id):
        """One job (an employer's own; workers and staff see any posting)."""
        return _visible_job(job_id, workers_too=True)


@jobs.route("/<job_id>/dispatch")
class DispatchRunResource(MethodView):
    @jobs.roles(*STAFF)
    @jobs.arguments(DispatchRunSchema)
    @command
    @jobs.response(201, DispatchListSchema)
    @jobs.problems(404, 409)
    def post(self, data, job_id):
        """Fill the job's open places from the job day's signed-in workers who have its skills and are not
        booked that day: ``sign_in_order`` (sign-in numbers) or ``rotation`` (longest without work first:
        the last day dispatched before the job's day, never dispatched first; ties by sign-in number).
        Answers the new dispatches (none when nobody fits). 409 when the job is not open."""
        made = job_rules.dispatch(db(), _visible_job(job_id), data["method"], data.get("dispatched_at"),
                                  current_principal().sub)
        return {"items": [_dispatch(r) for r in made]}


@jobs.route("/<job_id>/dispatches")
class JobDispatchesResource(MethodView):
    @jobs.roles(*STAFF)
    @jobs.arguments(OverrideSchema)
    @command
    @jobs.response(201, DispatchSchema)
    @jobs.problems(404, 409)
    def post(self, data, job_id):
        """Staff override: send a named worker with a ``reason`` (recorded). 409 ``job-full``,
        ``job-not-open``, ``double-booking`` (the worker is booked elsewhere that day)."""
        job = _visible_job(job_id)
        worker = acting_worker(data["worker"])
        return _dispatch(job_rules.override(db(), job, worker, data["reason"], data.get("dispatched_at"),
                                            current_principal().sub))

    @jobs.roles(EMPLOYER, *STAFF)
    @jobs.response(200, DispatchListSchema)
    @jobs.problems(404)
    def get(self, job_id):
        """The job's dispatches, cancelled ones included (an employer its own jobs)."""
        job = _visible_job(job_id)
        rows = db().scalars(select(Dispatch).where(Dispatch.job_id == job.id)
                            .order_by(Dispatch.dispatched_at, Dispatch.id)).all()
        return {"items": [_dispatch(r) for r in rows]}


@jobs.route("/<job_id>/completion")
class CompletionResource(MethodView):
    @jobs.roles(EMPLOYER, *STAFF)
    @jobs.arguments(CompletionSchema)
    @command
    @jobs.response(200, JobSchema)
    @jobs.problems(404, 409)
    def post(self, data, job_id):
        """Record the job done: ``days`` worked (``workers`` may give one dispatch its own days); each
        worker's wage is days × wage_per_day (yuan, exact), ``wage_total`` their sum. Publishes
        ``jobmarket.job.completed.v1``. 409 when not open/filled or nobody was dispatched."""
        if not is_staff():
            staff_only_times(data, "completed_at")
        return job_rules.complete(db(), _visible_job(job_id), data, current_principal().sub)


@dispatches.route("/dispatches/<dispatch_id>")
class DispatchResource(MethodView):
    @dispatches.roles(EMPLOYER, WORKER, *STAFF)
    @dispatches.response(200, DispatchSchema)
    @dispatches.problems(404)
    def get(self, dispatch_id):
        """One dispatch (its worker, its job's employer, staff; anyone else 404)."""
        row = job_rules.get_dispatch(db(), dispatch_id)
        if not is_staff():
            _party(row)
        return _dispatch(row)


@dispatches.route("/dispatches/<dispatch_id>/cancellation")
class DispatchCancelResource(MethodView):
    @dispatches.roles(*STAFF)
    @dispatches.arguments(CancelDispatchSchema)
    @command
    @dispatches.response(200, DispatchSchema)
    @dispatches.problems(404, 409)
    def post(self, data, dispatch_id):
        """Cancel a standing dispatch with a reason: the worker's day and the job's place are free again."""
        row = job_rules.get_dispatch(db(), dispatch_id)
        return _dispatch(job_rules.cancel_dispatch(db(), row, data["reason"], data.get("cancelled_at")))


@dispatches.route("/dispatches/<dispatch_id>/paid-confirmation")
class PaidResource(MethodView):
    @dispatches.roles(WORKER, *STAFF)
    @dispatches.arguments(PaidSchema)
    @command
    @dispatches.response(200, DispatchSchema)
    @dispatches.problems(404, 409)
    def post(self, data, dispatch_id):
        """The worker confirms whether they were paid their wage (``paid`` true/false). 409 before completion."""
        row = job_rules.get_dispatch(db(), dispatch_id)
        if not is_staff():
            staff_only_times(data, "confirmed_at")
            if _party(row) != "worker":
                raise NotFound("No such dispatch.")
        return _dispatch(job_rules.confirm_paid(db(), row, data["paid"], data.get("confirmed_at")))


@dispatches.route("/dispatches/<dispatch_id>/ratings")
class RatingResource(MethodView):
    @dispatches.roles(EMPLOYER, WORKER)
    @dispatches.arguments(RatingSchema)
    @command
    @dispatches.response(200, DispatchSchema)
    @dispatches.problems(404, 409)
    def post(self, data, dispatch_id):
        """Rate the other side of a completed dispatch, 1–5: the employer rates the worker, the worker rates
        the employer; once each (409 when rated or not completed)."""
        row = job_rules.get_dispatch(db(), dispatch_id)
        return _dispatch(job_rules.rate(db(), row, _party(row), data["rating"], data.get("comment")))


@dispatches.route("/workers/<ref>/dispatches")
class WorkerDispatchesResource(MethodView):
    @dispatches.roles(WORKER, *STAFF)
    @dispatches.arguments(PageArgs, location="query")
    @dispatches.response(200, DispatchPage)
    @dispatches.problems(404)
    def get(self, args, ref):
        """A worker's dispatches in order (cursor pages); a worker sees their own (another's is 404)."""
        worker = visible_worker(ref)
        page = paginate(db(), select(Dispatch).where(Dispatch.worker_id == worker.id), Dispatch.dispatched_at,
                        Dispatch.id, args)
        return {"items": [_dispatch(r) for r in page["items"]], "next_cursor": page["next_cursor"]}
