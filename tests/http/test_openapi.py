"""The OpenAPI document describes exactly the routes the app serves."""

from __future__ import annotations

import pytest

from tests.http.conftest import Api
from vaxel.http import create_app

METHODS = {"get", "post", "put", "patch", "delete"}


def _served(api: Api) -> set[tuple[str, str]]:
    app = create_app(api.server)
    out = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/") and route.method.lower() in METHODS:
            out.add((route.method.lower(), path))
    return out


async def test_every_api_route_is_documented_and_every_documented_route_exists(
    api: Api,
) -> None:
    status, doc = await api.call("GET", "/api/openapi.json")
    assert status == 200
    documented = {
        (method, path) for path, ops in doc["paths"].items() for method in ops if method in METHODS
    }
    served = _served(api)
    assert served - documented == set(), "served but not in the OpenAPI document"
    assert documented - served == set(), "documented but not served"


async def test_document_is_valid_openapi_3_1(api: Api) -> None:
    _, doc = await api.call("GET", "/api/openapi.json")
    assert doc["openapi"].startswith("3.1")
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


async def test_every_reference_resolves(api: Api) -> None:
    _, doc = await api.call("GET", "/api/openapi.json")
    schemas = doc["components"]["schemas"]

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for r in refs(doc):
        assert r.removeprefix("#/components/schemas/") in schemas, r


def test_a_module_description_replaces_the_fallback_and_duplicates_are_refused() -> None:
    from types import SimpleNamespace

    from vaxel.http.openapi import build_document, operation

    own = SimpleNamespace(
        OPENAPI_PATHS={"/api/calendars": {"get": operation("Own words", tag="calendars")}}
    )
    doc = build_document([own])
    assert doc["paths"]["/api/calendars"]["get"]["summary"] == "Own words"
    with pytest.raises(ValueError, match="GET /api/calendars is described twice"):
        build_document([own, own])
