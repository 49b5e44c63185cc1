"""``python -m shared.worker <service>``: the service's worker process (outbox relay, consumers, schedules).

Each part runs on its own thread with its own broker connection. SIGTERM or SIGINT: consumers take no more
messages, finish and settle the batch in hand, the relay finishes its batch, and the process exits 0.
The service declares what its worker does in ``services/<service>/handlers.py``:

- ``SUBSCRIPTIONS``: ``{queue_name: {event_type: handler(session, event)}}`` (may be empty);
- ``SCHEDULES`` (optional): ``[(name, every_seconds, job(engine, settings))]``, run on one worker at a time.

Liveness: the main thread watches the relay, consumer and scheduler threads. While every one of them is alive it
touches ``WORKER_HEARTBEAT_FILE`` (when set) every second, for the container health check
(``deploy/healthcheck.py worker``). If one of them ends while the worker is running (an exception nobody
caught), the worker logs it, removes the heartbeat file, stops the others as on SIGTERM and exits 1, so that
the orchestrator (compose ``restart: unless-stopped``, ``make run``) restarts it rather than leaving a worker
that looks healthy and no longer relays or consumes.
"""
from __future__ import annotations

import signal
import threading

_STOP = threading.Event()
if __name__ == "__main__":  # before the heavy imports: a SIGTERM during start-up still ends the process cleanly
    signal.signal(signal.SIGTERM, lambda *_: _STOP.set())
    signal.signal(signal.SIGINT, lambda *_: _STOP.set())

import argparse
import contextlib
import importlib
import logging
import os
import sys
import time
import zlib
from pathlib import Path

from sqlalchemy import text

from . import config as config_mod
from . import outbox
from .consumer import Consumer
from .db import engine_for
from .observability import configure_logging
from .relay import Relay, purge_expired

log = logging.getLogger("weizhili.worker")


def run_exclusive(engine, name: str, job, *args) -> bool:
    """Run ``job`` unless another worker runs the same job now (advisory lock on PostgreSQL).

    On SQLite one worker per database is the deployment rule, and writes are serialised anyway.
    """
    if engine.dialect.name != "postgresql":
        job(*args)
        return True
    key = zlib.crc32(f"weizhili-job-{name}".encode())
    with engine.connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            return False
        try:
            job(*args)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
    return True


class Worker:
    def __init__(self, service: str, settings=None, stop: threading.Event | None = None):
        self.service = service
        self.settings = settings or config_mod.load(service)
        self.engine = engine_for(self.settings.database_url)
        self.stop = stop or threading.Event()
        module = importlib.import_module(f"services.{service}.handlers")
        self.subscriptions = getattr(module, "SUBSCRIPTIONS", {})
        self.schedules = list(getattr(module, "SCHEDULES", []))
        self.schedules.append(("purge-expired", 3600, lambda engine, settings: purge_expired(engine, settings)))
        outbox.configure(service, self.settings.schema_base_url)
        self.relay = Relay(self.settings, self.engine)
        self.consumers = [Consumer(self.settings, self.engine, queue, handlers)
                          for queue, handlers in self.subscriptions.items()]
        self.threads: list[threading.Thread] = []

    def _scheduler(self) -> None:
        last: dict[str, float] = {}
        while not self.stop.is_set():
            now = time.monotonic()
            for name, every, job in self.schedules:
                if now - last.get(name, -1e9) >= every:
                    last[name] = now
                    try:
                        run_exclusive(self.engine, f"{self.service}:{name}", job, self.engine, self.settings)
                    except Exception as exc:  # noqa: BLE001 - a failed round is tried again next time
                        log.warning("scheduled job %s failed: %s", name, exc)
            self.stop.wait(1.0)

    def _guarded(self, name: str, target) -> None:
        """Run one part of the worker; an exception that ends it is logged here (as JSON, with its traceback)."""
        try:
            target(self.stop)
        except BaseException:  # noqa: BLE001 - logged, and the main thread sees the thread gone
            log.exception("worker thread %s failed", name, extra={"worker_thread": name})
            return
        if not self.stop.is_set():
            log.error("worker thread %s returned while the worker was running", name, extra={"worker_thread": name})

    def start(self) -> None:
        targets = [("relay", self.relay.run)] + [(c.queue, c.run) for c in self.consumers]
        targets.append(("scheduler", lambda stop: self._scheduler()))
        for name, target in targets:
            thread = threading.Thread(target=self._guarded, args=(name, target), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        log.info("worker started", extra={"queues": list(self.subscriptions)})

    def dead_threads(self) -> list[str]:
        """The names of the worker's threads that are no longer running."""
        return [thread.name for thread in self.threads if not thread.is_alive()]

    def serve(self, heartbeat: str | None = None, interval: float = 1.0) -> int:
        """Watch the threads until ``stop`` is set (exit code 0) or one of them dies (exit code 1).

        ``heartbeat`` (a file path) is touched every ``interval`` seconds while all threads are alive, and
        removed when one has died. Either way the others are stopped as on SIGTERM before this returns.
        """
        warned = False
        while not self.stop.is_set():
            dead = self.dead_threads()
            if dead and not self.stop.is_set():
                log.error("worker thread %s stopped; stopping the worker (exit 1) so that it is restarted",
                          ", ".join(dead), extra={"dead_threads": dead})
                if heartbeat:
                    with contextlib.suppress(OSError):
                        Path(heartbeat).unlink(missing_ok=True)
                self.shutdown()
                return 1
            if heartbeat:
                try:
                    Path(heartbeat).touch()
                    warned = False
                except OSError as exc:
                    if not warned:  # the health check reports it; say why once
                        log.warning("cannot touch the heartbeat file %s: %s", heartbeat, exc)
                        warned = True
            self.stop.wait(interval)
        self.shutdown()
        return 0

    def shutdown(self, timeout: float = 30.0) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        log.info("worker stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.worker")
    parser.add_argument("service", choices=sorted(config_mod.DEFAULT_PORTS))
    args = parser.parse_args(argv)
    stop = _STOP
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    settings = config_mod.load(args.service)
    configure_logging(f"{args.service}-worker", settings.log_level)
    worker = Worker(args.service, settings, stop=stop)
    worker.start()
    return worker.serve(heartbeat=os.environ.get("WORKER_HEARTBEAT_FILE") or None)


if __name__ == "__main__":
    sys.exit(main())
