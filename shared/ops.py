"""Operator tools for the event bus: ``python -m shared.ops <command>`` (docs/operations.md).

    dead list    [--queue Q ...] [--json]                       what is in the dead-letter queues, and why
    dead redrive --queue Q (--id ID ... | --all)                move dead letters back to Q after a fix
    backfill     --service S --since ISO --until ISO --to-queue BUREAU_QUEUE [--type T ...] [--dry-run]
                                                                republish outbox rows to one bureau's queue
    lag          [--service S ...] [--json]                     outbox lag per service

Every action is logged as one JSON line (who, what, counts) on stderr and appended to the audit file
(``var/ops-audit.jsonl`` by default). Exit status: 0 done, 1 failed (broker, database, a message that could not
be moved, an id not found), 2 usage.

Reading a queue without consuming it: AMQP 0-9-1 has no "peek". ``dead list`` takes the messages with
``basic.get`` (manual ack) and holds them all unacknowledged, then gives them all back at once with
``basic.nack(multiple, requeue)``: both classic and quorum queues put requeued messages back in their original
order, and nobody else consumes a ``.dead`` queue meanwhile. On a quorum queue each listing counts as one
delivery (``x-delivery-count`` grows by one).
"""
from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path

import pika
from pika.exceptions import AMQPError, ChannelClosedByBroker, NackError, UnroutableError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import amqp, config, topology
from .config import DEFAULT_PORTS, REPO_ROOT
from .db import engine_for
from .models import OutboxMessage
from .outbox import outbox_state
from .relay import Relay
from .timeutil import utcnow

log = logging.getLogger("weizhili.ops")

DEFAULT_AUDIT_FILE = REPO_ROOT / "var" / "ops-audit.jsonl"
#: Headers of a failed delivery, removed when a message is redriven so its retries start afresh.
RETRY_HEADERS = ("x-retry-count", "x-death-reason", "x-dead-lettered-at", "x-last-error", "x-death",
                 "x-first-death-queue", "x-first-death-reason", "x-first-death-exchange", "x-last-death-queue",
                 "x-last-death-reason", "x-last-death-exchange", "x-delivery-count")
PAGE = 500


class OpsError(Exception):
    """An action that could not be done (exit status 1); the message says what and why."""


# -- the broker ------------------------------------------------------------------------------------------
def _connect(url: str) -> pika.BlockingConnection:
    params = amqp.parameters(url, name=f"weizhili-ops ({_operator_name()})")
    return pika.BlockingConnection(params)


def _queue_depth(connection, queue: str) -> int | None:
    """Messages ready in ``queue``, or None if it does not exist (a passive declare closes its channel on 404)."""
    channel = connection.channel()
    try:
        return channel.queue_declare(queue, passive=True).method.message_count
    except ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return None
        raise
    finally:
        if channel.is_open:
            channel.close()


def _dead_queue_of(queue: str) -> tuple[str, str]:
    """(consumer queue, its dead-letter queue) from either name."""
    base = queue[: -len(".dead")] if queue.endswith(".dead") else queue
    return base, amqp.dead_queue(base)


def _text(value) -> str | None:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else (None if value is None else str(value))


def describe(queue: str, properties: pika.BasicProperties) -> dict:
    """What an operator needs to know about one dead letter, from its properties and headers.

    Our consumers write ``x-death-reason``, ``x-original-routing-key``, ``x-retry-count`` and
    ``x-dead-lettered-at``; a message the broker dead-lettered itself (a quorum queue's delivery limit) carries
    RabbitMQ's ``x-death`` instead, which is used as the fallback.
    """
    headers = properties.headers or {}
    death = (headers.get("x-death") or [{}])[0]
    keys = death.get("routing-keys") or [None]
    dead_at = headers.get("x-dead-lettered-at") or death.get("time")
    return {
        "queue": queue,
        "message_id": properties.message_id,
        "type": properties.type,
        "original_routing_key": _text(headers.get("x-original-routing-key") or keys[0]),
        "reason": _text(headers.get("x-death-reason") or death.get("reason")),
        "retry_count": int(headers.get("x-retry-count") or 0),
        "dead_lettered_at": dead_at.isoformat() if isinstance(dead_at, datetime) else _text(dead_at),
    }


