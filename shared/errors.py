"""RFC 9457 problem details: every error a service answers, in one shape.

``{"type", "title", "status", "detail", "instance", "request_id", "errors": [{"location", "field", "message"}]}``
served as ``application/problem+json``. Nothing in an answer ever names SQL, a file path or a traceback.
"""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, json, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("weizhili.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://weizhili.example/problems/"


class Problem(Exception):
    """An error answer raised from any layer below HTTP (domain rules raise its subclasses).

    ``status``: HTTP status; ``code``: a short slug that becomes the ``type`` URI; ``detail``: a sentence for
    a person; ``errors``: field errors as ``[{"field", "message", "location"}]``; ``extra``: further members.
    """

    status = 400
    code = "bad-request"
    title: str | None = None

    def __init__(self, detail: str, *, status: int | None = None, code: str | None = None,
                 errors: list[dict] | None = None, headers: dict | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra

    def within(self, prefix: str, **members: Any) -> "Problem":
        """This problem as one about a part of a larger body (a step of a history record, an item of a batch):
        each field error's ``field`` put under ``prefix`` (``tickets.7.issued_at``), one error naming ``prefix``
        itself when none names a field, and ``members`` (``index=7``) added to the body. Returns ``self``."""
        self.errors = ([{**e, "field": f"{prefix}.{e['field']}" if e.get("field") else prefix} for e in self.errors]
                       or field_error(prefix, self.detail))
        self.extra.update(members)
        return self


class NotFound(Problem):
    status, code = 404, "not-found"


class Conflict(Problem):
    """A request that is well formed but not possible in the current state (409)."""
    status, code = 409, "conflict"


class Unprocessable(Problem):
    """Input that is well formed but breaks a rule (422). Name the field in ``errors``."""
    status, code = 422, "unprocessable"


class Unauthorized(Problem):
    status, code = 401, "unauthorized"


class Forbidden(Problem):
    status, code = 403, "forbidden"


class ServiceUnavailable(Problem):
    status, code = 503, "service-unavailable"


def field_error(field: str, message: str, location: str = "json") -> list[dict]:
    return [{"location": location, "field": field, "message": message}]


def flatten_messages(messages: Any, location: str = "json", prefix: str = "") -> list[dict]:
    """marshmallow's nested ``{"field": ["msg"], "items": {"0": {...}}}`` as a flat list with dotted paths."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, location, path))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            for m in messages:
                out.append({"location": location, "field": prefix or "_schema", "message": m})
        else:
            for item in messages:
                out.extend(flatten_messages(item, location, prefix))
    else:
        out.append({"location": location, "field": prefix or "_schema", "message": str(messages)})
    return out


#: bounds of a problem's field errors, as the Problem schema documents them (``errors`` items, ``field`` and
#: ``message`` lengths, ``detail`` length): a body of 1,000 bad items, or an unknown key 5,000 characters long,
#: must still get an answer that matches the document
MAX_FIELD_ERRORS, MAX_FIELD_NAME, MAX_MESSAGE, MAX_NAMED_IN_DETAIL = 100, 200, 2000, 20


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def invalid_fields(errors: list[dict]) -> tuple[str, list[dict]]:
    """The ``detail`` naming the invalid fields and the field errors, both within the documented bounds."""
    bounded = [{**e, "field": _clip(str(e.get("field", "")), MAX_FIELD_NAME),
                "message": _clip(str(e.get("message", "")), MAX_MESSAGE)} for e in errors[:MAX_FIELD_ERRORS]]
    names = sorted({_clip(str(e.get("field", "")), 60) for e in errors})
    shown = ", ".join(names[:MAX_NAMED_IN_DETAIL])
    if len(names) > MAX_NAMED_IN_DETAIL:
        shown += f" and {len(names) - MAX_NAMED_IN_DETAIL} more"
    return "The request has invalid fields: " + shown, bounded


def problem_response(status: int, *, title: str | None = None, detail: str | None = None,
                     code: str | None = None, errors: list[dict] | None = None,
                     headers: dict | None = None, **extra: Any) -> Response:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": TYPE_BASE + (code or phrase.lower().replace(" ", "-").replace("'", "")),
        "title": title or phrase,
        "status": status,
        "detail": _clip(detail or phrase, MAX_MESSAGE),
        "instance": _clip(request.path, MAX_MESSAGE) if request else None,
        "request_id": getattr(g, "request_id", None),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _from_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    errors = None
    detail = exc.description
    data = getattr(exc, "data", None)  # webargs/flask-smorest put validation messages here
    if isinstance(data, dict) and "messages" in data:
        errors = []
        for location, msgs in data["messages"].items():
            errors.extend(flatten_messages(msgs, location))
        detail, errors = invalid_fields(errors)
    elif status == 400 and isinstance(exc.description, str) and "JSON" in exc.description:
        detail = "The request body is not valid JSON."
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="weizhili"'
    # werkzeug's default descriptions are safe prose; never echo anything else from the exception
    return problem_response(status, detail=detail, errors=errors, headers=headers)


def register(app: Flask) -> None:
    """Install problem+json handlers for every error path of ``app``."""

    @app.errorhandler(Problem)
    def _problem(exc: Problem):
        headers = dict(exc.headers)
        if exc.status == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="weizhili"')
        return problem_response(exc.status, title=exc.title, detail=exc.detail, code=exc.code,
                                errors=exc.errors, headers=headers, **exc.extra)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        detail, errors = invalid_fields(flatten_messages(exc.messages))
        return problem_response(422, detail=detail, errors=errors)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _from_http_exception(exc)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        from sqlalchemy.exc import DBAPIError, OperationalError
        from sqlalchemy.exc import TimeoutError as PoolTimeout
        if isinstance(exc, (OperationalError, PoolTimeout)) or (
                isinstance(exc, DBAPIError) and exc.connection_invalidated):
            log.warning("database unavailable: %s", type(exc).__name__)
            return problem_response(503, detail="The database is not reachable; try again shortly.",
                                    code="database-unavailable", headers={"Retry-After": "5"})
        log.exception("unhandled error")
        return problem_response(500, detail="An internal error occurred. Quote the request_id when reporting it.")
