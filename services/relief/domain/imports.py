"""History import: one application with its whole recorded vetting, applied as the step-by-step path applies it.

Source: the seed scenario's ``relief.applications.jsonl`` (an application and its whole vetting a line), loaded
until now by seven or more requests per application. The import runs exactly the same domain steps, in the same
order, inside the caller's one transaction: :func:`applications.submit`, ``record_survey``,
``record_appraisal``, ``open_notice``, each objection's ``raise_objection`` and ``handle_objection``,
``decide``, then :func:`disbursements.issue` (the same atomic conditional UPDATE of the funds) and
``mark_paid``. No rule is repeated or skipped here: every check, audit record and event is the step's own.

A refused step refuses the whole import with that step's problem: its field names prefixed with the step
(``household_survey.surveyed_on``, ``objections.1.handled_on``, ``disbursement.amount``) and the extension
member ``step``; the caller's transaction is rolled back, so nothing is stored.

The natural identity is the step-by-step path's: the intake ``ref`` when given (unique), else the person's
keyed ID hash in the campaign (the live application ``submit`` would refuse as ``duplicate-application``). An
application already stored under it is answered as it stands and nothing changes (the caller answers 200).

A batch (:func:`import_batch`, up to 500 records) applies each record by :func:`apply_application`, the single
import's own function, one after the other in the caller's one transaction: a refused record refuses the batch
with its problem, naming the record (``index``, ``ref``, fields prefixed ``applications.<index>.``).
"""
from __future__ import annotations

from typing import Callable, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from shared.errors import Conflict, Problem, field_error

from ..models import Application
from . import applications, campaigns, disbursements, funds
from .personal import IdVault

T = TypeVar("T")

#: the application's own fields (what ``submit`` takes)
SUBMIT_FIELDS = ("ref", "applicant", "county", "level", "assistance_type", "household", "requested_amount",
                 "applied_on")


def _step(name: str, fn: Callable[..., T], *args, stale: object | None = None) -> T:
    """Run one domain step as its own request would: it starts from the stored state. Everything is flushed and
    the relationships of ``stale`` (the application, or the disbursement) are read again when used, so a row an
    earlier step added by its foreign key is seen (an objection raised since must block the decision). Columns
    are not re-read: every UPDATE of a step expires what it changed (``common.transition``, the objection's
    handling), so what the session holds is what is stored. A refusal names the step and prefixes its fields."""
    session: Session = args[0]
    session.flush()
    if stale is not None:
        session.expire(stale, inspect(type(stale)).relationships.keys())
    try:
        result = fn(*args)
        session.flush()
        return result
    except Problem as exc:
        if name:
            exc.within(name, step=name)
        raise


def existing(session: Session, vault: IdVault, campaign_id: str, data: dict) -> Application | None:
    """The application this record was imported (or submitted) as before, if any.

    By ``ref`` first; a ref held by another person or campaign is 409 ``duplicate-ref``. Else the person's live
    application in the campaign; if that one carries another ref it is another application: 409
    ``duplicate-application`` (as ``submit`` answers)."""
    digest = vault.digest(data["applicant"]["id_number"])
    if data.get("ref"):
        found = session.scalar(select(Application).where(Application.ref == data["ref"]))
        if found is not None:
            if found.campaign_id != campaign_id or found.id_number_hmac != digest:
                raise Conflict("An application with this ref exists for another applicant or campaign.",
                               code="duplicate-ref", errors=field_error("ref", "Taken by another application."))
            return found
    live = session.scalar(select(Application).where(Application.active_key == f"{campaign_id}:{digest}"))
    if live is not None and live.ref and data.get("ref") and live.ref != data["ref"]:
        raise Conflict("This person already has another application in this campaign.",
                       code="duplicate-application", existing_application_id=live.id)
    return live


