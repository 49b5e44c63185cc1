"""The whole docker-compose.yml topology as local processes (TESTING.md, "Containers without Docker").

No Docker here, so each container of docker-compose.yml is started as a local process with exactly the command
compose gives it (which is deploy/Procfile's line) and exactly the environment keys the container gets (compose's
``environment`` after its anchors are merged, plus the image's ``ENV`` from deploy/Dockerfile). The values are
compose's own, interpolated the way compose does it (``${NAME:-default}``, ``${NAME:?error}``), from one table,
:data:`LOCAL_VALUES` (also in deploy/README.md), that says what changes when the places change: the compose hosts
``postgres`` and ``rabbitmq`` become 127.0.0.1, the fixed ports free ones, the passwords test values, the
container paths directories of this test.

PostgreSQL: the machine's server, with one database and one login per service made by deploy/postgres-init.sh
itself (run twice: it is safe to run again), under names of this test run; RabbitMQ: a vhost of this test run.

What it proves, in this order:

1. the migrate one-shots run together, ``points-migrate`` twice at once, and each database ends at its head
   revision with every table owned by the service's own login (no superuser needed);
2. every web and worker process starts and passes its container health check (the compose ``healthcheck``
   command, run with the process's environment);
3. the first flow: a case resolved in disputes credits its mediator 20 points, read from points;
4. a second points worker and a second points web (``--scale points-worker=2 points-web=2``) run beside the
   first: 50 more resolutions, sent concurrently, are credited exactly once each (counted in the points database),
   both points relays together publish each ``points.credited.v1`` once, and a SIGTERM to the first points
   worker in the middle of the stream loses nothing;
5. SIGTERM to every process (what ``docker stop`` sends through ``init``): each exits 0, and nothing is left
   behind: every outbox sent, the queues empty, every log line JSON with an ISO 8601 time with offset.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pika
import psycopg
import pytest
import requests
import yaml
from cryptography.fernet import Fernet

from shared.testing import (AMQP_HOST, AMQP_PORT, PG_ADMIN_URL, REPO, RUN_ID, Process, free_port, pg_enabled,
                            rabbitmqctl, token, wait_until)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVICES = ["disputes", "points", "relief", "jobmarket"]
PG = urlsplit(PG_ADMIN_URL)

#: THE TABLE (deploy/README.md, "Running the containers' commands as local processes"): what each container gets
#: → what its local process gets. Keys naming a variable of docker-compose.yml's ``${...}`` are the test's
#: ``.env`` (compose interpolates them); the others are values written literally in docker-compose.yml or
#: deploy/Dockerfile. ``{...}`` are filled in per run and per process (:func:`fill`).
LOCAL_VALUES = {
    # -- the .env of the test ------------------------------------------------------------------------------------
    "POSTGRES_HOST": "127.0.0.1",                  # container: postgres (the compose service)
    "POSTGRES_PORT": str(PG.port or 5432),         # container: 5432
    "RABBITMQ_HOST": AMQP_HOST,                    # container: rabbitmq (the compose service)
    "RABBITMQ_PORT": str(AMQP_PORT),               # container: 5672
    "RABBITMQ_USER": "guest",                      # container: weizhili (made by the rabbitmq image)
    "RABBITMQ_PASSWORD": "guest",                  # container: the .env secret
    "RABBITMQ_VHOST": "{vhost}",                   # container: weizhili
    "JWT_SECRET": "{jwt_secret}",                  # container: the .env secret
    "DISPUTES_DB_PASSWORD": "{db_password}",       # container: the .env secrets
    "POINTS_DB_PASSWORD": "{db_password}",
    "RELIEF_DB_PASSWORD": "{db_password}",
    "JOBMARKET_DB_PASSWORD": "{db_password}",
    "RELIEF_ID_FERNET_KEYS": "{fernet_key}",       # container: the .env secret (a Fernet key)
    "RELIEF_ID_HMAC_KEY": "{hmac_key}",            # container: the .env secret
    "WEB_CONCURRENCY": "1",                        # container: 0 = 2 x CPUs + 1; here 14 processes share 2 CPUs
    # -- written literally in docker-compose.yml or deploy/Dockerfile --------------------------------------------
    "DATABASE_URL login and database": "wzt_{run}_<service>",  # container: <service> (postgres-init.sh makes both)
    "PORT": "{free_port}",                         # container: 8001-8004
    "PROMETHEUS_MULTIPROC_DIR": "{process_dir}/metrics",   # container: /run/metrics (a tmpfs)
    "WORKER_HEARTBEAT_FILE": "{process_dir}/heartbeat",    # container: /tmp/worker-heartbeat (a tmpfs)
    "PYTHONPATH": "{repo}",                        # container: /app (the image's WORKDIR: here the repository)
    "PATH": "{venv_bin}:{host_path}",              # container: /opt/venv/bin:$PATH
}
#: What must not survive the mapping in any local value: the containers' host names and paths.
CONTAINER_ONLY = re.compile(r"@postgres[:/]|@rabbitmq[:/]|/run/metrics|/tmp/worker-heartbeat|^/app$|/opt/venv")


# --- compose as compose reads it ------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's interpolation: ``$$``, ``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``,
    ``${NAME:?error}``, ``${NAME?error}``."""

    def one(match):
        if match.group(1):
            return "$"
        name = match.group(2) or match.group(5)
        op, arg = match.group(3), match.group(4)
        found = dotenv.get(name)
        if op == ":-":
            return found if found else arg
        if op == "-":
            return found if found is not None else arg
        if op in (":?", "?") and (not found if op == ":?" else found is None):
            raise AssertionError(f"compose would refuse to start: {name}: {arg}")
        return found or ""

    return _VARIABLE.sub(one, str(value))


