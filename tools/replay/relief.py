"""Relief: the campaign, its donations (``receipt_no`` is the natural key), and every application through the
whole vetting workflow — household survey, democratic appraisal, public notice, objections, decision — then its
disbursement, issued from the paying body's funds and marked paid; the volunteer shift of the rider's story.

Donations go first (a disbursement is bounded by the funds donated to its paying body); applications are
independent of each other, so they run on the thread pool. New applications go in batches of ``BATCH``, one
request each, to the batch history import (``POST /campaigns/{id}/application-import-batches``: the service
applies every record's steps by the single import's rules in order in one transaction, so a refused record
leaves nothing of its batch behind and the message names it: file, line, ref, step and field). One an earlier
run left part-way through (the step-by-step loader of old, or a run stopped between a step and the next) is
carried on step by step.
"""
from __future__ import annotations

import hashlib
import os

from .client import POOL, Api, Progress, Refused, Where, describe_problem, idem_key, run_parallel
from .data import Record, Scenario

CAMPAIGN, DONATIONS, APPLICATIONS = "relief.campaign.json", "relief.donations.jsonl", "relief.applications.jsonl"
CAMPAIGN_FIELDS = ("ref", "name", "opens_on", "closes_on", "levels", "notice_days")
DONATION_FIELDS = ("receipt_no", "ref", "level", "amount", "received_at", "note")
APPLICATION_FIELDS = ("ref", "county", "level", "assistance_type", "household", "requested_amount", "applied_on")
#: how far along the workflow an application's status is
STAGE = {"submitted": 0, "surveyed": 1, "appraised": 2, "in_notice": 3, "approved": 4, "rejected": 4}
#: new applications per request (the service takes 1-500): one batch is one transaction, about a second or two
#: of relief's single SQLite writer, so the batches waiting for it stay well inside its 30 s busy timeout
BATCH = int(os.environ.get("REPLAY_RELIEF_BATCH", "200"))
#: batches in flight: the writer takes one at a time (SQLite; on PostgreSQL each batch locks its paying bodies'
#: funds rows), the others are read and validated meanwhile
BATCH_THREADS = min(POOL, 3)


def campaign(api: Api, scenario: Scenario) -> str | None:
    seed = scenario.json(CAMPAIGN)
    if seed is None:
        return None
    where = Where(CAMPAIGN, None, seed.get("ref"))
    body = {k: seed[k] for k in CAMPAIGN_FIELDS if seed.get(k) is not None}
    answer = api.post("/campaigns", body, where, "open the campaign", ok=(201,), tolerate=("duplicate-ref",))
    if answer.status == 201:
        return answer["id"]
    for item in api.items("/campaigns"):
        if item.get("ref") == seed.get("ref"):
            return item["id"]
    raise Refused(f"relief refused {where} (open the campaign): {answer.status} {answer.get('detail')}")


def donation_body(rec: Record) -> dict:
    body = {k: rec[k] for k in DONATION_FIELDS if rec.get(k) is not None}
    body["donor"] = {k: v for k, v in rec["donor"].items() if v is not None}
    if rec.get("county") is not None:
        body["county"] = rec["county"]
    return body


def application_body(rec: Record) -> dict:
    body = {k: rec[k] for k in APPLICATION_FIELDS if rec.get(k) is not None}
    body["applicant"] = {k: v for k, v in rec["applicant"].items() if v is not None}
    return body


