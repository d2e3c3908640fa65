"""`notifierd lint`: valid configs that are almost surely wrong, each finding located and coded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from notifierd.cli.lint import lint as lint_command
from notifierd.cli.report import line
from notifierd.cli.validate import validate as validate_command
from notifierd.validation import lint_repository
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, write_repo

NOW = datetime(2026, 6, 1, tzinfo=UTC)

# MINIMAL_ROUTES with every channel used, so it lints clean.
CLEAN_ROUTES = MINIMAL_ROUTES.replace(
    "    channels: [ops-slack]\n", "    channels: [ops-slack, ops-email]\n"
)

POLICY = """\
name: Standard
levels:
  - after: 0m
    channels: [ops-slack]
  - after: 30m
    channels: [ops-email]
"""


def lint_lines(root: Path, files: dict[str, str], now: datetime = NOW) -> list[str]:
    result = lint_repository(write_repo(root, files), now=now)
    assert not result.validation.errors, result.validation.problems
    return [f"{line('', p)} [{p.code}]" for p in result.findings]


def test_clean_config_has_no_findings(tmp_path: Path) -> None:
    assert lint_lines(tmp_path, {"routes.yaml": CLEAN_ROUTES}) == []


def test_route_after_a_catch_all_is_unreachable(tmp_path: Path) -> None:
    routes = CLEAN_ROUTES + "  - name: never\n    channels: [pager]\n"
    assert lint_lines(tmp_path, {"routes.yaml": routes}) == [
        "routes.yaml:19:11: warning: route 'never' can never match: route 'default' (line 17) "
        "matches every request and does not continue; move this route above it or remove it "
        "[unreachable-route]"
    ]


def test_route_with_a_superset_of_an_earlier_routes_matchers_is_unreachable(
    tmp_path: Path,
) -> None:
    routes = CLEAN_ROUTES.replace(
        "  - name: default\n",
        "  - name: critical-db\n"
        "    matchers: ['service=\"db\"', 'severity=\"critical\"']\n"
        "    channels: [pager]\n"
        "  - name: default\n",
    )
    assert lint_lines(tmp_path, {"routes.yaml": routes}) == [
        "routes.yaml:17:11: warning: route 'critical-db' can never match: route 'critical' "
        "(line 13) has only matchers this route also has and does not continue; move this "
        "route above it or remove it [unreachable-route]"
    ]


def test_continue_and_narrower_earlier_routes_do_not_shadow(tmp_path: Path) -> None:
    routes = CLEAN_ROUTES.replace(
        '    recipients: ["#incidents"]\n',
        '    recipients: ["#incidents"]\n    continue: true\n',
    ).replace(
        "  - name: default\n",
        "  - name: critical-too\n"
        "    matchers: ['severity=\"critical\"']\n"
        "    channels: [pager]\n"
        "  - name: default\n",
    )
    assert lint_lines(tmp_path, {"routes.yaml": routes}) == []


def test_unused_channel_points_at_its_name(tmp_path: Path) -> None:
    assert lint_lines(tmp_path, {"routes.yaml": MINIMAL_ROUTES}) == [
        "routes.yaml:6:3: warning: channel 'ops-email' is used by no route and no escalation "
        "level [unused-channel]"
    ]


def test_channel_only_in_a_rate_limit_is_still_unused(tmp_path: Path) -> None:
    routes = MINIMAL_ROUTES + "rate_limits:\n  - {channel: ops-email, limit: 5, window: 1m}\n"
    assert lint_lines(tmp_path, {"routes.yaml": routes}) == [
        "routes.yaml:6:3: warning: channel 'ops-email' is used by no route and no escalation "
        "level; only a rate limit names it, which delivers nothing [unused-channel]"
    ]


def test_channel_used_only_by_an_escalation_level_is_used(tmp_path: Path) -> None:
    routes = MINIMAL_ROUTES.replace(
        "    channels: [ops-slack]\n", "    channels: [ops-slack]\n    escalation: standard\n"
    )
    assert lint_lines(tmp_path, {"routes.yaml": routes, "policies/standard.yaml": POLICY}) == []


def test_unused_policy(tmp_path: Path) -> None:
    files = {"routes.yaml": CLEAN_ROUTES, "policies/standard.yaml": POLICY}
    assert lint_lines(tmp_path, files) == [
        "policies/standard.yaml:1:7: warning: escalation policy 'standard' is used by no route "
        "(routes name it in 'escalation:') [unused-policy]"
    ]


def test_escalation_levels_out_of_order_point_at_after(tmp_path: Path) -> None:
    policy = POLICY.replace("after: 30m", "after: 0s")
    routes = CLEAN_ROUTES.replace(
        "    channels: [ops-slack, ops-email]\n",
        "    channels: [ops-slack, ops-email]\n    escalation: standard\n",
    )
    assert lint_lines(tmp_path, {"routes.yaml": routes, "policies/standard.yaml": policy}) == [
        "policies/standard.yaml:5:12: warning: level 2 starts after 0s, not later than level 1 "
        "(0s); 'after' counts from the alert's start, so levels must be strictly increasing "
        "[escalation-order]"
    ]


def test_unused_template_and_old_unpinned_version_are_hints(tmp_path: Path) -> None:
    files = {
        "routes.yaml": CLEAN_ROUTES,
        "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE,
        "templates/release/1.0.yaml": MINIMAL_TEMPLATE,
        "templates/release/2.0.yaml": MINIMAL_TEMPLATE,
    }
    routes = CLEAN_ROUTES.replace(
        "    channels: [ops-slack, ops-email]\n",
        "    channels: [ops-slack, ops-email]\n    template: release\n",
    )
    assert lint_lines(tmp_path, {**files, "routes.yaml": routes}) == [
        "templates/deploy/1.0.yaml:1:1: info: template 'deploy' is named by no route and no "
        "config test: if producers name it in requests, add a config test (tests/*.yaml) whose "
        "request does [unused-template]",
        "templates/release/1.0.yaml:1:1: info: template version 'release@1.0' is older than "
        "'release@2.0' and no route or config test pins it: delete the file, or if producers "
        "pin it in requests, add a config test (tests/*.yaml) whose request does "
        "[unused-template-version]",
    ]


def test_a_config_test_that_names_a_template_counts_as_use(tmp_path: Path) -> None:
    case = """\
