"""The transactional outbox: an event is written in the same transaction as the change it describes.

``publish(session, type, data, subject=...)`` validates ``data`` against the catalogue (a producer bug fails
the request, not a bureau's consumer), wraps it in a CloudEvent whose ``id`` is also the row's and the AMQP
message id, and adds the row to ``session``. The relay (``shared.relay``) sends it after commit.
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import current_app, has_app_context, has_request_context, request
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import events
from .ids import uuid7
from .models import OutboxMessage
from .timeutil import utcnow

_context: dict = {}


def configure(service: str, schema_base_url: str) -> None:
    """Name the producing service of this process (the worker does; inside a request the app's settings win)."""
    _context["service"] = service
    _context["schema_base_url"] = schema_base_url


def _producer() -> tuple[str, str]:
    if has_app_context() and "WEIZHILI_SETTINGS" in current_app.config:
        settings = current_app.config["WEIZHILI_SETTINGS"]
        return settings.service, settings.schema_base_url
    return _context["service"], _context["schema_base_url"]


def publish(session: Session, event_type: str, data: dict, *, subject: str | None = None,
            time: datetime | None = None, event_id: str | None = None) -> OutboxMessage:
    """Stage one event in ``session``'s transaction; returns the outbox row (its ``id`` is the event id).

    ``time``: when the fact happened (aware; default now). Raises ``events.EventSchemaError`` if ``data``
    does not match the catalogue schema of ``event_type``.
    """
    events.validate_data(event_type, data, strict=True)
    now = utcnow()
    event_id = event_id or uuid7()
    service, schema_base_url = _producer()
    envelope = events.envelope(event_id=event_id, source_service=service, event_type=event_type,
                               subject=subject, time=time or now, data=data, schema_base_url=schema_base_url)
    headers = {}
    if has_request_context() and request.headers.get("traceparent"):
        headers["traceparent"] = request.headers["traceparent"][:200]
    row = OutboxMessage(id=event_id, type=event_type, subject=subject, headers=headers, created_at=now,
                        attempts=0, body=json.dumps(envelope, ensure_ascii=False, separators=(",", ":"),
                                                    allow_nan=False))
    session.add(row)
    return row


class OutboxCollector:
    """Prometheus gauges read at scrape time: pending outbox rows and the age of the oldest one."""

    def __init__(self, service: str, engine_getter):
        self.service = service
        self.engine_getter = engine_getter

    def describe(self):
        return []

    def collect(self):
        pending = GaugeMetricFamily("outbox_pending", "Outbox rows not yet confirmed by the broker", labels=["service"])
        lag = GaugeMetricFamily("outbox_lag_seconds", "Age of the oldest unsent outbox row", labels=["service"])
        stuck = GaugeMetricFamily("outbox_retrying", "Unsent outbox rows that failed at least once", labels=["service"])
        try:
            count, oldest, retrying = outbox_state(self.engine_getter())
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is away
            return
        pending.add_metric([self.service], count)
        lag.add_metric([self.service], oldest)
        stuck.add_metric([self.service], retrying)
        yield pending
        yield lag
        yield stuck


def outbox_state(engine) -> tuple[int, float, int]:
    """(pending rows, seconds since the oldest pending row was written, pending rows that failed before)."""
    with Session(engine) as session:
        count, oldest = session.execute(select(func.count(), func.min(OutboxMessage.created_at))
                                        .where(OutboxMessage.sent_at.is_(None))).one()
        retrying = session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None),
                                                              OutboxMessage.attempts > 0))
    age = 0.0
    if oldest is not None:
        age = max(0.0, (utcnow() - oldest).total_seconds())
    return int(count), age, int(retrying or 0)
