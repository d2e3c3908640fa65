"""Seed a demo state in a daemon of its own and save PNGs of the console's main pages, at a
desktop and a phone width, into docs/screenshots/ (the README embeds them).

    scripts/console-screenshots            # = python bench/console_screenshots.py

Needs the shared Redis and Postgres (REDIS_URL; NOTIFIERD_TEST_PG_ADMIN or the local
postgres) and Debian's chromium (scripts/ensure-chromium). Everything it makes — a database, a
Redis key prefix, a config repository in a temporary directory — is removed at the end. A page
that answers anything but 200 (one not built yet) is reported and skipped."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import pytest  # noqa: E402
from playwright.async_api import Browser, ViewportSize  # noqa: E402

from tests.e2e.console_browser import console_daemon, launch_chromium  # noqa: E402
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackAPI  # noqa: E402
from tests.integration.daemon_harness import Running  # noqa: E402

WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
LARGEST_PNG = 150_000  # bytes: the README's pictures stay light

ROUTES = """\
settings:
  dedup_window: 1h
  retry: {max_retries: 2, initial_delay: 50ms, multiplier: 2, max_delay: 1s, jitter: 0}
channels:
  ops-slack:
    type: slack
    description: Operations workspace bot
    token: ${SLACK_BOT_TOKEN}
    api_url: ${SLACK_URL}
    default_recipients: ["#ops"]
  pager-bridge: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
  audit-mirror: {type: webhook, description: Every request mirrored to the audit service, url: "${FLAKY_URL}"}
  status-page: {type: webhook, description: The public status page, url: "${STATUS_PAGE_URL}"}
rate_limits:
  - {channel: ops-slack, limit: 50, window: 1m, algorithm: sliding_window}
  - {channel: pager-bridge, limit: 20, window: 1m}
routes:
  - name: audit
    matchers: ['service="billing"']
    channels: [audit-mirror]
    continue: true
  - name: critical
    matchers: ['severity="critical"']
    channels: [ops-slack, pager-bridge]
    recipients: ["#incidents"]
    escalation: critical-incident
  - name: default
    channels: [ops-slack]
people:
  alice: {token: "${ALICE_TOKEN}", roles: [view, operate, admin], contacts: [{slack: "@U0ALICE"}]}
  bob: {token: "${BOB_TOKEN}", roles: [view, operate], contacts: [{slack: "@U0BOB"}]}
  carol: {contacts: [{slack: "@U0CAROL"}]}
  dave: {contacts: [{slack: "@U0DAVE"}]}
