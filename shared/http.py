"""The HTTP layer's common parts: the request's database session, write commands (unit of work plus
``Idempotency-Key``), role-checked blueprints, and the problem schema for the OpenAPI document.

Order of work in a write request (STYLE.md): schema → domain → unit of work → outbox. A view decorated with
:func:`command` calls domain functions with :func:`db`; the session commits only if the view answers below
400, together with the stored idempotent answer, so the effect and its key row land in one transaction.
"""
from __future__ import annotations

import hashlib
import http
import json
from datetime import timedelta
from functools import wraps

import flask_smorest
from flask import Response, current_app, g, make_response, request
from flask_smorest.utils import load_info_from_docstring
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from marshmallow import INCLUDE, missing
from webargs.flaskparser import FlaskParser, is_json_request

from . import schemas as s
from .auth import current_principal, require
from .db import engine_for
from .errors import PROBLEM_MEDIA_TYPE, Conflict, Problem, Unprocessable
from .models import IdempotencyKey
from .timeutil import utcnow

#: An in-flight key older than this is taken over: its request never committed (effect and key commit together).
IN_FLIGHT_TAKEOVER = timedelta(seconds=60)


class FieldErrorSchema(s.Schema):
    location = s.String(metadata={"description": "json, query, path or headers"})
    field = s.String(metadata={"description": "dotted path of the field, e.g. participants.0.role"})
    message = s.String(max_length=2000)


class ProblemSchema(s.Schema):
    """RFC 9457 problem details, as every error answer carries them, with the extension members RFC 9457 allows
    (e.g. a 409's ``tool_status``, a 503's ``checks``): the document must not forbid additional properties."""

    class Meta:
        unknown = INCLUDE

    type = s.String(metadata={"description": "URI naming the kind of problem"})
    title = s.String()
    status = s.Integer()
    detail = s.String(max_length=2000)
    instance = s.String(max_length=2000)
    request_id = s.String()
    errors = s.List(s.Nested(FieldErrorSchema))


def _session_maker() -> sessionmaker:
    url = current_app.config["WEIZHILI_SETTINGS"].database_url
    engine = engine_for(url)
    makers = current_app.extensions.setdefault("weizhili_makers", {})
    maker = makers.get(id(engine))
    if maker is None:
        maker = makers[id(engine)] = sessionmaker(engine, expire_on_commit=False)
    return maker


def db() -> Session:
    """The database session of the current request (rolled back at the end unless a command committed it)."""
    if "db" not in g:
        g.db = _session_maker()()
    return g.db


def close_request_session(_exc=None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.rollback()
        session.close()


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> Response:
    resp = Response(row.response_body or "", status=row.status_code, mimetype="application/json")
    resp.headers["Idempotency-Replayed"] = "true"
    return resp


def _claim_key(caller: str, key: str, digest: str) -> tuple[int | None, Response | None]:
    """Phase one: record the key as in flight (own transaction). Returns (row id, None) or (None, answer)."""
    maker = _session_maker()
    now = utcnow()
    for _ in range(3):
        with maker() as session:
            row = session.scalars(select(IdempotencyKey).where(
                IdempotencyKey.caller == caller, IdempotencyKey.key == key)).first()
            if row is None:
                row = IdempotencyKey(caller=caller, key=key, method=request.method, path=request.path[:500],
                                     request_hash=digest, state="in_flight", created_at=now)
                session.add(row)
                try:
                    session.commit()
                    return row.id, None
                except IntegrityError:
                    session.rollback()
                    continue  # a twin inserted it first; read it
            if row.request_hash != digest:
                raise Unprocessable("This Idempotency-Key was used with a different request.",
                                    code="idempotency-key-reused", errors=[{"location": "headers",
                                    "field": "Idempotency-Key", "message": "Used before with another body."}])
            if row.state == "done":
                return None, _replay(row)
            taken = session.execute(update(IdempotencyKey).where(
                IdempotencyKey.id == row.id, IdempotencyKey.state == "in_flight",
                IdempotencyKey.created_at < now - IN_FLIGHT_TAKEOVER).values(created_at=now))
            session.commit()
            if taken.rowcount == 1:
                return row.id, None
            raise Conflict("A request with this Idempotency-Key is still being processed.",
                           code="idempotency-key-in-flight", headers={"Retry-After": "1"})
    raise Conflict("Could not record the Idempotency-Key; retry.", code="idempotency-key-in-flight")


def _release_key(row_id: int) -> None:
    with _session_maker()() as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id,
                                                     IdempotencyKey.state == "in_flight"))
        session.commit()


