"""``make bench``: the benchmark suite (issue 10), printed as one table and saved to build/bench-results.json.

1. the pipeline (bench/pipeline.py): events/s of a backlog and p50/p99 at a steady 100 events/s, beside a bare
   pika publish-confirm + consume loop and a bare PostgreSQL insert+commit loop, in the same run;
2. each service's main write and read endpoint under a bounded, closed-loop load (threads with keep-alive
   connections to 127.0.0.1, a fixed time and a request cap; a Python stand-in for wrk), beside a bare Flask
   endpoint served by the same gunicorn configuration (deploy/gunicorn.conf.py): requests/s and the ratio;
3. the balance read (GET /accounts/{id}) and the first statement page (GET /accounts/{id}/entries) at 1,000 and
   at 1,000,000 ledger entries of the account read (rows staged with generate_series in a database of this run);
4. the seed replay's wall time (tools/replay, when it is in the tree);
5. peak memory (VmHWM from /proc) of every process started.

Everything runs on PostgreSQL databases and a RabbitMQ vhost created for this run and dropped afterwards.
Speed is a figure, never a pass/fail (TESTING.md).

    .venv/bin/python bench/run.py [--quick] [--skip pipeline,http,ledger,replay] [--seconds 10]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from sqlalchemy import text  # noqa: E402

from shared.db import dispose_all, engine_for  # noqa: E402
from shared.testing import (RUN_ID, Process, Stack, amqp_url_for, auth, create_pg_database,  # noqa: E402
                            drop_pg_database, free_port, migrate, rabbitmqctl, service_env, wait_until)

ADMIN = auth("bench-admin", "admin")
CLERK = auth("bench-clerk", "clerk")
GW = auth("P900001", "grid_worker", "mediator")
MARKET = auth("bench-staff", "market_staff")
RESULTS: dict = {"machine": {}, "pipeline": {}, "http": [], "ledger": [], "replay": {}, "memory": {}}


# -- the machine ------------------------------------------------------------------------------------------------
def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gib"] = round(int(mem) / 1024 / 1024, 1)
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                           if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import psycopg
        from shared.testing import PG_ADMIN_URL
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=5) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001
        info["postgresql"] = f"? ({type(exc).__name__})"
    try:
        info["rabbitmq"] = rabbitmqctl("version").strip()
    except Exception as exc:  # noqa: BLE001
        info["rabbitmq"] = f"? ({type(exc).__name__})"
    info["load_before"] = os.getloadavg()
    return info


def busy_processes() -> list[str]:
    """Other processes using CPU now (to say what else ran during the benchmark)."""
    out = subprocess.run(["ps", "-eo", "pcpu,pid,args", "--sort=-pcpu", "--no-headers"], capture_output=True,
                         text=True).stdout.splitlines()
    me = str(os.getpid())
    return [line.strip()[:140] for line in out[:8] if float(line.split()[0]) >= 5.0 and line.split()[1] != me]


# -- peak memory --------------------------------------------------------------------------------------------------
def vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def record_memory(label: str, proc: Process) -> None:
    """Peak memory of a process and (gunicorn) its workers: master, and the largest worker."""
    if proc.proc is None or proc.proc.poll() is not None:
        return
    pids = tree(proc.proc.pid)
    values = {p: vm_hwm(p) for p in pids}
    values = {p: v for p, v in values.items() if v}
    if not values:
        return
    top = values.get(proc.proc.pid)
    others = [v for p, v in values.items() if p != proc.proc.pid]
    entry = {"process_kb": top}
    if others:
        entry["largest_child_kb"] = max(others)
        entry["children"] = len(others)
    RESULTS["memory"][label] = entry


# -- a bounded load generator ---------------------------------------------------------------------------------------
def load(base: str, make, *, threads: int = 8, seconds: float = 10.0, max_requests: int = 50000) -> dict:
    """Closed loop: ``threads`` clients with keep-alive connections call ``make(i) -> (method, path, body,
    headers)`` until ``seconds`` pass or ``max_requests`` were sent. Returns requests/s, p50/p99 (ms), statuses."""
    host, port = base.replace("http://", "").split(":")
    counter = iter(range(max_requests))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    stop_at = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine, codes = [], Counter()
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = make(i)
            data = json.dumps(body).encode() if body is not None else None
            hdrs = {**headers, **({"Content-Type": "application/json"} if data else {})}
            t = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                resp.read()
                codes[resp.status] += 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                codes[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                continue
            mine.append(time.perf_counter() - t)
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    start = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - start
    latencies.sort()
    n = len(latencies)
    return {"requests": n, "seconds": round(elapsed, 2), "rps": n / elapsed if elapsed else 0.0,
            "p50_ms": latencies[n // 2] * 1000 if n else None,
            "p99_ms": latencies[max(0, int(n * 0.99) - 1)] * 1000 if n else None,
            "statuses": {str(k): v for k, v in statuses.items()}}


def sequential(base: str, path: str, headers: dict, n: int = 200) -> dict:
    """One client, one request at a time: the latency of a single read (p50/p99 ms)."""
    s = requests.Session()
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        r = s.get(base + path, headers=headers, timeout=60)
        lat.append(time.perf_counter() - t)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
    lat.sort()
    return {"p50_ms": lat[n // 2] * 1000, "p99_ms": lat[max(0, int(n * 0.99) - 1)] * 1000}


# -- gunicorn, as deployed --------------------------------------------------------------------------------------------
def gunicorn(app_spec: str, env: dict, log_dir: Path, name: str) -> tuple[Process, str]:
    port = free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": "0"}  # 0: the config's default, 2 × CPUs + 1
    argv = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"), app_spec]
    proc = Process(f"{name}-{port}", argv, env, log_dir).start()
    base = f"http://127.0.0.1:{port}"

    def up():
        if proc.proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {proc.output()[-2000:]}")
        try:
            return requests.get(base + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, 90, message=f"{name} to answer")
    return proc, base


def post(base, path, body, headers, expect=201):
    r = requests.post(base + path, json=body, headers=headers, timeout=60)
    assert r.status_code == expect, (path, r.status_code, r.text[:300])
    return r.json()


# each service: (setup(base) -> context, write(ctx, i), read(ctx, i)); the main write and the main read
def _disputes(base):
    case = post(base, "/api/v1/cases", {"channel": "hotline", "category": "estate_internal", "estate": "兴隆苑",
                                        "summary": "读", "reported_at": "2024-06-01T09:00:00+08:00"}, GW)
    return {"case": case["id"]}


def _disputes_write(ctx, i):
    return ("POST", "/api/v1/cases", {"channel": "hotline", "category": "estate_internal", "estate": "兴隆苑",
                                      "summary": f"充电桩坏了 {i}", "reported_at": "2024-06-01T09:00:00+08:00"}, GW)


def _points(base):
    post(base, "/api/v1/rules", {"code": "bench_manual", "category": "civility_campaign", "unit": "manual",
                                 "points": 1}, ADMIN)
    post(base, "/api/v1/credits", {"person_id": "PREAD", "rule": "bench_manual", "quantity": 5, "reason": "r"}, CLERK)
    return {}


def _relief(base):
    cid = post(base, "/api/v1/campaigns", {"name": "基准", "opens_on": "2023-01-01", "closes_on": "2023-12-31"},
               CLERK)["id"]
    return {"campaign": cid, "run": uuid.uuid4().hex[:6]}


def _jobmarket(base):
    cards = [post(base, "/api/v1/workers", {"card_no": f"W-{i:04d}"}, MARKET)["card_no"] for i in range(1, 201)]
    days = [f"2024-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]
    return {"cards": cards, "days": days, "made": set()}


def _jobmarket_write(ctx, i):
    day = ctx["days"][i // len(ctx["cards"])]
    if day not in ctx["made"]:  # a new day when the previous one is full (one ticket per worker per day)
        with _day_lock:
            if day not in ctx["made"]:
                post(ctx["base"], "/api/v1/meal-days", {"served_on": day, "capacity": 10000}, MARKET)
                ctx["made"].add(day)
    return ("POST", "/api/v1/meal-tickets", {"worker": ctx["cards"][i % len(ctx["cards"])],
                                             "issued_at": f"{day}T11:30:00+08:00"}, MARKET)


_day_lock = threading.Lock()

SERVICES = {
    "disputes": (_disputes, "POST /cases", _disputes_write,
                 "GET /cases/{id}", lambda c, i: ("GET", f"/api/v1/cases/{c['case']}", None, GW)),
    "points": (_points, "POST /credits", lambda c, i: ("POST", "/api/v1/credits", {
        "person_id": f"PB{i % 500}", "rule": "bench_manual", "quantity": 1, "reason": "bench"}, CLERK),
        "GET /accounts/{id}", lambda c, i: ("GET", "/api/v1/accounts/PREAD", None, CLERK)),
    "relief": (_relief, "POST /campaigns/{id}/donations", lambda c, i: (
        "POST", f"/api/v1/campaigns/{c['campaign']}/donations", {
            "receipt_no": f"B-{c['run']}-{i}", "level": "county", "county": "河津市", "amount": "100.00",
            "received_at": "2023-03-01T10:00:00+08:00",
            "donor": {"kind": "individual", "name": "何玲万", "person_id": "P001568"}}, CLERK),
        "GET /campaigns/{id}/totals", lambda c, i: ("GET", f"/api/v1/campaigns/{c['campaign']}/totals", None, CLERK)),
    "jobmarket": (_jobmarket, "POST /meal-tickets", _jobmarket_write,
                  "GET /meal-days/{day}", lambda c, i: ("GET", "/api/v1/meal-days/2024-01-01", None, MARKET)),
}


def bench_http(amqp_url: str, log_dir: Path, seconds: float, threads: int) -> None:
    env = service_env("bench", "sqlite://", amqp_url, LOG_LEVEL="WARNING")
    proc, base = gunicorn("bench.bare_app:create_app()", {**env, "SERVICE_NAME": "bare"}, log_dir, "bare")
    try:
        load(base, lambda i: ("GET", "/bare", None, {}), threads=threads, seconds=2)  # warm-up
        bare_read = load(base, lambda i: ("GET", "/bare", None, {}), threads=threads, seconds=seconds)
        bare_write = load(base, lambda i: ("POST", "/bare", {"n": i, "text": "充电桩坏了"}, {}), threads=threads,
                          seconds=seconds)
        record_memory("bare Flask (gunicorn)", proc)
    finally:
        proc.stop()
    RESULTS["http"].append({"service": "bare Flask", "endpoint": "GET /bare", **bare_read, "ratio": 1.0})
    RESULTS["http"].append({"service": "bare Flask", "endpoint": "POST /bare", **bare_write, "ratio": 1.0})
    for service, (setup, wname, write, rname, read) in SERVICES.items():
        db = f"wz_bench_{RUN_ID}_http_{service}"
        url = create_pg_database(db)
        try:
            migrate(service, url)
            proc, base = gunicorn(f"services.{service}.app:create_app()",
                                  service_env(service, url, amqp_url, LOG_LEVEL="WARNING"), log_dir, service)
            try:
                ctx = setup(base)
                ctx["base"] = base
                load(base, lambda i: read(ctx, i), threads=threads, seconds=2)  # warm-up
                w = load(base, lambda i: write(ctx, i), threads=threads, seconds=seconds, max_requests=30000)
                r = load(base, lambda i: read(ctx, i), threads=threads, seconds=seconds)
                record_memory(f"{service} web (gunicorn)", proc)
            finally:
                proc.stop()
            RESULTS["http"].append({"service": service, "endpoint": wname, **w,
                                    "ratio": w["rps"] / bare_write["rps"]})
            RESULTS["http"].append({"service": service, "endpoint": rname, **r,
                                    "ratio": r["rps"] / bare_read["rps"]})
        finally:
            dispose_all()
            drop_pg_database(db)


# -- ledger reads at 1,000 and 1,000,000 entries --------------------------------------------------------------------
STAGE = """
INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, state, kind, rule_code, rule_version,
                       category, cause_key, note, occurred_at, created_at)
