"""``python -m shared.openapi write|check``: the OpenAPI document of each service, generated from its schemas.

``write`` saves ``services/<service>/openapi.json``; ``check`` exits 1 if a committed document differs from
what the code generates now (each service's ``tests/test_openapi.py`` makes the same comparison in CI), so the
documentation cannot drift from the code.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from .config import DEFAULT_PORTS, REPO_ROOT



def path_of(service: str) -> Path:
    return REPO_ROOT / "services" / service / "openapi.json"


def document(service: str) -> dict:
    """The OpenAPI document of ``service`` as its app serves it at ``/api/openapi.json``."""
    from .testing import make_settings
    module = importlib.import_module(f"services.{service}.app")
    app = module.create_app(settings=make_settings(service, "sqlite://"))
    with app.app_context():
        return app.extensions["weizhili_api"].spec.to_dict()


def render(service: str) -> str:
    return json.dumps(document(service), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.openapi")
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("services", nargs="*", default=sorted(DEFAULT_PORTS))
    args = parser.parse_args(argv)
    stale = []
    for service in args.services:
        path = path_of(service)
        text = render(service)
        if args.action == "write":
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO_ROOT)}")
        elif not path.exists() or json.loads(path.read_text(encoding="utf-8")) != json.loads(text):
            stale.append(service)
    if stale:
        print("OpenAPI documents out of date (run `make openapi`): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
