"""An event consumer with an inbox: exactly once in effect on top of at-least-once delivery.

For each message: parse the CloudEvent, check its ``data`` against the catalogue (tolerantly), and call the
handler for its type inside a savepoint of one database transaction per batch, recording the event ``id`` in
the inbox in the same transaction. Acks go out only after that commit. A second delivery of the same id finds
it in the inbox and changes nothing.

Failures: while the database is away a batch stays in hand (unacked) and is tried again with growing pauses
(requeueing would spend the quorum queue's delivery limit). An unparseable message, one that fails its schema, or one of a type with no handler goes to
``<queue>.dead`` at once, with the reason in its headers; a handler error goes to the retry tier for its
attempt (a queue whose TTL dead-letters back here), and after the last tier to ``<queue>.dead``. A failing
message never blocks the ones behind it.

Threads: the pika connection lives on the thread that calls :meth:`Consumer.run`; handlers run on a separate
thread, and acks and re-publishes are handed back with ``add_callback_threadsafe`` (pika#1237), so a slow
handler never starves the connection's heartbeats (pika#418).
"""
from __future__ import annotations

import json
import logging
import os
import queue as queue_mod
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import pika
from pika.exceptions import AMQPError
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import amqp, events
from .models import InboxMessage
from .timeutil import utcnow

log = logging.getLogger("weizhili.consumer")

Handler = Callable[[Session, dict], None]


class Batched:
    """A set-based handler: ``many(session, events)`` handles a list of events at once (a fixed number of
    statements per batch rather than per event). The consumer's fast path gives it every run of consecutive
    events of its type in a batch; called as a plain handler, ``(session, event)``, it handles a list of one
    (the savepoint-per-message path after a failure, and tests)."""

    def __init__(self, many: Callable[[Session, list[dict]], None]):
        self.many = many
        self.__doc__ = many.__doc__
        self.__name__ = getattr(many, "__name__", type(self).__name__)

    def __call__(self, session: Session, event: dict) -> None:
        self.many(session, [event])


class _HandlerFailed(Exception):
    """A handler failed on the fast path: the batch is handled again, one savepoint per message."""


@dataclass
class Delivery:
    tag: int
    properties: pika.BasicProperties
    body: bytes
    routing_key: str


@dataclass
class Outcome:
    delivery: Delivery
    action: str  # ack | retry | dead | requeue
    reason: str = ""


