"""The delivery search's cursor and the config status's missing secrets: pure pieces of the
console API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from notifierd.config.values import missing_env
from notifierd.store.rows import DeliveryCursor


def test_a_cursor_comes_back_from_its_token() -> None:
    cursor = DeliveryCursor(datetime(2026, 11, 30, 3, 4, 5, 678901, tzinfo=UTC), uuid.uuid4())
    assert DeliveryCursor.parse(cursor.token()) == cursor


def test_a_token_the_api_never_gave_is_no_cursor() -> None:
    assert DeliveryCursor.parse("xyz") is None
    assert DeliveryCursor.parse("") is None
    naive = DeliveryCursor(datetime(2026, 1, 1), uuid.uuid4()).token()
    assert DeliveryCursor.parse(naive) is None


def test_missing_env_names_each_unset_reference_once() -> None:
    settings = {
        "url": "https://${HOST}/hook/${PATH_TOKEN}",
        "headers": {"X-Key": "${PATH_TOKEN}", "X-Set": "${SET}"},
        "recipients": ["${LIST_VAR}"],
        "port": 443,
    }
    assert missing_env(settings, {"SET": "1", "HOST": "example.com"}) == ["PATH_TOKEN", "LIST_VAR"]
    assert missing_env(settings, {"SET": "", "HOST": "", "PATH_TOKEN": "", "LIST_VAR": ""}) == []
