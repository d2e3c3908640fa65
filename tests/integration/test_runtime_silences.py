"""Run-time silences and schedule overrides on real daemons: added over the API by a person
with operate, applied by every replica within seconds, ended by themselves or early, refused
beyond the config's bound or to a viewer, and audited."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result

from notifierd import metrics
from notifierd.cli.main import _register, cli
from tests.fakes.clock import SkippingClock
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, start_daemon, write_config
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  retry: {max_retries: 1, initial_delay: 50ms, multiplier: 2, max_delay: 1s, jitter: 0}
  runtime: {max_silence: 24h, max_override: 2d}
channels:
  sink: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}"}
people:
  alice:
    roles: [view, operate]
    token: "${ALICE_TOKEN}"
    contacts: [{slack: "@U0ALICE"}]
  bob:
    contacts: [{slack: "@U0BOB"}]
  victor:
    roles: [view]
    token: "${VICTOR_TOKEN}"
    contacts: [{email: victor@company.com}]
routes:
  - name: paged
    matchers: ['team="db"']
    channels: [chat]
    recipients: ["schedule:primary"]
  - name: default
    channels: [sink]
"""
TOKENS = {"ALICE_TOKEN": "alice-token", "VICTOR_TOKEN": "victor-token"}
ALICE = {"Authorization": "Bearer alice-token"}
VICTOR = {"Authorization": "Bearer victor-token"}


def files(now: datetime) -> dict[str, str]:
    """``primary``: alice all week (from yesterday on)."""
    start = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return {
        "schedules/primary.yaml": f"""\
            timezone: UTC
            layers:
              - {{name: weekly, members: [alice], rotation: 1w, start: "{start}"}}
            """
    }


@pytest.fixture
async def running(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> AsyncIterator[Running]:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    clock = SkippingClock()
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=ROUTES,
        files=files(clock()),
        http="127.0.0.1:0",
        clock=clock,
    ):
        yield r


async def call(
    r: Running, method: str, path: str, headers: dict[str, str], **kwargs: Any
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(base_url=r.http_url) as http,
        http.request(method, path, headers=headers, **kwargs) as resp,
    ):
        return resp.status, await resp.json()