def import_body(rec: Record) -> dict:
    """The record as the import endpoint takes it: the application and each step as its own endpoint takes it."""
    body = application_body(rec)
    survey = rec["household_survey"]
    body["household_survey"] = {"surveyed_on": survey["on"], "findings": survey["findings"]}
    if survey.get("surveyors"):
        body["household_survey"]["surveyors"] = survey["surveyors"]
    appraisal = rec["democratic_appraisal"]
    body["democratic_appraisal"] = {"appraised_on": appraisal["on"], "participants": appraisal["participants"],
                                    "outcome": appraisal["outcome"]}
    if appraisal.get("notes"):
        body["democratic_appraisal"]["notes"] = appraisal["notes"]
    notice = rec.get("public_notice")
    if notice:
        body["public_notice"] = {"starts_on": notice["from"], "ends_on": notice["to"]}
    body["objections"] = [{k: o[k] for k in ("raised_on", "text", "handled_on", "outcome", "finding")
                           if o.get(k) is not None} for o in rec.get("objections", [])]
    decision, payment = rec.get("decision"), rec.get("disbursement")
    if decision:
        body["decision"] = {"approved": decision["approved"], "decided_on": decision["on"]}
        if decision.get("reason"):
            body["decision"]["reason"] = decision["reason"]
        if decision["approved"] and payment:
            body["decision"]["granted_amount"] = payment["amount"]
        elif decision["approved"] and decision.get("granted_amount"):
            body["decision"]["granted_amount"] = decision["granted_amount"]
        if decision["approved"] and payment:
            body["disbursement"] = {k: payment[k] for k in ("amount", "paid_on") if payment.get(k) is not None}
    return body


class Applications:
    """Each application's workflow from where the service has it: what an earlier run recorded is skipped, new ones
    are imported whole in batches, one stored part-way through is carried on step by step."""

    def __init__(self, api: Api, campaign_id: str):
        self.api, self.campaign_id = api, campaign_id
        self.stored = {a["ref"]: a for a in api.items(f"/campaigns/{campaign_id}/applications") if a.get("ref")}
        self.paid = {d["application_id"] for d in api.items(f"/campaigns/{campaign_id}/disbursements",
                                                             {"status": "paid"})}

    def done(self, rec: Record) -> bool:
        """Recorded to its end by an earlier run."""
        app = self.stored.get(rec["ref"])
        return app is not None and (app["status"] == "rejected" or app["id"] in self.paid)

    def import_batch(self, records: list[Record]) -> None:
        """New records in one request; one stored meanwhile (``created: false``) is carried on from where it
        stands. A refused batch stops the replay naming the record the service named."""
        path = f"/campaigns/{self.campaign_id}/application-import-batches"
        refs = "\n".join(rec["ref"] for rec in records)
        answer = self.api.request("POST", path, body={"applications": [import_body(rec) for rec in records]},
                                  key=idem_key("import-batch", hashlib.sha256(refs.encode()).hexdigest()))
        if answer.status not in (200, 201):
            raise Refused(refusal(records, answer, "POST " + path))
        for rec, item in zip(records, answer["items"]):
            if not item["created"] and item["status"] != "rejected":
                where = Where(rec.file, rec.line, rec["ref"])
                self.carry_on(rec, self.api.get(f"/applications/{item['id']}", where=where).body)

    def replay(self, rec: Record) -> None:
        """A record stored part-way through by an earlier run."""
        self.carry_on(rec, self.stored[rec["ref"]])

    def carry_on(self, rec: Record, app: dict) -> None:
        """The steps of ``rec`` the stored application ``app`` has not had yet, one request each."""
        api, ref = self.api, rec["ref"]
        where = Where(rec.file, rec.line, ref)
        if app["status"] == "rejected":
            return
        base, stage = f"/applications/{app['id']}", STAGE.get(app["status"], 0)

        survey = rec["household_survey"]
        if stage < 1:
            body = {"surveyed_on": survey["on"], "findings": survey["findings"]}
            if survey.get("surveyors"):
                body["surveyors"] = survey["surveyors"]
            api.post(base + "/household-survey", body, where, "household survey",
                     ok=(201,))
        appraisal = rec["democratic_appraisal"]
        if stage < 2:
            body = {"appraised_on": appraisal["on"], "participants": appraisal["participants"],
                    "outcome": appraisal["outcome"]}
            if appraisal.get("notes"):
                body["notes"] = appraisal["notes"]
            api.post(base + "/democratic-appraisal", body, where, "democratic appraisal",
                     ok=(201,))
        notice = rec.get("public_notice")
        if notice and stage < 3:
            app = api.post(base + "/public-notice", {"starts_on": notice["from"], "ends_on": notice["to"]}, where,
                           "public notice", ok=(201,)).body
        if stage < 4:
            stored = list(app.get("objections") or [])
            for n, o in enumerate(rec.get("objections", []), 1):
                if n <= len(stored):
                    objection = stored[n - 1]
                else:
                    objection = api.post(base + "/objections", {"raised_on": o["raised_on"], "text": o["text"]},
                                         where, f"objection {n}", ok=(201,)).body
                if o.get("handled_on") and not objection.get("handled_on"):
                    api.post(f"{base}/objections/{objection['id']}/handling",
                             {"handled_on": o["handled_on"], "outcome": o["outcome"], "finding": o["finding"]},
                             where, f"handling of objection {n}",
                             ok=(200,))
            decision = rec.get("decision")
            if not decision:
                return
            body = {"approved": decision["approved"], "decided_on": decision["on"]}
            if decision.get("reason"):
                body["reason"] = decision["reason"]
            if decision["approved"] and rec.get("disbursement"):
                body["granted_amount"] = rec["disbursement"]["amount"]
            elif decision["approved"] and decision.get("granted_amount"):
                body["granted_amount"] = decision["granted_amount"]
            app = api.post(base + "/decision", body, where, "decision",
                           ok=(201,)).body
        payment = rec.get("disbursement")
        if app["status"] != "approved" or not payment:
            return
        answer = api.post(base + "/disbursement", {"amount": payment["amount"]}, where, "disbursement",
                          key=idem_key("disbursement", ref), ok=(201,), tolerate=("already-disbursed",))
        if answer.status != 201:
            disbursement = self._issued(app["id"])
        elif answer.headers.get("Idempotency-Replayed"):  # issued by an earlier run: as it stands now
            disbursement = api.get(f"/disbursements/{answer['id']}", where=where).body
        else:
            disbursement = answer.body
        if disbursement is not None and disbursement["status"] == "issued" and payment.get("paid_on"):
            api.post(f"/disbursements/{disbursement['id']}/paid", {"paid_on": payment["paid_on"]}, where,
                     "payment arrived", ok=(200,))

    def _issued(self, application_id: str) -> dict | None:
        """The application's disbursement still waiting for its payment (None once paid).

        API gap: neither the application nor the disbursement list names the other by id filter, so this pages
        the campaign's issued disbursements (few: only those an interrupted run left unpaid)."""
        for item in self.api.items(f"/campaigns/{self.campaign_id}/disbursements", {"status": "issued"}):
            if item["application_id"] == application_id:
                return item
        return None


