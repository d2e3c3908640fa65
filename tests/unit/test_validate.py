"""validate: every check points at the exact file, line and column, with a fix in the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifierd.config import loader
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, findings, validate


def routes_with(old: str, new: str) -> dict[str, str]:
    assert old in MINIMAL_ROUTES, old
    return {"routes.yaml": MINIMAL_ROUTES.replace(old, new, 1)}


def test_minimal_repository_is_valid(tmp_path: Path) -> None:
    result = validate(tmp_path, {"routes.yaml": MINIMAL_ROUTES})
    assert result.problems == []
    assert result.snapshot is not None
    assert [r.name for r in result.snapshot.routes] == ["critical", "default"]


def test_missing_routes_file(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    assert findings(tmp_path, {}) == [
        "routes.yaml:1:1: missing routes.yaml: every config repository needs one"
    ]


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    found = findings(tmp_path, routes_with("channels: [ops-slack]\n", "channels: [ops-slack\n"))
    assert len(found) == 1
    assert found[0].startswith("routes.yaml:19:")
    assert "YAML syntax error" in found[0]


def test_empty_file(tmp_path: Path) -> None:
    assert findings(tmp_path, {"routes.yaml": "\n"}) == [
        "routes.yaml:1:1: file is empty: routes.yaml needs at least its required keys"
    ]


def test_binary_file(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_bytes(b"channels:\n  \xff\xfe\x00\x01")
    result = validate(tmp_path, {})
    assert [str(p) for p in result.problems] == [
        "routes.yaml:2:1: file is not UTF-8 text (binary file?)"
    ]


def test_top_level_is_not_a_mapping(tmp_path: Path) -> None:
    assert findings(tmp_path, {"routes.yaml": "- a\n- b\n"}) == [
        "routes.yaml:1:1: routes.yaml must be a mapping, not a list"
    ]


def test_duplicate_key(tmp_path: Path) -> None:
    files = routes_with(
        "  pager:", "  ops-email:\n    type: teams\n    webhook_url: ${X}\n  pager:"
    )
    assert findings(tmp_path, files) == [
        "routes.yaml:11:3: duplicate key 'ops-email' (first defined at line 6); remove one"
    ]


def test_unknown_key_with_hint(tmp_path: Path) -> None:
    found = findings(
        tmp_path, routes_with("    channels: [ops-slack]\n", "    chanels: [ops-slack]\n")
    )
    assert "routes.yaml:18:5: unknown key 'chanels' (did you mean 'channels'?)" in found
    assert "routes.yaml:17:5: route is missing the required key 'channels'" in found


def test_unknown_channel_key_lists_nothing_close(tmp_path: Path) -> None:
    found = findings(
        tmp_path,
        routes_with(
            '    default_recipients: ["#ops"]', '    default_recipients: ["#ops"]\n    colour: red'
        ),
    )
    assert found[0].startswith("routes.yaml:6:5: unknown key 'colour'; allowed keys: ")


def test_missing_required_key(tmp_path: Path) -> None:
    found = findings(tmp_path, routes_with("  - name: default\n", "  - description: default\n"))
    assert found == ["routes.yaml:17:5: route is missing the required key 'name'"]


def test_wrong_type(tmp_path: Path) -> None:
    found = findings(
        tmp_path, routes_with("    channels: [ops-slack]\n", "    channels: ops-slack\n")
    )
    assert found == ["routes.yaml:18:15: 'channels' must be a list, not string 'ops-slack'"]


def test_unknown_channel_type_with_hint(tmp_path: Path) -> None:
    found = findings(tmp_path, routes_with("    type: slack", "    type: slak"))
    assert found[0] == (
        "routes.yaml:3:11: 'type' must be one of: slack, email, teams, pagerduty, webhook, sms; "
        "got string 'slak' (did you mean 'slack'?)"
    )


def test_unknown_channel_reference(tmp_path: Path) -> None:
    found = findings(
        tmp_path, routes_with("channels: [ops-slack, pager]", "channels: [ops-slak, pager]")
    )
    assert found == [
        "routes.yaml:15:16: unknown channel 'ops-slak' (did you mean 'ops-slack'?); channels are "
        "defined under 'channels:' in routes.yaml"
    ]


def test_duplicate_route_name(tmp_path: Path) -> None:
    found = findings(tmp_path, routes_with("  - name: default", "  - name: critical"))
    assert found == [
        "routes.yaml:17:11: duplicate route name 'critical' (first used at line 13); route names "
        "must be unique"
    ]


def test_bad_matcher_syntax(tmp_path: Path) -> None:
    found = findings(
        tmp_path, routes_with("""['severity="critical"']""", """['severity=="critical"']""")
    )
    assert len(found) == 1
    assert found[0].startswith("routes.yaml:14:26: invalid matcher 'severity==\"critical\"'")


def test_bad_matcher_regex_points_into_the_string(tmp_path: Path) -> None:
    found = findings(
        tmp_path, routes_with("""['severity="critical"']""", """['severity=~"crit(ical"']""")
    )
    assert len(found) == 1
    assert found[0].startswith(
        "routes.yaml:14:32: invalid regular expression 'crit(ical': missing ), unterminated subpattern"
    )


def test_unknown_policy_and_template(tmp_path: Path) -> None:
    files = routes_with(
        '    recipients: ["#incidents"]\n',
        '    recipients: ["#incidents"]\n    escalation: critcal\n    template: nope@1.0\n',
    )
    files["policies/critical.yaml"] = "levels:\n  - {after: 0m, channels: [ops-slack]}\n"
    found = findings(tmp_path, files)
    assert found == [
        "routes.yaml:17:17: unknown escalation policy 'critcal' (did you mean 'critical'?); policies "
        "live in policies/<id>.yaml",
        "routes.yaml:18:15: unknown template 'nope'; templates live in templates/<name>/<version>.yaml",
    ]


def test_unknown_template_version(tmp_path: Path) -> None:
    files = routes_with(
        '    recipients: ["#incidents"]\n',
        '    recipients: ["#incidents"]\n    template: deploy@2.0\n',
    )
    files["templates/deploy/1.0.yaml"] = MINIMAL_TEMPLATE
    found = findings(tmp_path, files)
    assert found == ["routes.yaml:17:15: template 'deploy' has no version '2.0'; versions: 1.0"]


def test_policy_channel_reference(tmp_path: Path) -> None:
    files = {
        "routes.yaml": MINIMAL_ROUTES,
        "policies/p.yaml": "levels:\n  - after: 0m\n    channels: [ops-slack, pagr]\n",
    }
    assert findings(tmp_path, files) == [
        "policies/p.yaml:3:27: unknown channel 'pagr' (did you mean 'pager'?); channels are defined "
        "under 'channels:' in routes.yaml"
    ]


def test_bad_duration(tmp_path: Path) -> None:
    files = {
        "routes.yaml": MINIMAL_ROUTES,
        "policies/p.yaml": "levels:\n  - after: 15 minutes\n    channels: [ops-slack]\n",
    }
    assert findings(tmp_path, files) == [
        "policies/p.yaml:2:12: 'after': invalid value string '15 minutes': use a number and a unit "
        "(ms, s, m, h, d, w), e.g. 0m, 15m or 1h30m"
    ]


def test_literal_secret(tmp_path: Path) -> None:
    found = findings(
        tmp_path, routes_with("token: ${SLACK_BOT_TOKEN}", "token: xoxb-1234567890-abcdefgh")
    )
    assert found == [
        "routes.yaml:4:12: secret 'token' of channel 'ops-slack' is written as a literal: use an "
        "environment reference such as ${SLACK_BOT_TOKEN} and set that variable where the daemon runs"
    ]
    assert "xoxb-1234567890" not in found[0].split(":", 3)[3]


def test_credential_in_a_url(tmp_path: Path) -> None:
    files = routes_with(
        "  pager:",
        "  audit: {type: webhook, url: 'https://user:hunter2@audit.internal/x'}\n  pager:",
    )
    found = findings(tmp_path, files)
    assert found == [
        "routes.yaml:11:31: 'url' of channel 'audit' looks like it contains a credential: move it "
        "into an environment variable and write ${NAME} here"
    ]


def test_recipient_that_fits_no_channel(tmp_path: Path) -> None:
    found = findings(
        tmp_path,
        routes_with('recipients: ["#incidents"]', 'recipients: ["#incidents", "+15550100"]'),
    )
    assert len(found) == 1
    assert found[0].startswith(
        "routes.yaml:16:32: recipient '+15550100' fits none of route 'critical''s channels (pagerduty, slack)"
    )


def test_default_recipient_must_fit_its_channel(tmp_path: Path) -> None:
    found = findings(
        tmp_path,
        routes_with('default_recipients: ["ops@company.com"]', 'default_recipients: ["#ops"]'),
    )
    assert found == [
        "routes.yaml:10:26: default recipient '#ops' does not fit email channel 'ops-email' (use an "
        "address such as ops@company.com)"
    ]


def test_rate_limit_checks(tmp_path: Path) -> None:
    files = {
        "routes.yaml": MINIMAL_ROUTES
        + (
            "rate_limits:\n"
            "  - {channel: ops-slak, limit: 5, window: 1m}\n"
            "  - {channel: pager, type: slack, limit: 5, window: 1m}\n"
            "  - {type: email, limit: 5, window: 1m, burst: 3}\n"
            "  - {type: email, limit: 0, window: 1m, algorithm: token_bucket}\n"
        )
    }
    assert findings(tmp_path, files) == [
        # The schema's problems first, then the checks that read across the file.
        "routes.yaml:23:26: 'limit' must be >= 1, got 0",
        "routes.yaml:20:15: unknown channel 'ops-slak' (did you mean 'ops-slack'?)",
        "routes.yaml:21:5: a rate limit names either 'channel' (one channel) or 'type' (every channel "
        "of a type), exactly one of them",
        "routes.yaml:22:48: 'burst' applies only to algorithm: token_bucket",
        "routes.yaml:23:5: a second rate limit for type 'email' (the first is rate_limits[2]); keep one",
    ]


SUPPRESSIONS = MINIMAL_ROUTES + "suppressions:\n"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "  - {name: s, cron: '0 2 * * SAT', duration: 4h, timezone: Europe/Berlinn}",
            "routes.yaml:20:60: unknown time zone 'Europe/Berlinn': use an IANA name such as Europe/Berlin or UTC",
        ),
        (
            "  - {name: s, cron: '0 25 * * *', duration: 4h}",
            "routes.yaml:20:21: invalid cron expression '0 25 * * *': ",
        ),
        (
            "  - {name: s, start: 2026-12-01T04:00:00Z, end: 2026-12-01T00:00:00Z}",
            "routes.yaml:20:49: suppression 's' ends before it starts (end 2026-12-01T00:00:00Z is not after "
            "start 2026-12-01T04:00:00Z)",
        ),
        (
            "  - {name: s, start: 2026-12-01T04:00:00Z, cron: '0 2 * * *', duration: 1h}",
            "routes.yaml:20:5: suppression 's' mixes a fixed window (start/end) with a recurring one "
            "(cron/duration); use one form",
        ),
        (
            "  - {name: s, matchers: ['x=y']}",
            "routes.yaml:20:5: suppression 's' needs a window: start and end, or cron and duration (with "
            "an optional timezone)",
        ),
        (
            "  - {name: s, start: 2026-12-01T04:00:00, end: 2026-12-02T00:00:00Z}",
            "routes.yaml:20:22: 'start' has no UTC offset: write it as 2026-12-01T04:00:00Z or with an "
            "offset such as +01:00",
        ),
        (
            "  - {name: s, start: 'tomorrow', end: 2026-12-02T00:00:00Z}",
            "routes.yaml:20:22: 'start': invalid date-time 'tomorrow': use RFC 3339, e.g. "
            "2026-12-01T00:00:00Z",
        ),
        (
            "  - {name: s, cron: '0 2 * * *', duration: 1h, matchers: ['a=~\"(\"']}",
            "routes.yaml:20:64: invalid regular expression '(': missing ), unterminated subpattern",
        ),
    ],
)
def test_suppression_checks(tmp_path: Path, entry: str, expected: str) -> None:
    found = findings(tmp_path, {"routes.yaml": SUPPRESSIONS + entry + "\n"})
    assert len(found) == 1, found
    assert found[0].startswith(expected), found[0]


def test_all_problems_at_once_across_files(tmp_path: Path) -> None:
    files = routes_with("channels: [ops-slack]\n", "channels: [nope]\n")
    files["policies/a.yaml"] = "levels: []\n"
    files["policies/b.yaml"] = "levls:\n  - {after: 0m, channels: [ops-slack]}\n"
    found = findings(tmp_path, files)
    assert found == [
        "policies/a.yaml:1:9: 'levels' needs at least 1 item(s)",
        "policies/b.yaml:1:1: the policy is missing the required key 'levels'",
        "policies/b.yaml:1:1: unknown key 'levls' (did you mean 'levels'?)",
        "routes.yaml:18:16: unknown channel 'nope'; channels are defined under 'channels:' in routes.yaml",
    ]


def test_misplaced_files(tmp_path: Path) -> None:
    files = {
        "routes.yaml": MINIMAL_ROUTES,
        "templates/loose.yaml": MINIMAL_TEMPLATE,
        "templates/Bad Name/1.0.yaml": MINIMAL_TEMPLATE,
        "templates/ok/latest.yaml": MINIMAL_TEMPLATE,
        "policies/p.yml": "levels: []\n",
    }
    assert findings(tmp_path, files) == [
        "policies/p.yml:1:1: policy files end in .yaml; rename it",
        "templates/Bad Name:1:1: invalid template name 'Bad Name': use lower-case letters, digits, '_' and '-'",
        "templates/loose.yaml:1:1: a template version lives at templates/<name>/<version>.yaml; move it "
        "into a folder named after the template",
        "templates/ok/latest.yaml:1:1: invalid template version 'latest': name the file after its "
        "version, e.g. 1.0.yaml",
    ]


def test_a_bad_cron_is_reported_even_when_its_time_zone_is_bad_too(tmp_path: Path) -> None:
    entry = "  - {name: s, cron: '0 25 * * *', duration: 4h, timezone: Mars/Olympus}"
    found = findings(tmp_path, {"routes.yaml": SUPPRESSIONS + entry + "\n"})
    assert [f.split(": ", 1)[1].split(":")[0] for f in found] == [
        "invalid cron expression '0 25 * * *'",
        "unknown time zone 'Mars/Olympus'",
    ], found


def test_config_alone_checks_all_but_the_template_bodies(tmp_path: Path) -> None:
    """config/ validates without templates/: schemas and references yes, compiling no."""
    files = routes_with("channels: [ops-slack]\n", "channels: [ops-slak]\n")
    files["templates/deploy/1.0.yaml"] = MINIMAL_TEMPLATE.replace(
        "{{ environment }}\n", "{{ environment }\n"
    )
    whole = findings(tmp_path, files)
    alone = [str(p) for p in loader.validate_repository(tmp_path, with_git=False).problems]
    unknown = [p for p in whole if "unknown channel 'ops-slak'" in p]
    assert unknown and set(unknown) <= set(alone)
    broken_template = [p for p in whole if p.startswith("templates/deploy/1.0.yaml")]
    assert broken_template
    assert alone == [p for p in whole if p not in broken_template]
