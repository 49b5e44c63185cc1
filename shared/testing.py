"""Test fixtures shared by every service's tests (a pytest plugin, loaded by the top-level conftest.py).

TESTING.md: each run uses its own RabbitMQ vhost and its own PostgreSQL databases, created here and removed
afterwards; faults are made only on resources the test owns. ``db_url`` runs a test on SQLite and on
PostgreSQL. Set ``WEIZHILI_TEST_PG=0`` to skip PostgreSQL (never in CI).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from . import config as config_mod
from .auth import issue

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("WEIZHILI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_HOST = os.environ.get("WEIZHILI_TEST_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("WEIZHILI_TEST_AMQP_PORT", "5672"))
RUN_ID = uuid.uuid4().hex[:8]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` (catches hangs only)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


# -- PostgreSQL ------------------------------------------------------------------------------------------
def _pg_admin():
    import psycopg
    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def create_pg_database(name: str) -> str:
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def pg_enabled() -> bool:
    return os.environ.get("WEIZHILI_TEST_PG", "1") != "0"


_counter = iter(range(1, 10**9))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database URL: an SQLite file, then a new PostgreSQL database (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if not pg_enabled():
        pytest.skip("PostgreSQL disabled by WEIZHILI_TEST_PG=0")
    name = f"wz_{RUN_ID}_{next(_counter)}_{os.getpid()}"
    url = create_pg_database(name)
    try:
        yield url
    finally:
        from .db import dispose_all
        dispose_all()
        drop_pg_database(name)


@pytest.fixture
def pg_url(tmp_path):
    """A fresh PostgreSQL database only (for tests of PostgreSQL-specific behaviour)."""
    name = f"wz_{RUN_ID}_{next(_counter)}_{os.getpid()}"
    url = create_pg_database(name)
    try:
        yield url
    finally:
        from .db import dispose_all
        dispose_all()
        drop_pg_database(name)


# -- RabbitMQ --------------------------------------------------------------------------------------------
def rabbitmqctl(*args: str, node: str | None = None, env: dict | None = None) -> str:
    cmd = ["rabbitmqctl"] + (["-n", node] if node else []) + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip() or out.stdout.strip()}")
    return out.stdout


def amqp_url_for(vhost: str, port: int = AMQP_PORT) -> str:
    from urllib.parse import quote
    return f"amqp://guest:guest@{AMQP_HOST}:{port}/{quote(vhost, safe='')}"


@pytest.fixture(scope="session")
def amqp_vhost():
    """A RabbitMQ vhost of this test run (deleted at the end)."""
    vhost = f"weizhili-test-{RUN_ID}-{os.getpid()}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield vhost
    finally:
        try:
            rabbitmqctl("delete_vhost", vhost)
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture
def amqp_url(amqp_vhost):
    return amqp_url_for(amqp_vhost)


# -- settings, apps, tokens ------------------------------------------------------------------------------
def make_settings(service: str, database_url: str, amqp_url: str = "amqp://guest:guest@127.0.0.1:1/%2F", **kw):
    base = config_mod.load(service)
    fast = dict(retry_delays_ms=(200, 500), consumer_prefetch=50)
    fast.update(kw)
    return replace(base, database_url=database_url, amqp_url=amqp_url, **fast)


def migrate(service: str, database_url: str) -> None:
    from .migrate import upgrade
    upgrade(service, database_url)


def token(sub: str, *roles: str, ttl: int = 3600, secret: str | None = None) -> str:
    return issue(sub, list(roles), secret=secret or config_mod.Settings.jwt_secret, ttl=ttl)


def auth(sub: str, *roles: str) -> dict:
    """``Authorization`` header for a caller ``sub`` with ``roles`` (signed with the local test secret)."""
    return {"Authorization": "Bearer " + token(sub, *roles)}


def make_client(service: str, database_url: str, **settings_kw):
    """A Flask test client of ``service`` on a migrated ``database_url``."""
    import importlib
    migrate(service, database_url)
    module = importlib.import_module(f"services.{service}.app")
    app = module.create_app(settings=make_settings(service, database_url, **settings_kw), testing=True)
    return app.test_client()


# -- real processes --------------------------------------------------------------------------------------
class Process:
    """A child process (gunicorn or worker) started as ``make run`` and the containers start it."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def signal(self, sig) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.proc.wait(10)
        finally:
            self.log.close()

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(10)
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def service_env(service: str, database_url: str, amqp_url: str, port: int | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env.update({"SERVICE_NAME": service, "DATABASE_URL": database_url, "AMQP_URL": amqp_url,
                "RETRY_DELAYS_MS": "200,500", "LOG_LEVEL": "INFO", "WEB_CONCURRENCY": "2",
                "PYTHONUNBUFFERED": "1"})
    if port:
        env["PORT"] = str(port)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_web(service: str, env: dict, log_dir: Path) -> tuple[Process, str]:
    """gunicorn with the deployment's config file; returns (process, base URL) once /healthz answers."""
    import requests
    port = int(env.get("PORT") or free_port())
    env = {**env, "PORT": str(port)}
    argv = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
            f"services.{service}.app:create_app()"]
    proc = Process(f"{service}-web-{port}", argv, env, log_dir).start()
    base = f"http://127.0.0.1:{port}"

    def up():
        if proc.proc.poll() is not None:
            raise AssertionError(f"{proc.name} exited: {proc.output()[-3000:]}")
        try:
            return requests.get(base + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, 60, message=f"{service} web to answer")
    return proc, base