cases:
  - name: a producer names the templates itself
    request: {template: %s}
    expect: {routes: [default]}
"""
    files = {
        "routes.yaml": CLEAN_ROUTES,
        "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE,
        "templates/release/1.0.yaml": MINIMAL_TEMPLATE,
        "templates/release/2.0.yaml": MINIMAL_TEMPLATE,
        "tests/deploy.yaml": case % "deploy",
        "tests/release.yaml": case % "release@1.0",
    }
    assert lint_lines(tmp_path, files) == []
    # Naming the template without a version uses its newest version only.
    files["tests/release.yaml"] = case % "release"
    assert [p.split(": info: ")[0] for p in lint_lines(tmp_path, files)] == [
        "templates/release/1.0.yaml:1:1"
    ]


def test_pinned_version_and_template_matcher_count_as_use(tmp_path: Path) -> None:
    routes = CLEAN_ROUTES.replace(
        "    channels: [ops-slack, ops-email]\n",
        "    channels: [ops-slack, ops-email]\n    template: release@1.0\n",
    ).replace(
        "  - name: default\n",
        "  - name: deploys\n"
        "    matchers: ['template=~\"deploy(@.*)?\"']\n"
        "    channels: [ops-slack]\n"
        "  - name: default\n",
    )
    files = {
        "routes.yaml": routes,
        "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE,
        "templates/release/1.0.yaml": MINIMAL_TEMPLATE,
        "templates/release/2.0.yaml": MINIMAL_TEMPLATE,
    }
    assert lint_lines(tmp_path, files) == []


SUPPRESSION = """\
suppressions:
  - name: migration
    matchers: ['service="db"']
    start: 2026-03-06T00:00:00Z
    end: 2026-03-06T04:00:00Z