def _take_all(channel, queue: str, limit: int):
    """Get up to ``limit`` messages with manual ack and keep them unacked; yields (method, properties, body)."""
    for _ in range(limit):
        method, properties, body = channel.basic_get(queue, auto_ack=False)
        if method is None:
            return
        yield method, properties, body


def dead_list(url: str, queues: list[str]) -> list[dict]:
    """Describe every message in the ``.dead`` queue of each of ``queues``, leaving them where they are."""
    found = []
    connection = _connect(url)
    try:
        for queue in queues:
            _, dead = _dead_queue_of(queue)
            depth = _queue_depth(connection, dead)
            if not depth:
                continue
            channel = connection.channel()
            last_tag = None
            for method, properties, _body in _take_all(channel, dead, depth):
                found.append(describe(dead, properties))
                last_tag = method.delivery_tag
            if last_tag is not None:
                channel.basic_nack(last_tag, multiple=True, requeue=True)  # all back, in their order
            channel.close()
    finally:
        if connection.is_open:
            connection.close()
    return found


def redrive_properties(properties: pika.BasicProperties) -> pika.BasicProperties:
    """The dead letter's properties with its failure headers cleared (``x-original-routing-key`` is kept)."""
    headers = {k: v for k, v in (properties.headers or {}).items() if k not in RETRY_HEADERS}
    headers["x-redriven-at"] = utcnow().isoformat()
    return pika.BasicProperties(
        content_type=properties.content_type, delivery_mode=pika.DeliveryMode.Persistent,
        message_id=properties.message_id, type=properties.type, app_id=properties.app_id,
        timestamp=properties.timestamp, headers=headers)


def dead_redrive(url: str, queue: str, ids: list[str] | None) -> dict:
    """Move dead letters of ``queue`` (all of them, or those whose message id is in ``ids``) back to ``queue``.

    Each one is published to the default exchange with routing key ``queue`` with a publisher confirm, and only
    then is the dead copy acked: a failure in between leaves it in both places (at least once; the consumer's
    inbox absorbs the copy), never in neither. Messages not selected are given back in their order.
    """
    base, dead = _dead_queue_of(queue)
    wanted = set(ids or ())
    connection = _connect(url)
    moved, kept, found = 0, 0, set()
    try:
        if _queue_depth(connection, base) is None:
            raise OpsError(f"queue {base} does not exist: nothing to redrive into")
        depth = _queue_depth(connection, dead)
        if depth is None:
            raise OpsError(f"queue {dead} does not exist")
        channel = connection.channel()
        publisher = connection.channel()
        publisher.confirm_delivery()
        last_tag = None
        for method, properties, body in _take_all(channel, dead, depth):
            if ids is not None and properties.message_id not in wanted:
                kept += 1
                last_tag = method.delivery_tag
                continue
            try:
                publisher.basic_publish("", base, body, properties=redrive_properties(properties), mandatory=True)
            except (UnroutableError, NackError) as exc:
                raise OpsError(f"the broker refused message {properties.message_id}: {type(exc).__name__}") from exc
            channel.basic_ack(method.delivery_tag)
            found.add(properties.message_id)
            moved += 1
        if last_tag is not None:
            channel.basic_nack(last_tag, multiple=True, requeue=True)
    finally:
        if connection.is_open:
            connection.close()  # anything still unacked (after a failure) goes back to the dead queue
    result = {"queue": base, "redriven": moved, "left_in_dead_queue": kept}
    if ids is not None and wanted - found:
        result["not_found"] = sorted(wanted - found)
    return result


