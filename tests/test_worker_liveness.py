"""The worker's liveness, as the container health check sees it (``deploy/healthcheck.py worker``).

A real worker process (``python -m shared.worker points``) with ``WORKER_HEARTBEAT_FILE`` set, on a migrated
SQLite database and the test run's RabbitMQ vhost:

- healthy: the heartbeat file is there and keeps being touched, the health check passes, the log is JSON lines
  with ISO 8601 times carrying their offset; SIGTERM ends it with exit code 0;
- one of its threads (the relay, or the consumer of ``points.credits``) dies of an exception nobody caught: the
  worker logs which and why, removes its heartbeat file (the health check fails at once), stops the rest and
  exits 1 on its own, so that the orchestrator restarts it instead of keeping a worker that only looks alive.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from shared.testing import REPO, Process, migrate, service_env, start_worker, wait_until

pytestmark = [pytest.mark.integration]

HEALTHCHECK = [sys.executable, str(REPO / "deploy" / "healthcheck.py"), "worker"]

# A worker whose relay or consumer thread fails after a few seconds, as a bug in it would (started with `-c`, so
# the code under test is the real shared.worker.main; only the one thread's body is replaced).
BROKEN_WORKER = """
import sys
from shared import consumer, relay, worker

def broken(self, stop):
    stop.wait(3.0)  # running (and the heartbeat fresh) for a while, then an exception nobody catches
    raise RuntimeError("injected failure of the " + sys.argv[1])

if sys.argv[1] == "relay":
    relay.Relay.run = broken
else:
    consumer.Consumer.run = broken
sys.exit(worker.main(["points"]))
"""


@pytest.fixture
def worker_env(tmp_path, amqp_url):
    url = f"sqlite:///{tmp_path / 'points.sqlite3'}"
    migrate("points", url)
    heartbeat = tmp_path / "worker-heartbeat"
    env = service_env("points", url, amqp_url, WORKER_HEARTBEAT_FILE=heartbeat, WORKER_HEARTBEAT_MAX_AGE=10)
    return env, heartbeat


def healthcheck(env) -> subprocess.CompletedProcess:
    return subprocess.run(HEALTHCHECK, env=env, capture_output=True, text=True, timeout=30)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_heartbeat_is_fresh_while_healthy_and_sigterm_exits_0(tmp_path, worker_env):
    env, heartbeat = worker_env
    proc = start_worker("points", env, tmp_path, name="points-worker")
    try:
        wait_until(heartbeat.exists, 60, message="the heartbeat file")
        first = heartbeat.stat().st_mtime
        wait_until(lambda: heartbeat.stat().st_mtime > first, 30, message="the heartbeat to be touched again")
        check = healthcheck(env)
        assert check.returncode == 0, check.stdout
        assert proc.proc.poll() is None
        wait_until(lambda: "worker started" in proc.output(), 30, message="the start line")
    finally:
        proc.proc.send_signal(signal.SIGTERM)  # what `docker stop` sends (to the container's main process)
        code = proc.proc.wait(60)
        proc.log.close()
    out = proc.output()
    assert code == 0, out[-3000:]
    lines = json_lines(out)
    assert [line["message"] for line in lines if line["logger"] == "weizhili.worker"] == ["worker started",
                                                                                          "worker stopped"]
    for line in lines:  # ISO 8601 with the offset, like gunicorn's access log
        stamp = datetime.fromisoformat(line["time"])
        assert stamp.utcoffset() is not None and "T" in line["time"], line
        assert line["service"] == "points-worker"
    assert not any(line["level"] in ("ERROR", "CRITICAL") for line in lines), out[-3000:]


@pytest.mark.parametrize("part", ["relay", "points.credits"])
def test_a_dead_thread_stops_the_heartbeat_and_the_process_exits_1(tmp_path, worker_env, part):
    env, heartbeat = worker_env
    argv = [sys.executable, "-c", BROKEN_WORKER, "relay" if part == "relay" else "consumer"]
    proc = Process(f"broken-{part}", argv, env, tmp_path).start()
    try:
        wait_until(heartbeat.exists, 60, message="the heartbeat while every thread runs")
        assert healthcheck(env).returncode == 0
        code = proc.proc.wait(60)  # it ends on its own
    finally:
        if proc.proc.poll() is None:
            proc.kill()
        proc.log.close()
    out = proc.output()
    assert code == 1, out[-3000:]
    assert not heartbeat.exists()
    check = healthcheck(env)
    assert check.returncode == 1 and "no heartbeat file" in check.stdout
    lines = json_lines(out)
    failed = [line for line in lines if line["message"] == f"worker thread {part} failed"]
    assert failed and failed[0]["level"] == "ERROR" and "injected failure" in failed[0]["exc_info"], out[-3000:]
    stopping = [line for line in lines if line["message"].startswith(f"worker thread {part} stopped")]
    assert stopping and stopping[0]["dead_threads"] == [part]
    # the other threads were stopped as on SIGTERM before the exit
    assert any(line["message"] == "worker stopped" for line in lines)
    assert "Traceback" not in "".join(line for line in out.splitlines() if not line.startswith("{"))
