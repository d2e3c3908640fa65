"""The router: PRODUCT.md's routing rules on its example config, plus properties."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from notifierd.config.model import Snapshot
from notifierd.config.recipient_patterns import parse_pattern
from notifierd.config.recipients import fits
from notifierd.request import Request, TemplateRef
from notifierd.routing.recipients import resolve
from notifierd.routing.router import PlannedDelivery, Router, unfit_recipient_warning
from tests.unit.builders import example_snapshot, make_snapshot, request


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
INCIDENT = TemplateRef("incident_alert")


def pairs(decision) -> list[tuple[str, str | None]]:
    return [(d.channel, d.recipient) for d in decision.deliveries]


# --- PRODUCT.md's example config -----------------------------------------------------------


def test_critical_continues_to_the_default_route() -> None:
    decision = Router(example_snapshot()).route(request(severity="critical"), NOW)
    assert decision.routes == ("critical", "default")
    assert decision.deliveries == (
        PlannedDelivery("ops-slack", "#incidents", INCIDENT, "route", "critical"),
        PlannedDelivery("pager", None, INCIDENT, "route", "critical"),
        PlannedDelivery("ops-slack", "#ops", None, "none", "default"),
    )
    assert decision.escalation == "critical-incident"
    assert decision.suppressed_by is None
    assert decision.unknown_channels == ()
    assert decision.request_id == "req-1"


def test_first_match_without_continue_stops() -> None:
    decision = Router(example_snapshot()).route(
        request(tags=["deploy"], labels={"env": "prod"}), NOW
    )
    assert decision.routes == ("deploys",)
    assert pairs(decision) == [("ops-slack", "#ops")]
    assert decision.escalation is None


def test_negative_matcher_sends_dev_deploys_to_the_default_route() -> None:
    snapshot = example_snapshot()
    assert Router(snapshot).route(request(tags=["deploy"], labels={"env": "dev"}), NOW).routes == (
        "default",
    )
    # No env label at all is env="", which is not "dev".
    assert Router(snapshot).route(request(tags=["deployment"]), NOW).routes == ("deploys",)


def test_low_priority_goes_to_email_only() -> None:
    decision = Router(example_snapshot()).route(request(priority="low"), NOW)
    assert decision.routes == ("low",)
    assert pairs(decision) == [("ops-email", "ops@company.com")]


def test_critical_and_low_reach_both() -> None:
    decision = Router(example_snapshot()).route(request(severity="critical", priority="low"), NOW)
    assert decision.routes == ("critical", "low")
    assert pairs(decision) == [
        ("ops-slack", "#incidents"),
        ("pager", None),
        ("ops-email", "ops@company.com"),
    ]


def test_one_delivery_per_distinct_channel_and_recipient() -> None:
    snapshot = make_snapshot(
        routes=[
            {
                "name": "a",
                "channels": ["ops-slack", "pager"],
                "recipients": ["#ops"],
                "continue": True,
            },
            {
                "name": "b",
                "channels": ["ops-slack", "pager"],
                "recipients": ["#incidents", "slack:#ops"],
                "continue": True,
            },
            {"name": "c", "channels": ["ops-slack"]},  # defaults: #ops again
        ]
    )
    decision = Router(snapshot).route(request(), NOW)
    assert decision.routes == ("a", "b", "c")
    assert [(d.channel, d.recipient, d.route) for d in decision.deliveries] == [
        ("ops-slack", "#ops", "a"),  # first producer wins
        ("pager", None, "a"),
        ("ops-slack", "#incidents", "b"),
    ]


def test_request_channels_replace_each_routes_channels() -> None:
    decision = Router(example_snapshot()).route(
        request(severity="critical", channels=["ops-email"]), NOW
    )
    assert decision.routes == ("critical", "default")
    # "#incidents" does not fit e-mail, so the channel's default recipients apply.
    assert decision.deliveries == (
        PlannedDelivery("ops-email", "ops@company.com", INCIDENT, "route", "critical"),
    )


def test_request_recipients_replace_each_routes_recipients() -> None:
    decision = Router(example_snapshot()).route(
        request(severity="critical", recipients=["@alice", "bob@x.com"]), NOW
    )
    assert pairs(decision) == [("ops-slack", "@alice"), ("pager", None)]
    assert [d.route for d in decision.deliveries] == ["critical", "critical"]


def test_request_channels_and_recipients_together() -> None:
    r = request(
        priority="low",
        channels=["ops-slack", "ops-email"],
        recipients=["#deploys", "email:dev@x.com"],
    )
    decision = Router(example_snapshot()).route(r, NOW)
    assert decision.routes == ("low",)
    assert pairs(decision) == [("ops-slack", "#deploys"), ("ops-email", "dev@x.com")]


def test_request_channels_apply_when_no_route_matches() -> None:
    snapshot = make_snapshot(
        routes=[{"name": "critical", "matchers": ['severity="critical"'], "channels": ["pager"]}]
    )
    assert Router(snapshot).route(request(severity="info"), NOW).deliveries == ()
    decision = Router(snapshot).route(
        request(severity="info", channels=["ops-email", "eng-teams"]), NOW
    )
    assert decision.routes == ()
    assert decision.deliveries == (
        PlannedDelivery("ops-email", "ops@company.com", None, "none", None),
        PlannedDelivery("eng-teams", None, None, "none", None),
    )
    decision = Router(snapshot).route(
        request(
            severity="info",
            channels=["ops-slack"],
            recipients=["@bob"],
            template="deployment_complete@1.0",
        ),
        NOW,
    )
    assert decision.deliveries == (
        PlannedDelivery(
            "ops-slack", "@bob", TemplateRef("deployment_complete", "1.0"), "request", None
        ),
    )


def test_unknown_request_channels_are_reported_not_delivered() -> None:
    decision = Router(example_snapshot()).route(request(channels=["ops-slack", "nope"]), NOW)
    assert decision.unknown_channels == ("nope",)
    assert pairs(decision) == [("ops-slack", "#ops")]


def test_the_request_template_wins_over_the_routes() -> None:
    r = request(severity="critical", template="deployment_complete")
    decision = Router(example_snapshot()).route(r, NOW)
    assert {(d.template, d.template_from) for d in decision.deliveries} == {
        (TemplateRef("deployment_complete"), "request")
    }
    assert [d.route for d in decision.deliveries] == ["critical", "critical", "default"]


def test_escalation_from_request_else_first_route_naming_one() -> None:
    snapshot = make_snapshot(
        routes=[
            {"name": "audit", "channels": ["audit"], "continue": True},
            {
                "name": "crit",
                "matchers": ['severity="critical"'],
                "channels": ["pager"],
                "escalation": "p1",
                "continue": True,
            },
            {"name": "more", "channels": ["ops-slack"], "escalation": "p2"},
        ]
    )
    assert Router(snapshot).route(request(severity="critical"), NOW).escalation == "p1"
    assert Router(snapshot).route(request(), NOW).escalation == "p2"
    assert (
        Router(snapshot)
        .route(request(severity="critical", escalation_policy="mine"), NOW)
        .escalation
        == "mine"
    )


def test_suppression_is_reported_alongside_the_routing() -> None:
    saturday_night = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)
    decision = Router(example_snapshot()).route(
        request(source="maintenance:db", severity="critical"), saturday_night
    )
    assert decision.suppressed_by == "weekly-maintenance"
    assert decision.routes == ("critical", "default")
    assert (
        Router(example_snapshot())
        .route(
            request(labels={"service": "db"}),
            datetime(2026, 12, 1, 1, tzinfo=UTC),
        )
        .suppressed_by
        == "db-migration"
    )


def test_a_route_without_matchers_matches_everything() -> None:
    snapshot = make_snapshot(routes=[{"name": "all", "channels": ["audit"]}])
    assert Router(snapshot).route(request(), NOW).routes == ("all",)
    assert Router(snapshot).route(request(severity="critical", tags=["x"]), NOW).routes == ("all",)


def test_indexed_equality_on_empty_values_and_tags() -> None:
    snapshot = make_snapshot(
        routes=[
            {"name": "no-env", "matchers": ['env=""'], "channels": ["audit"], "continue": True},
            {"name": "untagged", "matchers": ['tags=""'], "channels": ["audit"], "continue": True},
            {
                "name": "web",
                "matchers": ['tags="web"', 'severity="error"'],
                "channels": ["audit"],
                "continue": True,
            },
        ]
    )
    assert Router(snapshot).route(request(), NOW).routes == ("no-env", "untagged")
    assert Router(snapshot).route(
        request(tags=["db", "web"], severity="error", labels={"env": "x"}), NOW
    ).routes == ("web",)
    assert Router(snapshot).route(request(tags=["web"], severity="info"), NOW).routes == ("no-env",)


def test_decisions_are_immutable_values() -> None:
    decision = Router(example_snapshot()).route(request(severity="critical"), NOW)
    assert decision == Router(example_snapshot()).route(request(severity="critical"), NOW)
    assert hash(decision)


# --- properties: the fast router equals the rules read literally ---------------------------

CHANNELS = ["ops-slack", "ops-email", "pager", "eng-teams", "audit"]
RECIPIENTS = [
    "#ops",
    "#incidents",
    "@alice",
    "ops@x.com",
    "email:dev@x.com",
    "slack:#ops",
    "ops-email:a@b.c",
]
# Values chosen to exercise every index path: equality, literal sets, literal prefixes, and
# regexes that cannot be indexed (alternation of patterns, classes, optional characters).
_VALUES = [
    "critical",
    "error",
    "",
    "prod",
    "dev",
    "deploy",
    "web",
    "de.*",
    "crit.*|error",
    "error|critical",
    "prod|",
    "deploy(ment)?",
    "dep\\.loy.*",
    "web-?1",
    "[|]",
    "d[a-z]+",
    "(?:web|db)",
    "dev$",
    "w.b",
    "\\w+",
]
_matcher = st.builds(
    lambda name, op, value: f"{name}{op}{_quoted(value)}",
    st.sampled_from(["severity", "env", "tags", "service"]),
    st.sampled_from(["=", "!=", "=~", "!~"]),
    st.sampled_from(_VALUES),
)
_route = st.fixed_dictionaries(
    {
        "matchers": st.lists(_matcher, max_size=3),
        "channels": st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3),
        "recipients": st.lists(st.sampled_from(RECIPIENTS), max_size=3),
        "continue": st.booleans(),
        "template": st.sampled_from([None, "incident_alert", "deployment_complete@1.0"]),
        "escalation": st.sampled_from([None, "p1", "p2"]),
    }
)
_routes = st.lists(_route, max_size=12).map(
    lambda rs: [{**r, "name": f"r{i}"} for i, r in enumerate(rs)]
)
_request = st.fixed_dictionaries(
    {},
    optional={
        "severity": st.sampled_from(["critical", "error", "info"]),
        "labels": st.fixed_dictionaries(
            {},
            optional={
                "env": st.sampled_from(["prod", "dev", "", "de.v", "dep.loy"]),
                "service": st.sampled_from(["web", "db", "web-1", "web1", "|"]),
            },
        ),
        "tags": st.lists(
            st.sampled_from(["deploy", "web", "deployment", "", "dep.loyx", "critical"]), max_size=3
        ),
        "channels": st.lists(st.sampled_from([*CHANNELS, "nope"]), min_size=1, max_size=3),
        "recipients": st.lists(st.sampled_from(RECIPIENTS), min_size=1, max_size=3),
        "template": st.sampled_from(["incident_alert", "pr_notification@2"]),
        "escalation_policy": st.just("mine"),
    },
)


def _refused_literally(
    snapshot: Snapshot, channel_names: tuple[str, ...], recipients: tuple[str, ...]
) -> bool:
    """PRODUCT.md: a request's own recipient must be admitted by the channel's
    allow_recipients or be one the config already names (here: routes' and defaults)."""
    named = [n for r in snapshot.routes for n in r.recipients] + [
        d for c in snapshot.channels.values() for d in c.default_recipients
    ]
    for name in channel_names:
        channel = snapshot.channels.get(name)
        if channel is None:
            continue
        for recipient in recipients:
            address = fits(channel, recipient)
            if address is None:
                continue
            known = any(
                fits(other, n) == address
                for n in named
                for other in snapshot.channels.values()
                if other.type == channel.type
            )
            admitted = any(
                parse_pattern(channel.type, p).admits(address) for p in channel.allow_recipients
            )
            if not known and not admitted:
                return True
    return False


def literal_route(snapshot: Snapshot, req: Request) -> dict[str, Any]:
    """PRODUCT.md's rules, read word for word, with no index and no precomputation."""
    matched = []
    for r in snapshot.routes:
        if all(m.matches(req) for m in r.matchers):
            matched.append(r)
            if not r.continue_:
                break
    deliveries: list[PlannedDelivery] = []
    seen = set()
    chosen = req.channels or tuple(c for r in matched for c in r.channels)
    # A recipient of the request's own that fits none of its (known) channels: noted on every
    # delivery, and a warning of the decision.
    known = tuple(dict.fromkeys(c for c in chosen if c in snapshot.channels))
    warnings = tuple(
        unfit_recipient_warning(r, known)
        for r in req.recipients or ()
        if known and all(fits(snapshot.channels[c], r) is None for c in known)
    )
    note = "; ".join(warnings) or None

    def add(channel_names, recipients, template, source, route_name):
        chans = [snapshot.channels[c] for c in channel_names if c in snapshot.channels]
        for pair in resolve(chans, recipients):
            if pair not in seen:
                seen.add(pair)
                deliveries.append(
                    PlannedDelivery(pair[0], pair[1], template, source, route_name, note)
                )

    refused = bool(req.recipients) and _refused_literally(snapshot, chosen, req.recipients or ())
    for r in [] if refused else matched:
        if req.template:
            template, source = req.template, "request"
        else:
            template, source = r.template, "route" if r.template else "none"
        add(req.channels or r.channels, req.recipients or r.recipients, template, source, r.name)
    if not matched and req.channels and not refused:
        add(
            req.channels,
            req.recipients or (),
            req.template,
            "request" if req.template else "none",
            None,
        )
    escalation = req.escalation_policy or next(
        (r.escalation for r in matched if r.escalation), None
    )
    return {
        "routes": tuple(r.name for r in matched),
        "deliveries": tuple(deliveries),
        "escalation": escalation,
        "unknown": tuple(c for c in req.channels or () if c not in snapshot.channels),
        "refused": refused,
        "warnings": warnings,
    }


@settings(max_examples=300, deadline=None)
@given(routes=_routes, reqs=st.lists(_request, min_size=1, max_size=4))
def test_router_equals_the_literal_rules(
    routes: list[dict[str, Any]], reqs: list[dict[str, Any]]
) -> None:
    snapshot = make_snapshot(routes=routes)
    router = Router(snapshot)
    for spec in reqs:  # several requests per router: caches must not leak between them
        req = request(**spec)
        decision = router.route(req, NOW)
        expected = literal_route(snapshot, req)
        assert decision.routes == expected["routes"]
        assert decision.deliveries == expected["deliveries"]
        assert decision.escalation == expected["escalation"]
        assert decision.unknown_channels == expected["unknown"]
        assert decision.warnings == expected["warnings"]
        assert bool(decision.refused) == expected["refused"]


# Values a request field takes in the exhaustive index check: the literals above, and
# near misses around them (longer, shorter, the other side of an alternation).
_FIELD_VALUES = [
    *_VALUES,
    "info",
    "crit",
    "critic",
    "criticalx",
    "errorx",
    "prodx",
    "deployment",
    "dep.loy",
    "dep.loyment",
    "depxloy",
    "web1",
    "web-1",
    "web--1",
    "db",
    "|",
    "dev",
    "devx",
    "wxb",
    "abc",
]


def test_the_index_never_hides_or_invents_a_match() -> None:
    # Every single matcher against every value: an index bug here would route silently wrong.
    matchers = [
        f"{n}{op}{_quoted(v)}"
        for n in ("severity", "env", "tags")
        for op in ("=", "!=", "=~", "!~")
        for v in _VALUES
    ]
    routes = [
        {"name": f"r{i}", "matchers": [m], "channels": ["audit"], "continue": True}
        for i, m in enumerate(matchers)
    ]
    snapshot = make_snapshot(routes=routes)
    router = Router(snapshot)
    for value in _FIELD_VALUES:
        for req in (
            request(severity=value),
            request(labels={"env": value}),
            request(tags=[value, "other"]),
        ):
            expected = [r for r in snapshot.routes if all(m.matches(req) for m in r.matchers)]
            assert router.matching_routes(req) == expected, value


@settings(max_examples=200, deadline=None)
@given(routes=_routes, spec=_request)
def test_without_continue_only_the_first_matching_route_applies(
    routes: list[dict[str, Any]], spec: dict[str, Any]
) -> None:
    snapshot = make_snapshot(routes=[{**r, "continue": False} for r in routes])
    req = request(**spec)
    first = next((r.name for r in snapshot.routes if all(m.matches(req) for m in r.matchers)), None)
    assert Router(snapshot).route(req, NOW).routes == ((first,) if first else ())


@settings(max_examples=200, deadline=None)
@given(routes=_routes, spec=_request)
def test_deliveries_are_always_distinct_pairs_of_known_channels(
    routes: list[dict[str, Any]], spec: dict[str, Any]
) -> None:
    snapshot = make_snapshot(routes=routes)
    decision = Router(snapshot).route(request(**spec), NOW)
    found = pairs(decision)
    assert len(found) == len(set(found))
    assert all(channel in snapshot.channels for channel, _ in found)
    for d in decision.deliveries:
        if snapshot.channels[d.channel].targeted:
            assert d.recipient is None
