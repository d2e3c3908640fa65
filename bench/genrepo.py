"""Generate a large, valid config repository for benchmarks (deterministic for a given seed)."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

TYPES = (
    ["slack"] * 20
    + ["email"] * 15
    + ["teams"] * 5
    + ["pagerduty"] * 5
    + ["webhook"] * 3
    + ["sms"] * 2
)
SEVERITIES = ["info", "warning", "error", "critical"]
PRIORITIES = ["low", "medium", "high", "critical"]
SERVICES = [f"svc{i}" for i in range(40)]
TEAMS = [f"team{i}" for i in range(25)]


def _channel(name: str, kind: str, i: int) -> dict:
    env = name.upper().replace("-", "_")
    if kind == "slack":
        return {
            "type": "slack",
            "token": "${SLACK_BOT_TOKEN}",
            "default_recipients": [f"#alerts-{i}"],
        }
    if kind == "email":
        return {
            "type": "email",
            "host": "${SMTP_HOST}",
            "port": 587,
            "password": "${SMTP_PASSWORD}",
            "from": "notifierd@company.com",
            "default_recipients": [f"team{i}@company.com"],
        }
    if kind == "teams":
        return {"type": "teams", "webhook_url": f"${{{env}_WEBHOOK}}"}
    if kind == "pagerduty":
        return {"type": "pagerduty", "routing_key": f"${{{env}_KEY}}"}
    if kind == "webhook":
        return {
            "type": "webhook",
            "url": f"https://hooks.internal/{name}",
            "secret": f"${{{env}_SECRET}}",
        }
    return {
        "type": "sms",
        "account_sid": "${TWILIO_ACCOUNT_SID}",
        "auth_token": "${TWILIO_AUTH_TOKEN}",
        "from": "+15550100",
        "default_recipients": ["+15550111"],
    }


def _recipient(kind: str, rng: random.Random) -> str | None:
    return {
        "slack": f"#{rng.choice(TEAMS)}",
        "email": f"{rng.choice(TEAMS)}@company.com",
        "sms": f"+1555{rng.randint(1000000, 9999999)}",
    }.get(kind)


def _template(name: str, version: int) -> dict:
    return {
        "description": f"Generated template {name} v{version}",
        "category": "generated",
        "variables": {
            "type": "object",
            "required": ["service", "environment"],
            "properties": {
                "service": {"type": "string"},
                "environment": {"type": "string"},
                "count": {"type": "integer", "default": 0},
                "items": {"type": "array", "items": {"type": "string"}, "default": []},
                "owner": {"type": "string", "default": "unassigned"},
                # Each template declares something of its own; its versions share it.
                f"{name}_note": {"type": "string", "default": ""},
            },
        },
        "examples": [
            {"service": "api", "environment": "production", "count": 12345, "items": ["a", "b"]},
            {"service": "db", "environment": "staging"},
        ],
        "subject": f"[{name} v{version}] {{{{ service }}}} in {{{{ environment }}}}",
        # Every version differs, so nothing is shared between them (as in a real repository).
        "text": (
            f"{name} v{version}: generated template\n"
            "Service: {{ service }}\nEnvironment: {{ environment | upper }}\n"
            "Count: {{ count | number_format }}\nOwner: {{ owner }}\n"
            "{% for item in items %}- {{ item }}\n{% endfor %}"
        ),
        "slack": [
            {"type": "header", "text": {"type": "plain_text", "text": "{{ subject }}"}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Service:* {{ service }}\n*Count:* {{ count }}",
                },
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"owner {{{{ owner }}}} ({name} v{version})"}
                ],
            },
        ],
        "html": (
            f"<h2>{{{{ subject }}}}</h2><p>{name} v{version}: service <b>{{{{ service }}}}</b> in {{{{ environment }}}}</p>"
            "<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>"
        ),
    }


ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]
ROTATIONS = ["1w", "1d", "12h", "2w"]


def _schedules(root: Path, count: int, people: list[str]) -> list[str]:
    """``count`` schedules of 4-6 people each (weekly, daily or shorter rotations, some with a
    weekday office-hours layer and holiday overrides); returns their ids. Its own random
    source, so the rest of the repository is the same with or without schedules."""
    rng = random.Random(1018)
    ids = []
    for k in range(count):
        sid = f"sched-{k}"
        layers: list[dict] = [
            {
                "name": "rotation",
                "members": rng.sample(people, rng.randint(4, 6)),
                "rotation": rng.choice(ROTATIONS),
                "start": f"2026-01-0{rng.randint(1, 9)}T09:00",
            }
        ]
        if k % 3 == 0:
            layers.append(
                {
                    "name": "office-hours",
                    "members": rng.sample(people, 2),
                    "rotation": "1w",
                    "start": "2026-01-05T09:00",
                    "restrict": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "from": "09:00",
                            "to": "17:00",
                        }
                    ],
                }
            )
        doc: dict = {
            "name": f"Schedule {k}",
            "handle": f"oncall-{k}",
            "timezone": ZONES[k % len(ZONES)],
            "layers": layers,
            "overrides": [
                {
                    "person": rng.choice(people),
                    "from": f"2026-12-{day:02d}T00:00",
                    "until": f"2026-12-{day + 2:02d}T00:00",
                    "reason": "holiday swap",
                }
                for day in rng.sample(range(1, 28), rng.randint(0, 2))
            ],
            "fallback": ["#incidents"],
        }
        path = root / "schedules" / f"{sid}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        ids.append(sid)
    return ids


def generate(
    root: Path,
    *,
    routes: int = 1000,
    channels: int = 50,
    policies: int = 100,
    templates: int = 100,
    versions: int = 3,
    seed: int = 7,
    schedules: int = 0,
) -> Path:
    """Write a repository under ``root``: ``templates`` names x ``versions`` versions each;
    with ``schedules``, that many on-call schedules of 200 people, named as a recipient (by id
    or ``@handle``) by every tenth route that has a Slack or e-mail channel."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    kinds = [TYPES[i % len(TYPES)] for i in range(channels)]
    names = [f"{k}-{i}" for i, k in enumerate(kinds)]
    channel_map = {n: _channel(n, k, i) for i, (n, k) in enumerate(zip(names, kinds, strict=True))}
    template_names = [f"tmpl_{i}" for i in range(templates)]
    policy_ids = [f"policy-{i}" for i in range(policies)]

    for pid in policy_ids:
        levels = []
        for step, after in enumerate(("0m", "15m", "30m")[: rng.randint(1, 3)]):
            picked = rng.sample(range(channels), 2)
            levels.append(
                {
                    "after": after,
                    "channels": [names[j] for j in picked],
                    "recipients": [r for j in picked if (r := _recipient(kinds[j], rng))] or [],
                }
            )
            del step
        path = root / "policies" / f"{pid}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            yaml.safe_dump({"name": pid, "repeat": rng.randint(0, 2), "levels": levels})
        )

    for tname in template_names:
        for v in range(1, versions + 1):
            path = root / "templates" / tname / f"{v}.0.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                yaml.safe_dump(_template(tname, v), sort_keys=False, allow_unicode=True)
            )

    route_list = []
    for i in range(routes - 1):
        matchers = []
        shape = i % 5
        if shape == 0:
            matchers.append(f'service="{rng.choice(SERVICES)}"')
        elif shape == 1:
            matchers.append(f'team=~"{rng.choice(TEAMS)}|{rng.choice(TEAMS)}"')
        elif shape == 2:
            matchers.append(f'tags=~"{rng.choice(SERVICES)}-.*"')
        elif shape == 3:
            matchers.append(f'severity="{rng.choice(SEVERITIES)}"')
            matchers.append(f'service!="{rng.choice(SERVICES)}"')
        else:
            matchers.append(f'priority="{rng.choice(PRIORITIES)}"')
            matchers.append(f'team="{rng.choice(TEAMS)}"')
        picked = rng.sample(range(channels), rng.randint(1, 3))
        route = {"name": f"route-{i}", "matchers": matchers, "channels": [names[j] for j in picked]}
        recipients = [r for j in picked if (r := _recipient(kinds[j], rng))]
        if recipients:
            route["recipients"] = recipients
        if i % 7 == 0:
            route["escalation"] = rng.choice(policy_ids)
        if i % 3 == 0:
            route["template"] = rng.choice(template_names) + ("@1.0" if i % 2 else "")
        if i % 4 == 0:
            route["continue"] = True
        route_list.append(route)
    route_list.append({"name": "default", "channels": [names[0]]})

    people: dict[str, dict] = {}
    if schedules:
        people = {
            f"person{i}": {
                "contacts": [
                    {"slack": f"@U{i:07d}"},
                    {"email": f"person{i}@company.com"},
                ]
            }
            for i in range(200)
        }
        ids = _schedules(root, schedules, list(people))
        reachable = [
            r
            for r in route_list
            if any(kinds[names.index(c)] in ("slack", "email") for c in r["channels"])
        ]
        for n, route in enumerate(reachable[::10]):
            sid = ids[n % len(ids)]
            name = f"schedule:{sid}" if n % 2 else f"@oncall-{sid.removeprefix('sched-')}"
            route["recipients"] = [*route.get("recipients", []), name]

    doc = {
        "settings": {"retention_days": 90, "dedup_window": "1h"},
        "channels": channel_map,
        "rate_limits": [{"channel": names[j], "limit": 50, "window": "1m"} for j in range(20)]
        + [
            {
                "type": "email",
                "limit": 100,
                "window": "1m",
                "algorithm": "token_bucket",
                "burst": 20,
            }
        ],
        "routes": route_list,
        "suppressions": [
            {
                "name": f"maint-{i}",
                "matchers": [f'service="{SERVICES[i]}"'],
                "cron": "0 2 * * SAT",
                "duration": "4h",
                "timezone": "Europe/Berlin",
            }
            for i in range(10)
        ]
        + [
            {
                "name": f"freeze-{i}",
                "matchers": [f'team="{TEAMS[i]}"'],
                "start": "2027-01-01T00:00:00Z",
                "end": "2027-01-02T00:00:00Z",
            }
            for i in range(10)
        ],
    }
    if people:
        doc["people"] = people
    (root / "routes.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def random_requests(n: int, seed: int = 11) -> list[dict]:
    """Request payloads spread over the generated matchers' value space."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(
            {
                "id": f"req-{i}",
                "title": "Benchmark",
                "message": "routing benchmark",
                "severity": rng.choice(SEVERITIES),
                "priority": rng.choice(PRIORITIES),
                "tags": [f"{rng.choice(SERVICES)}-deploy"] if i % 2 else [],
                "labels": {"service": rng.choice(SERVICES), "team": rng.choice(TEAMS)},
            }
        )
    return out