"""
FILES = {
    "policies/critical-incident.yaml": """\
        name: Critical incident
        description: Page the primary at once, the secondary after 15 minutes.
        levels:
          - {after: 0m, channels: [ops-slack], recipients: ["@on-call-primary"]}
          - {after: 15m, channels: [ops-slack, pager-bridge], recipients: ["@on-call-secondary"]}
        """,
    "schedules/on-call-primary.yaml": """\
        name: Primary on-call
        handle: on-call-primary
        timezone: Europe/Berlin
        layers:
          - {name: weekly, members: [alice, bob, carol], rotation: 1w, start: 2026-01-05T09:00}
        fallback: ["#incidents"]
        """,
    "schedules/on-call-secondary.yaml": """\
        name: Secondary on-call
        handle: on-call-secondary
        timezone: Europe/Berlin
        layers:
          - {name: weekly, members: [dave, carol], rotation: 1w, start: 2026-01-05T09:00}
        fallback: ["#incidents"]
        """,
}
TOKENS = {"ALICE_TOKEN": "demo-alice-token", "BOB_TOKEN": "demo-bob-token"}
# What the seeding calls send (an empty object to the others).
BODIES: dict[str, dict[str, object]] = {
    "/api/v1/dead-letters/retry": {"all": True},
    "/api/v1/silences": {
        "matchers": ['service="logging"', 'severity!="critical"'],
        "duration": "2h",
        "reason": "log cluster migration",
    },
}


def write_repository(root: Path) -> Path:
    """The demo config as a git repository, so the config page shows its commit."""
    config = root / "config"
    for rel, text in {"routes.yaml": ROUTES, **FILES}.items():
        (config / rel).parent.mkdir(parents=True, exist_ok=True)
        (config / rel).write_text(textwrap.dedent(text))
    git = ["git", "-C", str(config), "-c", "user.name=demo", "-c", "user.email=demo@company.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "Page the secondary after 15 minutes"], check=True)
    return config


async def seed(http: aiohttp.ClientSession, running: Running) -> dict[str, str]:
    """Alerts in each state, plain notifications, dead letters, a refused reload; returns the
    ids the alert and request pages are shot for."""
    alerts = [
        ("db-primary", "Primary database unreachable from api-eu-1", "critical", "db"),
        ("checkout-p99", "Checkout latency p99 above 2 s", "critical", "checkout"),
        ("disk-logs", "Disk 91% full on logs-3", "warning", "logging"),
        (
            "cert-expiry",
            "TLS certificate for status.company.com expires in 6 days",
            "warning",
            "edge",
        ),
        ("queue-lag", "Billing queue lag above 5 minutes", "critical", "billing"),
    ]
    for key, title, severity, service in alerts:
        await running.push(
            {
                "id": f"demo-{key}",
                "kind": "alert",
                "action": "trigger",
                "dedup_key": key,
                "title": title,
                "message": f"{title}. Runbook: https://runbooks.company.com/{key}",
                "severity": severity,
                "labels": {"service": service, "env": "prod"},
            }
        )
        await running.status(f"demo-{key}")
    for n, (title, service) in enumerate(
        [
            ("Deploy api 2026.11.30-3 finished in prod", "api"),
            ("Nightly backup of orders-db completed", "db"),
            ("Invoice run for November exported", "billing"),
        ]
    ):
        await running.push({"id": f"demo-note-{n}", "title": title, "labels": {"service": service}})
        await running.status(f"demo-note-{n}")
    await asyncio.sleep(2)  # the critical alerts' first level fires (escalation poll: 1 s)

    alice = {"Authorization": f"Bearer {TOKENS['ALICE_TOKEN']}"}
    bob = {"Authorization": f"Bearer {TOKENS['BOB_TOKEN']}"}
    # A sign-in and a failed one (the console's form), then actions as the audit log shows them.
    for token in (TOKENS["ALICE_TOKEN"], "guessed-token"):
        form = {"token": token, "next": "/ui/alerts"}
        async with http.post("/ui/sign-in", data=form, allow_redirects=False) as resp:
            await resp.read()
    # A reload refused at a path:line:col (the active config stays in force), asked over HTTP.
    routes = running.config / "routes.yaml"
    good = routes.read_text()
    routes.write_text(good.replace("    continue: true\n", "    continue: maybe\n", 1))
    for method, path, who in (
        ("POST", "/api/v1/alerts/checkout-p99/ack", alice),
        ("POST", "/api/v1/alerts/disk-logs/ack", bob),
        ("POST", "/api/v1/alerts/cert-expiry/resolve", alice),
        ("POST", "/api/v1/alerts/queue-lag/escalate", bob),
        ("POST", "/api/v1/dead-letters/retry", alice),
        ("POST", "/-/reload", alice),
        ("POST", "/api/v1/silences", bob),
    ):
        body = BODIES.get(path, {})
        async with http.request(method, path, headers=who, json=body) as resp:
            if resp.status not in (200, 201, 422):
                print(f"warning: {path} answered {resp.status}: {await resp.text()}")
    routes.write_text(good)
    await asyncio.sleep(2)  # the retried letters die again (the mirror is still down)
    return {"alert": "db-primary", "request": "demo-db-primary"}


def pages_of(ids: dict[str, str]) -> dict[str, str]:
    """The pages shot, by the name their PNG takes."""
    return {
        "alerts": "/ui/alerts",
        "alert": f"/ui/alerts/{ids['alert']}",
        "oncall": "/ui/oncall",
        "deliveries": "/ui/deliveries",
        "request": f"/ui/requests/{ids['request']}",
        "dead-letters": "/ui/dead-letters",
        "silences": "/ui/silences",
        "config": "/ui/config",
        "audit": "/ui/audit",
    }


async def capture(browser: Browser, url: str, pages: dict[str, str], out: Path) -> list[Path]:
    """Each page at each width, as alice (her bearer token: no sign-in form to go through)."""
    saved = []
    for width, viewport in WIDTHS.items():
        context = await browser.new_context(
            base_url=url,
            viewport=viewport,
            extra_http_headers={"Authorization": f"Bearer {TOKENS['ALICE_TOKEN']}"},
        )
        page = await context.new_page()
        for name, path in pages.items():
            answer = await page.goto(path, wait_until="load")
            if answer is None or answer.status != 200:
                print(f"skipped {name} ({path}): {answer.status if answer else 'no answer'}")
                continue
            target = out / f"{name}-{width}.png"
            await page.screenshot(path=str(target))
            saved.append(target)
        await context.close()
    return saved


async def shoot(out: Path, only: set[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="notifierd-screens-") as tmp:
        slack = FakeSlackAPI(users={f"U0{p.upper()}": p for p in ("alice", "bob", "carol", "dave")})
        await slack.start()
        env = {**TOKENS, "SLACK_BOT_TOKEN": DEFAULT_TOKEN, "SLACK_URL": slack.url}
        try:
            with pytest.MonkeyPatch.context() as monkeypatch:
                monkeypatch.delenv("STATUS_PAGE_URL", raising=False)  # a missing secret, shown
                config = write_repository(Path(tmp))
                async with console_daemon(Path(tmp), env=env, config_dir=config) as console:
                    console.daemon.flaky.status = 503  # the audit mirror is down: dead letters
                    console.daemon.flaky.body = "audit service unavailable"
                    async with aiohttp.ClientSession(console.url) as http:
                        ids = await seed(http, console.daemon)
                    pages = {k: v for k, v in pages_of(ids).items() if not only or k in only}
                    async with launch_chromium() as browser:
                        saved = await capture(browser, console.url, pages, out)
        finally:
            await slack.stop()
    too_large = [p for p in saved if p.stat().st_size > LARGEST_PNG]
    for png in saved:
        flag = "  TOO LARGE" if png in too_large else ""
        print(f"{png.name:28} {png.stat().st_size / 1000:6.1f} kB{flag}")
    return 1 if too_large else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", action="append", help="a page name (alerts, audit, ...)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(shoot(args.out, set(args.only or ()))))


if __name__ == "__main__":
    main()
