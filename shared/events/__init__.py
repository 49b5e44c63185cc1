"""The event catalogue and the CloudEvents 1.0 envelope (EVENTS.md).

Each event type has a JSON Schema of its ``data`` in ``schemas/<type>.json`` (draft 2020-12). The same files
are what producers validate against before an event enters the outbox, what consumers check on arrival, what
``/schemas/<type>.json`` serves, and what the AsyncAPI document is generated from: one definition, many uses.

Producer side the schemas are strict (``additionalProperties: false``: a field that is not in the catalogue,
such as a name or phone number, fails the request that caused it). Consumer side they are read tolerantly, so a
producer may add fields within a version without breaking anyone.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
DATA_CONTENT_TYPE = "application/json"


class EventSchemaError(ValueError):
    """An event's data does not match its catalogue schema (or its type is not in the catalogue)."""

    def __init__(self, event_type: str, problems: list[str]):
        super().__init__(f"{event_type}: " + "; ".join(problems))
        self.event_type = event_type
        self.problems = problems


@lru_cache(maxsize=None)
def catalogue() -> dict[str, dict]:
    """Every event type we publish, mapped to the JSON Schema of its ``data``."""
    out = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        out[path.stem] = schema
    return out


def _relaxed(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _relaxed(v) for k, v in schema.items() if k != "additionalProperties"}
    if isinstance(schema, list):
        return [_relaxed(v) for v in schema]
    return schema


@lru_cache(maxsize=None)
def _validator(event_type: str, strict: bool) -> Draft202012Validator:
    schema = catalogue().get(event_type)
    if schema is None:
        raise EventSchemaError(event_type, ["unknown event type"])
    schema = copy.deepcopy(schema) if strict else _relaxed(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def validate_data(event_type: str, data: Any, *, strict: bool = True) -> None:
    """Raise :class:`EventSchemaError` unless ``data`` matches the catalogue schema of ``event_type``.

    ``strict``: producer side, refuse fields the catalogue does not list; consumer side pass ``False``.
    """
    validator = _validator(event_type, strict)
    problems = [f"{'/'.join(str(p) for p in e.absolute_path) or '(data)'}: {e.message}"
                for e in validator.iter_errors(data)]
    if problems:
        raise EventSchemaError(event_type, problems)


def schema_url(base_url: str, event_type: str) -> str:
    return f"{base_url.rstrip('/')}/schemas/{event_type}.json"


def envelope(*, event_id: str, source_service: str, event_type: str, subject: str | None, time: datetime,
             data: dict, schema_base_url: str) -> dict:
    """The structured-mode CloudEvent (JSON) for one event. ``time`` must be aware."""
    event = {
        "specversion": SPECVERSION,
        "id": event_id,
        "source": f"/weizhili/{source_service}",
        "type": event_type,
        "time": time.isoformat(),
        "datacontenttype": DATA_CONTENT_TYPE,
        "dataschema": schema_url(schema_base_url, event_type),
        "data": data,
    }
    if subject:
        event["subject"] = subject
    return event


REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")


def parse(body: bytes) -> dict:
    """Parse a structured-mode CloudEvent; raise ``ValueError`` if it is not one."""
    event = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    if not isinstance(event, dict):
        raise ValueError("a CloudEvent must be a JSON object")
    missing = [a for a in REQUIRED_ATTRIBUTES if not isinstance(event.get(a), str) or not event.get(a)]
    if missing:
        raise ValueError("missing CloudEvent attributes: " + ", ".join(missing))
    if event["specversion"] != SPECVERSION:
        raise ValueError(f"unsupported specversion {event['specversion']!r}")
    return event


def _no_constants(value):
    raise ValueError(f"{value} is not valid JSON")
