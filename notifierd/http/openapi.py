"""The OpenAPI document of the HTTP API, shipped beside this module and served as JSON at
``/api/v1/openapi.json``; written by hand, and a test holds it and the routes to each other."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import yaml

DOCUMENT = "openapi.yaml"


@cache
def document_json() -> bytes:
    """The document as JSON bytes, read once from the package."""
    text = resources.files("notifierd.http").joinpath(DOCUMENT).read_text(encoding="utf-8")
    return json.dumps(yaml.safe_load(text), separators=(",", ":")).encode()