def apply_application(session: Session, vault: IdVault, campaign_id: str, data: dict,
                      actor: str) -> tuple[Application, bool]:
    """Apply one recorded application and its vetting; ``(application, created)``.

    ``data``: the fields of ``submit``, ``household_survey`` (as ``record_survey`` takes it),
    ``democratic_appraisal``, ``public_notice``?, ``objections`` [{raised_on, text, handled_on?, outcome?,
    finding?}], ``decision``?, ``disbursement``? {amount, issued_on?, paid_on?}. Stops after the last step the
    record holds (a history may end before its decision). The application returned may hold expired columns.
    """
    _campaign = campaigns.get(session, campaign_id)  # held, so that the steps' own look-ups find it in the session
    found = existing(session, vault, campaign_id, data)
    if found is not None:
        return found, False
    application = _step("", applications.submit, session, vault, campaign_id,
                        {k: data[k] for k in SUBMIT_FIELDS if data.get(k) is not None}, actor)
    aid = application.id

    def step(name, fn, *args):
        return _step(name, fn, session, *args, stale=application)

    step("household_survey", applications.record_survey, aid, data["household_survey"], actor)
    step("democratic_appraisal", applications.record_appraisal, aid, data["democratic_appraisal"], actor)
    if data.get("public_notice"):
        step("public_notice", applications.open_notice, aid, data["public_notice"], actor)
    for n, record in enumerate(data.get("objections") or []):
        name = f"objections.{n}"
        objection = step(name, applications.raise_objection, aid, {"raised_on": record["raised_on"],
                                                                   "text": record["text"]}, actor)
        if record.get("handled_on") is not None:
            step(name, applications.handle_objection, aid, objection.id,
                 {k: record.get(k) for k in ("handled_on", "outcome", "finding")}, actor)
    if data.get("decision"):
        step("decision", applications.decide, aid, data["decision"], actor)
    payment = data.get("disbursement")
    if payment:
        disbursement = step("disbursement", disbursements.issue, aid,
                            {k: payment[k] for k in ("amount", "issued_on") if payment.get(k) is not None}, actor)
        if payment.get("paid_on") is not None:
            _step("disbursement", disbursements.mark_paid, session, disbursement.id, {"paid_on": payment["paid_on"]},
                  actor, stale=disbursement)
    session.flush()
    return application, True


def import_application(session: Session, vault: IdVault, campaign_id: str, data: dict,
                       actor: str) -> tuple[Application, bool]:
    """:func:`apply_application`, then the application as stored (everything re-read, for the answer)."""
    application, created = apply_application(session, vault, campaign_id, data, actor)
    session.flush()
    session.expire_all()
    return applications.get(session, application.id), created


def import_batch(session: Session, vault: IdVault, campaign_id: str, records: list[dict], actor: str) -> list[dict]:
    """Apply ``records`` in order, each by :func:`apply_application`; one result per record, in input order:
    ``{index, ref, id, status, created}`` (``created`` false: stored before under its ref or as the person's
    live application, answered as it stands and left unchanged, as the single import's 200).

    A refused record refuses the batch with its own problem (its status: 409 ``insufficient-funds``, 422 ...),
    fields prefixed ``applications.<index>.``, extension members ``index`` and ``ref``; the caller rolls back.

    The funds rows of the paying bodies the batch pays from are locked first, in one order (no-op on SQLite,
    whose writers are serialised): two batches taking several bodies' funds in record order could otherwise
    deadlock on PostgreSQL. The funds are still taken by each disbursement's own conditional UPDATE.
    """
    campaigns.get(session, campaign_id)
    funds.lock_bodies(session, campaign_id, {funds.body_of(r["level"], r["county"])
                                             for r in records if r.get("disbursement")})
    results = []
    for index, data in enumerate(records):
        try:
            application, created = apply_application(session, vault, campaign_id, data, actor)
        except Problem as exc:
            raise _in_batch(exc, index, data) from None
        results.append({"index": index, "ref": application.ref, "id": application.id,
                        "status": application.status, "created": created})
        session.expunge_all()  # the next record starts from the stored state, as its own request would
    return results


def _in_batch(exc: Problem, index: int, data: dict) -> Problem:
    """The record's problem, naming it: ``index``, ``ref``, its fields under ``applications.<index>``."""
    exc.within(f"applications.{index}", index=index, ref=data.get("ref"))
    exc.detail = f"Record {index} (ref {data.get('ref') or '-'}): {exc.detail}"
    return exc
