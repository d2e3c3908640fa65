"""Who is on call over a real daemon's HTTP listener: JSON for view, calendar feeds with tokens."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import aiohttp
import pytest

from tests.integration.daemon_harness import ROUTES, Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

PEOPLE = """\
people:
  alice: {contacts: [{slack: "@U0ALICE"}]}
  bob: {contacts: [{slack: "@U0BOB"}]}
  victor:
    roles: [view]
    token: "${VICTOR_TOKEN}"
    contacts: [{slack: "@U0VICTOR"}]
calendar_feeds:
  team:
    token: "${TEAM_FEED_TOKEN}"
    schedules: [primary]
  alice-phone:
    token: "${ALICE_FEED_TOKEN}"
    people: [alice]
"""
# Daily handoffs at 09:00 Berlin time: any eight weeks hold shifts of both.
PRIMARY = """\
name: Primary on-call
handle: on-call-primary
timezone: Europe/Berlin
layers:
  - name: daily
    members: [alice, bob]
    rotation: 1d
    start: 2026-01-01T09:00
overrides:
  - {person: bob, from: 2026-12-24T00:00, until: 2026-12-27T00:00, reason: holiday swap}
"""
SECONDARY = PRIMARY.replace("Primary", "Secondary").replace("on-call-primary", "on-call-2nd")
TOKENS = {
    "VICTOR_TOKEN": "victor-api",
    "TEAM_FEED_TOKEN": "team-feed-s3cret",
    "ALICE_FEED_TOKEN": "alice-feed-s3cret",
    "SLACK_BOT_TOKEN": "xoxb-test",
}


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    routes = ROUTES.replace(
        "channels:\n", 'channels:\n  chat: {type: slack, token: "${SLACK_BOT_TOKEN}"}\n', 1
    )
    files = {"schedules/primary.yaml": PRIMARY, "schedules/secondary.yaml": SECONDARY}
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        http="127.0.0.1:0",
        routes=routes + PEOPLE,
        files=files,
        dry_run=True,
    ):
        yield r


@pytest.fixture
async def http(running: Running) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=running.http_url) as session:
        yield session


VIEW = {"Authorization": "Bearer victor-api"}


async def test_who_is_on_call_as_json_for_view(http: aiohttp.ClientSession) -> None:
    params = {"at": "2026-12-25T12:00:00Z", "schedule": "@on-call-primary"}
    async with http.get("/api/v1/oncall", params=params, headers=VIEW) as response:
        assert response.status == 200
        body = await response.json()
    assert body["at"] == "2026-12-25T12:00:00Z"
    [shift] = body["on_call"]
    assert shift["schedule"] == "primary" and shift["person"] == "bob"
    assert shift["source"] == {"kind": "override", "reason": "holiday swap"}
    assert (shift["start"], shift["end"]) == ("2026-12-23T23:00:00Z", "2026-12-26T23:00:00Z")


async def test_json_lists_handoffs_and_one_persons_shifts(http: aiohttp.ClientSession) -> None:
    params = {"at": "2026-12-01T12:00:00Z", "next": "2d"}
    async with http.get("/api/v1/oncall", params=params, headers=VIEW) as response:
        body = await response.json()
    assert {s["schedule"] for s in body["shifts"]} == {"primary", "secondary"}
    primary = [s["person"] for s in body["shifts"] if s["schedule"] == "primary"]
    assert len(primary) == 3 and primary[0] != primary[1]  # today's, then two handoffs
    params = {"at": "2026-12-01T12:00:00Z", "next": "4d", "person": "alice"}
    async with http.get("/api/v1/oncall", params=params, headers=VIEW) as response:
        mine = (await response.json())["shifts"]
    assert mine and {s["person"] for s in mine} == {"alice"}


async def test_json_needs_a_token_with_view(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/oncall") as response:
        assert response.status == 401
    # A feed token is no API token.
    headers = {"Authorization": "Bearer team-feed-s3cret"}
    async with http.get("/api/v1/oncall", headers=headers) as response:
        assert response.status == 401
    async with http.get("/api/v1/oncall", params={"at": "soon"}, headers=VIEW) as response:
        assert response.status == 400
        assert "ISO-8601" in (await response.json())["error"]


def _events(text: str) -> list[dict[str, str]]:
    """The VEVENTs of an iCalendar text, each as its properties (lines unfolded)."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.replace("\r\n ", "").split("\r\n")[:-1]
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    events: list[dict[str, str]] = []
    for line in lines:
        if line == "BEGIN:VEVENT":
            events.append({})
        elif events and line != "END:VEVENT" and ":" in line:
            key, _, value = line.partition(":")
            events[-1].setdefault(key, value)
    return events


