"""JSON logs with a request id, and Prometheus metrics that stay correct under several gunicorn workers.

Metrics: with ``PROMETHEUS_MULTIPROC_DIR`` set (as ``make run`` and the containers do) every gunicorn worker
writes its samples there and ``/metrics`` aggregates them (prometheus_client's multiprocess mode); without it
a process registry is used. Gauges read from the database at scrape time (outbox lag) are collected by the
process that serves ``/metrics``.
"""
from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from datetime import datetime

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST, multiprocess
from pythonjsonlogger.json import JsonFormatter

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["service", "method", "endpoint", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request duration", ["service", "method", "endpoint"])


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id")
        except RuntimeError:  # outside a request
            record.request_id = getattr(record, "request_id", None)
        return True


class _JsonFormatter(JsonFormatter):
    """``time`` in ISO 8601 with the local offset and milliseconds (``2024-06-14T21:30:18.123+08:00``), as in
    gunicorn's access log (deploy/gunicorn.conf.py), so that every line of every process sorts and parses alike."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON object per line on stderr: time (ISO 8601 with offset), level, logger, message, service,
    request_id."""
    root = logging.getLogger()
    if getattr(root, "_weizhili_configured", None) == service:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                                       static_fields={"service": service}, json_ensure_ascii=False))
    handler.addFilter(_RequestIdFilter())
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("pika").setLevel(logging.WARNING)
    root._weizhili_configured = service


def install_request_id(app: Flask) -> None:
    """Take ``X-Request-ID`` from the caller (when sane) or make one; echo it on every answer."""

    @app.before_request
    def _start():
        rid = request.headers.get("X-Request-ID", "")
        g.request_id = rid if 0 < len(rid) <= 64 and rid.replace("-", "").isalnum() else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
        service = app.config["WEIZHILI_SETTINGS"].service
        HTTP_REQUESTS.labels(service, request.method, endpoint, str(response.status_code)).inc()
        if "started" in g:
            HTTP_LATENCY.labels(service, request.method, endpoint).observe(time.perf_counter() - g.started)
        return response


def metrics_response(extra_collectors=()) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY
        registry = CollectorRegistry()
        for collector in list(REGISTRY._collector_to_names):  # the process's own metrics
            registry.register(collector)
    for collector in extra_collectors:
        registry.register(collector)
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)  # mimetype= would add a second charset
