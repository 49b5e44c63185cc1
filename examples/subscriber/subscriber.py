"""A bureau's subscriber to weizhili's events: a small, complete example to copy.

    python subscriber.py --url amqp://bureau-x:SECRET@mq.example:5672/weizhili \\
        --queue bureau-x.relief --bind 'relief.#' --db relief-events.sqlite3

What it does, and why (README.md explains the whole onboarding):

- Declares its own durable queue (quorum by default, ``--queue-type classic`` for a broker without quorum
  queues) and binds it to the topic exchange ``weizhili.events`` with the routing-key patterns given by
  ``--bind`` (the routing key is the event type, so ``relief.#`` is every relief event).
- Reads each message with the official CloudEvents SDK (``cloudevents`` 2.2: ``from_rabbitmq`` + ``JSONFormat``),
  which understands our structured-mode messages as they are.
- Stores each event in its own SQLite database, in a table keyed by the CloudEvent ``id``: delivery is at
  least once, so a redelivered or republished event is a no-op (``INSERT OR IGNORE``).
- Acks a message only after its own commit; a crash between the two means a redelivery, which the key absorbs.
- Uses a consumer prefetch (``--prefetch``) so the broker never pushes more than that many unacked messages.
- Survives broker restarts: pika has no automatic reconnect, so the loop reconnects with back-off.
- Stops cleanly on SIGTERM or SIGINT: the message in hand is finished and acked, the rest stay in the queue
  for the next run; exit status 0.

A message that is not a CloudEvent (it should never happen) is kept in the ``unreadable`` table and acked, so it
neither loops nor blocks the queue; look at that table now and then.

Only the standard library, ``pika`` and ``cloudevents`` are needed: ``pip install pika 'cloudevents>=2.2'``.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
from datetime import datetime, timezone

import pika
from pika.exceptions import AMQPError
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq
from cloudevents.core.formats.json import JSONFormat

log = logging.getLogger("subscriber")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id          TEXT PRIMARY KEY,   -- the CloudEvent id: the idempotency key
    type        TEXT NOT NULL,
    source      TEXT NOT NULL,
    subject     TEXT,
    time        TEXT,               -- when the fact happened (ISO 8601, with an offset)
    data        TEXT NOT NULL,      -- the event's data, as JSON
    routing_key TEXT NOT NULL,
    received_at TEXT NOT NULL       -- when this subscriber stored it (UTC)
);
CREATE TABLE IF NOT EXISTS unreadable (
    message_id  TEXT,
    reason      TEXT NOT NULL,
    body        BLOB,
    received_at TEXT NOT NULL
);
"""


def open_store(path: str) -> sqlite3.Connection:
    """The subscriber's own database (WAL mode, so you can read it while the subscriber runs)."""
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    db.commit()
    return db


def read_event(properties: pika.BasicProperties, body: bytes):
    """The CloudEvent in a message, read by the official SDK (structured or binary mode)."""
    headers = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in (properties.headers or {}).items()}
    message = RabbitMQMessage(headers=headers, content_type=properties.content_type, body=body)
    return from_rabbitmq(message, JSONFormat())


def store(db: sqlite3.Connection, event, routing_key: str) -> bool:
    """Insert ``event`` unless its id is already stored; commit. Returns True when it was new."""
    now = datetime.now(timezone.utc).isoformat()
    time = event.get_time()
    cursor = db.execute(
        "INSERT OR IGNORE INTO events (id, type, source, subject, time, data, routing_key, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (event.get_id(), event.get_type(), event.get_source(), event.get_subject(),
         time.isoformat() if time is not None else None,
         json.dumps(event.get_data(), ensure_ascii=False), routing_key, now))
    db.commit()
    return cursor.rowcount == 1


def store_unreadable(db: sqlite3.Connection, properties: pika.BasicProperties, body: bytes, reason: str) -> None:
    db.execute("INSERT INTO unreadable (message_id, reason, body, received_at) VALUES (?, ?, ?, ?)",
               (properties.message_id, reason[:500], body, datetime.now(timezone.utc).isoformat()))
    db.commit()


