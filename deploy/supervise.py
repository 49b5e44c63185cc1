#!/usr/bin/env python3
"""Run all of weizhili on one machine: what ``make run`` runs (standard library only).

1. Makes ``var/`` and checks for a broker at ``AMQP_URL``. If none answers and ``rabbitmq-server`` is installed,
   starts a private node under ``var/rabbitmq/`` (its own node name, ports, data, logs and Erlang cookie) and
   stops it on exit; if none answers and none is installed, says so in one line and exits 1.
2. Runs every ``*-migrate`` command of ``deploy/Procfile``, one after another.
3. Starts the ``*-web`` and ``*-worker`` processes, each with its service's settings (an SQLite file under
   ``var/``, its port, its metrics directory), and prefixes every line they print with the process's name.
4. Ctrl-C or SIGTERM: SIGTERM to every process, SIGKILL to those still running after ``--stop-timeout``
   seconds, the private broker stopped, exit 0. A process that dies on its own stops everything, exit 1.

The commands are the Procfile's, exactly as the containers run them (docker-compose.yml);
:func:`process_table` gives each process's command and environment, for the tests and the topology test.
"""
from __future__ import annotations

import argparse
import os
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "deploy" / "Procfile"
#: The same table as ``shared.config.DEFAULT_PORTS`` (a test keeps them equal); kept here so that this script
#: needs nothing but the standard library.
DEFAULT_PORTS = {"disputes": 8001, "points": 8002, "relief": 8003, "jobmarket": 8004}
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
#: Gunicorn workers per service when WEB_CONCURRENCY is unset: four services share one developer machine.
LOCAL_WEB_CONCURRENCY = "2"
KINDS = ("migrate", "web", "worker")
PRIVATE_NODE_NAME = "weizhili-dev@localhost"


@dataclass(frozen=True)
class Process:
    """One line of the Procfile with what it needs to run here.

    ``env`` holds only the variables this script sets for the process; it runs with them on top of the
    environment ``make run`` was started with (so LOG_LEVEL, JWT_SECRET and the rest pass through).
    """

    name: str
    service: str
    kind: str
    command: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def read_procfile(path: Path = PROCFILE) -> list[tuple[str, str]]:
    """``[(name, command), ...]`` in file order; ``#`` comments and blank lines are skipped."""
    entries = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise ValueError(f"{path}:{number}: expected 'name: command', got {raw!r}")
        entries.append((name.strip(), command.strip()))
    return entries


def process_table(procfile: Path = PROCFILE, *, var: Path | None = None, environ: dict | None = None,
                  amqp_url: str | None = None) -> list[Process]:
    """Every Procfile process with its argv and the environment this script gives it.

    Per service: ``SERVICE_NAME``; ``DATABASE_URL`` from ``<SERVICE>_DATABASE_URL`` or the SQLite file
    ``var/<service>.sqlite3``; ``AMQP_URL`` (the one given, else the environment's, else the local default);
    web: ``PORT`` from ``<SERVICE>_PORT`` or the service's default port, ``PROMETHEUS_MULTIPROC_DIR`` =
    ``var/metrics/<service>``, ``WEB_CONCURRENCY`` (2 unless set); worker: ``WORKER_HEARTBEAT_FILE`` =
    ``var/run/<service>-worker.heartbeat``.
    """
    environ = dict(os.environ if environ is None else environ)
    var = Path(var or ROOT / "var")
    amqp_url = amqp_url or environ.get("AMQP_URL") or DEFAULT_AMQP_URL
    table = []
    for name, command in read_procfile(procfile):
        service, _, kind = name.rpartition("-")
        if kind not in KINDS or not service:
            raise ValueError(f"{procfile}: process {name!r} must be named <service>-migrate|web|worker")
        prefix = service.upper()
        env = {
            "SERVICE_NAME": service,
            "DATABASE_URL": environ.get(f"{prefix}_DATABASE_URL")
            or f"sqlite:///{var / (service + '.sqlite3')}",
            "AMQP_URL": amqp_url,
            "PYTHONUNBUFFERED": "1",
        }
        if kind == "web":
            env["PORT"] = environ.get(f"{prefix}_PORT") or str(DEFAULT_PORTS.get(service, 8000))
            env["PROMETHEUS_MULTIPROC_DIR"] = str(var / "metrics" / service)
            env["WEB_CONCURRENCY"] = environ.get("WEB_CONCURRENCY") or LOCAL_WEB_CONCURRENCY
        elif kind == "worker":
            env["WORKER_HEARTBEAT_FILE"] = str(var / "run" / f"{service}-worker.heartbeat")
        table.append(Process(name, service, kind, command, shlex.split(command), env))
    return table


