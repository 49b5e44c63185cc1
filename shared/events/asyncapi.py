"""Generate the public event catalogue from the schema files: ``docs/events/asyncapi.yaml`` and ``README.md``.

    python -m shared.events.asyncapi            # (re)write both files
    python -m shared.events.asyncapi --check    # exit 1 if the committed files differ (CI)

The AsyncAPI 3.0.0 document describes what a bureau needs to subscribe without asking us (EVENTS.md): the
RabbitMQ server, the durable topic exchange ``weizhili.events``, one channel per event type whose address is
the routing key (= the CloudEvent ``type``), and one message per type whose payload is the CloudEvents 1.0
structured envelope (documented once, in ``components/schemas/CloudEvent``) with ``data`` = that type's schema.
The Markdown file is the same catalogue for people. Both are derived from ``shared/events/schemas/*.json``
only, deterministically, so ``--check`` can tell when someone edited a schema and forgot to regenerate.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from datetime import datetime
from pathlib import Path

import yaml

from shared.events import CONTENT_TYPE, DATA_CONTENT_TYPE, catalogue, envelope

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "docs" / "events"
EXCHANGE = "weizhili.events"
EXAMPLE_HOST = "https://weizhili.example"  # the schemas are served by each service at /schemas/<type>.json
BINDING_VERSION = "0.3.0"


# ------------------------------------------------------------------------------------------ AsyncAPI
def _data_schema(schema: dict) -> dict:
    """A catalogue schema as an AsyncAPI Schema Object (draft-07 superset): without ``$schema``."""
    return {k: v for k, v in schema.items() if k != "$schema"}


def example_envelope(event_type: str, schema: dict) -> dict:
    """A deterministic example CloudEvent for ``event_type`` built from the schema's first example."""
    data = schema["examples"][0]
    times = [v for k, v in data.items() if isinstance(v, str) and schema["properties"][k].get("format") == "date-time"]
    days = [v for k, v in data.items() if isinstance(v, str) and schema["properties"][k].get("format") == "date"]
    when = times[0] if times else f"{days[0]}T20:00:00+08:00"
    subject = schema.get("x-subject", "").format(**data) or None
    return envelope(event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"weizhili:{event_type}")),
                    source_service=schema["x-producer"], event_type=event_type, subject=subject,
                    time=datetime.fromisoformat(when), data=data, schema_base_url=EXAMPLE_HOST)


ENVELOPE_SCHEMA = {
    "title": "CloudEvent (structured mode, JSON)",
    "description": (
        "The message body: one CloudEvents 1.0 event in JSON (structured content mode). Any CloudEvents SDK reads "
        "it as it is. `id` is unique forever and is the consumer's idempotency key (delivery is at least once). "
        "Attributes not listed here may appear (CloudEvents extensions): ignore what you do not know. "
        "AMQP properties mirror it: message_id = id, type = type, app_id = the producing service, timestamp, "
        "content_type; the header `traceparent` (W3C trace context) is present when the cause had one."),
    "type": "object",
    "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "data"],
    "properties": {
        "specversion": {"type": "string", "const": "1.0", "description": "CloudEvents version."},
        "id": {"type": "string", "minLength": 1, "description": "Unique event id: deduplicate on it."},
        "source": {"type": "string", "pattern": "^/weizhili/(disputes|points|relief|jobmarket)$",
                   "description": "The producing service, as /weizhili/<service>."},
        "type": {"type": "string", "description": "The event type; equal to the AMQP routing key. Ends in its major version."},
        "subject": {"type": "string", "description": "The entity the event is about (e.g. cases/<case_id>); order is kept per subject where possible."},
        "time": {"type": "string", "format": "date-time", "description": "When the fact happened, ISO 8601 with an offset."},
        "datacontenttype": {"type": "string", "const": DATA_CONTENT_TYPE, "description": "Content type of `data`."},
        "dataschema": {"type": "string", "format": "uri", "description": "URL of the JSON Schema (draft 2020-12) of `data`, served by the producer at /schemas/<type>.json."},
        "data": {"type": "object", "description": "The event's data: see each message."},
    },
}