def load(api: Api, scenario: Scenario, show: bool = True) -> str | None:
    campaign_id = campaign(api, scenario)
    if campaign_id is None:
        return None
    recorded = {d["receipt_no"] for d in api.items(f"/campaigns/{campaign_id}/donations")}
    donations = [d for d in scenario.jsonl(DONATIONS) if d["receipt_no"] not in recorded]
    progress = Progress("relief donations", len(donations), show)

    def donate(rec: Record) -> None:
        api.post(f"/campaigns/{campaign_id}/donations", donation_body(rec), Where(rec.file, rec.line, rec.get("ref")
                 or rec["receipt_no"]), "record the donation",
                 ok=(200, 201))

    run_parallel(donate, donations, progress)
    progress.close()

    applications = scenario.jsonl(APPLICATIONS)
    progress = Progress("relief applications", len(applications), show)
    loader = Applications(api, campaign_id)
    fresh = [rec for rec in applications if rec["ref"] not in loader.stored]
    started = [rec for rec in applications if rec["ref"] in loader.stored and not loader.done(rec)]
    progress.update(len(applications) - len(fresh) - len(started))
    run_parallel(loader.import_batch, [fresh[i:i + BATCH] for i in range(0, len(fresh), BATCH)], progress,
                 threads=BATCH_THREADS, weight=len)
    run_parallel(loader.replay, started, progress)
    progress.close()
    return campaign_id


