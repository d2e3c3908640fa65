"""Producers with a queue of their own: the config flag, the key, and a request's producer."""

from __future__ import annotations

import json
from pathlib import Path

from notifierd.config.model import Snapshot
from notifierd.intake.parse import Rejection, parse_request
from notifierd.redisio.keys import Keys
from notifierd.request import Request
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


def test_a_producer_queue_is_the_queue_and_the_producer_id() -> None:
    assert Keys().producer_queue("ci") == "notifierd:requests:ci"
    assert Keys("p", "p:jobs").producer_queue("ci") == "p:jobs:ci"
    # Its consumers and order keys are its own: another queue's replicas never recover it.
    ci = Keys().of_producer("ci")
    assert ci.queue == "notifierd:requests:ci"
    assert ci.consumers != Keys().consumers


def test_a_request_is_its_queues_producers_and_cannot_claim_one() -> None:
    raw = json.dumps({"id": "r1", "title": "t", "message": "m"}).encode()
    from_ci = parse_request(raw, producer="ci")
    assert isinstance(from_ci, Request) and from_ci.producer == "ci"
    anonymous = parse_request(raw)
    assert isinstance(anonymous, Request) and anonymous.producer is None
    claiming = json.dumps({"id": "r2", "title": "t", "message": "m", "producer": "ci"})
    refused = parse_request(claiming.encode())
    assert isinstance(refused, Rejection) and "producer" in refused.reason