def _utc(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


async def test_schedule_feed_with_its_token(http: aiohttp.ClientSession) -> None:
    feed = "/api/v1/oncall/schedules/primary.ics"
    async with http.get(feed, params={"token": "team-feed-s3cret"}) as response:
        assert response.status == 200
        assert response.content_type == "text/calendar"
        text = await response.text()
    events = _events(text)
    # Daily shifts for eight weeks ahead and one behind, alternating, contiguous.
    assert len(events) >= 60
    people = [e["SUMMARY"] for e in events]
    assert people[0] != people[1] and people[0] == people[2]
    assert all(e["SUMMARY"].endswith("(Primary on-call)") for e in events)
    now = datetime.now(UTC)
    starts = [_utc(e["DTSTART"]) for e in events]
    assert starts[0] <= now - timedelta(days=6) and starts[-1] >= now + timedelta(days=55)
    assert all(_utc(a["DTEND"]) == _utc(b["DTSTART"]) for a, b in pairwise(events))


async def test_person_feed_has_only_their_shifts_in_every_schedule(
    http: aiohttp.ClientSession,
) -> None:
    feed = "/api/v1/oncall/people/alice.ics"
    async with http.get(feed, params={"token": "alice-feed-s3cret"}) as response:
        assert response.status == 200
        events = _events(await response.text())
    summaries = {e["SUMMARY"] for e in events}
    assert summaries == {"On call: alice (Primary on-call)", "On call: alice (Secondary on-call)"}


@pytest.mark.parametrize(
    ("feed", "token"),
    [
        ("/api/v1/oncall/schedules/primary.ics", "wrong"),
        ("/api/v1/oncall/schedules/primary.ics", None),
        # A real token, but its feed does not name this schedule or person.
        ("/api/v1/oncall/schedules/secondary.ics", "team-feed-s3cret"),
        ("/api/v1/oncall/people/bob.ics", "alice-feed-s3cret"),
        ("/api/v1/oncall/people/alice.ics", "team-feed-s3cret"),
        # An API token with every role does not open a feed either.
        ("/api/v1/oncall/people/alice.ics", "victor-api"),
        ("/api/v1/oncall/schedules/nonexistent.ics", "team-feed-s3cret"),
    ],
)
async def test_a_feed_without_its_token_is_not_found(
    http: aiohttp.ClientSession, feed: str, token: str | None
) -> None:
    params = {"token": token} if token is not None else {}
    async with http.get(feed, params=params) as response:
        # The same answer whether the feed exists or not: nothing to learn by probing.
        assert response.status == 404
        assert await response.json() == {"error": "not found"}


async def test_feed_tokens_never_reach_the_log(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="notifierd")
    for feed, token in [
        ("/api/v1/oncall/schedules/primary.ics", "team-feed-s3cret"),
        ("/api/v1/oncall/people/alice.ics", "alice-feed-s3cret"),
        ("/api/v1/oncall/people/bob.ics", "a-guessed-s3cret"),
    ]:
        async with http.get(feed, params={"token": token}) as response:
            await response.read()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    # Each request was logged, with its URL, and no token.
    assert "/api/v1/oncall/people/alice.ics?token=REDACTED -> 200" in logged
    assert "/api/v1/oncall/people/bob.ics?token=REDACTED -> 404" in logged
    assert "s3cret" not in logged


async def test_removing_a_feed_and_reloading_revokes_its_token(
    running: Running, http: aiohttp.ClientSession
) -> None:
    feed, token = "/api/v1/oncall/schedules/primary.ics", {"token": "team-feed-s3cret"}
    async with http.get(feed, params=token) as response:
        assert response.status == 200
    routes = running.config / "routes.yaml"
    text = routes.read_text()
    team = '  team:\n    token: "${TEAM_FEED_TOKEN}"\n    schedules: [primary]\n'
    assert team in text
    routes.write_text(text.replace(team, ""))
    assert await running.daemon.reload("test")
    async with http.get(feed, params=token) as response:
        assert response.status == 404
