"""The Flask app factory every service uses.

``create_app(service, blueprints=[...], ...)`` gives: strict JSON (no NaN/Infinity in or out, Chinese text
unescaped), problem+json for every error, JSON logs with a request id, bearer-JWT auth, the OpenAPI document
at ``/api/openapi.json`` with a docs page at ``/api/docs`` served from local assets, ``/healthz``,
``/readyz``, ``/metrics``, and the event schemas at ``/schemas/<type>.json``.
"""
from __future__ import annotations

import json as _json
import socket
from urllib.parse import urlparse

import flask_smorest
from apispec.ext.marshmallow import MarshmallowPlugin  # noqa: F401 - used by flask-smorest
from flask import Flask, abort, jsonify, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask_smorest.utils import prepare_response
from sqlalchemy import text
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.routing import IntegerConverter

from . import config as config_mod
from . import errors, events, observability, outbox
from .db import engine_for
from .http import ProblemSchema, close_request_session
from .schemas import INT32_MAX
from .errors import PROBLEM_MEDIA_TYPE

try:
    from swagger_ui_bundle import swagger_ui_path
except ImportError:  # pragma: no cover - the docs page then has no assets
    swagger_ui_path = None


class StrictJSONProvider(DefaultJSONProvider):
    """JSON as RFC 8259 has it: ``NaN``/``Infinity`` refused on input and never produced on output."""

    ensure_ascii = False
    sort_keys = False

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _refuse_constant)
        return _json.loads(s, **kwargs)

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def _refuse_constant(value):
    raise ValueError(f"{value} is not valid JSON")


class Api(flask_smorest.Api):
    """flask-smorest's Api with RFC 9457 problem details as the documented error shape."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):  # ours are installed by shared.errors.register
        pass

    def _register_responses(self):
        import http
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class PathInteger(IntegerConverter):
    """``<int:...>`` in a URL: at most the database's integer (int32). A larger number names no record: 404,
    not the error PostgreSQL raises for a value out of the column's range (a 500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)


def _broker_reachable(url: str, timeout: float = 0.5) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "localhost", parsed.port or 5672), timeout=timeout):
            return True
    except OSError:
        return False


def create_app(service: str, *, blueprints: list, title: str, description: str, version: str = "1.0.0",
               settings=None, testing: bool = False) -> Flask:
    """Build the Flask app of ``service`` with ``blueprints`` (flask-smorest) under ``/api/v1``."""
    settings = settings or config_mod.load(service)
    observability.configure_logging(service, settings.log_level)
    outbox.configure(service, settings.schema_base_url)

    app = Flask(f"weizhili.{service}")
    app.url_map.converters["int"] = PathInteger
    app.json = StrictJSONProvider(app)
    app.config.update(
        WEIZHILI_SETTINGS=settings,
        TESTING=testing,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        API_TITLE=title,
        API_VERSION=version,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                              "bearerFormat": "JWT"}}},
        },
    )
    errors.register(app)
    observability.install_request_id(app)
    app.teardown_appcontext(close_request_session)

    @app.before_request
    def _no_nul_in_path():
        # a path with a NUL names no record; PostgreSQL would refuse the lookup with an error (a 500)
        if "\x00" in request.path:
            abort(404)

    @app.before_request
    def _media_type():
        if request.method in ("POST", "PUT", "PATCH") and (request.content_length or request.data):
            if not request.is_json:
                raise UnsupportedMediaType("Send the body as application/json.")

    api = Api(app)
    for blp in blueprints:
        api.register_blueprint(blp, url_prefix="/api/v1" + (blp.url_prefix or ""))
    app.extensions["weizhili_api"] = api

    def engine():
        return engine_for(settings.database_url)

    collector = outbox.OutboxCollector(service, engine)

    @app.get("/api/docs/assets/<path:filename>")
    def _docs_assets(filename):
        if swagger_ui_path is None:
            abort(404)
        return send_from_directory(str(swagger_ui_path), filename)

    @app.get("/healthz")
    def _healthz():
        """Liveness: the process answers."""
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    def _readyz():
        """Readiness: the database answers (503 if not). Broker state and outbox lag are reported, not required."""
        body = {"service": service}
        try:
            with engine().connect() as conn:
                conn.execute(text("SELECT 1"))
            body["database"] = "ok"
        except Exception as exc:  # noqa: BLE001
            body["database"] = "unavailable"
            return errors.problem_response(503, detail="The database is not reachable.",
                                           code="database-unavailable", checks=body,
                                           headers={"Retry-After": "5"})
        body["broker"] = "ok" if _broker_reachable(settings.amqp_url) else "unreachable"
        try:
            pending, lag, retrying = outbox.outbox_state(engine())
            body["outbox"] = {"pending": pending, "lag_seconds": round(lag, 3), "retrying": retrying}
        except Exception:  # noqa: BLE001 - the outbox table may not exist before migrations
            body["outbox"] = None
        body["status"] = "ready"
        return jsonify(body)

    @app.get("/metrics")
    def _metrics():
        """Prometheus metrics (keep to the internal network by deployment)."""
        return observability.metrics_response([collector])

    @app.get("/schemas/")
    def _schema_index():
        """The event types this platform publishes, with links to their JSON Schemas."""
        return jsonify({t: events.schema_url(request.host_url, t) for t in events.catalogue()})

    @app.get("/schemas/<event_type>.json")
    def _schema(event_type):
        """The JSON Schema of one event type's ``data`` (read-only; referenced by ``dataschema``)."""
        schema = events.catalogue().get(event_type)
        if schema is None:
            abort(404)
        return app.response_class(_json.dumps(schema, ensure_ascii=False), mimetype="application/schema+json")

    return app