def image_env() -> dict[str, str]:
    """The ``ENV`` of deploy/Dockerfile's final stage (every container of the image has these)."""
    text = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    final = re.split(r"^FROM\s", text, flags=re.M)[-1]
    env: dict[str, str] = {}
    for line in final.splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[4:]):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def compose_containers() -> dict[str, dict]:
    """``{container: {"command": str, "env": {key: raw compose value}, "healthcheck": [argv]}}`` of our image."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))  # merges `<<` anchors
    base = image_env()
    containers = {}
    for name, spec in compose["services"].items():
        if "command" not in spec:  # rabbitmq, postgres: the machine's own stand in for them
            continue
        test = (spec.get("healthcheck") or {}).get("test")
        containers[name] = {
            "command": spec["command"],
            "env": {**base, **{k: "" if v is None else str(v) for k, v in (spec.get("environment") or {}).items()}},
            "healthcheck": test[1:] if test and test[0] == "CMD" else None,
        }
    return containers


def procfile() -> dict[str, str]:
    entries = {}
    for line in (REPO / "deploy" / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


# --- the table, applied -----------------------------------------------------------------------------------------

def fill(template: str, ctx: dict) -> str:
    return template.format(**ctx)


def dotenv_of(ctx: dict, compose_variables: set[str]) -> dict[str, str]:
    return {k: fill(v, ctx) for k, v in LOCAL_VALUES.items() if k in compose_variables}


def local_env(container: dict, service: str, ctx: dict, compose_variables: set[str]) -> dict[str, str]:
    """The container's environment with its values mapped by :data:`LOCAL_VALUES`: the same keys, nothing more."""
    dotenv = dotenv_of(ctx, compose_variables)
    env = {key: interpolate(value, dotenv) for key, value in container["env"].items()}
    for key in env:
        if key in LOCAL_VALUES and key not in compose_variables:
            env[key] = fill(LOCAL_VALUES[key], ctx)
    if "DATABASE_URL" in env:  # login and database `<service>` → this run's
        parts = urlsplit(env["DATABASE_URL"])
        assert parts.username == service and parts.path == f"/{service}", parts
        name = fill(LOCAL_VALUES["DATABASE_URL login and database"], ctx).replace("<service>", service)
        netloc = f"{name}:{quote(parts.password or '', safe='')}@{parts.hostname}:{parts.port}"
        env["DATABASE_URL"] = urlunsplit(parts._replace(netloc=netloc, path=f"/{name}"))
    return env


# --- the test's own resources --------------------------------------------------------------------------------------

