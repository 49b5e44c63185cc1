"""``python -m shared.worker <service>``: the service's worker process (outbox relay, consumers, schedules).

Each part runs on its own thread with its own broker connection. SIGTERM or SIGINT: consumers take no more
messages, finish and settle the batch in hand, the relay finishes its batch, and the process exits 0.
The service declares what its worker does in ``services/<service>/handlers.py``:

- ``SUBSCRIPTIONS``: ``{queue_name: {event_type: handler(session, event)}}`` (may be empty);
- ``SCHEDULES`` (optional): ``[(name, every_seconds, job(engine, settings))]``, run on one worker at a time.
If ``WORKER_HEARTBEAT_FILE`` is set, the worker touches it every few seconds (container health check).
"""
from __future__ import annotations

import signal
import threading

_STOP = threading.Event()
if __name__ == "__main__":  # before the heavy imports: a SIGTERM during start-up still ends the process cleanly
    signal.signal(signal.SIGTERM, lambda *_: _STOP.set())
    signal.signal(signal.SIGINT, lambda *_: _STOP.set())

import argparse
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
        heartbeat = os.environ.get("WORKER_HEARTBEAT_FILE")
        while not self.stop.is_set():
            now = time.monotonic()
            for name, every, job in self.schedules:
                if now - last.get(name, -1e9) >= every:
                    last[name] = now
                    try:
                        run_exclusive(self.engine, f"{self.service}:{name}", job, self.engine, self.settings)
                    except Exception as exc:  # noqa: BLE001 - a failed round is tried again next time
                        log.warning("scheduled job %s failed: %s", name, exc)
            if heartbeat:
                Path(heartbeat).touch()
            self.stop.wait(1.0)

    def start(self) -> None:
        targets = [("relay", self.relay.run)] + [(c.queue, c.run) for c in self.consumers]
        targets.append(("scheduler", lambda stop: self._scheduler()))
        for name, target in targets:
            thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        log.info("worker started", extra={"queues": list(self.subscriptions)})

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
    while not worker.stop.is_set():
        worker.stop.wait(0.5)
    worker.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