# -- the outbox ------------------------------------------------------------------------------------------
def backfill(url: str, service: str, since: datetime, until: datetime, to_queue: str,
             types: list[str] | None = None, dry_run: bool = False) -> dict:
    """Republish ``service``'s outbox rows created in [since, until) to ``to_queue`` (one bureau's queue).

    Same message id, unchanged body, the relay's properties; published to the default exchange with routing
    key ``to_queue``, ``mandatory`` and with publisher confirms, in commit order (``seq``). The queue must exist
    already (the bureau declares it): a missing queue fails before anything is sent. Rows pending as well as
    sent are included: an event is a committed fact either way, and the bureau deduplicates on its id.
    """
    settings = config.load(service)
    engine = engine_for(settings.database_url)
    query = select(OutboxMessage).where(OutboxMessage.created_at >= since, OutboxMessage.created_at < until)
    if types:
        query = query.where(OutboxMessage.type.in_(types))
    relay = Relay(settings, engine, name=f"ops-backfill:{_operator_name()}")
    published, after = 0, 0
    connection = None if dry_run else _connect(url)
    try:
        if connection is not None and _queue_depth(connection, to_queue) is None:
            raise OpsError(f"queue {to_queue} does not exist (the bureau declares it; check the name)")
        channel = None
        if connection is not None:
            channel = connection.channel()
            channel.confirm_delivery()
        while True:
            with Session(engine) as session:
                rows = session.scalars(query.where(OutboxMessage.seq > after).order_by(OutboxMessage.seq)
                                       .limit(PAGE)).all()
            if not rows:
                break
            for row in rows:
                if channel is not None:
                    try:
                        channel.basic_publish("", to_queue, row.body.encode("utf-8"),
                                              properties=relay._properties(row), mandatory=True)
                    except (UnroutableError, NackError) as exc:
                        raise OpsError(f"the broker refused event {row.id} after {published} were published: "
                                       f"{type(exc).__name__}") from exc
                published += 1
            after = rows[-1].seq
    finally:
        if connection is not None and connection.is_open:
            connection.close()
    return {"service": service, "to_queue": to_queue, "since": since.isoformat(), "until": until.isoformat(),
            "types": types or None, "dry_run": dry_run, "rows" if dry_run else "published": published}


