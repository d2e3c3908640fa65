"""An alert's page timeline: events and escalation levels in the order they happened or are due."""

from __future__ import annotations

from datetime import UTC, datetime

from notifierd.console.timeline import Paged, entries

ALERT = {
    "timeline": [
        {
            "kind": "acknowledged",
            "actor": "person:carol",
            "via": "console",
            "detail": None,
            "at": "2026-11-30T03:05:00+00:00",
        },
        {
            "kind": "triggered",
            "actor": None,
            "via": "queue",
            "detail": "request a",
            "at": "2026-11-30T03:00:00+00:00",
        },
    ],
    "steps": [
        {
            "round": 0,
            "level": 2,
            "due_at": "2026-11-30T03:10:00+00:00",
            "status": "cancelled",
            "fired_at": None,
            "fired_by": None,
            "requested_by": None,
            "paged": [],
        },
        {
            "round": 0,
            "level": 1,
            "due_at": "2026-11-30T03:00:00+00:00",
            "status": "fired",
            "fired_at": "2026-11-30T03:00:01+00:00",
            "fired_by": "w1",
            "requested_by": None,
            "paged": [
                {
                    "channel": "chat",
                    "recipient": "schedule:primary",
                    "status": "delivered",
                    "person": "alice",
                    "via": "layer daily",
                    "address": "@U0ALICE",
                }
            ],
        },
    ],
}


def test_events_and_levels_in_time_order_a_level_at_its_firing() -> None:
    found = entries(ALERT)
    assert [(e.kind, e.level) for e in found] == [
        ("triggered", None),
        ("fired", 1),
        ("acknowledged", None),
        ("cancelled", 2),
    ]
    assert found[1].paged == (
        Paged("chat", "schedule:primary", "delivered", "alice", "layer daily", "@U0ALICE"),
    )
    assert found[2].actor == "person:carol" and found[2].via == "console"


def test_an_event_comes_before_a_level_due_at_the_same_moment() -> None:
    same = {
        "timeline": [
            {
                "kind": "triggered",
                "actor": None,
                "via": "queue",
                "detail": None,
                "at": "2026-11-30T03:00:00+00:00",
            }
        ],
        "steps": [
            {
                "round": 0,
                "level": 1,
                "due_at": "2026-11-30T03:00:00+00:00",
                "status": "pending",
                "fired_at": None,
                "paged": [],
            }
        ],
    }
    assert [e.is_step for e in entries(same)] == [False, True]


def test_a_page_of_events_shows_only_the_levels_between_its_bounds() -> None:
    """A page of a long timeline: levels at or after ``since`` and before ``until``, so that
    each level stands on one page."""
    since = datetime(2026, 11, 30, 3, 0, 1, tzinfo=UTC)  # level 1 fired then
    until = datetime(2026, 11, 30, 3, 10, tzinfo=UTC)  # level 2 was due then
    shown = entries(ALERT, since=since, until=until)
    assert [(e.kind, e.level) for e in shown] == [
        ("triggered", None),
        ("fired", 1),
        ("acknowledged", None),
    ]
    assert [e.level for e in entries(ALERT, until=since) if e.is_step] == []
    assert [e.level for e in entries(ALERT, since=until) if e.is_step] == [2]