class Subscriber:
    """Consumes one queue into one SQLite database until :attr:`stop` is set."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.db = open_store(args.db)
        self.stop = threading.Event()
        self.stored = 0

    def queue_arguments(self) -> dict:
        if self.args.queue_type == "quorum":
            # explicit, never a broker version's default (RabbitMQ 4.x drops a message after 20 deliveries)
            return {"x-queue-type": "quorum", "x-delivery-limit": self.args.delivery_limit}
        return {"x-queue-type": "classic"}

    def on_message(self, channel, method, properties, body) -> None:
        """Read, store, commit, then ack: never the other way round."""
        try:
            event = read_event(properties, body)
        except Exception as exc:  # noqa: BLE001 - anything the SDK cannot read is kept aside, not looped
            log.error("unreadable message %s: %s", properties.message_id, exc)
            store_unreadable(self.db, properties, body, f"{type(exc).__name__}: {exc}")
        else:
            if store(self.db, event, method.routing_key):
                self.stored += 1
                log.info("stored %s %s", event.get_type(), event.get_id())
            else:
                log.info("already stored %s (a redelivery)", event.get_id())
        channel.basic_ack(method.delivery_tag)

    def consume_once(self) -> None:
        """One connection's life: declare, bind, consume until stopped or the connection is lost."""
        params = pika.URLParameters(self.args.url)
        params.heartbeat = 30
        params.client_properties = {"connection_name": f"subscriber {self.args.queue}"}
        connection = pika.BlockingConnection(params)
        try:
            channel = connection.channel()
            channel.queue_declare(self.args.queue, durable=True, arguments=self.queue_arguments())
            for pattern in self.args.bind:
                channel.queue_bind(self.args.queue, self.args.exchange, routing_key=pattern)
            channel.basic_qos(prefetch_count=self.args.prefetch)
            tag = channel.basic_consume(self.args.queue, self.on_message)
            log.info("consuming %s (bindings %s)", self.args.queue, ", ".join(self.args.bind))
            while not self.stop.is_set():
                # callbacks run in here, one at a time; a signal only sets the flag, so the
                # message in hand is always finished (stored and acked) before we leave
                connection.process_data_events(time_limit=0.5)
            channel.basic_cancel(tag)  # unacked prefetched messages return to the queue on close
        finally:
            if connection.is_open:
                connection.close()

    def run(self) -> int:
        """Consume until SIGTERM/SIGINT, reconnecting with back-off (1 s doubling to 30 s)."""
        delay = 1.0
        while not self.stop.is_set():
            try:
                self.consume_once()
                delay = 1.0
            except (AMQPError, OSError) as exc:
                log.warning("broker unavailable (%s: %s); reconnecting in %.0fs", type(exc).__name__, exc, delay)
                self.stop.wait(delay)
                delay = min(30.0, delay * 2)
            except sqlite3.OperationalError as exc:
                # our own database failed: nothing was acked, the connection is closed (the messages go back
                # to the queue), and we try again
                log.warning("database error (%s); retrying in %.0fs", exc, delay)
                self.db.rollback()
                self.stop.wait(delay)
                delay = min(30.0, delay * 2)
        self.db.close()
        log.info("stopped; %d new events stored in this run", self.stored)
        return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Subscribe to weizhili events and store them in SQLite.")
    p.add_argument("--url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
                   help="AMQP URL with your user, password and vhost (default $AMQP_URL)")
    p.add_argument("--queue", required=True, help="your queue, e.g. bureau-x.relief (must match your permissions)")
    p.add_argument("--bind", action="append", required=True, metavar="PATTERN",
                   help="routing-key pattern to bind, e.g. 'relief.#' (repeatable)")
    p.add_argument("--db", default="events.sqlite3", help="SQLite file to store events in")
    p.add_argument("--exchange", default="weizhili.events")
    p.add_argument("--prefetch", type=int, default=50, help="unacked messages the broker may push at once")
    p.add_argument("--queue-type", choices=("quorum", "classic"), default="quorum")
    p.add_argument("--delivery-limit", type=int, default=20, help="quorum queues: deliveries before a drop")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("pika").setLevel(logging.CRITICAL)  # our own lines say what matters
    subscriber = Subscriber(parse_args(argv))

    def on_signal(signum, _frame):
        log.info("signal %d: finishing the message in hand, then stopping", signum)
        subscriber.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return subscriber.run()


if __name__ == "__main__":
    sys.exit(main())
