"""The OpenAPI document covers every endpoint: a success answer with its schema, problem+json errors (401/403
where a role is needed, 404 where a path names a record, 422 where a body or query is parsed), docstrings."""
from __future__ import annotations

from shared.testing import make_client

PUBLIC = ("/api/v1/public/",)


def test_every_operation_documents_its_schemas_and_errors(tmp_path):
    client = make_client("relief", f"sqlite:///{tmp_path / 'relief.sqlite3'}")
    spec = client.get("/api/openapi.json").get_json()
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "patch", "put", "delete")]
    assert len(operations) >= 45
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("description") or op.get("summary"), where
        ok = [s for s in op["responses"] if s.startswith("2")]
        assert ok and all("schema" in op["responses"][s]["content"]["application/json"] for s in ok), where
        errors = {s for s in op["responses"] if s[0] in "45"}
        if path.startswith(PUBLIC):
            assert "security" not in op, where
        else:
            assert {"401", "403"} <= errors and op["security"] == [{"bearerAuth": []}], where
        if "{" in path:
            assert "404" in errors, where
        if method in ("post", "patch") and "requestBody" in op:
            assert "422" in errors, where
        for status in errors:
            content = op["responses"][status].get("content") or spec["components"]["responses"].get(
                op["responses"][status].get("$ref", "").rsplit("/", 1)[-1], {}).get("content", {})
            assert "application/problem+json" in content or "$ref" in op["responses"][status], (where, status)


def test_public_views_need_no_login_and_staff_views_do(tmp_path):
    client = make_client("relief", f"sqlite:///{tmp_path / 'relief.sqlite3'}")
    assert client.get("/api/v1/public/campaigns").status_code == 200
    assert client.get("/api/v1/campaigns").status_code == 401
    r = client.get("/api/v1/public/campaigns/nope/report")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/problem+json")
    assert client.get("/api/docs").status_code == 200
