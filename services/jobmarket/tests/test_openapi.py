"""The OpenAPI document covers every jobmarket endpoint with its success schema, its roles and its errors."""
from __future__ import annotations

from services.jobmarket.app import create_app
from shared.testing import make_settings


def test_every_endpoint_is_documented_with_schemas_and_errors(tmp_path):
    app = create_app(settings=make_settings("jobmarket", f"sqlite:///{tmp_path / 'x.sqlite3'}"), testing=True)
    spec = app.test_client().get("/api/openapi.json").get_json()
    routes = {(r.rule, m) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            documented.add((path.replace("{", "<").replace("}", ">"), method.upper()))
            ok = [s for s in op["responses"] if s.startswith("2")]
            assert len(ok) == 1, (path, method)
            assert "content" in op["responses"][ok[0]], (path, method)
            assert {"401", "403"} <= set(op["responses"]), (path, method)
            if method in ("post", "put", "patch") and "requestBody" in op:
                assert "422" in op["responses"], (path, method)
            assert op.get("description") and op.get("summary"), (path, method)
    flat = {(rule.replace("<int:", "<"), m) for rule, m in routes}
    assert flat == documented
