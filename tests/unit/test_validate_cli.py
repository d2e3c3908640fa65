"""`notifierd validate` as CI runs it: exit codes, output formats, no traceback whatever the input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.unit.config_repo import MINIMAL_ROUTES, write_repo


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notifierd", "validate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def test_shipped_config_is_valid_without_warnings(shipped_config: Path) -> None:
    result = run(str(shipped_config), "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    # Whatever today's date: a fixed window that has ended is an info, which never fails.
    assert all(": info: " in line for line in result.stdout.splitlines()), result.stdout
    assert ": valid: 0 error(s), 0 warning(s), " in result.stderr


def test_invalid_repository_exits_1_with_relative_paths(tmp_path: Path) -> None:
    write_repo(
        tmp_path / "cfg",
        {"routes.yaml": MINIMAL_ROUTES.replace("[ops-slack, pager]", "[ops-slak, pager]")},
    )
    result = run("cfg", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("cfg/routes.yaml:15:16: unknown channel 'ops-slak'")
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(str(tmp_path / "missing")).returncode == 2
    assert run(str(tmp_path), "--format", "xml").returncode == 2


def test_json_format(tmp_path: Path) -> None:
    write_repo(tmp_path, {"routes.yaml": MINIMAL_ROUTES.replace("type: slack", "type: slak")})
    result = run(str(tmp_path), "--format", "json")
    data = json.loads(result.stdout)
    assert result.returncode == 1 and data["valid"] is False and data["errors"] == 1
    [problem] = data["problems"]
    assert (problem["line"], problem["column"], problem["severity"]) == (3, 11, "error")
    assert problem["path"].endswith("routes.yaml")


def test_github_format_annotations(tmp_path: Path) -> None:
    write_repo(tmp_path, {"routes.yaml": MINIMAL_ROUTES.replace("type: slack", "type: slak")})
    result = run(str(tmp_path), "--format", "github")
    [line] = result.stdout.splitlines()
    assert line.startswith(
        f"::error file={tmp_path}/routes.yaml,line=3,col=11,title=notifierd validate::"
    )
    assert "did you mean 'slack'?" in line


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    routes = MINIMAL_ROUTES + (
        "suppressions:\n  - {name: s, start: 2030-01-01T00:00:00Z, end: 2030-01-02T00:00:00Z, timezone: UTC}\n"
    )
    write_repo(tmp_path, {"routes.yaml": routes})
    assert run(str(tmp_path)).returncode == 0
    assert run(str(tmp_path), "--strict").returncode == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_never_crash_the_validator(tmp_path: Path, content: bytes) -> None:
    from notifierd.validation import validate_repository

    (tmp_path / "routes.yaml").write_bytes(content)
    (tmp_path / "policies").mkdir(exist_ok=True)
    (tmp_path / "policies" / "p.yaml").write_bytes(content)
    result = validate_repository(tmp_path, with_git=False)  # must not raise
    assert result.errors or result.snapshot is not None
    for problem in result.problems:
        assert problem.line >= 1 and problem.column >= 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["channels", "routes", "settings", "name", "type", "matchers", "x"]
                ),
                children,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
@example(data={"routes": [{"channels": True}]})  # once crashed: len() of a scalar
def test_arbitrary_yaml_shapes_never_crash_the_validator(tmp_path: Path, data: object) -> None:
    import yaml

    from notifierd.validation import validate_repository

    (tmp_path / "routes.yaml").write_text(yaml.safe_dump(data))
    result = validate_repository(tmp_path, with_git=False)
    assert result.errors or result.snapshot is not None