def refusal(records: list[Record], answer, request: str) -> str:
    """The message of a refused batch: the record the problem names (``index``) by file, line and ref, the step,
    and its fields as the single import names them (without the ``applications.<index>.`` prefix)."""
    body = answer.body if isinstance(answer.body, dict) else {}
    index = body.get("index")
    if not isinstance(index, int) or not 0 <= index < len(records):
        first, last = records[0], records[-1]
        return (f"relief refused {first.file} lines {first.line}-{last.line} (import the applications):\n"
                f"    {request}\n    {describe_problem(answer)}")
    rec, step = records[index], body.get("step")
    return (f"relief refused {Where(rec.file, rec.line, rec['ref'])} (import the application"
            f"{': ' + step.replace('_', ' ') if step else ''}):\n"
            f"    {request} (record {index + 1} of {len(records)})\n"
            f"    {describe_problem(answer).replace(f'field applications.{index}.', 'field ')}")


def volunteer_shift(api: Api, person_id: str, step: dict, where: Where) -> None:
    """A volunteer shift of ``person_id``: the activity, the shift (check-in to check-out), the sign-up, check-in
    and check-out (which publishes the completed shift that points credits). Done already: nothing."""
    kind = step["activity"]
    title = step.get("title") or kind
    activity = next((a for a in api.items("/volunteer-activities") if a["kind"] == kind and a["title"] == title), None)
    if activity is None:
        body = {"kind": kind, "title": title}
        if step.get("community"):
            body["community"] = step["community"]
        activity = api.post("/volunteer-activities", body, where, "volunteer activity",
                            key=idem_key("activity", kind, title), ok=(201,)).body
    starts, ends = step.get("starts_at") or step["check_in"], step.get("ends_at") or step["check_out"]
    shift = next((s for s in api.items("/volunteer-shifts", {"activity_id": activity["id"]})
                  if _same_time(s["starts_at"], starts) and _same_time(s["ends_at"], ends)), None)
    if shift is None:
        body = {"starts_at": starts, "ends_at": ends, "capacity": step.get("capacity", 1)}
        if step.get("place"):
            body["place"] = step["place"]
        shift = api.post(f"/volunteer-activities/{activity['id']}/shifts", body, where, "volunteer shift",
                         key=idem_key("shift", activity["id"], starts), ok=(201,)).body
    signup = next((s for s in api.items("/shift-signups", {"shift_id": shift["id"], "person_id": person_id})
                   if s["status"] != "cancelled"), None)
    if signup is None:
        # the story records when the volunteer came, not when they signed up: at the latest, as the shift began
        signup = api.post(f"/volunteer-shifts/{shift['id']}/signups",
                          {"person_id": person_id, "signed_up_at": step.get("signed_up_at") or starts}, where,
                          "sign-up", key=idem_key("signup", shift["id"], person_id), ok=(201,)).body
    if not signup.get("checked_in_at"):
        signup = api.post(f"/shift-signups/{signup['id']}/check-in", {"at": step["check_in"]}, where, "check-in",
                          key=idem_key("check-in", signup["id"]), ok=(200,)).body
    if not signup.get("checked_out_at"):
        signup = api.post(f"/shift-signups/{signup['id']}/check-out", {"at": step["check_out"]}, where,
                          "check-out", key=idem_key("check-out", signup["id"]), ok=(200,)).body
    if step.get("hours") is not None and signup.get("hours") is not None:
        from decimal import Decimal
        if Decimal(str(signup["hours"])) != Decimal(str(step["hours"])):
            raise Refused(f"relief recorded {signup['hours']} hours for {where}; the record says {step['hours']}")


def _same_time(a: str, b: str) -> bool:
    from datetime import datetime
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)
