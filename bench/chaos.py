"""Chaos run (issue 10): events across the services' flows while the infrastructure fails under them.

Flows, all ending in points credits (each expected credit known by its cause key):
- disputes: a case registered and resolved → ``dispute_mediation:case:<case>:<person>`` (20 points);
- disputes: a hazard photo report verified → ``hazard_photo_report:report:<report>`` (5 points);
- relief: a volunteer signed up, checked in and checked out of a shift → ``environment_cleanup:shift:<shift>:<person>``
  (2.00 h × 10 = 20 points; several volunteers share one shift).

A share of the events goes through the HTTP API of the real gunicorn processes (``http_share``); the rest is
staged straight into the disputes and relief outboxes in batches (``shared.outbox.publish``, as their domain
layers do) so that a long run measures the pipeline under faults rather than an HTTP client (TESTING.md).

Faults, all on resources this run owns (TESTING.md): a private RabbitMQ node (``shared.testing.private_broker``)
restarted twice; the points worker SIGKILLed three times; the disputes worker (a relay) SIGKILLed once; this
run's own PostgreSQL databases refusing connections for a few seconds (``ALTER DATABASE … ALLOW_CONNECTIONS
false`` + ``pg_terminate_backend`` of their sessions, then allowed again); and a few poison messages published
on purpose. Every HTTP answer is recorded with its time; probes hit each service's database-backed endpoints
throughout the outage.

At the end the report says: every expected credit exists exactly once (by cause key, and no other credit exists),
the outboxes are empty, the dead-letter queues hold exactly the poison messages, and during the outage the
services answered only 2xx or 503 problem+json (no 500, no reset, no hang).

    .venv/bin/python bench/chaos.py [--events 10000] [--http-share 0.1] [--staging-seconds 240]

``tests/test_chaos.py`` runs the same code with a few hundred events; ``make chaos`` runs 10,000.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pika  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from shared import outbox  # noqa: E402
from shared.db import dispose_all, engine_for  # noqa: E402
from shared.testing import (PG_ADMIN_URL, RUN_ID, Stack, auth, create_pg_database, drop_pg_database,  # noqa: E402
                            private_broker)

SERVICES = ("disputes", "points", "relief")
GW = auth("P900001", "grid_worker", "mediator")
ADMIN = auth("chaos-admin", "admin")
CLERK = auth("chaos-clerk", "clerk")
COMMUNITY = auth("chaos-staff", "community_staff")
POINTS = {"case": 20, "hazard": 5, "shift": 20}
SHIFT_SIZE = 40  # volunteers per relief shift (HTTP share)
SHIFT = {"starts_at": "2024-09-21T08:00:00+08:00", "ends_at": "2024-09-21T10:00:00+08:00"}


# -- every HTTP answer, recorded --------------------------------------------------------------------------
@dataclass
class Answer:
    t: float                # time.monotonic() when the answer (or failure) came
    started: float
    service: str
    method: str
    path: str
    status: int | None      # None: no HTTP answer at all (reset, refused, timeout)
    content_type: str = ""
    problem_status: int | None = None
    error: str = ""


class Http:
    """requests with one session per thread, recording every answer (or transport failure) with its time."""

    def __init__(self, bases: dict[str, str], timeout: float = 20.0):
        self.bases, self.timeout = bases, timeout
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def _session(self) -> requests.Session:
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = requests.Session()
        return s

    def call(self, service: str, method: str, path: str, body=None, headers=None) -> requests.Response | None:
        started = time.monotonic()
        try:
            r = self._session().request(method, self.bases[service] + path, json=body, headers=headers,
                                        timeout=self.timeout)
        except requests.RequestException as exc:
            self._record(Answer(time.monotonic(), started, service, method, path, None,
                                error=f"{type(exc).__name__}: {str(exc)[:200]}"))
            self._local.s = None  # a fresh connection next time
            return None
        problem = None
        ctype = r.headers.get("Content-Type", "")
        if ctype.startswith("application/problem+json"):
            try:
                problem = r.json().get("status")
            except ValueError:
                problem = None
        self._record(Answer(time.monotonic(), started, service, method, path, r.status_code, ctype, problem))
        return r

    def _record(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def must(self, service: str, method: str, path: str, body=None, headers=None, ok=(200, 201),
             accept=lambda r: False, deadline: float = 180.0) -> requests.Response:
        """Call until the answer is in ``ok`` (or ``accept(r)`` holds: a retry of something already done).
        503s and transport failures are retried (the database or a process is away); anything else is fatal."""
        end = time.monotonic() + deadline
        pause = 0.2
        last = None
        while time.monotonic() < end:
            r = self.call(service, method, path, body, headers)
            last = r
            if r is not None and (r.status_code in ok or accept(r)):
                return r
            if r is not None and r.status_code != 503:
                raise RuntimeError(f"{method} {service}{path} answered {r.status_code}: {r.text[:300]}")
            time.sleep(pause)
            pause = min(2.0, pause * 1.5)
        raise RuntimeError(f"{method} {service}{path} never succeeded (last: "
                           f"{last.status_code if last is not None else 'no answer'})")


# -- the run ------------------------------------------------------------------------------------------------
@dataclass
class ChaosReport:
    events: int
    http_events: int
    staged_events: int
    expected: dict[str, int] = field(default_factory=dict)        # cause key -> points
    credits: dict[str, tuple[int, int]] = field(default_factory=dict)  # cause key -> (count, points)
    other_credits: int = 0
    pending_outbox: dict[str, int] = field(default_factory=dict)
    dead: dict[str, list[str]] = field(default_factory=dict)      # dead-letter queue -> message ids
    poison_ids: list[str] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, what)
    outage: tuple[float, float] | None = None
    outage_services: tuple[str, ...] = SERVICES
    outage_answers: list[Answer] = field(default_factory=list)
    all_answers: int = 0
    answers_500: list[Answer] = field(default_factory=list)
    transport_errors: list[Answer] = field(default_factory=list)
    exit_codes: dict[str, int | None] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    # what the test asserts and `make chaos` prints
    def missing(self) -> list[str]:
        return sorted(k for k in self.expected if k not in self.credits)

    def doubled(self) -> list[str]:
        return sorted(k for k, (n, _) in self.credits.items() if n != 1)

    def wrong_points(self) -> list[str]:
        return sorted(k for k, (_, p) in self.credits.items() if k in self.expected and p != self.expected[k])

    def unexpected(self) -> list[str]:
        return sorted(k for k in self.credits if k not in self.expected)

    def outage_statuses(self) -> Counter:
        return Counter((a.service, a.status) for a in self.outage_answers)

    def outage_bad(self) -> list[Answer]:
        """Answers in the outage window that are neither a success nor a 503 problem+json."""
        bad = []
        for a in self.outage_answers:
            if a.status is not None and 200 <= a.status < 300:
                continue
            if a.status == 503 and a.content_type.startswith("application/problem+json") and a.problem_status == 503:
                continue
            bad.append(a)
        return bad

    def max_outage_latency(self) -> float:
        return max((a.t - a.started for a in self.outage_answers), default=0.0)

    def problems(self) -> list[str]:
        out = []
        if self.missing():
            out.append(f"{len(self.missing())} expected credits missing, e.g. {self.missing()[:3]}")
        if self.doubled():
            out.append(f"credits not exactly once: {self.doubled()[:3]}")
        if self.wrong_points():
            out.append(f"credits of the wrong amount: {self.wrong_points()[:3]}")
        if self.unexpected() or self.other_credits:
            out.append(f"unexpected credits: {self.unexpected()[:3]} (+{self.other_credits} without a cause key)")
        if any(self.pending_outbox.values()):
            out.append(f"outboxes not empty: {self.pending_outbox}")
        dead = sorted(i for ids in self.dead.values() for i in ids)
        if dead != sorted(self.poison_ids):
            out.append(f"dead-letter queues hold {dead}, expected exactly the poison {sorted(self.poison_ids)}")
        if self.outage is None:
            out.append("the database outage did not happen")
        else:
            if self.outage_bad():
                out.append(f"answers during the outage other than 2xx / 503 problem+json: "
                           f"{[(a.service, a.path, a.status, a.error) for a in self.outage_bad()[:5]]}")
            served_503 = {a.service for a in self.outage_answers if a.status == 503}
            if served_503 != set(self.outage_services):
                out.append(f"not every service answered 503 while its database was away: only {served_503}")
            if self.max_outage_latency() > 15:
                out.append(f"an answer during the outage took {self.max_outage_latency():.1f}s (a hang)")
        if self.answers_500:
            out.append(f"{len(self.answers_500)} answers 500: {[(a.service, a.path) for a in self.answers_500[:5]]}")
        if self.transport_errors:
            out.append(f"{len(self.transport_errors)} requests without an HTTP answer (reset/timeout): "
                       f"{[(a.service, a.path, a.error) for a in self.transport_errors[:3]]}")
        bad_exit = {k: v for k, v in self.exit_codes.items() if v not in (0, None)}
        if bad_exit:
            out.append(f"processes did not stop cleanly on SIGTERM: {bad_exit}")
        return out

    def summary(self) -> str:
        lines = [f"chaos run: {self.events} events ({self.http_events} through HTTP, {self.staged_events} staged "
                 f"in the outboxes)",
                 f"  expected credits {len(self.expected)}, found {len(self.credits)} cause keys; missing "
                 f"{len(self.missing())}, not once {len(self.doubled())}, unexpected {len(self.unexpected())}",
                 f"  outboxes pending: {self.pending_outbox}",
                 f"  dead-letter queues: { {q: len(v) for q, v in self.dead.items()} } "
                 f"(poison published: {len(self.poison_ids)})",
                 f"  HTTP answers recorded: {self.all_answers}; 500s: {len(self.answers_500)}; "
                 f"without an answer: {len(self.transport_errors)}"]
        if self.outage:
            a, b = self.outage
            lines.append(f"  database outage {b - a:.1f}s: {len(self.outage_answers)} answers "
                         f"{dict(sorted(self.outage_statuses().items(), key=str))}, slowest "
                         f"{self.max_outage_latency() * 1000:.0f} ms")
        lines.append("  faults: " + "; ".join(f"{t:.0f}s {what}" for t, what in self.faults))
        lines.append("  timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        problems = self.problems()
        lines.append("  RESULT: " + ("OK" if not problems else "FAILED\n    - " + "\n    - ".join(problems)))
        return "\n".join(lines)


def _pg_admin():
    import psycopg
    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def refuse_connections(db_names: list[str]) -> None:
    """Our own databases only: no new sessions, and the open ones ended."""
    with _pg_admin() as conn:
        for name in db_names:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        for name in db_names:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                         "AND pid <> pg_backend_pid()", (name,))


def allow_connections(db_names: list[str]) -> None:
    with _pg_admin() as conn:
        for name in db_names:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def _poison(amqp_url: str) -> list[str]:
    """Three messages that can never be handled: unparseable, and two that fail their schema."""
    run = uuid.uuid4().hex[:8]
    now = datetime.now(timezone.utc).isoformat()
    msgs = [
        (f"chaos-poison-{run}-1", "disputes.case.resolved.v1", b"{not json at all"),
        (f"chaos-poison-{run}-2", "disputes.hazard_report.verified.v1", json.dumps({
            "specversion": "1.0", "id": f"chaos-poison-{run}-2", "source": "/chaos", "time": now,
            "type": "disputes.hazard_report.verified.v1", "data": {"report_id": 42}}).encode()),
        (f"chaos-poison-{run}-3", "relief.volunteer_shift.completed.v1", json.dumps({
            "specversion": "1.0", "id": f"chaos-poison-{run}-3", "source": "/chaos", "time": now,
            "type": "relief.volunteer_shift.completed.v1",
            "data": {"shift_id": "s", "activity": "environment_cleanup", "hours": 2}}).encode()),
    ]
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        for message_id, routing_key, body in msgs:
            ch.basic_publish("weizhili.events", routing_key, body, pika.BasicProperties(
                message_id=message_id, delivery_mode=2, content_type="application/cloudevents+json"), mandatory=True)
    finally:
        conn.close()
    return [m[0] for m in msgs]


def _dead_letters(amqp_url: str) -> dict[str, list[str]]:
    """Message ids in every ``<queue>.dead`` of our consumers (read and given back: nothing is removed)."""
    from shared import topology
    out: dict[str, list[str]] = {}
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        for queue in topology.subscriptions():
            ch = conn.channel()
            ids = []
            while True:
                method, props, _body = ch.basic_get(f"{queue}.dead", auto_ack=False)
                if method is None:
                    break
                ids.append(props.message_id)
            ch.close()  # unacked: back into the queue
            out[f"{queue}.dead"] = ids
    finally:
        conn.close()
    return out


class Chaos:
    def __init__(self, events: int, http_share: float, staging_seconds: float, workdir: Path,
                 outage_seconds: float = 4.0, http_threads: int = 6, outage_services=SERVICES, log=print):
        self.n = events
        self.n_http = int(round(events * http_share))
        self.n_staged = events - self.n_http
        self.staging_seconds = staging_seconds
        self.outage_seconds = outage_seconds
        self.outage_services = tuple(outage_services)
        self.http_threads = http_threads
        self.workdir = workdir
        self.log = log
        self.tag = uuid.uuid4().hex[:6]
        self.expected: dict[str, int] = {}
        self._exp_lock = threading.Lock()
        self.progress = [0, 0]  # http done, staged done
        self.report = ChaosReport(events, self.n_http, self.n_staged, outage_services=self.outage_services)
        self.t0 = time.monotonic()

    # -- helpers -----------------------------------------------------------------------------------------
    def expect(self, key: str, points: int) -> None:
        with self._exp_lock:
            self.expected[key] = points

    def fault(self, what: str) -> None:
        self.report.faults.append((time.monotonic() - self.t0, what))
        self.log(f"[chaos {time.monotonic() - self.t0:6.1f}s] {what}")

    def pace(self, i: int, total: int) -> None:
        """Spread the events over the staging window, so the faults fall among them."""
        due = self.t_start + self.staging_seconds * i / max(1, total)
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    # -- HTTP flows --------------------------------------------------------------------------------------
    def setup_http(self) -> None:
        h = self.http
        for body in ({"code": "hazard_photo_report", "category": "estate_governance", "unit": "report", "points": 5,
                      "cap_per_person_per_day": 20},
                     {"code": "environment_cleanup", "category": "civility_campaign", "unit": "hour", "points": 10,
                      "activities": ["environment_cleanup"]}):
            h.must("points", "POST", "/api/v1/rules", body, ADMIN, ok=(201,))
        activity = h.must("relief", "POST", "/api/v1/volunteer-activities", {
            "kind": "environment_cleanup", "title": "环境整治", "community": "府西社区"}, COMMUNITY, ok=(201,)).json()
        shifts_needed = self.n_http // 3 // SHIFT_SIZE + 1
        self.shifts = [h.must("relief", "POST", f"/api/v1/volunteer-activities/{activity['id']}/shifts",
                              {**SHIFT, "capacity": SHIFT_SIZE, "place": "府西社区"}, COMMUNITY, ok=(201,)).json()["id"]
                       for _ in range(shifts_needed)]

    def http_event(self, i: int) -> None:
        self.pace(i, self.n_http)
        h, person = self.http, f"H{self.tag}-{i}"
        kind = ("case", "hazard", "shift")[i % 3]
        if kind == "case":
            case = h.must("disputes", "POST", "/api/v1/cases", {
                "channel": "hotline", "category": "estate_internal", "subcategory": "ev_charger",
                "estate": "兴隆苑", "summary": f"充电桩坏了 {i}", "reported_at": "2024-06-01T09:00:00+08:00"},
                GW, ok=(201,)).json()
            key = f"dispute_mediation:case:{case['id']}:{person}"
            self.expect(key, POINTS[kind])
            h.must("disputes", "POST", f"/api/v1/cases/{case['id']}/resolutions", {
                "text": "已修复", "resolved_at": "2024-06-14T21:30:18+08:00",
                "participants": [{"person_id": person, "role": "mediator"}]}, GW, ok=(201,),
                accept=lambda r: r.status_code == 409)  # a retry after a lost answer: already resolved
        elif kind == "hazard":
            report = h.must("disputes", "POST", "/api/v1/hazard-reports", {
                "photo": f"media:hz-{i}", "estate": "安康小区", "location": "3号楼东侧井盖破损",
                "reported_at": "2024-09-10T12:40:00+08:00"}, auth(person, "resident"), ok=(201,)).json()
            self.expect(f"hazard_photo_report:report:{report['id']}", POINTS[kind])
            h.must("disputes", "POST", f"/api/v1/hazard-reports/{report['id']}/verification",
                   {"at": "2024-09-10T16:30:00+08:00"}, GW, ok=(200,), accept=lambda r: r.status_code == 409)
        else:
            shift_id = self.shifts[(i // 3) // SHIFT_SIZE]
            r = h.must("relief", "POST", f"/api/v1/volunteer-shifts/{shift_id}/signups", {
                "person_id": person, "signed_up_at": "2024-09-20T18:00:00+08:00"}, COMMUNITY, ok=(201,),
                accept=lambda r: r.status_code == 409 and "signup_id" in r.json())
            signup = r.json().get("id") or r.json()["signup_id"]
            self.expect(f"environment_cleanup:shift:{shift_id}:{person}", POINTS[kind])
            h.must("relief", "POST", f"/api/v1/shift-signups/{signup}/check-in", {"at": SHIFT["starts_at"]},
                   COMMUNITY, ok=(200,), accept=lambda r: r.status_code == 409)
            h.must("relief", "POST", f"/api/v1/shift-signups/{signup}/check-out", {"at": SHIFT["ends_at"]},
                   COMMUNITY, ok=(200,), accept=lambda r: r.status_code == 409)
        self.progress[0] += 1

    def run_http(self) -> None:
        with ThreadPoolExecutor(self.http_threads) as pool:
            for f in [pool.submit(self.http_event, i) for i in range(self.n_http)]:
                f.result()

    # -- staged straight into the outboxes ---------------------------------------------------------------
    def staged_event(self, i: int) -> tuple[str, str, dict, str, str, int]:
        """(service, type, data, subject, cause key, points) of staged event ``i``."""
        person, ident = f"S{self.tag}-{i}", f"{self.tag}-{i:07d}"
        kind = ("case", "hazard", "shift")[i % 3]
        if kind == "case":
            return ("disputes", "disputes.case.resolved.v1", {
                "case_id": f"case-{ident}", "resolution_no": 1, "category": "neighbour_family", "grade": "blue",
                "resolved_at": "2024-06-14T21:30:18+08:00", "session_id": None,
                "participants": [{"person_id": person, "role": "volunteer"}]}, f"cases/case-{ident}",
                f"dispute_mediation:case:case-{ident}:{person}", POINTS[kind])
        if kind == "hazard":
            return ("disputes", "disputes.hazard_report.verified.v1", {
                "report_id": f"report-{ident}", "reporter_person_id": person, "estate": "安康小区",
                "verified_at": "2024-09-10T16:30:00+08:00"}, f"hazard-reports/report-{ident}",
                f"hazard_photo_report:report:report-{ident}", POINTS[kind])
        shift_id = f"shift-{self.tag}-{i // 60}"  # sixty volunteers a shift
        return ("relief", "relief.volunteer_shift.completed.v1", {
            "shift_id": shift_id, "person_id": person, "activity": "environment_cleanup", "hours": "2.00",
            "completed_at": "2024-09-21T10:00:00+08:00"}, f"volunteer-shifts/{shift_id}",
            f"environment_cleanup:shift:{shift_id}:{person}", POINTS[kind])

    def run_staged(self, batch: int = 50) -> None:
        i = 0
        while i < self.n_staged:
            self.pace(i, self.n_staged)
            items = [self.staged_event(j) for j in range(i, min(self.n_staged, i + batch))]
            for service in ("disputes", "relief"):
                mine = [it for it in items if it[0] == service]
                if not mine:
                    continue
                pause = 0.2
                while True:  # one transaction per batch and service; retried while the database is away
                    try:
                        outbox.configure(service, f"http://localhost/{service}")
                        with Session(engine_for(self.urls[service])) as session:
                            for _svc, etype, data, subject, _key, _pts in mine:
                                outbox.publish(session, etype, data, subject=subject)
                            session.commit()
                        break
                    except Exception as exc:  # noqa: BLE001 - OperationalError while the database refuses
                        self.log(f"[chaos] staging batch retried ({type(exc).__name__})")
                        time.sleep(pause)
                        pause = min(2.0, pause * 1.5)
                for *_rest, key, pts in mine:
                    self.expect(key, pts)
            i += len(items)
            self.progress[1] = i

    # -- faults ------------------------------------------------------------------------------------------
    def probe(self, stop: threading.Event) -> None:
        """Database-backed reads of each service, as fast as they answer, while the outage lasts."""
        paths = {"disputes": "/api/v1/cases?limit=1", "points": "/api/v1/accounts?limit=1",
                 "relief": f"/api/v1/volunteer-shifts/{self.shifts[0]}"}
        while not stop.is_set():
            for service, path in paths.items():
                self.http.call(service, "GET", path, headers=CLERK if service == "points" else
                               (GW if service == "disputes" else COMMUNITY))
                self.http.call(service, "GET", "/readyz")
            time.sleep(0.05)

    def database_outage(self) -> None:
        names = [url.rsplit("/", 1)[1] for s, url in self.urls.items() if s in self.outage_services]
        stop = threading.Event()
        probes = [threading.Thread(target=self.probe, args=(stop,), daemon=True) for _ in range(2)]
        start = time.monotonic()
        refuse_connections(names)
        self.fault(f"PostgreSQL refuses connections to {len(names)} databases of this run")
        for p in probes:
            p.start()
        time.sleep(self.outage_seconds)
        # the window closes just before connections are allowed again: every answer inside it came while the
        # databases were away (a request that started inside may still be answered later: recorded, and checked
        # for 500s with everything else)
        end = time.monotonic()
        allow_connections(names)
        stop.set()
        for p in probes:
            p.join(30)
        self.fault(f"PostgreSQL accepts connections again ({end - start:.1f}s)")
        self.report.outage = (start, end)

    def faults(self) -> None:
        plan = [
            (0.08, "broker restart 1", lambda: self.broker.restart(down_seconds=2)),
            (0.18, "points worker SIGKILL 1", lambda: self.stack.restart_worker("points", kill=True)),
            (0.26, "disputes worker (relay) SIGKILL", lambda: self.stack.restart_worker("disputes", kill=True)),
            (0.34, "poison messages published", lambda: self.report.poison_ids.extend(_poison(self.broker.url))),
            (0.45, "database outage", self.database_outage),
            (0.58, "points worker SIGKILL 2", lambda: self.stack.restart_worker("points", kill=True)),
            (0.70, "broker restart 2", lambda: self.broker.restart(down_seconds=2)),
            (0.85, "points worker SIGKILL 3", lambda: self.stack.restart_worker("points", kill=True)),
        ]
        for at, what, act in plan:
            while time.monotonic() < self.t_start + self.staging_seconds * at:
                time.sleep(0.05)
            if what != "database outage":
                self.fault(what)
            act()

    # -- the whole run -----------------------------------------------------------------------------------
    def run(self) -> ChaosReport:
        rep = self.report
        self.broker = private_broker(self.workdir / "rabbit")
        self.broker.start()
        rep.timings["broker start"] = time.monotonic() - self.t0
        names = {s: f"wz_{RUN_ID}_chaos_{s}_{os.getpid()}" for s in SERVICES}
        self.urls = {s: create_pg_database(n) for s, n in names.items()}
        self.stack = Stack(list(SERVICES), self.urls, self.broker.url, self.workdir)
        try:
            self.stack.start()
            self.http = Http(self.stack.base)
            self.setup_http()
            rep.timings["stack start"] = time.monotonic() - self.t0
            self.t_start = time.monotonic()
            errors: list[BaseException] = []

            def guarded(fn):
                def run():
                    try:
                        fn()
                    except BaseException as exc:  # noqa: BLE001 - reported below
                        errors.append(exc)
                return threading.Thread(target=run, name=fn.__name__, daemon=True)

            threads = [guarded(self.run_http), guarded(self.run_staged), guarded(self.faults)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
            rep.timings["staging and faults"] = time.monotonic() - self.t_start
            self.wait_for_the_end()
            rep.timings["total"] = time.monotonic() - self.t0
        finally:
            rep.exit_codes = self.stack.stop()
            self.collect_http()
            self.broker.stop()
            dispose_all()
            for name in names.values():
                try:
                    drop_pg_database(name)
                except Exception as exc:  # noqa: BLE001
                    self.log(f"[chaos] could not drop {name}: {exc}")
        return rep

    def credits(self) -> dict[str, tuple[int, int]]:
        with Session(engine_for(self.urls["points"])) as s:
            rows = s.execute(text("SELECT cause_key, count(*), sum(amount) FROM transfers WHERE kind = 'credit' "
                                  "GROUP BY cause_key")).all()
        return {k: (int(n), int(p)) for k, n, p in rows}

    def pending(self) -> dict[str, int]:
        out = {}
        for s in SERVICES:
            with Session(engine_for(self.urls[s])) as session:
                out[s] = session.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar()
        return out

    def wait_for_the_end(self, timeout: float = 300.0) -> None:
        """Until every expected credit is there and every outbox is empty (a relay's lease lasts 60 s), then a
        short quiet spell so that a late duplicate would still show; then read the state."""
        rep = self.report
        deadline = time.monotonic() + timeout
        start = time.monotonic()
        while time.monotonic() < deadline:
            credits = self.credits()
            if all(k in credits for k in self.expected) and not any(self.pending().values()):
                break
            time.sleep(1.0)
        rep.timings["drain after staging"] = time.monotonic() - start
        time.sleep(3.0)
        rep.expected = dict(self.expected)
        credits = self.credits()
        rep.other_credits = credits.pop(None, (0, 0))[0]
        rep.credits = credits
        rep.pending_outbox = self.pending()
        rep.dead = _dead_letters(self.broker.url)

    def collect_http(self) -> None:
        rep = self.report
        answers = list(self.http.answers) if hasattr(self, "http") else []
        rep.all_answers = len(answers)
        rep.answers_500 = [a for a in answers if a.status is not None and a.status >= 500 and a.status != 503]
        rep.transport_errors = [a for a in answers if a.status is None]
        if rep.outage:
            a, b = rep.outage
            rep.outage_answers = [x for x in answers if a <= x.t <= b]


def run(events: int, http_share: float, staging_seconds: float, workdir: Path | None = None,
        outage_seconds: float = 4.0, outage_services=SERVICES, log=print) -> ChaosReport:
    workdir = Path(workdir or tempfile.mkdtemp(prefix="weizhili-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    return Chaos(events, http_share, staging_seconds, workdir, outage_seconds=outage_seconds,
                 outage_services=outage_services, log=log).run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=int(os.environ.get("CHAOS_EVENTS", 10000)))
    parser.add_argument("--http-share", type=float, default=0.1)
    parser.add_argument("--staging-seconds", type=float, default=None,
                        help="spread the events over this many seconds (default: 60 + events/50)")
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument("--outage-services", default=",".join(SERVICES),
                        help="whose databases refuse connections (e.g. points: a backlog waits in its queue)")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    staging = args.staging_seconds or 60 + args.events / 50
    report = run(args.events, args.http_share, staging, Path(args.workdir) if args.workdir else None,
                 outage_seconds=args.outage_seconds, outage_services=args.outage_services.split(","))
    print(report.summary())
    return 0 if not report.problems() else 1


if __name__ == "__main__":
    sys.exit(main())
