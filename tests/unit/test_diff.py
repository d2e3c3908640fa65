"""notifierd diff: structural changes, and the requests they move."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from notifierd.cli.diff import diff
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, write_repo

ROUTES = MINIMAL_ROUTES.replace(
    "  - name: default\n",
    """\
  - name: low
    matchers: ['priority="low"']
    channels: [ops-email]
  - name: default
""",
)
POLICY = "levels:\n  - {after: 0m, channels: [ops-slack]}\n  - {after: 15m, channels: [pager]}\n"


def repo(
    root: Path, routes: str = ROUTES, template: str = MINIMAL_TEMPLATE, policy: str = POLICY
) -> Path:
    return write_repo(
        root,
        {
            "routes.yaml": routes,
            "templates/deploy/1.0.yaml": template,
            "policies/oncall.yaml": policy,
        },
    )


def run(*args: str, requests: list[dict] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(diff, list(args), input=json.dumps(requests) if requests else None)
    return result.exit_code, result.output


def test_identical_configs_change_nothing(tmp_path: Path) -> None:
    code, out = run(str(repo(tmp_path / "a")), str(repo(tmp_path / "b")), "--exit-code")
    assert code == 0 and out.startswith("no change in behaviour")


def test_reordered_route_shows_the_requests_it_moves(tmp_path: Path) -> None:
    old = repo(tmp_path / "old")
    # Moving `default` (no matchers, no continue) above `low` silently takes all low-priority traffic.
    reordered = (
        MINIMAL_ROUTES
        + "  - name: low\n    matchers: ['priority=\"low\"']\n    channels: [ops-email]\n"
    )
    new = repo(tmp_path / "new", routes=reordered)
    code, out = run(
        str(old),
        str(new),
        "--requests",
        "-",
        "--exit-code",
        requests=[
            {"title": "t", "message": "m", "priority": "low"},
            {"title": "t", "message": "m", "severity": "critical"},
        ],
    )
    assert code == 1
    assert "route 'low' moved\n    position 2 → 3 (among routes in both)" in out
    assert "1 of 2 replayed request(s) handled differently:" in out
    assert "routes: low → default" in out
    assert "no longer to: ops-email ops@company.com" in out and "now also to: ops-slack #ops" in out


def test_template_change_alters_rendered_text(tmp_path: Path) -> None:
    routes = ROUTES.replace(
        "    channels: [ops-email]\n", "    channels: [ops-email]\n    template: deploy\n"
    )
    old = repo(tmp_path / "old", routes=routes)
    new = repo(
        tmp_path / "new",
        routes=routes,
        template=MINIMAL_TEMPLATE.replace(
            "Deployed to {{ environment }}", "Shipped to {{ environment }}"
        ),
    )
    code, out = run(
        str(old),
        str(new),
        "--requests",
        "-",
        requests=[{"template": "deploy", "context": {"environment": "prod"}, "priority": "low"}],
    )
    assert code == 0
    assert "template 'deploy@1.0' changed" in out
    assert "ops-email ops@company.com: subject 'Deployed to prod' → 'Shipped to prod'" in out


def test_policy_delay_change(tmp_path: Path) -> None:
    old = repo(tmp_path / "old")
    new = repo(tmp_path / "new", policy=POLICY.replace("15m", "30m"))
    _, out = run(str(old), str(new), "--format", "json")
    data = json.loads(out)
    assert data["changes"] == [
        {
            "kind": "policy",
            "name": "oncall",
            "what": "changed",
            "details": ["level 2: 'after 15m → pager' → 'after 30m → pager'"],
        }
    ]


def test_markdown_for_a_pull_request_comment(tmp_path: Path) -> None:
    old = repo(tmp_path / "old")
    new = repo(
        tmp_path / "new",
        routes=ROUTES.replace("channels: [ops-email]", "channels: [ops-email, ops-slack]"),
    )
    _, out = run(str(old), str(new), "--format", "markdown")
    assert out.startswith("### notifierd config diff:")
    assert (
        "| ✏️ changed | route | `low` | channels: ['ops-email'] → ['ops-email', 'ops-slack'] |"
        in out
    )


def test_base_git_ref_against_the_working_tree(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    config = repo(root / "config")
    git = ["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    (config / "policies" / "oncall.yaml").write_text(POLICY.replace("15m", "20m"))
    code, out = run(str(config), "--base", "HEAD", "--exit-code")
    assert code == 1 and "policy 'oncall' changed" in out and "after 20m" in out
    code, out = run(str(config), "--base", "no-such-ref")
    assert code == 2 and "no-such-ref" in out


def test_usage_errors(tmp_path: Path) -> None:
    assert run(str(tmp_path))[0] == 2
    assert run(str(tmp_path / "missing"), str(tmp_path / "other"))[0] == 2


def test_a_wider_allow_recipients_is_a_channel_change(tmp_path: Path) -> None:
    old = repo(tmp_path / "old")
    widened = ROUTES.replace(
        '    default_recipients: ["ops@company.com"]\n',
        '    default_recipients: ["ops@company.com"]\n    allow_recipients: ["*"]\n',
        1,
    )
    _, out = run(str(old), str(repo(tmp_path / "new", routes=widened)), "--format", "json")
    assert json.loads(out)["changes"] == [
        {
            "kind": "channel",
            "name": "ops-email",
            "what": "changed",
            "details": ["allow_recipients: [] → ['*']"],
        }
    ]