def start_worker(service: str, env: dict, log_dir: Path, name: str | None = None) -> Process:
    argv = [sys.executable, "-m", "shared.worker", service]
    return Process(name or f"{service}-worker-{free_port()}", argv, env, log_dir).start()


def have_rabbitmq_server() -> bool:
    return shutil.which("rabbitmq-server") is not None


# -- a broker the test owns (TESTING.md: faults only on resources the test owns) ---------------------------
def _supervise_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("weizhili_supervise", REPO / "deploy" / "supervise.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _random_free_port(avoid: tuple[int, ...] = ()) -> int:
    """A free port chosen at random below the ephemeral range (so no client connection is handed it)."""
    import random
    for _ in range(200):
        port = random.randrange(20000, 32000)
        if port not in avoid and _port_is_free(port):
            return port
    raise RuntimeError("no free port found for a private broker")


def broker_node_at(url: str, timeout: float = 3.0) -> str | None:
    """The name of the RabbitMQ node answering at ``url`` (its ``cluster_name``, by default the node name), read
    from the server properties of Connection.Start; None if nothing answers."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            data = b""
            while b"cluster_name" not in data or len(data) < data.find(b"cluster_name") + 80:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    at = data.find(b"cluster_nameS")
    if at < 0:
        return None
    start = at + len(b"cluster_nameS") + 4
    length = int.from_bytes(data[start - 4:start], "big")
    return data[start:start + length].decode(errors="replace")


def private_broker(base: Path):
    """A private RabbitMQ node (``make run``'s own kind) that keeps its port across restarts.

    Its ports are chosen at random, and every (re)start checks that the port is still free and that the node
    answering on it afterwards is this one: ports taken as "the first free one from 5673" let a second test run's
    broker take this one's port while it was down for a restart, and the first run's processes then talked to the
    other run's broker (found by the chaos run: credits of another run's events in this run's database).
    """
    supervise = _supervise_module()

    class RestartableBroker(supervise.PrivateBroker):
        def environment(self):
            if not hasattr(self, "_env"):
                env = super().environment()
                self.port = _random_free_port()
                env["RABBITMQ_NODE_PORT"] = str(self.port)
                env["RABBITMQ_DIST_PORT"] = str(_random_free_port(avoid=(self.port,)))
                self._env = env
            return self._env

        def start(self, timeout: float = 120.0, stop=None) -> None:
            self.environment()
            if not _port_is_free(self.port):
                raise RuntimeError(f"the private broker's port {self.port} was taken by another process "
                                   f"(answering: {broker_node_at(self.url)!r})")
            super().start(timeout=timeout, stop=stop)
            node = broker_node_at(self.url)  # the cluster name carries the host's name, not "localhost"
            if (node or "").split("@")[0] != self.node_name.split("@")[0]:
                self.stop()
                raise RuntimeError(f"another RabbitMQ node ({node!r}) answers on the port of {self.node_name}")

        def restart(self, down_seconds: float = 1.0) -> None:
            self.stop()
            time.sleep(down_seconds)
            self.start()

    return RestartableBroker(base, supervise.find_rabbitmq_server(), node_name=f"wztest{RUN_ID}{os.getpid()}@localhost")


class Stack:
    """Real processes of several services against their own databases and one broker (gunicorn + workers)."""

    def __init__(self, services: list[str], db_urls: dict[str, str], amqp_url: str, log_dir: Path):
        self.services, self.db_urls, self.amqp_url, self.log_dir = services, db_urls, amqp_url, log_dir
        self.web: dict[str, Process] = {}
        self.base: dict[str, str] = {}
        self.workers: dict[str, Process] = {}

    def env(self, service: str, **extra) -> dict:
        return service_env(service, self.db_urls[service], self.amqp_url, **extra)

    def start(self) -> "Stack":
        for service in self.services:
            migrate(service, self.db_urls[service])
        for service in self.services:
            self.web[service], self.base[service] = start_web(service, self.env(service), self.log_dir)
            self.workers[service] = start_worker(service, self.env(service), self.log_dir,
                                                 name=f"{service}-worker")
        return self

    def restart_worker(self, service: str, kill: bool = True) -> None:
        old = self.workers[service]
        old.kill() if kill else old.stop()
        self.workers[service] = start_worker(service, self.env(service), self.log_dir,
                                             name=f"{service}-worker-{free_port()}")

    def stop(self) -> dict[str, int | None]:
        codes = {}
        for name, proc in [*self.workers.items(), *self.web.items()]:
            codes[proc.name] = proc.stop()
        return codes

    def url(self, service: str, path: str) -> str:
        return self.base[service] + path