SELECT :prefix || g, :issuing, :account, 1, 'posted', 'credit', 'bench_manual', 1, 'civility_campaign',
       'bench:' || :prefix || g, NULL, timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second', now()
FROM generate_series(1, :n) AS g
"""


def stage_entries(engine, person: str, n: int) -> float:
    start = time.perf_counter()
    with engine.begin() as conn:
        account = conn.execute(text("SELECT id FROM accounts WHERE person_id = :p"), {"p": person}).scalar_one()
        issuing = conn.execute(text("SELECT id FROM accounts WHERE code = 'issuing'")).scalar_one()
        conn.execute(text(STAGE), {"prefix": f"{person}-", "issuing": issuing, "account": account, "n": n})
        conn.execute(text("UPDATE accounts SET credits_posted = credits_posted + :n WHERE id = :a"),
                     {"n": n, "a": account})
        conn.execute(text("UPDATE accounts SET debits_posted = debits_posted + :n WHERE id = :a"),
                     {"n": n, "a": issuing})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE transfers"))
    return time.perf_counter() - start


def bench_ledger(amqp_url: str, log_dir: Path, seconds: float, threads: int, big: int) -> None:
    db = f"wz_bench_{RUN_ID}_ledger"
    url = create_pg_database(db)
    try:
        migrate("points", url)
        proc, base = gunicorn("services.points.app:create_app()",
                              service_env("points", url, amqp_url, LOG_LEVEL="WARNING"), log_dir, "points-ledger")
        try:
            post(base, "/api/v1/rules", {"code": "bench_manual", "category": "civility_campaign", "unit": "manual",
                                         "points": 1}, ADMIN)
            for person in ("PSMALL", "PBIG"):
                post(base, "/api/v1/credits", {"person_id": person, "rule": "bench_manual", "quantity": 1,
                                               "reason": "open"}, CLERK)
            engine = engine_for(url)
            staged = {"PSMALL": stage_entries(engine, "PSMALL", 999)}  # + the opening credit: 1,000

            def measure(person, label, total_rows):
                for what, path in (("balance GET /accounts/{id}", f"/api/v1/accounts/{person}"),
                                   ("first statement page GET /accounts/{id}/entries?limit=20",
                                    f"/api/v1/accounts/{person}/entries?limit=20")):
                    one = sequential(base, path, CLERK, n=100)
                    many = load(base, lambda i: ("GET", path, None, CLERK), threads=threads, seconds=seconds / 2)
                    RESULTS["ledger"].append({"case": label, "table_rows": total_rows, "read": what,
                                              "p50_ms": one["p50_ms"], "p99_ms": one["p99_ms"], "rps": many["rps"],
                                              "statuses": many["statuses"]})

            measure("PSMALL", "account with 1,000 entries", 1001)
            staged["PBIG"] = stage_entries(engine, "PBIG", big - 1)
            measure("PBIG", f"account with {big:,} entries", big + 1000)
            measure("PSMALL", "account with 1,000 entries (table now large)", big + 1000)
            RESULTS["ledger_staging_seconds"] = staged
            record_memory("points web (gunicorn), ledger reads", proc)
        finally:
            proc.stop()
    finally:
        dispose_all()
        drop_pg_database(db)


# -- the seed replay ------------------------------------------------------------------------------------------------
def bench_replay(amqp_vhost_url: str, log_dir: Path, timeout: float) -> None:
    if not (REPO / "tools" / "replay" / "__main__.py").exists():
        RESULTS["replay"] = {"status": "tools/replay is not in the tree: no figure"}
        return
    scenario = Path(os.environ.get("SEED_SCENARIO", "/work/shared/data/seed-scenario"))
    services = ["disputes", "points", "relief", "jobmarket"]
    names = {s: f"wz_bench_{RUN_ID}_replay_{s}" for s in services}
    urls = {s: create_pg_database(n) for s, n in names.items()}
    stack = Stack(services, urls, amqp_vhost_url, log_dir)
    try:
        stack.start()
        env = {**os.environ, **{f"{s.upper()}_URL": stack.base[s] for s in services}}
        start = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "tools.replay", str(scenario), "--no-progress"], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=timeout)
        wall = time.monotonic() - start
        RESULTS["replay"] = {"status": "ok" if out.returncode == 0 else f"exit {out.returncode}",
                             "wall_seconds": wall, "tail": (out.stdout + out.stderr)[-1500:]}
        for s in services:
            record_memory(f"{s} web (gunicorn), after the replay", stack.web[s])
            record_memory(f"{s} worker, after the replay", stack.workers[s])
    except subprocess.TimeoutExpired:
        RESULTS["replay"] = {"status": f"did not finish within {timeout:.0f}s"}
    finally:
        stack.stop()
        dispose_all()
        for n in names.values():
            drop_pg_database(n)


# -- the table ------------------------------------------------------------------------------------------------------
def table() -> str:
    m = RESULTS["machine"]
    lines = [f"weizhili benchmarks — {m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('memory_gib')} GiB, "
             f"PostgreSQL {m.get('postgresql')}, RabbitMQ {m.get('rabbitmq')}, Python {m.get('python')}",
             f"load average before {tuple(round(x, 2) for x in m.get('load_before', ()))}, after "
             f"{tuple(round(x, 2) for x in m.get('load_after', ()))}"]
    if m.get("busy"):
        lines.append("other processes using CPU at the end: " + " | ".join(m["busy"]))
    if RESULTS["pipeline"]:
        lines.append("\npipeline (PostgreSQL → relay → RabbitMQ → consumer → ledger)")
        for k, v in RESULTS["pipeline"].items():
            lines.append(f"  {k:<68} {v:10.1f}")
    if RESULTS["http"]:
        lines.append("\nHTTP endpoints (gunicorn as deployed; closed loop, keep-alive, 127.0.0.1)")
        lines.append(f"  {'service':<11} {'endpoint':<30} {'req/s':>8} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8}  "
                     "statuses")
        for r in RESULTS["http"]:
            lines.append(f"  {r['service']:<11} {r['endpoint']:<30} {r['rps']:8.0f} {r['ratio']:6.2f} "
                         f"{r['p50_ms'] or 0:8.1f} {r['p99_ms'] or 0:8.1f}  {r['statuses']}")
    if RESULTS["ledger"]:
        lines.append("\nledger reads (points, PostgreSQL; p50/p99 one at a time, req/s under load)")
        for r in RESULTS["ledger"]:
            lines.append(f"  {r['case']:<44} {r['read']:<58} p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms"
                         f"  {r['rps']:6.0f} req/s")
        if RESULTS.get("ledger_staging_seconds"):
            lines.append("  staging with generate_series: " + ", ".join(
                f"{k} {v:.1f}s" for k, v in RESULTS["ledger_staging_seconds"].items()))
    if RESULTS["replay"]:
        rp = RESULTS["replay"]
        lines.append(f"\nseed replay: {rp['status']}" + (f", wall time {rp['wall_seconds']:.1f}s"
                                                          if "wall_seconds" in rp else ""))
    if RESULTS["memory"]:
        lines.append("\npeak memory (VmHWM)")
        for label, e in RESULTS["memory"].items():
            extra = (f", largest of {e['children']} children {e['largest_child_kb'] / 1024:.0f} MiB"
                     if "largest_child_kb" in e else "")
            lines.append(f"  {label:<48} {(e['process_kb'] or 0) / 1024:6.0f} MiB{extra}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="the weizhili benchmark suite")
    parser.add_argument("--skip", default="", help="comma-separated: pipeline,http,ledger,replay")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per endpoint (bounded)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--big", type=int, default=1_000_000, help="entries of the large account")
    parser.add_argument("--events", type=int, default=3000, help="pipeline backlog")
    parser.add_argument("--replay-timeout", type=float, default=1800)
    parser.add_argument("--quick", action="store_true", help="small figures, to check the suite runs")
    parser.add_argument("--out", default=str(REPO / "build" / "bench-results.json"))
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.big, args.events = 2.0, 20_000, 300
    skip = set(filter(None, args.skip.split(",")))
    RESULTS["machine"] = machine()
    log_dir = Path(tempfile.mkdtemp(prefix="weizhili-bench-"))
    vhost = f"weizhili-bench-{RUN_ID}-{os.getpid()}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    started = time.monotonic()
    try:
        if "pipeline" not in skip:
            sys.path.insert(0, str(REPO / "bench"))
            import pipeline
            results, memory = pipeline.run(args.events, 10 if args.quick else 20, 100)
            RESULTS["pipeline"] = results
            for name, kb in memory.items():
                RESULTS["memory"][f"{name.split('-')[0]} worker (pipeline)"] = {"process_kb": kb}
        if "http" not in skip:
            bench_http(amqp_url_for(vhost), log_dir, args.seconds, args.threads)
        if "ledger" not in skip:
            bench_ledger(amqp_url_for(vhost), log_dir, args.seconds, args.threads, args.big)
        if "replay" not in skip:
            bench_replay(amqp_url_for(vhost), log_dir, args.replay_timeout)
    finally:
        rabbitmqctl("delete_vhost", vhost)
        RESULTS["machine"]["load_after"] = os.getloadavg()
        RESULTS["machine"]["busy"] = busy_processes()
        RESULTS["machine"]["wall_seconds"] = time.monotonic() - started
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(RESULTS, indent=2, ensure_ascii=False, default=str))
    print(table())
    print(f"\n(wall time {RESULTS['machine']['wall_seconds']:.0f}s; figures saved to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
