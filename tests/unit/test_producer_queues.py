"""Producers with a queue of their own: the config flag, the key, and a request's producer."""

from __future__ import annotations

from pathlib import Path

from notifierd.config.model import Snapshot
from tests.unit.config_repo import MINIMAL_ROUTES, findings, validate

ROUTES = (
    MINIMAL_ROUTES
    + """\
producers:
  ci:
    queue: true
  deploys:
    description: pushes over the HTTP API only
"""
)


def snapshot(tmp_path: Path, routes: str = ROUTES) -> Snapshot:
    result = validate(tmp_path, {"routes.yaml": routes})
    assert result.snapshot is not None, [str(p) for p in result.problems]
    return result.snapshot


def test_a_producer_has_a_queue_only_when_the_config_says_so(tmp_path: Path) -> None:
    producers = snapshot(tmp_path).producers
    assert producers["ci"].queue is True
    assert producers["deploys"].queue is False


def test_the_anonymous_producer_cannot_ask_for_a_queue_of_its_own(tmp_path: Path) -> None:
    routes = ROUTES + "  anonymous:\n    queue: true\n"
    text = "\n".join(findings(tmp_path, {"routes.yaml": routes}))
    assert "'anonymous' is the default queue already" in text


def test_queue_is_a_boolean(tmp_path: Path) -> None:
    routes = ROUTES.replace("queue: true", "queue: yes please")
    assert findings(tmp_path, {"routes.yaml": routes}) == [
        "routes.yaml:21:12: 'queue' must be true or false, not string 'yes please'"
    ]