# --- the broker -----------------------------------------------------------------------------------------------

def amqp_answers(url: str, timeout: float = 3.0) -> bool:
    """True when an AMQP 0-9-1 broker answers at ``url``: TCP connect, protocol header, Connection.Start back."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    except ValueError:
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if parts.scheme == "amqps":  # a TLS listener: the connection itself is the answer we can check here
                return True
            sock.settimeout(timeout)
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            frame = b""
            while len(frame) < 11:
                chunk = sock.recv(11 - len(frame))
                if not chunk:
                    return False
                frame += chunk
    except OSError:
        return False
    # method frame (type 1), channel 0, then class 10 (connection) method 10 (start)
    return frame[0] == 1 and frame[1:3] == b"\x00\x00" and frame[7:11] == b"\x00\x0a\x00\x0a"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{unquote(parts.username or '')}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def find_rabbitmq_server(path: str | None = None) -> str | None:
    """The ``rabbitmq-server`` script to run as the current user, or None when it is not installed.

    Debian's ``/usr/sbin/rabbitmq-server`` is a wrapper that switches to the ``rabbitmq`` user (who cannot
    write our ``var/``, and whose HOME holds the system node's cookie); the script it wraps runs as anyone.
    """
    found = shutil.which("rabbitmq-server", path=path)
    if not found:
        return None
    real = os.path.realpath(found)
    if os.path.basename(real) == "rabbitmq-script-wrapper":
        wrapped = os.path.join(os.path.dirname(real), "rabbitmq-server")
        if os.access(wrapped, os.X_OK):
            return wrapped
    return found


def free_port(start: int, avoid: tuple[int, ...] = ()) -> int:
    """The first port from ``start`` on which nothing listens on 127.0.0.1."""
    for port in range(start, start + 200):
        if port in avoid:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + 199}")


class PrivateBroker:
    """A RabbitMQ node of our own under ``base`` (default ``var/rabbitmq``), for a machine without a broker."""

    def __init__(self, base: Path, server: str, node_name: str = PRIVATE_NODE_NAME):
        self.base = Path(base)
        self.server = server
        self.node_name = node_name
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = self.base / "log" / "console.log"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def environment(self) -> dict[str, str]:
        """The variables that make the node private: none of the system node's config, data, ports or cookie."""
        base = self.base
        (base / "log").mkdir(parents=True, exist_ok=True)
        (base / "mnesia").mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq-env.conf").write_text("# empty: the private node is configured by supervise.py\n")
        (base / "rabbitmq.conf").write_text("# the private node of `make run`; ports come from the environment\n"
                                            "log.console = false\nlog.file.level = info\n")
        self.port = free_port(5673)
        dist_port = free_port(25673, avoid=(self.port,))
        return {
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "HOME": str(base),  # the Erlang cookie lives in $HOME: ours, not the system node's
        }

    def start(self, timeout: float = 120.0, stop=None) -> None:
        env = {**os.environ, **self.environment()}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([self.server], env=env, cwd=self.base, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if amqp_answers(self.url, timeout=1.0):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"the private RabbitMQ node exited with code {self.proc.returncode}")
            if stop is not None and stop.raised:
                return  # the caller sees the flag and stops the node
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the private RabbitMQ node did not answer within {timeout:.0f}s")

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # the script traps TERM and stops the node cleanly
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


# --- the processes ----------------------------------------------------------------------------------------------

