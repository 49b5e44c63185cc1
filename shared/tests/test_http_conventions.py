"""HTTP conventions every service inherits from shared/: strict input, problem+json on every error path,
bearer-JWT checks, cursor pagination and Idempotency-Key. Run against a small app built with the same
factory, on SQLite and PostgreSQL (its tables are the infrastructure tables every service has)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from flask.views import MethodView
from sqlalchemy import func, select

from shared import schemas as s
from shared.app import create_app
from shared.auth import issue
from shared.config import Settings
from shared.http import Blueprint, command, db
from shared.models import InboxMessage
from shared.pagination import PageArgs, page_schema, paginate
from shared.testing import auth, make_settings, migrate
from shared.timeutil import utcnow


class Inner(s.Schema):
    count = s.Integer(required=True, minimum=0, maximum=100)


class ProbeIn(s.Schema):
    name = s.String(required=True, max_length=10)
    count = s.Integer(minimum=0, maximum=1000)
    amount = s.Money()
    flag = s.Boolean()
    at = s.AwareDateTime()
    inner = s.Nested(Inner)
    items = s.List(s.Nested(Inner), max_items=3)
    slow = s.Boolean()


class ProbeOut(s.Schema):
    event_id = s.String()
    name = s.String()
    amount = s.Money(allow_none=True)


class RowOut(s.Schema):
    event_id = s.String()
    handled_at = s.AwareDateTime()


probes = Blueprint("probes", __name__, url_prefix="/probes")


@probes.route("")
class Probes(MethodView):
    @probes.roles("clerk")
    @probes.arguments(ProbeIn)
    @command
    @probes.response(201, ProbeOut)
    def post(self, data):
        """Records one row per execution (so tests can count executions)."""
        if data.get("slow"):
            time.sleep(0.8)
        row = InboxMessage(event_id=data["name"] + "-" + str(time.time_ns()), queue="probe", type="probe",
                           handled_at=utcnow())
        db().add(row)
        return {"event_id": row.event_id, "name": data["name"], "amount": data.get("amount")}

    @probes.roles()
    @probes.arguments(PageArgs, location="query")
    @probes.response(200, page_schema(RowOut, "RowPage"))
    def get(self, args):
        """Rows, one page at a time."""
        return paginate(db(), select(InboxMessage), InboxMessage.handled_at, InboxMessage.event_id, args)


@probes.route("/boom")
class Boom(MethodView):
    def get(self):
        raise RuntimeError("secret SELECT * FROM password /etc/passwd")


@pytest.fixture
def client(db_url):
    migrate("points", db_url)
    app = create_app("points", blueprints=[probes], title="probe", description="probe",
                     settings=make_settings("points", db_url, max_content_length=2048), testing=False)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app.test_client()


CLERK = auth("clerk-1", "clerk")


def count_rows(client) -> int:
    from shared.db import engine_for
    from sqlalchemy.orm import Session
    with Session(engine_for(client.application.config["WEIZHILI_SETTINGS"].database_url)) as session:
        return session.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.queue == "probe"))


def assert_problem(resp, status, field=None):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["title"] and body["type"] and body["request_id"]
    text = resp.get_data(as_text=True)
    for leak in ("Traceback", "SELECT", "/etc/", ".py", "<html"):
        assert leak not in text
    if field:
        assert field in {e["field"] for e in body.get("errors", [])}, body
    return body


BAD_BODIES = [
    ({"name": "a", "extra": 1}, "extra"),
    ({"name": "a", "inner": {"count": 1, "extra": 2}}, "inner.extra"),
    ({"name": "a", "items": [{"count": 1}, {"count": 1, "zzz": 0}]}, "items.1.zzz"),
    ({"name": "a", "count": 1.0}, "count"),
    ({"name": "a", "count": 1.5}, "count"),
    ({"name": "a", "count": True}, "count"),
    ({"name": "a", "count": 10**20}, "count"),
    ({"name": "a", "count": -1}, "count"),
    ({"name": "a", "flag": 1}, "flag"),
    ({"name": "a", "flag": "yes"}, "flag"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"name": "x" * 11}, "name"),
    ({"name": "中" * 11}, "name"),
    ({}, "name"),
    ({"name": "a", "at": "2024-06-14T21:30:18"}, "at"),
    ({"name": "a", "at": 1718371818}, "at"),
    ({"name": "a", "amount": "1.005"}, "amount"),
    ({"name": "a", "amount": 1.5}, "amount"),
    ({"name": "a", "amount": "-1.00"}, "amount"),
    ({"name": "a", "amount": "1e3"}, "amount"),
    ({"name": "a", "items": [{"count": 1}] * 4}, "items"),
    ([{"name": "a"}], "_schema"),
    ("a string", "_schema"),
]


@pytest.mark.parametrize("body,field", BAD_BODIES, ids=[str(i) for i in range(len(BAD_BODIES))])
def test_bad_input_is_422_naming_the_field_and_stores_nothing(client, body, field):
    assert_problem(client.post("/api/v1/probes", json=body, headers=CLERK), 422, field)
    assert count_rows(client) == 0


@pytest.mark.parametrize("raw", ['{"name": NaN}', '{"name": "a", "count": Infinity}', '{"name": -Infinity}',
                                 '{"name": "a"', "\xff\xfe"])
def test_non_json_and_non_finite_numbers_are_400(client, raw):
    assert_problem(client.post("/api/v1/probes", data=raw, content_type="application/json", headers=CLERK), 400)
    assert count_rows(client) == 0


def test_good_input_is_stored_and_money_comes_back_exact(client):
    r = client.post("/api/v1/probes", json={"name": "好", "amount": "0.10", "at": "2024-06-14T21:30:18+08:00",
                                            "inner": {"count": 3}}, headers=CLERK)
    assert r.status_code == 201 and r.get_json()["amount"] == "0.10"
    assert count_rows(client) == 1


def test_every_error_status_is_problem_json(client):
    assert_problem(client.get("/no/such/path"), 404)
    assert_problem(client.delete("/api/v1/probes", headers=CLERK), 405)
    assert_problem(client.post("/api/v1/probes", data="name=a", content_type="application/x-www-form-urlencoded",
                               headers=CLERK), 415)
    assert_problem(client.post("/api/v1/probes", data="x" * 5000, content_type="application/json",
                               headers=CLERK), 413)
    assert_problem(client.post("/api/v1/probes", json={"name": "a"}), 401)
    assert_problem(client.post("/api/v1/probes", json={"name": "a"}, headers=auth("r-1", "resident")), 403)
    assert_problem(client.get("/api/v1/probes/boom"), 500)
    r = client.post("/api/v1/probes", json={"name": "a"}, headers={**CLERK, "Idempotency-Key": "k1"})
    assert r.status_code == 201
    assert_problem(client.post("/api/v1/probes", json={"name": "b"}, headers={**CLERK, "Idempotency-Key": "k1"}), 422,
                   "Idempotency-Key")


def test_metrics_answer_prometheus_text_with_one_charset(client):
    r = client.get("/metrics")
    assert r.status_code == 200 and b"# HELP" in r.data
    assert r.headers["Content-Type"].count("charset") == 1 and r.headers["Content-Type"].startswith("text/plain")


def test_database_unreachable_is_503_and_readyz_says_so(tmp_path):
    settings = make_settings("points", "postgresql://postgres@127.0.0.1:1/none")
    app = create_app("points", blueprints=[probes], title="p", description="p", settings=settings)
    c = app.test_client()
    r = c.get("/readyz")
    assert_problem(r, 503)
    assert r.get_json()["checks"]["database"] == "unavailable"
    assert_problem(c.post("/api/v1/probes", json={"name": "a"}, headers=CLERK), 503)


@pytest.mark.parametrize("make_token", [
    lambda: issue("u", ["clerk"], secret="another-secret-that-is-long-enough-for-hs256"),
    lambda: issue("u", ["clerk"], secret=Settings.jwt_secret, ttl=-3600),
    lambda: issue("u", [], secret=Settings.jwt_secret),
    lambda: issue("", ["clerk"], secret=Settings.jwt_secret),
    lambda: "not.a.jwt",
    lambda: issue("u", ["clerk"], secret=Settings.jwt_secret, algorithm="HS512"),
    lambda: issue("u" * 65, ["clerk"], secret=Settings.jwt_secret),
    lambda: issue("u", [""], secret=Settings.jwt_secret),
], ids=["wrong-key", "expired", "no-roles", "no-sub", "garbage", "wrong-alg", "sub-too-long", "blank-role"])
def test_bad_tokens_are_401(client, make_token):
    r = client.post("/api/v1/probes", json={"name": "a"}, headers={"Authorization": "Bearer " + make_token()})
    assert_problem(r, 401)
    assert "Bearer" in r.headers["WWW-Authenticate"]


def test_rs256_tokens_verified_with_the_public_key(tmp_path, db_url):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    pub = tmp_path / "pub.pem"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    migrate("points", db_url)
    settings = make_settings("points", db_url, jwt_algorithm="RS256", jwt_public_key_file=str(pub),
                             jwt_issuer="https://idp.district", jwt_audience="weizhili")
    c = create_app("points", blueprints=[probes], title="p", description="p", settings=settings).test_client()
    good = issue("u", ["clerk"], secret=pem, algorithm="RS256", issuer="https://idp.district", audience="weizhili")
    other_aud = issue("u", ["clerk"], secret=pem, algorithm="RS256", issuer="https://idp.district", audience="x")
    hs = issue("u", ["clerk"], secret=Settings.jwt_secret)
    assert c.post("/api/v1/probes", json={"name": "a"}, headers={"Authorization": "Bearer " + good}).status_code == 201
    assert_problem(c.post("/api/v1/probes", json={"name": "a"}, headers={"Authorization": "Bearer " + other_aud}), 401)
    assert_problem(c.post("/api/v1/probes", json={"name": "a"}, headers={"Authorization": "Bearer " + hs}), 401)


def test_cursor_pages_return_each_row_exactly_once(client):
    from shared.db import engine_for
    from sqlalchemy.orm import Session
    same = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with Session(engine_for(client.application.config["WEIZHILI_SETTINGS"].database_url)) as session:
        for i in range(53):  # many rows share one timestamp: the id breaks ties
            session.add(InboxMessage(event_id=f"e{i:03d}", queue="q", type="t",
                                     handled_at=same if i % 2 else same + timedelta(seconds=i)))
        session.commit()
    seen, cursor = [], None
    while True:
        r = client.get("/api/v1/probes", query_string={"limit": 7, **({"cursor": cursor} if cursor else {})},
                       headers=CLERK)
        assert r.status_code == 200, r.get_json()
        page = r.get_json()
        seen += [i["event_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"e{i:03d}" for i in range(53)] and len(seen) == 53
    assert_problem(client.get("/api/v1/probes?limit=-1", headers=CLERK), 422, "limit")
    assert_problem(client.get("/api/v1/probes?limit=100000", headers=CLERK), 422, "limit")
    assert_problem(client.get("/api/v1/probes?cursor=garbage!", headers=CLERK), 422, "cursor")


def test_idempotency_key_replays_the_first_answer(client):
    h = {**CLERK, "Idempotency-Key": "abc-1"}
    first = client.post("/api/v1/probes", json={"name": "a"}, headers=h)
    again = client.post("/api/v1/probes", json={"name": "a"}, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotency-Replayed"] == "true"
    assert count_rows(client) == 1
    # keys are scoped to the caller: another clerk's same key is another request
    other = client.post("/api/v1/probes", json={"name": "a"}, headers={**auth("clerk-2", "clerk"),
                                                                        "Idempotency-Key": "abc-1"})
    assert other.status_code == 201 and other.get_json() != first.get_json()
    # a failed request does not keep its key
    bad = client.post("/api/v1/probes", json={"name": ""}, headers={**CLERK, "Idempotency-Key": "abc-2"})
    assert bad.status_code == 422
    assert client.post("/api/v1/probes", json={"name": "b"}, headers={**CLERK, "Idempotency-Key": "abc-2"}).status_code == 201


def test_idempotent_twins_in_flight_execute_once(client):
    h = {**CLERK, "Idempotency-Key": "twin"}
    app = client.application
    barrier = threading.Barrier(4)

    def send(_):
        c = app.test_client()
        barrier.wait()
        return c.post("/api/v1/probes", json={"name": "t", "slow": True}, headers=h)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, range(4)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}
    assert count_rows(client) == 1
    created = {a.get_json()["event_id"] for a in answers if a.status_code == 201}
    assert len(created) == 1  # any 201 after the first is the replayed first answer


def test_a_problem_about_a_part_of_a_body_names_the_part():
    from shared.errors import Conflict, Unprocessable, field_error
    named = Unprocessable("Bad day.", errors=field_error("issued_at", "Must be 2025-06-12."))
    assert named.within("tickets.7", index=7) is named
    assert [e["field"] for e in named.errors] == ["tickets.7.issued_at"] and named.extra == {"index": 7}
    unnamed = Conflict("All meals are given out.", code="meals-sold-out").within("tickets.3", index=3)
    assert unnamed.errors == [{"location": "json", "field": "tickets.3", "message": "All meals are given out."}]
    nested = Unprocessable("x", errors=field_error("raised_on", "late")).within("objections.0", step="objections.0")
    assert [e["field"] for e in nested.within("applications.2", index=2).errors] == [
        "applications.2.objections.0.raised_on"]
    assert nested.extra == {"step": "objections.0", "index": 2}
