"""The OpenAPI document covers every endpoint with its schemas and error answers, and the committed copy
(services/disputes/openapi.json) is up to date. Regenerate it with:
``WRITE_OPENAPI=1 .venv/bin/python -m pytest services/disputes/tests/test_openapi.py``."""
from __future__ import annotations

import json
import os
from pathlib import Path

from services.disputes.app import create_app
from shared.testing import make_settings

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.json"
PUBLIC = {("/api/v1/feedback-wall", "get"), ("/api/v1/map", "get"), ("/api/v1/policy", "get")}


def _spec(tmp_path) -> dict:
    app = create_app(settings=make_settings("disputes", f"sqlite:///{tmp_path / 'x.sqlite3'}"), testing=True)
    return app.test_client().get("/api/openapi.json").get_json()


def test_every_endpoint_documents_schemas_and_errors(tmp_path):
    spec = _spec(tmp_path)
    operations = [(path, method, op) for path, item in spec["paths"].items() if path.startswith("/api/v1/")
                  for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]
    assert len(operations) >= 35
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("summary") or op.get("description"), where
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert len(ok) == 1, where
        assert op["responses"][ok[0]].get("content"), where
        errors = {code for code in op["responses"] if code[0] in "45"}
        if (path, method) not in PUBLIC:
            assert {"401", "403"} <= errors, where
        if "{" in path:
            assert "404" in errors, where
        if op.get("requestBody") or any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "422" in errors, where
    if os.environ.get("WRITE_OPENAPI") == "1":
        COMMITTED.write_text(json.dumps(spec, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert COMMITTED.exists(), "run with WRITE_OPENAPI=1 to write services/disputes/openapi.json"
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == spec, "openapi.json is stale: regenerate it"