class Console:
    """Copies the processes' output to ours, each line prefixed with the process's name."""

    def __init__(self, names, out=None):
        self.width = max((len(n) for n in names), default=0)
        self.out = out or sys.stdout.buffer
        self.selector = selectors.DefaultSelector()
        self.partial: dict[str, bytes] = {}

    def say(self, name: str, text: str) -> None:
        self._write(name, text.encode() + b"\n")

    def _write(self, name: str, line: bytes) -> None:
        self.out.write(name.ljust(self.width).encode() + b" | " + line)
        self.out.flush()

    def attach(self, name: str, stream) -> None:
        os.set_blocking(stream.fileno(), False)
        self.partial[name] = b""
        self.selector.register(stream, selectors.EVENT_READ, name)

    def pump(self, timeout: float) -> None:
        """Copy what is ready, waiting at most ``timeout`` seconds for something."""
        if not self.selector.get_map():
            time.sleep(timeout)
            return
        for key, _ in self.selector.select(timeout):
            name = key.data
            try:
                data = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not data:  # end of output
                self.selector.unregister(key.fileobj)
                key.fileobj.close()
                if self.partial[name]:
                    self._write(name, self.partial[name] + b"\n")
                self.partial[name] = b""
                continue
            *lines, self.partial[name] = (self.partial[name] + data).split(b"\n")
            for line in lines:
                self._write(name, line + b"\n")

    def drain(self, seconds: float = 1.0) -> None:
        deadline = time.monotonic() + seconds
        while self.selector.get_map() and time.monotonic() < deadline:
            self.pump(0.05)


class Supervisor:
    def __init__(self, table: list[Process], root: Path, stop_timeout: float, stop: "StopFlag",
                 console: Console | None = None):
        self.table = table
        self.root = root
        self.stop_timeout = stop_timeout
        self.stop = stop
        self.console = console or Console([p.name for p in table] + ["supervise"])
        self.running: dict[str, subprocess.Popen] = {}

    def say(self, text: str) -> None:
        self.console.say("supervise", text)

    def spawn(self, proc: Process) -> subprocess.Popen:
        env = {**os.environ, **proc.env}
        # the commands say `python` and `gunicorn`: the ones of the interpreter running us (the project's venv)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)
        # each in its own process group: Ctrl-C reaches only us, and we stop the processes with SIGTERM
        child = subprocess.Popen(proc.argv, env=env, cwd=self.root, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.console.attach(proc.name, child.stdout)
        self.running[proc.name] = child
        return child

    def start(self, proc: Process) -> subprocess.Popen | None:
        try:
            return self.spawn(proc)
        except OSError as exc:  # the command is not installed, or not executable
            self.say(f"cannot start {proc.name} ({proc.command}): {exc.strerror or exc}")
            return None

    def migrate(self) -> bool:
        for proc in (p for p in self.table if p.kind == "migrate"):
            child = self.start(proc)
            if child is None:
                return False
            while child.poll() is None:
                self.console.pump(0.1)
                if self.stop.raised:
                    self.stop_all()
                    return False
            self.console.drain()
            del self.running[proc.name]
            if child.returncode != 0:
                self.say(f"{proc.name} failed with exit code {child.returncode}; not starting the services")
                return False
        return True

    def serve(self) -> int:
        for proc in (p for p in self.table if p.kind != "migrate"):
            if self.start(proc) is None:
                self.stop_all()
                return 1
        self.say(f"started {len(self.running)} processes; Ctrl-C stops them all")
        while not self.stop.raised:
            self.console.pump(0.2)
            for name, child in self.running.items():
                if child.poll() is not None:
                    self.console.drain(0.5)
                    self.say(f"{name} exited unexpectedly with code {child.returncode}; stopping everything")
                    self.stop_all()
                    return 1
        self.say("stopping")
        self.stop_all()
        return 0

    def stop_all(self) -> None:
        for child in self.running.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and any(c.poll() is None for c in self.running.values()):
            self.console.pump(0.1)
        for name, child in self.running.items():
            if child.poll() is None:
                self.say(f"{name} still running after {self.stop_timeout:.0f}s; killing it")
                os.killpg(child.pid, signal.SIGKILL)  # its whole group: gunicorn's workers too
                child.wait()
        self.console.drain()


def prepare_dirs(var: Path, table: list[Process]) -> None:
    (var / "run").mkdir(parents=True, exist_ok=True)
    for proc in table:
        metrics = proc.env.get("PROMETHEUS_MULTIPROC_DIR")
        if metrics:  # samples of processes from an earlier run would be summed into ours
            shutil.rmtree(metrics, ignore_errors=True)
            Path(metrics).mkdir(parents=True, exist_ok=True)


class StopFlag:
    """Set by SIGINT, SIGTERM or SIGHUP: from the first moment, so that Ctrl-C never ends in a traceback."""

    def __init__(self):
        self.raised = False
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.handle)

    def handle(self, signum, frame) -> None:
        self.raised = True


