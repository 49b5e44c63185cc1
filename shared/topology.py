"""The whole bus topology of our own services, declared idempotently by every relay before it publishes.

A consumer declares its own queue when it starts; but an event published before that moment would reach only
the archive stream. So each relay also declares every queue our services consume from (their
``SUBSCRIPTIONS``), and an event is never published before its subscribers' queues exist. Other bureaus
declare their own queues (examples/subscriber) and read the archive for anything older.
"""
from __future__ import annotations

import importlib

from . import amqp
from .config import DEFAULT_PORTS


def subscriptions() -> dict[str, list[str]]:
    """``{queue: [binding patterns]}`` for every consumer queue of our four services."""
    out: dict[str, list[str]] = {}
    for service in DEFAULT_PORTS:
        module = importlib.import_module(f"services.{service}.handlers")
        for queue, handlers in getattr(module, "SUBSCRIPTIONS", {}).items():
            out[queue] = sorted(handlers)
    return out


def declare_all(channel, settings) -> None:
    """Exchanges, archive and every consumer queue of ours (each on a channel of its own: see ``shared.amqp``)."""
    amqp.declare_exchanges(channel, settings)
    for queue, bindings in subscriptions().items():
        amqp.declare_consumer_queue(channel, settings, queue, bindings)