def build_asyncapi(cat: dict[str, dict]) -> dict:
    """The AsyncAPI 3.0.0 document (a plain dict) for the catalogue ``{type: data schema}``."""
    channels, operations, schemas, messages = {}, {}, {"CloudEvent": ENVELOPE_SCHEMA}, {}
    for event_type, schema in sorted(cat.items()):
        producer = schema["x-producer"]
        schemas[event_type] = _data_schema(schema)
        messages[event_type] = {
            "name": event_type,
            "title": event_type,
            "summary": schema["description"].split(". ")[0].rstrip(".") + ".",
            "description": schema["description"],
            "contentType": CONTENT_TYPE,
            "headers": {"$ref": "#/components/schemas/AmqpHeaders"},
            "payload": {"allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {"type": "object", "properties": {
                    "type": {"type": "string", "const": event_type},
                    "source": {"type": "string", "const": f"/weizhili/{producer}"},
                    "data": {"$ref": f"#/components/schemas/{event_type}"}}},
            ]},
            "bindings": {"amqp": {"messageType": event_type, "bindingVersion": BINDING_VERSION}},
            "examples": [{"name": "example", "payload": example_envelope(event_type, schema)}],
            "x-producer": producer,
        }
        channels[event_type] = {
            "address": event_type,
            "title": event_type,
            "description": f"Routing key `{event_type}` on the topic exchange `{EXCHANGE}`. "
                           f"Bind your own durable queue with this key (or a pattern such as `{producer}.#`).",
            "servers": [{"$ref": "#/servers/rabbitmq"}],
            "messages": {event_type: {"$ref": f"#/components/messages/{event_type}"}},
            "bindings": {"$ref": "#/components/channelBindings/weizhiliEvents"},
        }
        operations[f"publish.{event_type}"] = {
            "action": "send",
            "title": f"{producer} publishes {event_type}",
            "channel": {"$ref": f"#/channels/{event_type}"},
            "messages": [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}],
            "bindings": {"$ref": "#/components/operationBindings/persistentPublish"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "weizhili (微治理) events",
            "version": "1.0.0",
            "description": (
                "The events the four weizhili services (disputes, points, relief, jobmarket) publish. Other "
                "bureaus subscribe without asking us: declare your own durable queue, bind it to the topic exchange "
                f"`{EXCHANGE}` with the routing keys below (the event types, or patterns such as `relief.#`), and "
                "read CloudEvents. Events carry opaque ids (person_id, case_id...), categories, counts, amounts "
                "and times; never names, phone numbers, ID-card numbers or addresses. Within a version fields are "
                "only ever added; a breaking change is a new type (.v2) published alongside the old one. "
                "Generated from shared/events/schemas by `python -m shared.events.asyncapi`: do not edit."),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"rabbitmq": {
            "host": "{host}:{port}",
            "protocol": "amqp",
            "protocolVersion": "0.9.1",
            "title": "The district's RabbitMQ broker",
            "description": "RabbitMQ (AMQP 0-9-1). Every event is also kept for 30 days (configurable) in the "
                           "stream `weizhili.archive`, bound with `#`, so a late subscriber can read history.",
            "variables": {"host": {"default": "localhost", "description": "Broker host name given by district IT."},
                          "port": {"default": "5672"}},
        }},
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {**schemas, "AmqpHeaders": {
                "type": "object",
                "description": "AMQP application headers.",
                "properties": {"traceparent": {"type": "string", "description": "W3C trace context of the cause, when there was one."}},
            }},
            "messages": messages,
            "channelBindings": {"weizhiliEvents": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": EXCHANGE, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"},
                "bindingVersion": BINDING_VERSION}}},
            "operationBindings": {"persistentPublish": {"amqp": {
                "deliveryMode": 2, "mandatory": True, "timestamp": True, "bindingVersion": BINDING_VERSION}}},
        },
    }


def render_asyncapi(cat: dict[str, dict]) -> str:
    """The AsyncAPI document as YAML text (stable: insertion order, unicode kept, no line folding)."""
    header = "# Generated by `python -m shared.events.asyncapi` from shared/events/schemas. Do not edit.\n"
    return header + yaml.safe_dump(build_asyncapi(cat), sort_keys=False, allow_unicode=True, width=1_000_000)


# ------------------------------------------------------------------------------------------ Markdown
def _type_text(prop: dict) -> str:
    """A short human description of a property's JSON type and constraints."""
    types = prop.get("type", "any")
    text = " or ".join(types) if isinstance(types, list) else types
    if "format" in prop:
        text += f" ({prop['format']})"
    if "const" in prop:
        text += f": `{prop['const']}`"
    if "enum" in prop:
        text += ": " + ", ".join("null" if v is None else f"`{v}`" for v in prop["enum"])
    bounds = [f"{word} {prop[key]}" for key, word in (("minimum", "≥"), ("maximum", "≤")) if key in prop]
    if bounds:
        text += " " + ", ".join(bounds)
    if "pattern" in prop and prop.get("format") != "date-time":
        text += f", pattern `{prop['pattern']}`"
    return text