"""


def test_ended_suppression_is_an_info_at_its_end(tmp_path: Path) -> None:
    files = {"routes.yaml": CLEAN_ROUTES + SUPPRESSION}
    assert lint_lines(tmp_path, files) == [
        "routes.yaml:23:10: info: suppression 'migration' ended at 2026-03-06T04:00:00+00:00 "
        "and suppresses nothing any more; remove it [ended-suppression]"
    ]
    assert lint_lines(tmp_path, files, now=datetime(2026, 3, 6, 3, tzinfo=UTC)) == []


def test_lint_at_judges_ended_windows_at_that_time_and_never_fails_on_them(
    tmp_path: Path,
) -> None:
    repo = write_repo(tmp_path, {"routes.yaml": CLEAN_ROUTES + SUPPRESSION})
    runner = CliRunner()

    before = runner.invoke(lint_command, [str(repo), "--at", "2026-03-06T03:59:59Z"])
    assert (before.exit_code, before.stdout) == (0, ""), before.output

    after = runner.invoke(lint_command, [str(repo), "--at", "2026-03-06T05:00:00+01:00"])
    assert after.exit_code == 0, after.output
    assert after.stdout == (
        f"{repo}/routes.yaml:23:10: info: suppression 'migration' ended at "
        "2026-03-06T04:00:00+00:00 and suppresses nothing any more; remove it\n"
    )
    assert f"{repo}: clean: 0 error(s), 0 warning(s), 1 info in 1 file(s)" in after.stderr

    naive_is_utc = runner.invoke(lint_command, [str(repo), "--at", "2026-03-06T04:00:00"])
    assert "suppression 'migration' ended at" in naive_is_utc.stdout

    bad = runner.invoke(lint_command, [str(repo), "--at", "yesterday"])
    assert bad.exit_code == 2
    assert "'yesterday' is not an ISO-8601 time" in bad.output


def test_lint_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    clean = write_repo(tmp_path / "clean", {"routes.yaml": CLEAN_ROUTES})
    result = runner.invoke(lint_command, [str(clean)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""

    dirty = write_repo(tmp_path / "dirty", {"routes.yaml": MINIMAL_ROUTES})
    result = runner.invoke(lint_command, [str(dirty)])
    assert result.exit_code == 1
    assert f"{dirty}/routes.yaml:6:3: warning: channel 'ops-email'" in result.stdout

    result = runner.invoke(lint_command, [str(dirty), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["warnings"] == 1
    assert report["problems"][0]["code"] == "unused-channel"
    assert (report["problems"][0]["line"], report["problems"][0]["column"]) == (6, 3)

    result = runner.invoke(lint_command, [str(dirty), "--format", "github"])
    assert result.stdout.startswith("::warning file=")
    assert "line=6,col=3,title=notifierd lint::channel 'ops-email'" in result.stdout

    assert runner.invoke(lint_command, [str(tmp_path / "missing")]).exit_code == 2


def test_lint_of_an_invalid_config_prints_validate_errors(tmp_path: Path) -> None:
    bad = write_repo(
        tmp_path, {"routes.yaml": MINIMAL_ROUTES.replace("[ops-slack, pager]", "[ops-slak, pager]")}
    )
    result = CliRunner().invoke(lint_command, [str(bad)])
    assert result.exit_code == 1
    assert f"{bad}/routes.yaml:15:16: unknown channel 'ops-slak'" in result.stdout


def test_validate_strict_fails_on_a_lint_warning(tmp_path: Path) -> None:
    repo = write_repo(tmp_path, {"routes.yaml": MINIMAL_ROUTES})
    runner = CliRunner()
    assert runner.invoke(validate_command, [str(repo)]).exit_code == 0
    result = runner.invoke(validate_command, [str(repo), "--strict"])
    assert result.exit_code == 1
    assert f"{repo}/routes.yaml:6:3: warning: channel 'ops-email'" in result.stdout


def test_validate_strict_shows_infos_and_passes(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path, {"routes.yaml": CLEAN_ROUTES, "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE}
    )
    result = CliRunner().invoke(validate_command, [str(repo), "--strict"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{repo}/templates/deploy/1.0.yaml:1:1: info: template")
    assert f"{repo}: valid: 0 error(s), 0 warning(s), 1 info in 2 file(s)" in result.stderr


def test_shipped_config_is_lint_clean_today_and_after_its_windows_end(
    shipped_config: Path,
) -> None:
    runner = CliRunner()
    today = runner.invoke(lint_command, [str(shipped_config)])
    assert (today.exit_code, today.stdout) == (0, ""), today.output
    # The fixed window ends on 2029-03-03: from then on, an info, and still exit 0.
    later = runner.invoke(lint_command, [str(shipped_config), "--at", "2029-03-04T00:00:00Z"])
    assert later.exit_code == 0, later.output
    assert [ln.split(": ", 2)[1] for ln in later.stdout.splitlines()] == ["info", "info"]
    assert "override for dave ended at Sun 2026-12-27 00:00 CET" in later.stdout
    assert "suppression 'db-migration' ended at 2029-03-03T04:00:00+00:00" in later.stdout


def test_allow_recipients_star_is_a_warning(tmp_path: Path) -> None:
    routes = CLEAN_ROUTES.replace(
        '    default_recipients: ["#ops"]\n',
        '    default_recipients: ["#ops"]\n    allow_recipients: ["#team-*", "*"]\n',
        1,
    )
    assert lint_lines(tmp_path, {"routes.yaml": routes}) == [
        "routes.yaml:6:35: warning: channel 'ops-slack' allows a request to name any recipient "
        'at all (allow_recipients: "*"): narrow it to the domains, channels or number prefixes '
        "producers need [open-recipients]"
    ]


def test_a_webhook_without_a_secret_is_sent_unsigned_and_lint_says_so(tmp_path: Path) -> None:
    routes = CLEAN_ROUTES.replace(
        "routes:\n",
        "  audit: {type: webhook, url: https://audit.example.com/in}\n"
        '  signed: {type: webhook, url: https://audit.example.com/in, secret: "${AUDIT_SECRET}"}\n'
        "routes:\n",
        1,
    ).replace(
        "    channels: [ops-slack, ops-email]\n",
        "    channels: [ops-slack, ops-email, audit, signed]\n",
    )
    assert lint_lines(tmp_path, {"routes.yaml": routes}) == [
        "routes.yaml:12:3: warning: webhook channel 'audit' has no secret: its requests are sent "
        "unsigned (no X-Notifierd-Signature), so the receiver cannot tell them from forged ones; "
        "set secret: ${WEBHOOK_SECRET} [unsigned-webhook]"
    ]


def test_validate_strict_fails_on_an_unsigned_webhook(tmp_path: Path) -> None:
    routes = CLEAN_ROUTES.replace(
        "routes:\n", "  audit: {type: webhook, url: https://audit.example.com/in}\nroutes:\n", 1
    ).replace(
        "    channels: [ops-slack, ops-email]\n", "    channels: [ops-slack, ops-email, audit]\n"
    )
    repo = write_repo(tmp_path, {"routes.yaml": routes})

    result = CliRunner().invoke(validate_command, [str(repo), "--strict"])

    assert result.exit_code == 1
    assert "webhook channel 'audit' has no secret" in result.stdout
