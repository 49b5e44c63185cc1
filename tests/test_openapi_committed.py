"""Each service's committed OpenAPI document (services/<svc>/openapi.json) is what its code generates now:
the documentation cannot drift from the schemas. Regenerate with `make openapi`."""
from __future__ import annotations

import json

import pytest

from shared.config import DEFAULT_PORTS
from shared.openapi import document, path_of


@pytest.mark.parametrize("service", sorted(DEFAULT_PORTS))
def test_committed_openapi_document_is_current(service):
    path = path_of(service)
    assert path.exists(), f"{path} is missing: run `make openapi`"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(document(service))), \
        f"{path} is stale: run `make openapi`"
