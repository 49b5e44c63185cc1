"""The outbox relay: publish committed outbox rows with publisher confirms, mark them sent after the confirm.

- Claiming: a short transaction selects pending rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
  serialises writers with ``BEGIN IMMEDIATE``) and leases them to this relay, so several relays never take
  the same rows on purpose. A relay that dies leaves a lease that expires; the rows are then sent again,
  which consumers' inboxes absorb (at least once on the wire, exactly once in effect).
- Publishing: persistent, ``mandatory``, confirmed; ``message_id`` is the CloudEvent id (= the row id). A
  batch is written at once and its confirms collected after (``amqp.ConfirmingPublisher``), not one round trip
  per message. A nack or an unroutable return is recorded on the row (attempts, last_error) and retried with
  back-off; rows the broker had not confirmed when the connection dropped are released and sent again.
- Order: rows go out in commit order (``seq``) from one relay; consumers must not rely on global order.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from datetime import timedelta

import pika
from pika.exceptions import AMQPError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from . import amqp, topology
from .models import IdempotencyKey, InboxMessage, OutboxMessage
from .timeutil import utcnow

log = logging.getLogger("weizhili.relay")

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=10)


class Relay:
    """Moves outbox rows of one service's database to the exchange. Run it in its own thread or process."""

    def __init__(self, settings, engine, *, name: str | None = None, poll_interval: float = 0.2):
        self.settings = settings
        self.engine = engine
        self.name = name or f"{settings.service}-relay@{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.poll_interval = poll_interval
        self._publisher: amqp.ConfirmingPublisher | None = None
        self.published = 0

    # -- database ---------------------------------------------------------------------------------------
    def claim(self, limit: int) -> list[OutboxMessage]:
        now = utcnow()
        with Session(self.engine, expire_on_commit=False) as session:
            seqs = session.scalars(
                select(OutboxMessage.seq)
                .where(OutboxMessage.sent_at.is_(None),
                       or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                       or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
                .order_by(OutboxMessage.seq).limit(limit)
                .with_for_update(skip_locked=True)).all()
            if not seqs:
                session.commit()
                return []
            session.execute(update(OutboxMessage).where(OutboxMessage.seq.in_(seqs))
                            .values(claimed_by=self.name, claimed_until=now + LEASE))
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.seq.in_(seqs))
                                   .order_by(OutboxMessage.seq)).all()
            session.commit()
            return list(rows)

    def mark_sent(self, seqs: list[int]) -> None:
        if not seqs:
            return
        with Session(self.engine) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.seq.in_(seqs))
                            .values(sent_at=utcnow(), claimed_by=None, claimed_until=None))
            session.commit()

    def mark_failed(self, row: OutboxMessage, error: str) -> None:
        attempts = row.attempts + 1
        backoff = min(MAX_BACKOFF, timedelta(seconds=2 ** min(attempts, 10)))
        with Session(self.engine) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.seq == row.seq).values(
                attempts=attempts, last_error=error[:500], next_attempt_at=utcnow() + backoff,
                claimed_by=None, claimed_until=None))
            session.commit()

    def release(self, seqs: list[int]) -> None:
        """Give back rows not yet attempted (the connection dropped mid-batch)."""
        if not seqs:
            return
        with Session(self.engine) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.seq.in_(seqs),
                                                        OutboxMessage.claimed_by == self.name)
                            .values(claimed_by=None, claimed_until=None))
            session.commit()

    # -- broker -----------------------------------------------------------------------------------------
    def _ensure_publisher(self, stop) -> amqp.ConfirmingPublisher:
        if self._publisher is not None and self._publisher.is_open:
            return self._publisher
        self.close()
        connection = amqp.connect(self.settings.amqp_url, name=self.name, stop=stop)  # retries with back-off
        try:
            topology.declare_all(connection.channel(), self.settings)
        finally:
            connection.close()
        self._publisher = amqp.ConfirmingPublisher(self.settings.amqp_url, name=self.name)
        return self._publisher

    def close(self) -> None:
        try:
            if self._publisher is not None:
                self._publisher.close()
        except Exception:  # noqa: BLE001 - closing a dead connection
            pass
        self._publisher = None

    def _properties(self, row: OutboxMessage) -> pika.BasicProperties:
        headers = dict(row.headers or {})
        return pika.BasicProperties(
            content_type="application/cloudevents+json; charset=utf-8",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=row.id, type=row.type, app_id=self.settings.service,
            timestamp=int(row.created_at.timestamp()), headers=headers or None)

    def publish_batch(self, rows: list[OutboxMessage]) -> int:
        """Publish ``rows`` and settle each by its confirm: acked rows are marked sent, refused or unroutable ones
        failed (tried again after a back-off), unconfirmed ones (the connection dropped) released. Returns how
        many were acked; re-raises the broker error after settling."""
        messages = [(self.settings.exchange, row.type, row.body.encode("utf-8"), self._properties(row)) for row in rows]
        error = None
        try:
            outcomes = self._publisher.publish(messages)
        except amqp.PublishInterrupted as exc:
            outcomes, error = exc.outcomes, exc
        sent = [row.seq for row, outcome in zip(rows, outcomes) if outcome == "ack"]
        self.mark_sent(sent)
        for row, outcome in zip(rows, outcomes):
            if outcome in ("nack", "returned"):
                log.error("broker refused event %s (%s)", row.id, outcome)
                self.mark_failed(row, "NackError" if outcome == "nack" else "UnroutableError")
        self.release([row.seq for row, outcome in zip(rows, outcomes) if outcome is None])
        self.published += len(sent)
        if error is not None:
            raise error
        return len(sent)

    def run_once(self, stop=None) -> int:
        """Publish at most one batch; returns how many rows were confirmed."""
        self._ensure_publisher(stop)
        rows = self.claim(self.settings.relay_batch_size)
        if not rows:
            return 0
        return self.publish_batch(rows)

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set, reconnecting with back-off when the broker or database goes away."""
        delay = 0.5
        while not stop.is_set():
            try:
                n = self.run_once(stop)
                delay = 0.5
                if n == 0 and self._publisher is not None:
                    self._publisher.idle(self.poll_interval)  # answers heartbeats while there is nothing to send
            except InterruptedError:
                break
            except (AMQPError, OSError) as exc:
                log.warning("relay lost the broker (%s); reconnecting", type(exc).__name__)
                self.close()
                stop.wait(delay)
                delay = min(30.0, delay * 2)
            except Exception as exc:  # noqa: BLE001 - the database may be briefly away; keep going
                log.warning("relay error (%s: %s); retrying", type(exc).__name__, str(exc)[:200])
                stop.wait(delay)
                delay = min(30.0, delay * 2)
        self.close()


def purge_expired(engine, settings) -> dict:
    """Delete sent outbox rows, inbox rows and idempotency keys past their retention (ARCHITECTURE.md)."""
    now = utcnow()
    with Session(engine) as session:
        out = session.execute(delete(OutboxMessage).where(
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.sent_at < now - timedelta(days=settings.outbox_retention_days))).rowcount
        inbox = session.execute(delete(InboxMessage).where(
            InboxMessage.handled_at < now - timedelta(days=settings.inbox_retention_days))).rowcount
        keys = session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.created_at < now - timedelta(hours=settings.idempotency_retention_hours))).rowcount
        session.commit()
    return {"outbox": out, "inbox": inbox, "idempotency_keys": keys}


def decode_body(row: OutboxMessage) -> dict:
    return json.loads(row.body)