def pg(db: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(urlunsplit(PG._replace(path=f"/{db}")), autocommit=True, connect_timeout=5)


def postgres_init(names: list[str], password: str) -> None:
    """deploy/postgres-init.sh against 127.0.0.1, as the postgres image runs it, for this run's names."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "PGHOST": PG.hostname or "127.0.0.1",
           "PGPORT": str(PG.port or 5432), "POSTGRES_USER": PG.username or "postgres",
           "WEIZHILI_SERVICES": " ".join(names), **{f"{n.upper()}_DB_PASSWORD": password for n in names}}
    out = subprocess.run(["bash", str(REPO / "deploy" / "postgres-init.sh")], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr + out.stdout


def drop_login_and_database(name: str) -> None:
    with pg() as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


class Topology:
    def __init__(self, tmp: Path, vhost: str):
        self.tmp = tmp
        self.containers = compose_containers()
        self.compose_variables = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)",
                                                (REPO / "docker-compose.yml").read_text(encoding="utf-8")))
        self.ctx = {"run": f"{RUN_ID}{os.getpid()}", "vhost": vhost, "jwt_secret": secrets.token_urlsafe(32),
                    "db_password": secrets.token_urlsafe(16), "fernet_key": Fernet.generate_key().decode(),
                    "hmac_key": secrets.token_urlsafe(32), "repo": str(REPO),
                    "venv_bin": os.path.dirname(sys.executable), "host_path": os.environ.get("PATH", os.defpath)}
        self.running: dict[str, Process] = {}
        self.envs: dict[str, dict] = {}
        self.base: dict[str, str] = {}

    def db_name(self, service: str) -> str:
        return fill(LOCAL_VALUES["DATABASE_URL login and database"], self.ctx).replace("<service>", service)

    def env_for(self, container: str, process: str) -> dict[str, str]:
        process_dir = self.tmp / process
        process_dir.mkdir(exist_ok=True)
        (process_dir / "metrics").mkdir(exist_ok=True)
        ctx = {**self.ctx, "process_dir": str(process_dir), "free_port": str(free_port())}
        service = container.rpartition("-")[0]
        return local_env(self.containers[container], service, ctx, self.compose_variables)

    def start(self, container: str, process: str | None = None) -> Process:
        """Start ``container``'s command as a local process (a second replica under another ``process`` name)."""
        process = process or container
        env = self.env_for(container, process)
        assert set(env) == set(self.containers[container]["env"])  # the same keys as the container, no more
        assert not [v for v in env.values() if CONTAINER_ONLY.search(v)], env
        argv = shlex.split(self.containers[container]["command"])  # compose splits a string command this way
        proc = Process(process, argv, env, self.tmp).start()  # cwd: the repository (the image's WORKDIR /app)
        self.running[process], self.envs[process] = proc, env
        if "PORT" in env:
            self.base[process] = f"http://127.0.0.1:{env['PORT']}"
        return proc

    def healthy(self, process: str, container: str) -> bool:
        """The container's own health check command, run as compose runs it (inside, with its environment)."""
        proc = self.running[process]
        if proc.proc.poll() is not None:
            raise AssertionError(f"{process} exited with {proc.proc.returncode}: {proc.output()[-3000:]}")
        return subprocess.run(self.containers[container]["healthcheck"], cwd=REPO, env=self.envs[process],
                              capture_output=True, timeout=30).returncode == 0  # `python` from the env's PATH

    def sigterm(self, process: str, timeout: float = 60.0, send: bool = True) -> int:
        """What ``docker stop`` does with ``init: true``: SIGTERM to the container's main process, then wait."""
        proc = self.running[process]
        if send:
            proc.proc.send_signal(signal.SIGTERM)
        try:
            return proc.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.signal(signal.SIGKILL)
            proc.proc.wait(10)
            return -9
        finally:
            proc.log.close()

    def kill_all(self) -> None:
        for proc in self.running.values():
            if proc.proc and proc.proc.poll() is None:
                proc.kill()


# --- the flow ------------------------------------------------------------------------------------------------------

def resolve(top: Topology, staff: dict, person: str) -> str:
    base = top.base["disputes-web"]
    r = requests.post(base + "/api/v1/cases", headers=staff, timeout=30, json={
        "channel": "hotline", "category": "estate_internal", "subcategory": "ev_charger", "estate": "兴隆苑",
        "summary": "充电桩坏了", "reported_at": "2024-06-01T09:00:00+08:00"})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    r = requests.post(f"{base}/api/v1/cases/{case_id}/resolutions", headers=staff, timeout=30, json={
        "text": "已修复", "resolved_at": "2024-06-14T21:30:18+08:00",
        "participants": [{"person_id": person, "role": "mediator"}]})
    assert r.status_code == 201, r.text
    return case_id


def balance(base: str, clerk: dict, person: str):
    r = requests.get(f"{base}/api/v1/accounts/{person}", headers=clerk, timeout=30)
    return r.json()["balance"] if r.status_code == 200 else None


def credits_by_person(db: str) -> dict[str, int]:
    with pg(db) as conn:
        return dict(conn.execute("SELECT a.person_id, count(*) FROM transfers t JOIN accounts a "
                                 "ON a.id = t.credit_account_id WHERE t.kind = 'credit' GROUP BY a.person_id"
                                 ).fetchall())


def queue_depths(vhost: str, amqp: pika.BlockingConnection) -> dict[str, tuple[int, int]]:
    """``{queue: (messages ready, consumers)}`` for every queue of the vhost, counted by the queue itself.

    Names come from ``rabbitmqctl list_queues``, but not its counts: a quorum queue reports those from metrics
    it refreshes on its tick (seconds late on 3.10: CI once saw 7 messages that a ``basic.get`` a moment later
    did not find). A passive declare asks the queue's leader for its current state instead."""
    out = rabbitmqctl("list_queues", "-p", vhost, "--no-table-headers", "-q", "name")
    depths = {}
    for name in (line.strip() for line in out.splitlines() if line.strip()):
        ok = passive(amqp, lambda ch: ch.queue_declare(name, passive=True)).method
        depths[name] = (ok.message_count, ok.consumer_count)
    return depths


def passive(amqp: pika.BlockingConnection, declare) -> object | None:
    """The answer to a passive declare on a channel of its own (a missing entity closes the channel), or None."""
    channel = amqp.channel()
    try:
        return declare(channel)
    except pika.exceptions.ChannelClosedByBroker:
        return None
    finally:
        if channel.is_open:
            channel.close()


@pytest.fixture
def topology(tmp_path):
    if not pg_enabled():
        pytest.skip("PostgreSQL disabled by WEIZHILI_TEST_PG=0")
    vhost = f"weizhili-topology-{RUN_ID}-{os.getpid()}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    top = Topology(tmp_path, vhost)
    names = [top.db_name(s) for s in SERVICES]
    try:
        postgres_init(names, top.ctx["db_password"])
        postgres_init(names, top.ctx["db_password"])  # safe to run again (deploy/README.md: restore)
        yield top
    finally:
        top.kill_all()
        for name in names:
            drop_login_and_database(name)
        rabbitmqctl("delete_vhost", vhost)


def test_the_compose_topology_as_local_processes(topology):
    top = topology
    vhost = top.ctx["vhost"]
    containers = top.containers
    assert {name: c["command"] for name, c in containers.items()} == procfile()  # one source of truth
    assert set(LOCAL_VALUES) - {"DATABASE_URL login and database"} <= (
        top.compose_variables | {k for c in containers.values() for k in c["env"]}), "a stale row in the table"

    # 1. the migrations: all at once, and points-migrate twice at the same moment
    migrations = [top.start(f"{s}-migrate") for s in SERVICES] + [top.start("points-migrate", "points-migrate-2")]
    codes = {m.name: m.proc.wait(120) for m in migrations}
    for m in migrations:
        m.log.close()
    assert codes == {m.name: 0 for m in migrations}, {m.name: m.output()[-2000:] for m in migrations}
    from alembic.script import ScriptDirectory
    from shared.migrate import alembic_config
    for service in SERVICES:
        head = ScriptDirectory.from_config(alembic_config(service, "postgresql://")).get_current_head()
        with pg(top.db_name(service)) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
            owners = {row[0] for row in conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
            assert owners == {top.db_name(service)}  # the service's own login made them: no superuser needed

    # 2. web and worker of every service, healthy by their containers' own health checks
    long_running = [f"{s}-{kind}" for s in SERVICES for kind in ("web", "worker")]
    for name in long_running:
        top.start(name)
    for name in long_running:
        wait_until(lambda: top.healthy(name, name), 90, interval=0.5, message=f"{name} healthy")

    staff = {"Authorization": "Bearer " + token("gw-1", "grid_worker", "mediator", secret=top.ctx["jwt_secret"])}
    clerk = {"Authorization": "Bearer " + token("clerk-1", "clerk", secret=top.ctx["jwt_secret"])}
    # an observer queue of the test: every event published on the exchange, to count publications
    # the test's own connection, without heartbeats: it sits idle while the processes work
    amqp = pika.BlockingConnection(pika.URLParameters(top.envs["points-worker"]["AMQP_URL"] + "?heartbeat=0"))
    channel = amqp.channel()
    wait_until(lambda: passive(amqp, lambda ch: ch.exchange_declare("weizhili.events", passive=True)), 30,
               interval=0.5, message="the workers to declare the exchange")
    observer = channel.queue_declare("test.observer", durable=True).method.queue
    for key in ("disputes.case.resolved.v1", "points.credited.v1"):
        channel.queue_bind(observer, "weizhili.events", key)

    # 3. the first flow
    first = f"T-{uuid.uuid4().hex[:8]}"
    resolve(top, staff, first)
    assert wait_until(lambda: balance(top.base["points-web"], clerk, first), 60, message="the first credit") == 20

    # 4. a second points worker and a second points web beside the first
    top.start("points-worker", "points-worker-2")
    top.start("points-web", "points-web-2")
    for name, container in (("points-worker-2", "points-worker"), ("points-web-2", "points-web")):
        wait_until(lambda: top.healthy(name, container), 90, interval=0.5, message=f"{name} healthy")
    wait_until(lambda: passive(amqp, lambda ch: ch.queue_declare("points.credits", passive=True)
                               ).method.consumer_count == 2, 60, interval=0.5, message="two competing consumers")
    people = [f"S-{uuid.uuid4().hex[:6]}-{i:02d}" for i in range(50)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: resolve(top, staff, p), people))
    # the first points worker is stopped while the stream is being credited: it settles what it holds, exits 0
    assert top.sigterm("points-worker") == 0, top.running["points-worker"].output()[-3000:]
    webs = [top.base["points-web"], top.base["points-web-2"]]  # either replica answers any request
    wait_until(lambda: all(balance(webs[i % 2], clerk, p) == 20 for i, p in enumerate(people)), 90, interval=0.5,
               message="every credit")
    credits = credits_by_person(top.db_name("points"))
    assert {p: credits.get(p) for p in [first, *people]} == {p: 1 for p in [first, *people]}
    assert sum(credits.values()) == 51

    # 5. SIGTERM to every process still running: each exits 0
    still = [name for name, proc in top.running.items() if proc.proc.poll() is None]
    assert sorted(still) == sorted(set(long_running) - {"points-worker"} | {"points-worker-2", "points-web-2"})
    for name in still:  # all at once, as `docker compose stop` does
        top.running[name].proc.send_signal(signal.SIGTERM)
    codes = {name: top.sigterm(name, send=False) for name in still}
    assert codes == {name: 0 for name in still}, {n: top.running[n].output()[-2000:] for n in still if codes[n]}

    # nothing lost, nothing left: every outbox row sent, every queue of the services empty
    for service in SERVICES:
        with pg(top.db_name(service)) as conn:
            assert conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0, service
    with pg(top.db_name("points")) as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone()[0] == 51
    # once the exited processes' connections are closed at the broker, what they held unacked is back in its
    # queue and counted: a lost ack would show here as a message left over
    wait_until(lambda: not any(c for _, c in queue_depths(vhost, amqp).values()), 30, interval=0.5,
               message="the broker to close the exited processes' channels")
    depths = queue_depths(vhost, amqp)
    assert "points.credits" in depths
    assert {q: n for q, (n, _) in depths.items() if n and q not in (observer, "weizhili.archive")} == {}
    # each event published once: the disputes relay and the two points relays never sent a row twice
    seen: dict[str, list[str]] = {}
    while True:
        method, props, _ = channel.basic_get(observer, auto_ack=True)
        if method is None:
            break
        seen.setdefault(props.type, []).append(props.message_id)
    amqp.close()
    for event_type in ("disputes.case.resolved.v1", "points.credited.v1"):
        assert len(seen.get(event_type, [])) == len(set(seen.get(event_type, []))) == 51, event_type

    # the logs: one JSON object per line with an ISO 8601 time and its offset, in every web and worker process
    for name, proc in top.running.items():
        if name.rpartition("-")[2] == "migrate" or name.endswith("migrate-2"):
            continue
        lines = [line for line in proc.output().splitlines() if line.strip()]
        assert lines, name
        for line in lines:
            entry = json.loads(line)
            assert datetime.fromisoformat(entry["time"]).utcoffset() is not None, (name, line)
