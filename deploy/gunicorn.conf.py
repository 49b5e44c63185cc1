"""Gunicorn settings of every weizhili web process (locally under ``make run`` and in the containers).

Read from the environment (documented in .env.example): PORT, WEB_CONCURRENCY, WEB_THREADS, WEB_TIMEOUT,
WEB_GRACEFUL_TIMEOUT, WEB_KEEPALIVE, LOG_LEVEL, SERVICE_NAME, PROMETHEUS_MULTIPROC_DIR.

- No ``preload_app``: each worker imports the app after the fork, so database engines and anything else that
  holds a socket are opened per process (sharing them across a fork breaks them; gunicorn#2895, dramatiq#162).
- SIGTERM is a graceful stop: gunicorn stops accepting, lets in-flight requests finish for up to
  ``graceful_timeout`` seconds, then exits.
- Logs are one JSON object per line: the access log (time, method, path, status, duration_ms, request_id, ...)
  on stdout, gunicorn's own messages on stderr, like the application's logs.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this container or process may use
    except AttributeError:
        return os.cpu_count() or 1


SERVICE = os.environ.get("SERVICE_NAME", "")

bind = f"0.0.0.0:{_int('PORT', 8000)}"
# WEB_CONCURRENCY unset or 0: 2 x CPUs + 1 (compose passes 0 by default; gunicorn itself fails on an empty value)
workers = _int("WEB_CONCURRENCY", 0) or 2 * _cpu_count() + 1
threads = _int("WEB_THREADS", 4)
worker_class = "gthread"
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _int("WEB_KEEPALIVE", 5)
preload_app = False
proc_name = f"weizhili-{SERVICE}" if SERVICE else "weizhili"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = "-"
errorlog = "-"
# Gunicorn 25+ opens a control socket at one fixed path per user ($HOME/.gunicorn/gunicorn.ctl): four masters on
# one machine would take it from each other, and a container's non-root user has no writable home. Scaling is
# WEB_CONCURRENCY and more containers, so it stays off.
control_socket_disable = True
# Worker heartbeat files on a RAM disk: on a container's overlay file system a slow disk can stall them.
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    worker_tmp_dir = "/dev/shm"


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, with the same leading keys as the application's logs."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "service": SERVICE or None,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class JsonLogger(Logger):
    """Gunicorn's logger with JSON lines; the access entry carries no query string (it may hold personal data)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonLineFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
            response_headers = dict((k.lower(), v) for k, v in resp.headers)
            request_headers = dict((k.lower(), v) for k, v in getattr(req, "headers", []))
            fields = {
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": int(status) if str(status).isdigit() else status,
                "duration_ms": round(request_time.total_seconds() * 1000, 3),
                "request_id": response_headers.get("x-request-id") or request_headers.get("x-request-id"),
                "bytes": getattr(resp, "sent", None),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "pid": os.getpid(),
            }
            message = f"{fields['method']} {fields['path']} {fields['status']}"
            self.access_log.info(message, extra={"fields": fields})
        except Exception:  # a log line must never fail a request
            self.exception("could not write the access log entry")


logger_class = JsonLogger


def child_exit(server, worker):
    """A worker is gone: drop its live gauges from the multiprocess metrics (prometheus_client's rule)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