def start_broker(amqp_url: str, var: Path, stop: StopFlag, say=print) -> tuple[str, PrivateBroker | None]:
    """``(url, private node or None)``; raises SystemExit with one line when there is no broker to be had."""
    if amqp_answers(amqp_url):
        return amqp_url, None
    server = find_rabbitmq_server()
    if server is None:
        raise SystemExit(f"no RabbitMQ at {redact(amqp_url)}; install rabbitmq-server or set AMQP_URL")
    broker = PrivateBroker(var / "rabbitmq", server,
                           os.environ.get("SUPERVISE_RABBITMQ_NODENAME") or PRIVATE_NODE_NAME)
    say(f"no RabbitMQ at {redact(amqp_url)}; starting a private node {broker.node_name} (log: {broker.log_path})")
    try:
        broker.start(stop=stop)
    except (OSError, RuntimeError) as exc:
        raise SystemExit(f"could not start a private RabbitMQ node: {exc}; see {broker.log_path}") from None
    say(f"the private RabbitMQ node answers at {broker.url}")
    return broker.url, broker


def main(argv: list[str] | None = None) -> int:
    stop = StopFlag()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procfile", type=Path, default=PROCFILE)
    parser.add_argument("--var", type=Path, default=ROOT / "var",
                        help="where the databases, metrics, heartbeats and a private broker live (default var/)")
    parser.add_argument("--migrate-only", action="store_true",
                        help="run the *-migrate commands and stop (no broker needed): `make migrate`")
    parser.add_argument("--stop-timeout", type=float,
                        default=float(os.environ.get("SUPERVISE_STOP_TIMEOUT") or 40),
                        help="seconds between SIGTERM and SIGKILL (default 40: gunicorn's graceful timeout + 10)")
    args = parser.parse_args(argv)
    try:
        table = process_table(args.procfile, var=args.var)  # a broken Procfile is found before anything starts
    except (OSError, ValueError) as exc:
        print(f"cannot read the Procfile: {exc}", file=sys.stderr)
        return 1
    console = Console([p.name for p in table] + ["supervise"])

    def say(text: str) -> None:
        console.say("supervise", text)

    var = args.var.resolve()
    var.mkdir(parents=True, exist_ok=True)
    if args.migrate_only:
        table = process_table(args.procfile, var=var)
        supervisor = Supervisor([p for p in table if p.kind == "migrate"], ROOT, args.stop_timeout, stop, console)
        return 0 if supervisor.migrate() else 1
    try:
        amqp_url, broker = start_broker(os.environ.get("AMQP_URL") or DEFAULT_AMQP_URL, var, stop, say)
    except SystemExit as exc:
        print(exc.code, file=sys.stderr)
        return 1
    try:
        if stop.raised:
            return 0
        table = process_table(args.procfile, var=var, amqp_url=amqp_url)
        prepare_dirs(var, table)
        supervisor = Supervisor(table, ROOT, args.stop_timeout, stop, console)
        if not supervisor.migrate():
            return 0 if stop.raised else 1
        return supervisor.serve()
    finally:
        if broker is not None:
            say("stopping the private RabbitMQ node")
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