class Consumer:
    """Consumes ``queue`` (bound to ``bindings``) and dispatches by event type through ``handlers``."""

    def __init__(self, settings, engine, queue: str, handlers: dict[str, Handler], bindings: list[str] | None = None,
                 *, name: str | None = None, batch_size: int | None = None):
        self.settings = settings
        self.engine = engine
        self.queue = queue
        self.handlers = handlers
        self.bindings = bindings or sorted(handlers)
        self.name = name or f"{queue}@{socket.gethostname()}:{os.getpid()}"
        self.batch_size = batch_size or settings.consumer_prefetch
        self.handled = 0
        self.busy = threading.Event()  # set while a batch is in hand (graceful stop waits for it)

    # -- handling (worker thread) ----------------------------------------------------------------------
    def _check(self, delivery: Delivery) -> tuple[dict | None, str]:
        try:
            event = events.parse(delivery.body)
        except (ValueError, UnicodeDecodeError) as exc:
            return None, f"unparseable: {exc}"[:300]
        handler = self.handlers.get(event["type"])
        if handler is None:
            return None, f"no handler for type {event['type']}"[:300]
        try:
            events.validate_data(event["type"], event.get("data"), strict=False)
        except events.EventSchemaError as exc:
            return None, f"schema: {exc}"[:300]
        return event, ""

    def handle_batch(self, deliveries: list[Delivery]) -> list[Outcome]:
        """Handle ``deliveries`` in one transaction; return what to do with each message.

        Fast path: every handler runs in one transaction, already-handled ids are found with one query, and
        the inbox rows are inserted together at commit; a :class:`Batched` handler gets each run of consecutive
        events of its type as one list. If any handler fails, the transaction is rolled back and the batch is
        handled again with a savepoint per message, so one failure costs only its message.
        """
        outcomes: dict[int, Outcome] = {}
        events_in_hand: list[tuple[Delivery, dict]] = []
        for delivery in deliveries:
            event, problem = self._check(delivery)
            if event is None:
                outcomes[delivery.tag] = Outcome(delivery, "dead", problem)
            else:
                events_in_hand.append((delivery, event))
        if events_in_hand:
            try:
                self._handle(events_in_hand, outcomes, isolated=False)
            except _HandlerFailed:
                self._handle(events_in_hand, outcomes, isolated=True)
        self.handled += sum(1 for o in outcomes.values() if o.action == "ack")
        return [outcomes[d.tag] for d in deliveries]

    def _handle(self, items: list[tuple[Delivery, dict]], outcomes: dict[int, Outcome], *, isolated: bool) -> None:
        with Session(self.engine) as session:
            ids = [event["id"] for _, event in items]
            seen = set(session.scalars(select(InboxMessage.event_id).where(
                InboxMessage.queue == self.queue, InboxMessage.event_id.in_(ids))))
            if not isolated:
                self._handle_runs(session, items, seen, outcomes)
                session.commit()
                return
            for delivery, event in items:
                if event["id"] in seen:
                    outcomes[delivery.tag] = Outcome(delivery, "ack")  # a redelivery: already applied
                    continue
                savepoint = session.begin_nested()
                try:
                    self.handlers[event["type"]](session, event)
                    session.add(InboxMessage(event_id=event["id"], queue=self.queue, type=event["type"],
                                             handled_at=utcnow()))
                    session.flush()
                    savepoint.commit()
                    seen.add(event["id"])
                    outcomes[delivery.tag] = Outcome(delivery, "ack")
                except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                    savepoint.rollback()
                    log.warning("handler failed for %s %s: %s", event["type"], event["id"], exc)
                    outcomes[delivery.tag] = Outcome(delivery, "retry", f"{type(exc).__name__}: {exc}"[:300])
            session.commit()

    def _handle_runs(self, session: Session, items: list[tuple[Delivery, dict]], seen: set[str],
                     outcomes: dict[int, Outcome]) -> None:
        """The fast path: every new event handled in one transaction, a run of consecutive events of one
        :class:`Batched` type in one call. Raises :class:`_HandlerFailed` (after a rollback) if any fails."""
        fresh: list[tuple[Delivery, dict]] = []
        for delivery, event in items:
            outcomes[delivery.tag] = Outcome(delivery, "ack")  # a redelivery (id seen) is already applied
            if event["id"] not in seen:
                seen.add(event["id"])
                fresh.append((delivery, event))
        try:
            start = 0
            while start < len(fresh):
                handler = self.handlers[fresh[start][1]["type"]]
                end = start + 1
                if isinstance(handler, Batched):
                    while end < len(fresh) and fresh[end][1]["type"] == fresh[start][1]["type"]:
                        end += 1
                    handler.many(session, [event for _, event in fresh[start:end]])
                else:
                    handler(session, fresh[start][1])
                start = end
            now = utcnow()
            session.add_all([InboxMessage(event_id=event["id"], queue=self.queue, type=event["type"], handled_at=now)
                             for _, event in fresh])
            session.flush()
        except Exception as exc:  # noqa: BLE001 - handled again one savepoint per message
            session.rollback()
            raise _HandlerFailed() from exc

    # -- settling (connection thread) ------------------------------------------------------------------
    def _settle(self, channel, publisher, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            d = outcome.delivery
            if outcome.action == "requeue":
                channel.basic_nack(d.tag, requeue=True)
                continue
            if outcome.action in ("retry", "dead"):
                headers = dict(d.properties.headers or {})
                attempt = int(headers.get("x-retry-count", 0))
                delays = self.settings.retry_delays_ms
                props = pika.BasicProperties(
                    content_type=d.properties.content_type, delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=d.properties.message_id, type=d.properties.type, app_id=d.properties.app_id,
                    timestamp=d.properties.timestamp, headers=headers)
                headers["x-original-routing-key"] = headers.get("x-original-routing-key", d.routing_key)
                headers["x-last-error"] = outcome.reason
                if outcome.action == "retry" and attempt < len(delays):
                    headers["x-retry-count"] = attempt + 1
                    publisher.basic_publish("", amqp.retry_queue(self.queue, delays[attempt]), d.body,
                                            properties=props, mandatory=True)
                else:
                    headers["x-death-reason"] = outcome.reason
                    headers["x-dead-lettered-at"] = utcnow().isoformat()
                    headers["x-retry-count"] = attempt
                    publisher.basic_publish(self.settings.dead_letter_exchange, self.queue, d.body,
                                            properties=props, mandatory=True)
                    log.error("dead-lettered %s: %s", d.properties.message_id, outcome.reason)
            channel.basic_ack(d.tag)

    # -- main loop -------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; reconnect with back-off when the broker goes away.

        On stop: no new deliveries are taken, the batch in hand is finished and settled, then it returns.
        """
        delay = 0.5
        while not stop.is_set():
            try:
                self._run_connection(stop)
                delay = 0.5
            except InterruptedError:
                break
            except (AMQPError, OSError) as exc:
                log.warning("consumer %s lost the broker (%s); reconnecting", self.queue, type(exc).__name__)
                stop.wait(delay)
                delay = min(30.0, delay * 2)

    def _run_connection(self, stop: threading.Event) -> None:
        connection = amqp.connect(self.settings.amqp_url, name=self.name, stop=stop)
        try:
            channel = connection.channel()
            amqp.declare_consumer_queue(channel, self.settings, self.queue, self.bindings)
            publisher = connection.channel()
            publisher.confirm_delivery()
            channel.basic_qos(prefetch_count=self.batch_size)
            inbox: queue_mod.Queue[Delivery] = queue_mod.Queue()

            def on_message(_ch, method, properties, body):
                inbox.put(Delivery(method.delivery_tag, properties, body, method.routing_key))

            tag = channel.basic_consume(self.queue, on_message)
            done = threading.Event()
            worker = threading.Thread(target=self._work, args=(connection, channel, publisher, inbox, stop, done),
                                      name=f"{self.queue}-handler", daemon=True)
            worker.start()
            try:
                while not stop.is_set() and not done.is_set():
                    connection.process_data_events(time_limit=0.2)
                channel.basic_cancel(tag)  # take no more; what is in hand is finished below
                while worker.is_alive():
                    connection.process_data_events(time_limit=0.1)
                    worker.join(timeout=0.05)
                connection.process_data_events(time_limit=0)  # run the last settle callbacks
            finally:
                done.set()
        finally:
            try:
                if connection.is_open:
                    connection.close()
            except Exception:  # noqa: BLE001
                pass

    def _work(self, connection, channel, publisher, inbox, stop, done) -> None:
        try:
            while not done.is_set():
                try:
                    first = inbox.get(timeout=0.2)
                except queue_mod.Empty:
                    if stop.is_set():
                        return
                    continue
                self.busy.set()
                batch = [first]
                while len(batch) < self.batch_size:
                    try:
                        batch.append(inbox.get_nowait())
                    except queue_mod.Empty:
                        break
                outcomes = self._handle_until_done(batch, connection, stop)
                if outcomes is None:  # the connection dropped while the database was away: the broker redelivers
                    done.set()
                    return
                settled = threading.Event()

                def settle(outcomes=outcomes, settled=settled):
                    try:
                        self._settle(channel, publisher, outcomes)
                    finally:
                        settled.set()

                connection.add_callback_threadsafe(settle)
                while not settled.wait(0.2):
                    if not connection.is_open:
                        done.set()
                        return
                self.busy.clear()
        except Exception:  # noqa: BLE001
            log.exception("consumer worker thread failed")
            done.set()


    def _handle_until_done(self, batch: list[Delivery], connection, stop: threading.Event) -> list[Outcome] | None:
        """Handle ``batch``; while the database is away keep it in hand (unacked) and try again with growing
        pauses. A requeue would count as a delivery attempt, and a quorum queue dead-letters a message after
        ``x-delivery-limit`` of them: requeueing once a second sent valid events to ``.dead`` after a 20-second
        outage. On stop the batch is requeued; ``None`` if the connection is gone (the broker redelivers)."""
        failures = 0
        while True:
            try:
                return self.handle_batch(batch)
            except Exception as exc:  # noqa: BLE001 - the database is away
                failures += 1
                pause = min(15.0, 0.5 * 2 ** min(failures, 5))
                log.warning("batch failed (%s); %d messages kept in hand, retrying in %.0fs",
                            type(exc).__name__, len(batch), pause)
                if stop.wait(pause):
                    return [Outcome(d, "requeue", str(exc)[:200]) for d in batch]
                if not connection.is_open:
                    return None


def event_time(event: dict) -> datetime | None:
    value = event.get("time")
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def dumps(event: dict) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")