def lag(services: list[str]) -> list[dict]:
    """Outbox state per service: pending rows, age of the oldest pending row (seconds), rows retrying."""
    out = []
    for service in services:
        settings = config.load(service)
        if settings.is_sqlite and not Path(settings.database_url.split("///", 1)[1]).exists():
            out.append({"service": service, "error": f"no database at {settings.database_url}"})
            continue
        try:
            pending, oldest, retrying = outbox_state(engine_for(settings.database_url))
            out.append({"service": service, "pending": pending, "oldest_pending_seconds": round(oldest, 1),
                        "retrying": retrying})
        except SQLAlchemyError as exc:
            out.append({"service": service, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"})
    return out


# -- audit -----------------------------------------------------------------------------------------------
def _operator_name(args: argparse.Namespace | None = None) -> str:
    if args is not None and getattr(args, "operator", None):
        return args.operator
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in a bare container
        return "unknown"


def audit(args: argparse.Namespace, action: str, ok: bool, result) -> None:
    """One JSON line on stderr and appended to the audit file: who, when, what, with which outcome."""
    record = {"at": utcnow().isoformat(), "operator": _operator_name(args), "action": action, "ok": ok,
              "args": {k: v for k, v in vars(args).items()
                       if k not in ("func", "command", "action", "action_name", "operator", "audit_file", "json",
                                    "amqp_url")
                       and v not in (None, False, [])},
              "result": result}
    line = json.dumps(record, ensure_ascii=False, default=str)
    print(line, file=sys.stderr)
    path = Path(args.audit_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


# -- the command line ------------------------------------------------------------------------------------
def _aware(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no offset (write e.g. 2024-06-01T00:00:00+08:00)")
    return moment


def _print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


def cmd_dead_list(args) -> tuple[object, bool]:
    queues = args.queue or sorted(topology.subscriptions())
    rows = dead_list(args.amqp_url, queues)
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        _print_table(rows, ["queue", "message_id", "type", "original_routing_key", "reason", "retry_count",
                            "dead_lettered_at"])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["queue"]] = counts.get(r["queue"], 0) + 1
    return {"dead_letters": len(rows), "per_queue": counts}, True


def cmd_dead_redrive(args) -> tuple[object, bool]:
    result = dead_redrive(args.amqp_url, args.queue, None if args.all else args.id)
    print(json.dumps(result, ensure_ascii=False))
    return result, not result.get("not_found")


def cmd_backfill(args) -> tuple[object, bool]:
    if args.until <= args.since:
        raise OpsError("--until must be after --since")
    result = backfill(args.amqp_url, args.service, args.since, args.until, args.to_queue, args.type, args.dry_run)
    print(json.dumps(result, ensure_ascii=False))
    return result, True


def cmd_lag(args) -> tuple[object, bool]:
    rows = lag(args.service or list(DEFAULT_PORTS))
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        _print_table(rows, ["service", "pending", "oldest_pending_seconds", "retrying", "error"])
    return rows, not any("error" in r for r in rows)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--operator", help="who is acting (default $USER)")
    common.add_argument("--audit-file", default=str(DEFAULT_AUDIT_FILE), help="JSON-lines audit log to append to")
    common.add_argument("--amqp-url", default=os.environ.get("AMQP_URL") or config.Settings.amqp_url,
                        help="broker URL (default $AMQP_URL)")

    # the common options belong to each command (argparse lets a subcommand's defaults overwrite the top level's)
    parser = argparse.ArgumentParser(prog="python -m shared.ops", description="weizhili event-bus operator tools")
    sub = parser.add_subparsers(dest="command", required=True)

    dead = sub.add_parser("dead", help="dead-lettered messages").add_subparsers(dest="action", required=True)
    p = dead.add_parser("list", parents=[common], help="list dead letters and their reasons (nothing is removed)")
    p.add_argument("--queue", action="append", help="consumer queue (or its .dead queue); default: all of ours")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_dead_list, action_name="dead.list")
    p = dead.add_parser("redrive", parents=[common], help="move dead letters back to their queue after a fix")
    p.add_argument("--queue", required=True, help="consumer queue, e.g. points.credits")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", help="message id to move (repeatable)")
    which.add_argument("--all", action="store_true", help="move every dead letter of the queue")
    p.set_defaults(func=cmd_dead_redrive, action_name="dead.redrive")

    p = sub.add_parser("backfill", parents=[common], help="republish outbox rows to one bureau's queue")
    p.add_argument("--service", required=True, choices=sorted(DEFAULT_PORTS))
    p.add_argument("--since", required=True, type=_aware, help="first creation time, inclusive (with offset)")
    p.add_argument("--until", required=True, type=_aware, help="end of the range, exclusive (with offset)")
    p.add_argument("--to-queue", required=True, help="the bureau's queue (it must exist)")
    p.add_argument("--type", action="append", help="only this event type (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="count the rows, publish nothing")
    p.set_defaults(func=cmd_backfill, action_name="backfill")

    p = sub.add_parser("lag", parents=[common], help="outbox lag per service")
    p.add_argument("--service", action="append", choices=sorted(DEFAULT_PORTS), help="default: all four")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_lag, action_name="lag")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (argparse itself exits with 2 on a usage error)."""
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    args = build_parser().parse_args(argv)
    try:
        result, ok = args.func(args)
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        audit(args, args.action_name, False, {"error": str(exc)})
        return 1
    except (AMQPError, OSError, SQLAlchemyError) as exc:
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        print(f"error: {message}", file=sys.stderr)
        audit(args, args.action_name, False, {"error": message})
        return 1
    audit(args, args.action_name, ok, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