def command(view):
    """Run a write view as one unit of work, honouring ``Idempotency-Key`` (ARCHITECTURE.md).

    The request session commits only if the view answers with a status below 400. With an
    ``Idempotency-Key`` header (1–200 characters), scoped to the caller: a retry with the same body gets the
    first answer (header ``Idempotency-Replayed: true``); the same key with another body is 422; a twin
    arriving while the first is in flight is 409 and never executes. Unique-constraint conflicts at commit
    become 409.

    Place it directly above ``@blp.response(...)`` so that it sees the finished answer.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        row_id = None
        if key is not None:
            key = key.strip()
            if not (1 <= len(key) <= 200) or not key.isprintable():
                raise Unprocessable("Idempotency-Key must be 1-200 printable characters.",
                                    errors=[{"location": "headers", "field": "Idempotency-Key",
                                             "message": "1-200 printable characters"}])
            principal = current_principal(optional=True)
            caller = principal.sub if principal else "anonymous:" + (request.remote_addr or "")
            row_id, replay = _claim_key(caller, key, _request_hash())
            if replay is not None:
                return replay
        try:
            result = view(*args, **kwargs)
            if not isinstance(result, Response):
                raise TypeError("@command must sit directly above @blp.response")
            response = result
            session = db()
            if response.status_code < 400:
                if row_id is not None:
                    session.execute(update(IdempotencyKey).where(IdempotencyKey.id == row_id).values(
                        state="done", status_code=response.status_code,
                        response_body=response.get_data(as_text=True)))
                session.commit()
            else:
                session.rollback()
                if row_id is not None:
                    _release_key(row_id)
            return response
        except IntegrityError as exc:
            db().rollback()
            if row_id is not None:
                _release_key(row_id)
            raise Conflict("The request conflicts with an existing record.") from exc
        except BaseException:
            db().rollback()
            if row_id is not None:
                _release_key(row_id)
            raise

    wrapper._weizhili_command = True  # Blueprint documents the 409 (and 422) every command may answer
    return wrapper


class StrictParser(FlaskParser):
    """webargs' parser, refusing ``NaN``/``Infinity`` in JSON bodies (Flask would accept them, marshmallow#944)."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        text = req.get_data(cache=True)
        try:
            return json.loads(text.decode("utf-8"), parse_constant=_refuse_constant)
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError("Body is not UTF-8", "", 0) from exc


def _refuse_constant(value):
    raise json.JSONDecodeError(f"{value} is not valid JSON", value, 0)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with role checks that also document themselves in OpenAPI."""

    ARGUMENTS_PARSER = StrictParser()

    # -- error answers every endpoint of a kind gives, documented by the mechanism that gives them ---------
    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **kwargs):
        self._rule_in_progress = rule
        try:
            return super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **kwargs)
        finally:
            self._rule_in_progress = None

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        """flask-smorest's, plus the problems a kind of endpoint answers whatever its view says: 404 on a path
        that names a record (it may not exist), 409 (and 422 for the ``Idempotency-Key``) on a :func:`command`
        (a unique conflict at commit, a twin request in flight)."""
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        names_record = "<" in (getattr(self, "_rule_in_progress", None) or "")
        for method, doc in self._docs[endpoint].items():
            if method == "parameters":
                continue
            func = getattr(obj, method, None) if isinstance(obj, type) else obj
            statuses = [404] if names_record else []
            if getattr(func, "_weizhili_command", False):
                statuses.append(409)
                if "arguments" not in doc:
                    statuses.append(422)
            responses = doc.setdefault("response", {}).setdefault("responses", {})
            for status in statuses:
                if status not in responses and str(status) not in responses:
                    responses[status] = [{"schema": self._make_doc_response_schema(ProblemSchema),
                                          "description": http.HTTPStatus(status).phrase,
                                          "content_type": PROBLEM_MEDIA_TYPE}]

    def roles(self, *roles: str):
        """Require a bearer token with one of ``roles`` (no roles: any authenticated caller).

        Documents ``bearerAuth`` and the 401/403 answers on the endpoint.
        """

        def decorator(view):
            @wraps(view)
            def wrapper(*args, **kwargs):
                require(*roles)
                return view(*args, **kwargs)

            # the manual doc replaces the docstring's description in flask-smorest: keep both
            who = ("Roles: " + ", ".join(roles) + ".") if roles else "Any authenticated caller."
            body = load_info_from_docstring(view.__doc__ or "").get("description", "")
            wrapper = self.doc(security=[{"bearerAuth": []}],
                               description=f"{body}\n\n{who}" if body else who)(wrapper)
            wrapper = self.alt_response(401, schema=ProblemSchema, content_type=PROBLEM_MEDIA_TYPE, description="Missing, invalid or expired token")(wrapper)
            if roles:
                wrapper = self.alt_response(403, schema=ProblemSchema, content_type=PROBLEM_MEDIA_TYPE, description="Role not allowed")(wrapper)
            wrapper._weizhili_roles = tuple(roles)
            return wrapper

        return decorator

    def problems(self, *statuses: int):
        """Document the error answers an endpoint gives beyond 401/403/422 (e.g. 404, 409)."""

        def decorator(view):
            for status in statuses:
                view = self.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_MEDIA_TYPE)(view)
            return view

        return decorator


__all__ = ["Blueprint", "command", "db", "ProblemSchema", "Problem"]
