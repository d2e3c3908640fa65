"""notifierd diff: structural changes, and the requests they move."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from notifierd.cli.diff import diff
from notifierd.diff.replay import OWN_TARGET, Outcome, compare
from notifierd.diff.samples import read_samples, sample_labels
from notifierd.diff.structure import kept_in_order
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
    assert (
        "route 'default' moved\n    position 3 → 2 (among routes in both), now above 'low'" in out
    )
    assert "route 'low' moved" not in out  # one move explains the new order
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


# --- issue 17 §10: the diff names requests and moves the way their authors think of them ---

FIVE_ROUTES = MINIMAL_ROUTES.replace(
    "  - name: default\n",
    "".join(
        f"  - name: {name}\n    matchers: ['service=\"{name}\"']\n    channels: [ops-email]\n"
        for name in ("api", "db", "web")
    )
    + "  - name: default\n",
)


def test_the_fewest_moves_explain_a_new_order() -> None:
    old = ["a", "b", "c", "d", "e"]
    assert set(old) - kept_in_order(old, ["e", "a", "b", "c", "d"]) == {"e"}
    assert set(old) - kept_in_order(old, ["b", "c", "d", "e", "a"]) == {"a"}
    assert set(old) - kept_in_order(old, ["a", "d", "b", "c", "e"]) == {"d"}
    assert set(old) - kept_in_order(old, ["b", "a", "d", "c", "e"]) in (
        {"a", "c"},
        {"a", "d"},
        {"b", "c"},
        {"b", "d"},
    )
    assert kept_in_order(old, old) == set(old)
    assert kept_in_order([], []) == set()


def test_moving_one_route_to_the_top_reports_one_move(tmp_path: Path) -> None:
    old = repo(tmp_path / "old", routes=FIVE_ROUTES)
    web = "  - name: web\n    matchers: ['service=\"web\"']\n    channels: [ops-email]\n"
    to_top = FIVE_ROUTES.replace(web, "").replace("routes:\n", "routes:\n" + web)
    _, out = run(str(old), str(repo(tmp_path / "new", routes=to_top)), "--format", "json")
    assert json.loads(out)["changes"] == [
        {
            "kind": "route",
            "name": "web",
            "what": "moved",
            "details": ["position 4 → 1 (among routes in both), now above 'critical'"],
        }
    ]


def test_sample_requests_are_named_by_id_else_title_else_position() -> None:
    samples = [
        {"id": "db-down", "title": "DB down"},
        {"title": "Deployed"},
        {"template": "deploy", "context": {"environment": "prod"}},
        {"title": "Deployed", "message": "again"},
        {"title": "x" * 100},
        {"id": "smoke"},
    ]
    assert sample_labels(samples, taken=frozenset({"smoke"})) == [
        "db-down",
        '"Deployed" (request 2)',
        "request 3",
        '"Deployed" (request 4)',
        '"' + "x" * 59 + '…"',
        "smoke (request 6)",
    ]


def test_a_channel_with_its_own_target_is_named_so() -> None:
    old = Outcome(
        routes=("default",), deliveries=(("ops-slack", "#ops"),), escalation=None, suppressed=None
    )
    new = Outcome(
        routes=("critical",),
        deliveries=(("ops-slack", "#incidents"), ("pager", OWN_TARGET)),
        escalation=None,
        suppressed=None,
    )
    assert compare(old, new)[1:] == [
        "no longer to: ops-slack #ops",
        "now also to: ops-slack #incidents, pager (its own target)",
    ]


def test_cli_names_replayed_requests_and_own_targets(tmp_path: Path) -> None:
    old = repo(tmp_path / "old")
    # `critical` moved below `default` (which matches everything): critical alerts stop paging.
    moved_down = ROUTES.replace(
        "  - name: critical\n    matchers: ['severity=\"critical\"']\n"
        "    channels: [ops-slack, pager]\n"
        '    recipients: ["#incidents"]\n',
        "",
    ) + (
        "  - name: critical\n    matchers: ['severity=\"critical\"']\n"
        "    channels: [ops-slack, pager]\n"
        '    recipients: ["#incidents"]\n'
    )
    code, out = run(
        str(old),
        str(repo(tmp_path / "new", routes=moved_down)),
        "--requests",
        "-",
        "--exit-code",
        requests=[
            {"title": "ok", "message": "m"},
            {"id": "db-down", "title": "DB down", "severity": "critical"},
            {"title": "Disk full", "severity": "critical"},
            {"message": "no title", "severity": "critical"},
        ],
    )
    assert code == 1
    assert "route 'critical' moved\n    position 1 → 3 (among routes in both), now last" in out
    assert "route 'low' moved" not in out and "route 'default' moved" not in out
    assert "3 of 4 replayed request(s) handled differently:" in out
    assert "  db-down:\n" in out and '  "Disk full":\n' in out and "  request 4:\n" in out
    assert "request 2" not in out
    assert "no longer to: ops-slack #incidents, pager (its own target)" in out
    assert "pager -" not in out


def test_sample_requests_are_checked_as_the_intake_checks_them(tmp_path: Path) -> None:
    samples, problems = read_samples('{"title": "a"}\n\n{"message": "b"}\n')
    assert [(s.get("title"), s.get("message")) for s in samples] == [("a", None), (None, "b")]
    assert problems == []
    assert read_samples('[{"title": "a"}, {"titl": "b"}]')[1][0].startswith(
        "request 2: unknown key 'titl'"
    )
    assert read_samples('{"title": "a"}\nnope\n')[1][0].startswith("line 2 is not JSON")
    config = str(repo(tmp_path / "c"))
    for given, says in [
        ("nope", "error: --requests: line 1 is not JSON"),
        ("[1]", "error: --requests: request 1: "),
        ('{"titl": "x"}', "error: --requests: request 1: unknown key 'titl'"),
    ]:
        result = CliRunner().invoke(diff, [config, config, "--requests", "-"], input=given)
        assert result.exit_code == 2 and result.output.startswith(says), result.output
        assert "Traceback" not in result.output