def field_rows(schema: dict, prefix: str = "") -> list[tuple[str, str, bool, str]]:
    """``(path, type, required, description)`` for every property, nested objects and arrays included."""
    rows = []
    for name, prop in schema.get("properties", {}).items():
        path, required = prefix + name, name in schema.get("required", [])
        items = prop.get("items", {})
        type_text = _type_text(prop) + (f" of {_type_text(items)}" if prop.get("type") == "array" and "properties" not in items else "")
        rows.append((path, type_text, required, prop.get("description", "")))
        if prop.get("type") == "object" or "properties" in prop:
            rows += field_rows(prop, path + ".")
        if "properties" in items:
            rows += field_rows(items, path + "[].")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(cat: dict[str, dict]) -> str:
    """The catalogue for people: how to subscribe, the envelope, then one section per event type."""
    out = [
        "# weizhili event catalogue (v1)",
        "",
        "<!-- Generated by `python -m shared.events.asyncapi` from shared/events/schemas. Do not edit. -->",
        "",
        "Other bureaus may subscribe to these events without asking us. Everything you need is here and in",
        "[asyncapi.yaml](asyncapi.yaml) (AsyncAPI 3.0.0, the same content for tools).",
        "",
        "## Subscribing",
        "",
        f"- Broker: RabbitMQ (AMQP 0-9-1). Exchange: `{EXCHANGE}`, type **topic**, durable.",
        "- Declare your own durable queue and bind it with the routing keys you want: the routing key is the event",
        "  `type` (for example `disputes.case.resolved.v1`), and patterns work (`relief.#`, `*.*.*.v1`).",
        "- Messages are persistent (delivery mode 2) and delivered **at least once**: deduplicate on the CloudEvent `id`.",
        "- History: the stream `weizhili.archive` keeps every event for 30 days (configurable).",
        "- No personal data: events carry opaque ids (`person_id`, `*_person_id`, `case_id`...), categories, counts,",
        "  amounts (yuan as decimal strings such as `\"100.00\"`), points (integers) and times (ISO 8601 with an offset;",
        "  days are Asia/Shanghai days). Never names, phone numbers, ID-card numbers or addresses.",
        "- Compatibility: within a version fields are only added (read tolerantly: ignore fields you do not know;",
        "  values of code fields may grow). A breaking change is a new type (`.v2`) published alongside the old one.",
        "  `shared/events/compat.py` checks every change against `v1-baseline/`.",
        "",
        "## Envelope (CloudEvents 1.0, structured mode)",
        "",
        f"Body content type `{CONTENT_TYPE}`. AMQP properties mirror the envelope: `message_id` = `id`,",
        "`type` = `type`, `app_id` = the service, `timestamp`, `content_type`; header `traceparent` when present.",
        "",
        "| attribute | type | required | description |",
        "|---|---|---|---|",
    ]
    out += [f"| `{p}` | {_cell(t)} | {'yes' if r else 'no'} | {_cell(d)} |" for p, t, r, d in field_rows(ENVELOPE_SCHEMA)]
    out += ["", "## Event types", "", "| type | producer | when |", "|---|---|---|"]
    out += [f"| [`{t}`](#{t.replace('.', '')}) | {s['x-producer']} | {_cell(s['description'].split('. ')[0].rstrip('.'))} |"
            for t, s in sorted(cat.items())]
    for event_type, schema in sorted(cat.items()):
        out += ["", f"### {event_type}", "",
                f"- Producer: `{schema['x-producer']}` (CloudEvent `source` `/weizhili/{schema['x-producer']}`)",
                f"- Routing key: `{event_type}`",
                f"- Subject: `{schema.get('x-subject', '')}`",
                f"- Schema: `/schemas/{event_type}.json`",
                "", schema["description"], "",
                "| field | type | required | description |", "|---|---|---|---|"]
        out += [f"| `{p}` | {_cell(t)} | {'yes' if r else 'no'} | {_cell(d)} |" for p, t, r, d in field_rows(schema)]
        example = json.dumps(example_envelope(event_type, schema), ensure_ascii=False, indent=2)
        out += ["", "Example message body:", "", "```json", example, "```"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------ CLI
def generated(cat: dict[str, dict] | None = None) -> dict[Path, str]:
    """``{path: text}`` of every generated file."""
    cat = catalogue() if cat is None else cat
    return {OUT_DIR / "asyncapi.yaml": render_asyncapi(cat), OUT_DIR / "README.md": render_markdown(cat)}


def stale_files() -> list[Path]:
    """The generated files whose committed text differs from what would be generated now."""
    return [p for p, text in generated().items() if not p.exists() or p.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files are not up to date")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"{path.relative_to(REPO)} is out of date: run python -m shared.events.asyncapi", file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
