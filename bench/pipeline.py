"""Pipeline benchmark (issue 2): events per second from a committed resolution to a committed credit, on
PostgreSQL, and the p50/p99 latency at a steady 100 events/s — beside a bare pika publish-with-confirm +
consume loop and a bare one-row-insert-per-commit PostgreSQL loop measured in the same run.

Input is staged straight into the disputes outbox (``shared.outbox.publish``, as the domain layer does), so
the figures measure the pipeline (relay → broker → consumer → ledger), not an HTTP client. The relay and the
points consumer run as the real worker processes (``python -m shared.worker``).

    .venv/bin/python bench/pipeline.py [--events 3000] [--steady-seconds 20]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pika  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from shared import outbox  # noqa: E402
from shared.db import engine_for, dispose_all  # noqa: E402
from shared.testing import (RUN_ID, amqp_url_for, create_pg_database, drop_pg_database, migrate,  # noqa: E402
                            rabbitmqctl, service_env, start_worker, wait_until)


def bare_pg_inserts(url: str, n: int) -> float:
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_rows (id serial PRIMARY KEY, payload text)"))
    start = time.perf_counter()
    with engine.connect() as conn:
        for i in range(n):
            conn.execute(text("INSERT INTO bench_rows (payload) VALUES (:p)"), {"p": f"row {i}"})
            conn.commit()
    return n / (time.perf_counter() - start)


def bare_pika(amqp_url: str, n: int) -> float:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = conn.channel()
    q = ch.queue_declare("bench.bare", durable=True).method.queue
    ch.confirm_delivery()
    body = b"x" * 600
    start = time.perf_counter()
    for _ in range(n):
        ch.basic_publish("", q, body, pika.BasicProperties(delivery_mode=2), mandatory=True)
    got = 0
    consumer = conn.channel()
    consumer.basic_qos(prefetch_count=100)
    for method, _props, _body in consumer.consume(q):
        consumer.basic_ack(method.delivery_tag)
        got += 1
        if got == n:
            break
    elapsed = time.perf_counter() - start
    consumer.cancel()
    conn.close()
    return n / elapsed


def stage(engine, count: int, prefix: str) -> None:
    with Session(engine) as session:
        for i in range(count):
            now = datetime.now(timezone.utc)
            outbox.publish(session, "disputes.case.resolved.v1", {
                "case_id": f"{prefix}-{i}", "resolution_no": 1, "category": "neighbour_family",
                "grade": "blue", "resolved_at": now.isoformat(), "session_id": None,
                "participants": [{"person_id": f"{prefix}-P{i}", "role": "mediator"}]}, subject=f"cases/{prefix}-{i}")
        session.commit()


def credits(engine, like: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM transfers t JOIN accounts a ON a.id = t.credit_account_id "
                                 "WHERE a.person_id LIKE :p AND t.kind = 'credit'"), {"p": like}).scalar()


def peak_memory(pid: int) -> int | None:
    """VmHWM (peak resident set, kB) of a live process, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--steady-seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=100)
    args = parser.parse_args()
    results, memory = run(args.events, args.steady_seconds, args.rate)
    width = max(len(k) for k in results)
    print(f"\nweizhili pipeline benchmark — {os.cpu_count()} cores, PostgreSQL, RabbitMQ")
    for k, v in results.items():
        print(f"  {k:<{width}}  {v:10.1f}")
    for name, kb in memory.items():
        print(f"  peak memory {name}: {kb / 1024:.0f} MiB")
    return 0


def run(events: int = 3000, steady_seconds: int = 20, rate: int = 100) -> tuple[dict, dict]:
    """The pipeline figures ``{name: value}`` and the workers' peak memory ``{process: kB}``."""
    from types import SimpleNamespace
    args = SimpleNamespace(events=events, steady_seconds=steady_seconds, rate=rate)
    memory: dict[str, int] = {}
    outbox.configure("disputes", "http://localhost:8001")
    vhost = f"weizhili-bench-{RUN_ID}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    amqp_url = amqp_url_for(vhost)
    urls = {s: create_pg_database(f"wz_bench_{RUN_ID}_{s}") for s in ("disputes", "points", "bare")}
    workers = []
    results = {}
    try:
        results["bare PostgreSQL insert+commit loop (rows/s)"] = bare_pg_inserts(urls["bare"], args.events)
        results["bare pika publish-confirm + consume (msgs/s)"] = bare_pika(amqp_url, args.events)
        for s in ("disputes", "points"):
            migrate(s, urls[s])
        d_engine, p_engine = engine_for(urls["disputes"]), engine_for(urls["points"])
        logs = Path(tempfile.mkdtemp(prefix="weizhili-bench-"))
        # start the consumer first so its queue exists, then stage a backlog and start the relay
        workers.append(start_worker("points", service_env("points", urls["points"], amqp_url), logs, "points-worker"))
        time.sleep(3)
        stage(d_engine, args.events, "T")
        start = time.perf_counter()
        workers.append(start_worker("disputes", service_env("disputes", urls["disputes"], amqp_url), logs,
                                    "disputes-worker"))
        wait_until(lambda: credits(p_engine, "T-P%") >= args.events, 600, interval=0.2, message="backlog credited")
        results["pipeline backlog, resolve → credit (events/s, incl. worker start)"] = \
            args.events / (time.perf_counter() - start)
        with p_engine.connect() as conn:  # the same backlog once the workers run: first credit to last
            first, last = conn.execute(text(
                "SELECT min(t.created_at), max(t.created_at) FROM transfers t JOIN accounts a "
                "ON a.id = t.credit_account_id WHERE a.person_id LIKE 'T-P%'")).one()
        results["pipeline backlog, first → last credit (events/s, workers running)"] = \
            (args.events - 1) / max((last - first).total_seconds(), 1e-3)

        # steady load: one committed resolution every 1/rate seconds; latency = credit created - outbox created
        stop_at = time.monotonic() + args.steady_seconds
        interval, n = 1.0 / args.rate, 0
        next_t = time.monotonic()
        while time.monotonic() < stop_at:
            stage(d_engine, 1, f"S{n}")
            n += 1
            next_t += interval
            time.sleep(max(0.0, next_t - time.monotonic()))
        wait_until(lambda: credits(p_engine, "S%") >= n, 120, message="steady credits")
        with d_engine.connect() as conn:
            made = dict(conn.execute(text("SELECT subject, created_at FROM outbox WHERE subject LIKE 'cases/S%'")).all())
        with p_engine.connect() as conn:
            done = conn.execute(text("SELECT a.person_id, t.created_at FROM transfers t JOIN accounts a "
                                     "ON a.id = t.credit_account_id WHERE a.person_id LIKE 'S%'")).all()
        lat = []
        for person, credited_at in done:
            prefix = person.rsplit("-P", 1)[0]
            created = made[f"cases/{prefix}-0"]
            lat.append((credited_at - created).total_seconds() * 1000)
        lat.sort()
        results[f"steady {args.rate}/s: achieved rate (events/s)"] = n / args.steady_seconds
        results[f"steady {args.rate}/s: p50 latency (ms)"] = statistics.median(lat)
        results[f"steady {args.rate}/s: p99 latency (ms)"] = lat[int(len(lat) * 0.99) - 1]
    finally:
        for w in workers:
            if w.proc is not None:
                memory[w.name] = peak_memory(w.proc.pid)
            w.stop()
        dispose_all()
        for url in urls.values():
            drop_pg_database(url.rsplit("/", 1)[1])
        rabbitmqctl("delete_vhost", vhost)
    return results, memory


if __name__ == "__main__":
    sys.exit(main())
