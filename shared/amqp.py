"""RabbitMQ connections and topology (EVENTS.md, "Transport").

Every declaration here is idempotent, so whoever needs a part declares it: the relay declares the exchanges
and the archive stream; a consumer declares its queue, its retry tiers and its dead-letter queue.
One connection per thread, opened lazily after any fork; the web process never opens one.
"""
from __future__ import annotations

import logging
import time

import pika
from pika.exceptions import AMQPError, ChannelClosedByBroker

log = logging.getLogger("weizhili.amqp")


def parameters(url: str, *, heartbeat: int = 30, name: str = "weizhili") -> pika.URLParameters:
    params = pika.URLParameters(url)
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 60
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.client_properties = {"connection_name": name}
    return params


def connect(url: str, *, name: str, stop=None, max_delay: float = 30.0) -> pika.BlockingConnection:
    """Connect, retrying with exponential back-off (pika has no automatic reconnect, pika#858).

    ``stop``: a ``threading.Event``; when set, give up and raise ``InterruptedError``.
    """
    delay = 0.5
    while True:
        try:
            return pika.BlockingConnection(parameters(url, name=name))
        except (AMQPError, OSError) as exc:
            log.warning("broker not reachable (%s); retrying in %.1fs", type(exc).__name__, delay)
            if stop is not None and stop.wait(delay):
                raise InterruptedError("stopped while connecting") from exc
            if stop is None:
                time.sleep(delay)
            delay = min(max_delay, delay * 2)


class _Declarer:
    """Declarations on a channel of their own, so that a refusal never closes the caller's channel.

    A queue that already exists with other arguments (declared by an earlier release, or changed by an operator
    with a policy) makes RabbitMQ refuse the declaration (406 PRECONDITION_FAILED) and close the channel. That
    must not stop a relay or a consumer after an upgrade: the queue is kept as it is (checked passively) and a
    warning says which arguments differ (docs/operations.md, "Changing a queue's arguments").
    """

    def __init__(self, channel):
        self.connection = channel.connection
        self.channel = self.connection.channel()

    def queue(self, name: str, arguments: dict) -> None:
        try:
            self.channel.queue_declare(name, durable=True, arguments=arguments)
        except ChannelClosedByBroker as exc:
            if exc.reply_code != 406:
                raise
            log.warning("queue %s exists with other arguments; kept as it is (%s)", name, exc.reply_text)
            self.channel = self.connection.channel()
            self.channel.queue_declare(name, passive=True)

    def close(self) -> None:
        if self.channel.is_open:
            self.channel.close()


def declare_exchanges(channel, settings) -> None:
    """The topic exchange, the dead-letter exchange, and the archive stream bound to everything (``#``)."""
    declarer = _Declarer(channel)
    try:
        _exchanges(declarer, settings)
    finally:
        declarer.close()


def _exchanges(declarer: _Declarer, settings) -> None:
    declarer.channel.exchange_declare(settings.exchange, exchange_type="topic", durable=True)
    declarer.channel.exchange_declare(settings.dead_letter_exchange, exchange_type="direct", durable=True)
    declarer.queue(settings.archive_stream, {"x-queue-type": "stream", "x-max-age": settings.archive_max_age})
    declarer.channel.queue_bind(settings.archive_stream, settings.exchange, routing_key="#")


#: Explicit and, in practice, unlimited: a dead letter is never dropped for being looked at too often.
DEAD_LETTER_DELIVERY_LIMIT = 1_000_000


def queue_arguments(settings, queue: str) -> dict:
    """Arguments of a consumer queue: explicit dead-lettering, never a broker version's defaults."""
    args = {"x-dead-letter-exchange": settings.dead_letter_exchange, "x-dead-letter-routing-key": queue}
    if settings.queue_type == "quorum":
        args.update({"x-queue-type": "quorum", "x-delivery-limit": settings.delivery_limit,
                     "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
    else:
        args["x-queue-type"] = "classic"
    return args


def retry_queue(queue: str, delay_ms: int) -> str:
    return f"{queue}.retry.{delay_ms}"


def dead_queue(queue: str) -> str:
    return f"{queue}.dead"


def declare_consumer_queue(channel, settings, queue: str, bindings: list[str]) -> None:
    """``queue`` bound to ``bindings`` on the exchange, its retry tiers, and ``<queue>.dead``.

    Declared on a channel of its own (``channel`` is only used to reach its connection), so a queue kept from an
    earlier release with other arguments never closes the caller's channel.
    """
    declarer = _Declarer(channel)
    try:
        _exchanges(declarer, settings)
        declarer.queue(queue, queue_arguments(settings, queue))
        for pattern in bindings:
            declarer.channel.queue_bind(queue, settings.exchange, routing_key=pattern)
        # a dead-letter queue is where messages rest until an operator looks (shared.ops): listing returns them,
        # so a quorum queue's delivery limit must not drop them (RabbitMQ 4 defaults it to 20); set it explicitly
        dead_args = ({"x-queue-type": "quorum", "x-delivery-limit": DEAD_LETTER_DELIVERY_LIMIT}
                     if settings.queue_type == "quorum" else {"x-queue-type": "classic"})
        declarer.queue(dead_queue(queue), dead_args)
        declarer.channel.queue_bind(dead_queue(queue), settings.dead_letter_exchange, routing_key=queue)
        for delay in settings.retry_delays_ms:
            # a waiting room: when the TTL runs out the message is dead-lettered back to the consumer's queue
            declarer.queue(retry_queue(queue, delay), {
                "x-queue-type": "classic", "x-message-ttl": int(delay),
                "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue})
    finally:
        declarer.close()
