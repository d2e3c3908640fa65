"""The OpenAPI document and the aiohttp routes describe the same API: every route under
/api/v1 is in the document and every operation in it is a route, with the roles it needs."""

from __future__ import annotations

import json
from typing import Any, cast

from notifierd.http import auth, openapi
from notifierd.http.app import build_app
from notifierd.http.backend import Backend
from notifierd.status import AlertStatus, DeliveryStatus

METHODS = {"get", "post", "put", "patch", "delete"}


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi.document_json())
    return document


def _documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in _document()["paths"].items()
        for method in item
        if method in METHODS
    }


def _routed() -> set[tuple[str, str]]:
    # The routes only: build_app stores the backend and never calls it.
    app = build_app(cast(Backend, object()))
    found = set()
    for route in app.router.routes():
        info = route.resource.canonical if route.resource is not None else ""
        if info.startswith("/api/v1/") and route.method != "HEAD":
            found.add((route.method, info))
    return found


def test_every_api_route_is_documented_and_every_operation_is_routed() -> None:
    assert _routed() - _documented() == set(), "routes missing from openapi.yaml"
    assert _documented() - _routed() == set(), "operations in openapi.yaml with no route"


def test_each_operation_names_the_roles_the_route_needs() -> None:
    for path, item in _document()["paths"].items():
        for method, op in item.items():
            if path in auth.FEED_ROUTES:  # their own feed token, no role
                assert "x-roles" not in op and op["security"] == [{"feedToken": []}]
                continue
            needed = auth.ROUTE_ROLES[(method.upper(), path)]
            assert set(op["x-roles"]) == set(needed), f"{method.upper()} {path}"


def test_operation_ids_are_unique_and_statuses_match_the_enums() -> None:
    document = _document()
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    schemas = document["components"]["schemas"]
    assert set(schemas["DeliveryStatus"]["enum"]) == {s.value for s in DeliveryStatus}
    assert set(schemas["AlertStatus"]["enum"]) == {s.value for s in AlertStatus}
