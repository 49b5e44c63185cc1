"""Fuzzing every service's OpenAPI document with schemathesis (issue 10), on SQLite and PostgreSQL.

For every operation of every service, schemathesis generates requests (valid and invalid) from the document;
each one is sent with a valid token of a role the operation documents (``Roles: a, b.`` — read from the view's
``_weizhili_roles``), and the answer must:

- never be a 5xx;
- have a status the operation documents explicitly (not just through ``default``), or one of the statuses
  every endpoint may give (400 bad JSON, 413, 415), and match that status's documented schema and media type;
- for any 4xx answer: leave every table of the service (its own and the outbox/inbox/idempotency keys) with
  the row counts it had before the request — a rejected request stores nothing.

``make test`` runs a short, bounded run (``FUZZ_EXAMPLES``, default 4 per operation and database); ``make fuzz``
runs the same tests with ``FUZZ_EXAMPLES=200``.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import zlib

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)
from sqlalchemy import func, select

from shared.db import dispose_all, engine_for
from shared.models import InfraBase
from shared.testing import (RUN_ID, create_pg_database, drop_pg_database, make_settings, migrate, pg_enabled,
                            token)

SERVICES = ("disputes", "points", "relief", "jobmarket")
DATABASES = ("sqlite", "postgresql")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "0") == "1"
#: statuses any endpoint may answer whatever its document says: the body is not JSON (400), too large (413),
#: not application/json (415)
CROSS_CUTTING = {400, 413, 415}

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _app(service: str, database_url: str):
    module = importlib.import_module(f"services.{service}.app")
    return module.create_app(settings=make_settings(service, database_url), testing=True)


def _document(service: str) -> dict:
    return _app(service, "sqlite://").test_client().get("/api/openapi.json").get_json()


def _schema(service: str):
    schema = schemathesis.openapi.from_dict(_document(service))
    # the coverage phase (deterministic boundary and negative cases) builds every case at collection time:
    # minutes for our ~180 operations; ``make fuzz`` turns it on
    schema.config.phases.coverage.enabled = COVERAGE
    return schema


SCHEMAS = {service: _schema(service) for service in SERVICES}


class _Apps:
    """One migrated database and app per (service, database) for the whole module (dropped at the end)."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory.mktemp("fuzz")
        self.apps: dict[tuple[str, str], tuple] = {}
        self.pg_names: list[str] = []

    def get(self, service: str, kind: str):
        key = (service, kind)
        if key not in self.apps:
            if kind == "sqlite":
                url = f"sqlite:///{self.tmp / (service + '.sqlite3')}"
            else:
                if not pg_enabled():
                    pytest.skip("PostgreSQL disabled by WEIZHILI_TEST_PG=0")
                name = f"wz_{RUN_ID}_fuzz_{service}_{os.getpid()}"
                url = create_pg_database(name)
                self.pg_names.append(name)
            migrate(service, url)
            self.apps[key] = (_app(service, url), url)
        return self.apps[key]

    def close(self):
        dispose_all()
        for name in self.pg_names:
            drop_pg_database(name)


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    holder = _Apps(tmp_path_factory)
    try:
        yield holder
    finally:
        holder.close()


