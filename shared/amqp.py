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


class PublishInterrupted(AMQPError):
    """The connection ended (or the broker stopped answering) before every message of a batch was confirmed.
    ``outcomes`` holds what was settled before that (``None`` for the rest)."""

    def __init__(self, reason: object, outcomes: list[str | None]):
        super().__init__(str(reason))
        self.outcomes = outcomes


class ConfirmingPublisher:
    """Publisher confirms pipelined on one channel: a batch is written at once and the broker's acks are then
    collected (an ack may cover many messages), instead of one round trip per message as ``BlockingChannel``
    waits. pika's asynchronous ``SelectConnection``, driven from the calling thread only: its I/O loop runs while
    :meth:`publish` waits for confirms and while :meth:`idle` waits (so heartbeats are answered).

    :meth:`publish` returns one outcome per message, in order: ``ack`` (the broker has it), ``nack`` (refused),
    ``returned`` (mandatory and unroutable: no queue is bound to its routing key). It raises
    :class:`PublishInterrupted` when the connection ends or no confirm comes within ``timeout`` seconds.
    Messages on one channel keep their order.
    """

    def __init__(self, url: str, *, name: str, timeout: float = 30.0):
        self.timeout = timeout
        self._channel = None
        self._ready = False
        self._failure: object | None = None
        self._pending: dict[int, int] = {}  # delivery tag → index in the batch
        self._outcomes: list[str | None] = []
        self._returned: set[str] = set()
        self._ids: list[str] = []
        self._tag = 0
        self._until = None
        self._connection = pika.SelectConnection(
            parameters(url, name=name), on_open_callback=self._on_open,
            on_open_error_callback=self._on_failure, on_close_callback=self._on_failure)
        self._run_until(lambda: self._ready)

    @property
    def is_open(self) -> bool:
        return self._ready and self._failure is None and self._connection.is_open

    # -- callbacks (on the I/O loop, in the calling thread) --------------------------------------------
    def _on_open(self, connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_failure)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame) -> None:
        self._ready = True
        self._wake()

    def _on_failure(self, _source, reason=None) -> None:
        self._failure = reason if reason is not None else "connection closed"
        if self._connection.is_open:  # a channel closed by the broker, or no confirm in time: end it all
            self._connection.close()
        self._wake(always=True)

    def _on_return(self, _channel, _method, properties, _body) -> None:
        self._returned.add(properties.message_id)  # basic.return comes before that message's ack

    def _on_confirm(self, frame) -> None:
        method = frame.method
        outcome = "ack" if isinstance(method, pika.spec.Basic.Ack) else "nack"
        tags = [t for t in self._pending if t <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        for tag in tags:
            index = self._pending.pop(tag, None)
            if index is not None:
                returned = outcome == "ack" and self._ids[index] in self._returned
                self._outcomes[index] = "returned" if returned else outcome
        self._wake()

    def _wake(self, always: bool = False) -> None:
        if self._until is not None and (always or self._until()):
            self._connection.ioloop.stop()

    def _run_until(self, predicate) -> None:
        """Run the I/O loop until ``predicate()`` holds; raise :class:`PublishInterrupted` on failure/timeout."""
        if self._failure is None and not predicate():
            self._until = predicate
            timer = self._connection.ioloop.call_later(self.timeout, lambda: self._on_failure(None, "timed out"))
            try:
                self._connection.ioloop.start()
            finally:
                self._until = None
                self._connection.ioloop.remove_timeout(timer)
        if self._failure is not None:
            raise PublishInterrupted(self._failure, list(self._outcomes))

    # -- use ------------------------------------------------------------------------------------------
    def publish(self, messages: list[tuple[str, str, bytes, pika.BasicProperties]]) -> list[str]:
        """Publish ``(exchange, routing key, body, properties)`` each (mandatory) and wait for every confirm.

        Every ``properties.message_id`` must be set (it identifies a returned message)."""
        self._outcomes = [None] * len(messages)
        self._ids = [props.message_id for _, _, _, props in messages]
        self._returned.clear()
        for index, (exchange, routing_key, body, props) in enumerate(messages):
            if self._failure is not None:
                break
            try:
                self._channel.basic_publish(exchange, routing_key, body, props, mandatory=True)
            except AMQPError as exc:  # the channel is known closed: settle like a dropped connection
                self._failure = exc
                break
            self._tag += 1
            self._pending[self._tag] = index
        self._run_until(lambda: not self._pending)
        return list(self._outcomes)

    def idle(self, seconds: float) -> None:
        """Wait ``seconds`` with the I/O loop running (heartbeats, a broker's close)."""
        if self._failure is None:
            timer = self._connection.ioloop.call_later(seconds, self._connection.ioloop.stop)
            self._until = lambda: False
            try:
                self._connection.ioloop.start()
            finally:
                self._until = None
                self._connection.ioloop.remove_timeout(timer)

    def close(self) -> None:
        """Close the connection (waits briefly for the broker's close-ok)."""
        if self._connection.is_open:
            self._connection.close()
        if not self._connection.is_closed:
            self._until = lambda: self._connection.is_closed
            timer = self._connection.ioloop.call_later(5.0, self._connection.ioloop.stop)
            try:
                self._connection.ioloop.start()
            finally:
                self._until = None
                self._connection.ioloop.remove_timeout(timer)