async def holding(
    r: Running, held: Callable[[Running], list[int]], ids: list[int], timeout: float = 10.0
) -> None:
    """Wait until the daemon of ``r`` holds exactly ``ids`` (``silences_of`` or
    ``overrides_of``): a replica's refresher reads Postgres about once a second."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if held(r) == ids:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{held.__name__}: {held(r)}, not {ids} within {timeout}s")


def silences_of(r: Running) -> list[int]:
    return [s.id for s in r.daemon.services.holder.active.silences]


def overrides_of(r: Running) -> list[int]:
    schedule = r.daemon.services.holder.active.snapshot.schedules["primary"]
    return [o.id for o in schedule.overrides if hasattr(o, "created_by")]


async def audit(r: Running, action: str) -> list[dict[str, Any]]:
    status, body = await call(r, "GET", "/api/v1/audit", ALICE, params={"action": action})
    assert status == 200, body
    return list(body["entries"])


async def delivered(r: Running, service: str) -> dict[str, Any]:
    rid = await r.push({"labels": {"service": service}})
    assert rid is not None
    return await r.status(rid)


async def test_a_silence_silences_what_it_matches_until_it_ends_by_itself(
    running: Running,
) -> None:
    body = {"matchers": ['service="api"'], "duration": "1h", "reason": "deploying the api"}
    status, silence = await call(running, "POST", "/api/v1/silences", ALICE, json=body)
    assert status == 201, silence
    assert silence["created_by"] == "person:alice" and silence["active"] is True
    await holding(running, silences_of, [silence["id"]])

    silenced = await delivered(running, "api")
    assert silenced["status"] == "suppressed"
    assert silenced["reason"].startswith(f"run-time silence {silence['id']} by person:alice")
    assert silenced["reason"].endswith("deploying the api is active")
    assert [d["status"] for d in silenced["deliveries"]] == ["suppressed"]
    assert "deploying the api" in silenced["deliveries"][0]["note"]
    assert (await delivered(running, "web"))["status"] == "delivered"

    assert metrics.REGISTRY.get_sample_value("notifierd_runtime_silences") == 1
    listed = await call(running, "GET", "/api/v1/silences", VICTOR)  # view may read them
    assert [s["id"] for s in listed[1]["silences"]] == [silence["id"]]

    assert running.clock is not None
    running.clock.skip(3601)  # past its end: the router compares times, no refresh needed
    assert (await delivered(running, "api"))["status"] == "delivered"
    await holding(running, silences_of, [])
    assert metrics.REGISTRY.get_sample_value("notifierd_runtime_silences") == 0
    answer = await call(running, "GET", "/api/v1/silences", ALICE)
    assert answer == (200, {"silences": []})

    [entry] = await audit(running, "silence")
    assert entry["actor"] == "person:alice" and entry["via"] == "http"
    assert entry["target"] == f"silence:{silence['id']}" and entry["origin"] == "127.0.0.1"
    assert entry["detail"]["matchers"] == ['service="api"']
    assert entry["detail"]["reason"] == "deploying the api"


async def test_a_silence_ended_early_stops_applying_and_is_audited(running: Running) -> None:
    body = {"matchers": ['service=~"api|web"'], "duration": "2h", "reason": "noisy"}
    _, silence = await call(running, "POST", "/api/v1/silences", ALICE, json=body)
    await holding(running, silences_of, [silence["id"]])
    assert (await delivered(running, "web"))["status"] == "suppressed"

    path = f"/api/v1/silences/{silence['id']}/expire"
    assert (await call(running, "POST", path, VICTOR))[0] == 403  # a viewer may not end it
    status, ended = await call(running, "POST", path, ALICE)
    assert status == 200 and ended["active"] is False and ended["expired_by"] == "person:alice"
    await holding(running, silences_of, [])
    assert (await delivered(running, "web"))["status"] == "delivered"

    status, again = await call(running, "POST", path, ALICE)
    assert status == 409 and "already ended" in again["error"]
    [entry] = await audit(running, "silence-expire")
    assert entry["actor"] == "person:alice" and entry["target"] == f"silence:{silence['id']}"
    recent = await call(running, "GET", "/api/v1/silences", ALICE, params={"state": "recent"})
    assert [s["expired_by"] for s in recent[1]["silences"]] == ["person:alice"]


async def test_beyond_the_bound_bad_matchers_and_a_viewer_are_refused(running: Running) -> None:
    refusals = [
        (ALICE, {"matchers": ['service="api"'], "duration": "25h", "reason": "x"}, 400),
        (
            ALICE,
            {"matchers": ['service="api"'], "until": "2020-01-01T00:00:00Z", "reason": "x"},
            400,
        ),
        (ALICE, {"matchers": ['service!="api"'], "duration": "1h", "reason": "x"}, 400),
        (ALICE, {"matchers": ["service=~'("], "duration": "1h", "reason": "x"}, 400),
        (ALICE, {"matchers": ['service="api"'], "duration": "1h"}, 400),
        (VICTOR, {"matchers": ['service="api"'], "duration": "1h", "reason": "x"}, 403),
    ]
    answers = []
    for headers, body, expected in refusals:
        status, answer = await call(running, "POST", "/api/v1/silences", headers, json=body)
        assert status == expected, (body, answer)
        answers.append(answer["error"])
    assert "at most 1d (settings.runtime.max_silence in routes.yaml)" in answers[0]
    assert "in the future" in answers[1]
    assert "silence everything" in answers[2]
    assert "reason" in answers[4]

    override = {"schedule": "primary", "person": "bob", "duration": "3d", "reason": "x"}
    status, answer = await call(running, "POST", "/api/v1/overrides", ALICE, json=override)
    assert status == 400 and "settings.runtime.max_override" in answer["error"], answer
    for wrong in ({"schedule": "nope"}, {"person": "nobody"}):
        status, answer = await call(
            running, "POST", "/api/v1/overrides", ALICE, json=override | {"duration": "1h"} | wrong
        )
        assert status == 400, answer
    assert (await call(running, "POST", "/api/v1/overrides", VICTOR, json=override))[0] == 403
    assert (await call(running, "GET", "/api/v1/silences", ALICE))[1]["silences"] == []
    assert await audit(running, "silence") == []  # nothing refused reached the table


async def test_an_override_changes_who_is_paged_and_on_call_until_it_ends(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    assert running.clock is not None

    async def on_call() -> dict[str, Any]:
        assert running.clock is not None
        params = {"schedule": "primary", "at": running.clock().isoformat()}
        status, body = await call(running, "GET", "/api/v1/oncall", VICTOR, params=params)
        assert status == 200, body
        return dict(body["on_call"][0])

    async def paged() -> dict[str, Any]:
        rid = await running.push({"labels": {"team": "db"}})
        assert rid is not None
        found = await running.status(rid)
        return dict(found["deliveries"][0]["paged"])

    assert (await on_call())["person"] == "alice"
    body = {"schedule": "primary", "person": "bob", "duration": "1h", "reason": "alice is ill"}
    status, override = await call(running, "POST", "/api/v1/overrides", ALICE, json=body)
    assert status == 201, override
    await holding(running, overrides_of, [override["id"]])

    shown = await on_call()
    assert shown["person"] == "bob"
    assert shown["source"] == {
        "kind": "runtime_override",
        "id": str(override["id"]),
        "by": "person:alice",
        "reason": "alice is ill",
    }
    via = f"runtime override {override['id']} by person:alice: alice is ill"
    assert await paged() == {"person": "bob", "via": via, "address": "@U0BOB"}

    running.clock.skip(3601)  # past its end: alice again, before any refresh
    assert (await on_call())["person"] == "alice"
    assert (await paged())["person"] == "alice"

    [entry] = await audit(running, "override")
    assert entry["target"] == f"override:{override['id']}"
    assert entry["detail"]["person"] == "bob" and entry["detail"]["schedule"] == "primary"


async def test_an_override_removed_early_stops_applying(running: Running) -> None:
    body = {"schedule": "primary", "person": "bob", "duration": "8h", "reason": "swap"}
    _, override = await call(running, "POST", "/api/v1/overrides", ALICE, json=body)
    await holding(running, overrides_of, [override["id"]])
    listed = await call(running, "GET", "/api/v1/overrides", VICTOR, params={"schedule": "primary"})
    assert [o["person"] for o in listed[1]["overrides"]] == ["bob"]
    path = f"/api/v1/overrides/{override['id']}/remove"
    status, removed = await call(running, "POST", path, ALICE)
    assert status == 200 and removed["removed_by"] == "person:alice"
    await holding(running, overrides_of, [])
    [entry] = await audit(running, "override-remove")
    assert entry["actor"] == "person:alice"


async def test_a_silence_added_on_one_replica_applies_on_the_other(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    config = write_config(tmp_path / "config", ROUTES, files(SkippingClock()()))
    shared: dict[str, Any] = {"sink": sink, "flaky": flaky, "config_dir": config}
    try:
        async for a in start_daemon(
            tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0", **shared
        ):
            async for b in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **shared):
                body = {"matchers": ['service="api"'], "duration": "1h", "reason": "drill"}
                status, silence = await call(a, "POST", "/api/v1/silences", ALICE, json=body)
                assert status == 201
                await holding(b, silences_of, [silence["id"]])
                await holding(a, silences_of, [silence["id"]])
                # Whichever replica takes each request, it is silenced.
                outcomes = [(await delivered(b, "api"))["status"] for _ in range(6)]
                assert outcomes == ["suppressed"] * 6
                await call(a, "POST", f"/api/v1/silences/{silence['id']}/expire", ALICE)
                await holding(b, silences_of, [])
                assert (await delivered(b, "api"))["status"] == "delivered"
    finally:
        await sink.stop()
        await flaky.stop()


async def invoke(*args: str) -> Result:
    """A CLI command, off the event loop (the daemon keeps running on it)."""
    _register()
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_the_cli_adds_lists_and_ends_them_and_routes_test_and_oncall_show_them(
    running: Running, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_URL", pg_url)
    config = ("--config", str(running.config))
    added = await invoke(
        "silence", "add", "--match", 'service="api"', "--for", "2h", "--reason", "cli drill",
        *config, "--format", "json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    [silence] = json.loads(added.output)
    assert silence["created_by"].startswith("cli:") and silence["active"] is True
    await holding(running, silences_of, [silence["id"]])
    assert (await delivered(running, "api"))["status"] == "suppressed"

    tested = await invoke("routes", "test", "service=api", *config, "--format", "json")
    report = json.loads(tested.output)
    assert report["outcome"] == "suppressed" and report["runtime"]["read"] is True
    assert report["suppressed_by"]["name"] == f"silence:{silence['id']}"
    assert report["suppressed_by"]["runtime"]["reason"] == "cli drill"
    alone = await invoke("routes", "test", "service=api", *config, "--no-runtime")
    assert "outcome: routed" in alone.output

    listed = await invoke("silence", "list", "--format", "json")
    assert [s["id"] for s in json.loads(listed.output)] == [silence["id"]]
    too_long = await invoke(
        "silence", "add", "--match", 'service="api"', "--for", "2d", "--reason", "x", *config
    )
    assert too_long.exit_code == 2 and "max_silence" in too_long.output
    ended = await invoke("silence", "expire", str(silence["id"]))
    assert ended.exit_code == 0, ended.output
    again = await invoke("silence", "expire", str(silence["id"]))
    assert again.exit_code == 1 and "already ended" in again.output
    await holding(running, silences_of, [])

    override = await invoke(
        "override", "add", "primary", "bob", "--for", "1h", "--reason", "cli swap", *config,
        "--format", "json",
    )  # fmt: skip
    assert override.exit_code == 0, override.output
    [row] = json.loads(override.output)
    shown = await invoke("oncall", "primary", *config, "--format", "json")
    [now] = json.loads(shown.stdout)["on_call"]
    assert now["person"] == "bob" and now["source"]["kind"] == "runtime_override"
    table = await invoke("override", "list", "--schedule", "primary")
    assert "cli swap" in table.output and "active" in table.output
    removed = await invoke("override", "remove", str(row["id"]))
    assert removed.exit_code == 0, removed.output
    shown = await invoke("oncall", "primary", *config, "--format", "json")
    assert json.loads(shown.stdout)["on_call"][0]["person"] == "alice"

    entries = await audit(running, "silence-expire") + await audit(running, "override-remove")
    assert {(e["via"], e["actor"].startswith("cli:")) for e in entries} == {("cli", True)}