def _openapi_path(rule: str) -> str:
    """``/a/<int:b>`` as OpenAPI writes it: ``/a/{b}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _view_roles(app, path: str, method: str) -> tuple[str, ...] | None:
    """The roles the view behind ``method path`` requires (``()``: any caller with a token; None: public)."""
    for rule in app.url_map.iter_rules():
        if _openapi_path(rule.rule) == path and method.upper() in rule.methods:
            view = app.view_functions[rule.endpoint]
            handler = getattr(getattr(view, "view_class", None), method.lower(), view)
            return getattr(handler, "_weizhili_roles", None)
    raise AssertionError(f"no view for {method} {path}")


def _role_for(case, roles: tuple[str, ...]) -> str:
    """One of ``roles`` chosen from the case itself, so a replayed (or shrunk) example keeps its caller."""
    seed = repr((case.path_parameters, case.query, case.headers, case.body)).encode()
    return roles[zlib.crc32(seed) % len(roles)]


def _counts(database_url: str, service: str) -> dict[str, int]:
    models = importlib.import_module(f"services.{service}.models")
    tables = [*models.Base.metadata.sorted_tables, *InfraBase.metadata.sorted_tables]
    with engine_for(database_url).connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def _status_documented(response, case) -> None:
    documented = {int(code) for code in case.operation.definition.raw.get("responses", {}) if code.isdigit()}
    assert response.status_code in documented | CROSS_CUTTING, (
        f"{case.operation.label}: {response.status_code} is not documented (documented: {sorted(documented)})")


def _fuzz(service: str):
    schema = SCHEMAS[service]

    @pytest.mark.parametrize("kind", DATABASES)
    @schema.parametrize()
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    def test(case, kind, apps):
        app, url = apps.get(service, kind)
        roles = _view_roles(app, case.operation.path, case.operation.method)
        headers = {}
        if roles is not None:
            role = _role_for(case, roles or ("resident",))
            sub = "P000001" if role in ("resident", "volunteer", "worker") else f"{role}-1"
            headers["Authorization"] = "Bearer " + token(sub, role)
        before = _counts(url, service)
        response = case.call(app=app, headers=headers)
        assert response.status_code < 500, f"{case.operation.label}: {response.status_code} {response.text[:500]}"
        if case.method.upper() != case.operation.method.upper():
            # a method the path does not have: 405, except what HTTP gives every path (OPTIONS, HEAD of a GET)
            allowed = {200, 204} if case.method.upper() in ("OPTIONS", "HEAD") else set()
            assert response.status_code in allowed | {405}, f"{case.method} {case.path}: {response.status_code}"
            assert _counts(url, service) == before
            return
        _status_documented(response, case)
        case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                                 response_schema_conformance], headers=headers)
        if 400 <= response.status_code < 500:
            assert _counts(url, service) == before, f"{case.operation.label}: a {response.status_code} stored rows"

    test.__name__ = f"test_fuzz_{service}"
    return test


test_fuzz_disputes = _fuzz("disputes")
test_fuzz_points = _fuzz("points")
test_fuzz_relief = _fuzz("relief")
test_fuzz_jobmarket = _fuzz("jobmarket")



# -- regression tests of the kinds of failure the fuzzing found (each of its whole kind) -------------------------
from marshmallow import Schema as _MarshmallowSchema, fields as _mfields  # noqa: E402

from shared import schemas as s  # noqa: E402


def _apps_on(url: str):
    return {service: _app(service, url) for service in SERVICES}


def test_answer_only_text_does_not_document_the_input_bound():
    """Found: a hazard report's description (stored up to 2,000 characters) and the policy's grading rule were
    documented with ``maxLength: 200`` (the String default, an input rule) in answers that carry longer text.
    Now a dump-only String, or one inside a dump-only List/Nested, documents no implicit bound; an explicit
    ``max_length`` and every input field keep theirs."""

    class Inner(s.Schema):
        text = s.String()

    class Answer(s.Schema):
        plain = s.String(dump_only=True)
        explicit = s.String(dump_only=True, max_length=36)
        listed = s.List(s.String(), dump_only=True)
        nested = s.Nested(Inner, dump_only=True)
        given = s.String(required=True)

    fields_ = Answer().fields
    assert "maxLength" not in fields_["plain"].metadata
    assert fields_["explicit"].metadata["maxLength"] == 36
    assert "maxLength" not in fields_["listed"].inner.metadata
    assert fields_["given"].metadata["maxLength"] == 200 and fields_["given"].metadata["minLength"] == 1
    assert Inner().fields["text"].metadata["maxLength"] == 200  # the same schema used for input keeps it
    # and in the documents: no read-only text property carries the implicit default
    for service, schema in SCHEMAS.items():
        for name, component in schema.raw_schema["components"]["schemas"].items():
            for prop, spec in component.get("properties", {}).items():
                if spec.get("readOnly") and spec.get("type") == "string":
                    assert spec.get("maxLength") != s.String.DEFAULT_MAX_LENGTH, (service, name, prop)


@pytest.mark.parametrize("value", ["0340-02-22T18:47:21Z", "0001-01-01T00:00:00+00:00", "1900-12-31T23:00:00+08:00",
                                   "9999-12-31T23:59:59-12:00", "3000-01-01T00:00:00+08:00"])
def test_times_outside_the_calendar_are_refused(value):
    """Found: a hazard report ``reported_at`` in year 340 was stored and answered as ``+08:05:43`` (Shanghai's
    local mean time before 1901), which is not RFC 3339. Every time, day and month is now bounded to 1901-2999."""
    with pytest.raises(s.ValidationError):
        s.AwareDateTime().deserialize(value)
    with pytest.raises(s.ValidationError):
        s.Date().deserialize(value[:10])
    with pytest.raises(s.ValidationError):
        s.Month().deserialize(value[:7])
    assert s.AwareDateTime().deserialize("1901-01-01T00:00:00+08:00").year == 1901
    assert str(s.Date().deserialize("2999-12-31")) == "2999-12-31"
    assert s.Month().deserialize("2024-06") == "2024-06"


def test_every_time_day_and_month_goes_through_the_bounded_fields():
    """The bound holds for every service only if no schema uses marshmallow's own date/time fields or a
    hand-written YYYY-MM pattern (points' settlement month was one: ``0000-01`` gave a 500)."""
    offenders = []
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.schemas")
        for name in dir(module):
            cls = getattr(module, name)
            if not (isinstance(cls, type) and issubclass(cls, _MarshmallowSchema)) or cls is s.Schema:
                continue
            for field_name, field in cls().fields.items():
                inner = getattr(field, "inner", field)
                if isinstance(inner, (_mfields.Date, _mfields.DateTime)) and not isinstance(
                        inner, (s.Date, s.AwareDateTime)):
                    offenders.append(f"{service}.{name}.{field_name}")
                pattern = inner.metadata.get("pattern", "") + " ".join(
                    getattr(v, "regex", re.compile("")).pattern for v in getattr(inner, "validators", []))
                if r"\d{4}-" in pattern and not isinstance(inner, (s.Month, s.Date, s.AwareDateTime)):
                    offenders.append(f"{service}.{name}.{field_name}")
    assert not offenders


@pytest.mark.parametrize("kind", DATABASES)
def test_an_integer_in_a_path_beyond_the_column_names_no_record(kind, apps):
    """Found: ``PATCH /nap-beds/26948047341`` reached PostgreSQL, which refused the integer (a 500). Every
    ``<int:...>`` of every service is bounded to int32 by the app factory: a larger number is a 404."""
    checked = 0
    for service in SERVICES:
        app, _ = apps.get(service, kind)
        client = app.test_client()
        for rule in app.url_map.iter_rules():
            if "<int:" not in rule.rule:
                continue
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                path = re.sub(r"<int:[^>]+>", str(2**31), rule.rule)
                path = re.sub(r"<[^>]+>", "x", path)
                r = client.open(path, method=method, json={}, headers={"Authorization": "Bearer " + token("A-1", "admin")})
                assert r.status_code == 404 and r.mimetype == "application/problem+json", (service, method, path)
                checked += 1
    assert checked


def test_statuses_every_endpoint_of_a_kind_gives_are_documented():
    """Found: ``PUT /tool-kinds/{kind}`` answered 404 without documenting it. Now every operation on a path
    that names a record documents 404, and every write command (unique conflicts, an Idempotency-Key in flight)
    documents 409 — from the mechanism, not view by view."""
    for service in SERVICES:
        app = _app(service, "sqlite://")
        doc = app.test_client().get("/api/openapi.json").get_json()
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/api/v1/"):
                continue
            view = app.view_functions[rule.endpoint]
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                handler = getattr(getattr(view, "view_class", None), method.lower(), view)
                responses = doc["paths"][_openapi_path(rule.rule)][method.lower()]["responses"]
                if "<" in rule.rule:
                    assert "404" in responses, (service, method, rule.rule)
                if getattr(handler, "_weizhili_command", False):
                    assert "409" in responses, (service, method, rule.rule)


def test_problems_with_extension_members_match_the_documented_problem():
    """Found: jobmarket's 409 for a tool in repair carries ``tool_status``, an RFC 9457 extension member, but the
    documented Problem schema said ``additionalProperties: false`` (every schema of ours refuses unknown input
    fields). The Problem schema now admits extension members, in every service's document."""
    import jsonschema

    from shared.errors import problem_response
    for service, schema in SCHEMAS.items():
        app = _app(service, "sqlite://")
        with app.test_request_context("/api/v1/x"):
            from flask import g
            g.request_id = "0123456789abcdef"
            body = json.loads(problem_response(409, detail="The tool is in repair.", code="conflict",
                                               tool_status="in_repair", checks={"database": "ok"}).get_data())
        document = {"$ref": "#/components/schemas/Problem", "components": schema.raw_schema["components"]}
        jsonschema.Draft7Validator(document).validate(body)


@pytest.mark.parametrize("service", SERVICES)
def test_problems_of_any_size_stay_within_the_documented_problem(service, apps):
    """Found: 1,000 bad items in a list (``POST /jobs/{id}/completion``) gave a 422 whose ``detail`` named every
    one, beyond the documented ``maxLength: 2000``. The same holds for an unknown key of 5,000 characters (a
    field name beyond ``errors[].field``'s bound) and a path of 3,000 characters (``instance``). The problem
    builder now bounds detail, instance, the field errors and their names, for every answer of every service."""
    import jsonschema

    app, _ = apps.get(service, "sqlite")
    client = app.test_client()
    document = {"$ref": "#/components/schemas/Problem", "components": SCHEMAS[service].raw_schema["components"]}
    admin = {"Authorization": "Bearer " + token("A-1", "admin")}
    writes = [(rule, m) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for m in rule.methods & {"POST", "PUT", "PATCH"}]
    rule, method = writes[0]
    path = re.sub(r"<[^>]+>", "1", rule.rule)
    bodies = [{f"x{i}": i for i in range(1500)}, {"k" * 5000: 1}, [{"a": i} for i in range(1500)]]
    answers = [client.open(path, method=method, json=body, headers=admin) for body in bodies]
    answers.append(client.get("/api/v1/" + "n" * 3000, headers=admin))
    for r in answers:
        assert 400 <= r.status_code < 500, r.status_code
        jsonschema.Draft7Validator(document).validate(r.get_json())
