"""A reload's validation in a forked child: the same verdict as in the process, and a child that
fails or hangs fails the reload (the old config stays) instead of the daemon."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from notifierd import offloop
from notifierd.active import ConfigHolder
from notifierd.config.problems import ConfigInvalid
from notifierd.request import Request
from notifierd.validation import validate_repository
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, write_repo
from tests.unit.test_reloads import default_route_channels, write_routes


def many_routes(n: int) -> str:
    """MINIMAL_ROUTES with ``n`` more routes: longer than a slice, so it travels in several."""
    extra = "".join(
        f"  - name: team-{i}\n    matchers: ['team=\"t{i}\"']\n    channels: [ops-email]\n"
        for i in range(n)
    )
    return MINIMAL_ROUTES.replace("routes:\n", "routes:\n" + extra)


def test_a_valid_config_comes_back_as_the_same_snapshot(tmp_path: Path) -> None:
    templates = {f"templates/t{i}/1.0.yaml": MINIMAL_TEMPLATE for i in range(offloop.SLICE + 3)}
    write_repo(tmp_path, {"routes.yaml": many_routes(offloop.SLICE * 2 + 5), **templates})
    here = validate_repository(tmp_path, with_git=False)
    there = offloop.validate_in_child(tmp_path, with_git=False)
    assert here.snapshot is not None
    assert there.snapshot == here.snapshot
    assert len(there.snapshot.routes) == offloop.SLICE * 2 + 7
    assert there.problems == here.problems
    assert there.files == here.files
    assert there.compiled == {}  # compiled on first use in the daemon


def test_an_invalid_config_comes_back_with_the_same_problems_and_no_snapshot(
    tmp_path: Path,
) -> None:
    write_repo(
        tmp_path,
        {
            "routes.yaml": MINIMAL_ROUTES.replace("channels: [ops-slack]\n", "channels: [nope]\n"),
            "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE.replace('{{ environment }}"', '{{ }}"'),
        },
    )
    here = validate_repository(tmp_path, with_git=False)
    there = offloop.validate_in_child(tmp_path, with_git=False)
    assert there.snapshot is None
    assert [str(p) for p in there.problems] == [str(p) for p in here.problems]
    assert any(str(p).startswith("routes.yaml:") for p in there.errors)
    assert any(str(p).startswith("templates/deploy/1.0.yaml:") for p in there.errors)


def test_a_child_that_raises_fails_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(root: Any, **_: Any) -> Any:
        raise ValueError("validation fell over")

    monkeypatch.setattr(offloop, "validate_repository", broken)  # the fork inherits it
    with pytest.raises(offloop.ChildFailed, match="ValueError: validation fell over"):
        offloop.validate_in_child(tmp_path)


def test_a_child_that_hangs_is_killed_at_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hangs(root: Any, **_: Any) -> Any:
        time.sleep(60)

    forked: list[int] = []
    fork = os.fork

    def remembered_fork() -> int:
        forked.append(pid := fork())
        return pid

    monkeypatch.setattr(offloop, "validate_repository", hangs)
    monkeypatch.setattr(offloop.os, "fork", remembered_fork)
    began = time.monotonic()
    with pytest.raises(offloop.ChildFailed, match=r"longer than 0\.5 s"):
        offloop.validate_in_child(tmp_path, timeout=0.5)
    assert time.monotonic() - began < 30
    [child] = forked
    with pytest.raises(ChildProcessError):  # killed and reaped: no child left behind
        os.waitpid(child, os.WNOHANG)


def test_a_holder_reloading_in_a_child_swaps_good_configs_and_keeps_the_old_on_a_bad_one(
    tmp_path: Path,
) -> None:
    write_routes(tmp_path, "ops-slack")
    write_repo(tmp_path, {"templates/deploy/1.0.yaml": MINIMAL_TEMPLATE})
    holder = ConfigHolder.load(tmp_path, validate=offloop.validate_in_child)

    write_routes(tmp_path, "pager")
    assert holder.reload()
    assert default_route_channels(holder) == ("pager",)
    request = Request.from_dict(
        {"id": "r1", "title": "t", "message": "m", "context": {"environment": "prod"}}
    )
    # Compiled on first use: no compiled template came from the child.
    assert holder.active.catalog.render("deploy", request).subject == "Deployed to prod"

    (tmp_path / "routes.yaml").write_text("routes: [{name: broken\n")
    assert not holder.reload()
    assert default_route_channels(holder) == ("pager",)
    assert holder.last_problems and str(holder.last_problems[0]).startswith("routes.yaml:")


def test_a_holder_whose_child_fails_keeps_the_old_config_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_routes(tmp_path, "ops-slack")
    holder = ConfigHolder.load(tmp_path, validate=offloop.validate_in_child)

    def broken(root: Any, **_: Any) -> Any:
        raise ValueError("validation fell over")

    monkeypatch.setattr(offloop, "validate_repository", broken)
    write_routes(tmp_path, "pager")
    assert not holder.reload()
    assert default_route_channels(holder) == ("ops-slack",)
    [problem] = holder.last_problems
    assert problem.code == "internal" and "validation fell over" in problem.message


def test_a_holder_given_a_child_validates_its_first_load_there_too(tmp_path: Path) -> None:
    # The daemon's first load: the child's snapshot, not one validated in this process (whose
    # YAML, schema and template work would stay in its heap).
    write_routes(tmp_path, "ops-slack")
    write_repo(tmp_path, {"templates/deploy/1.0.yaml": MINIMAL_TEMPLATE})
    roots: list[Path] = []

    def in_child(root: Path) -> Any:
        roots.append(root)
        return offloop.validate_in_child(root)

    holder = ConfigHolder.load(tmp_path, validate=in_child)
    assert roots == [tmp_path]
    assert default_route_channels(holder) == ("ops-slack",)
    request = Request.from_dict(
        {"id": "r1", "title": "t", "message": "m", "context": {"environment": "prod"}}
    )
    assert holder.active.catalog.render("deploy", request).subject == "Deployed to prod"


def test_a_first_load_refused_in_the_child_raises_every_problem(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text("routes: [{name: broken\n")
    with pytest.raises(ConfigInvalid) as refused:
        ConfigHolder.load(tmp_path, validate=offloop.validate_in_child)
    assert refused.value.problems == validate_repository(tmp_path).problems
    assert str(refused.value.problems[0]).startswith("routes.yaml:")


@pytest.mark.parametrize(
    "failure", [offloop.ChildFailed("killed by signal 9"), OSError(12, "Cannot allocate memory")]
)
def test_a_first_load_whose_child_fails_validates_in_this_process(
    tmp_path: Path, failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    write_routes(tmp_path, "ops-slack")
    write_repo(tmp_path, {"templates/deploy/1.0.yaml": MINIMAL_TEMPLATE})

    def no_child(root: Path) -> Any:
        raise failure

    holder = ConfigHolder.load(tmp_path, validate=no_child)
    assert default_route_channels(holder) == ("ops-slack",)
    assert "validating the config in a child process failed" in caplog.text


def test_a_first_load_whose_child_fails_still_refuses_a_bad_config(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text("routes: [{name: broken\n")

    def no_child(root: Path) -> Any:
        raise offloop.ChildFailed("killed by signal 9")

    with pytest.raises(ConfigInvalid) as refused:
        ConfigHolder.load(tmp_path, validate=no_child)
    assert refused.value.problems == validate_repository(tmp_path).problems


def test_the_child_shares_the_template_checks_with_a_grandchild_when_a_core_is_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifierd import validation

    forks = tmp_path / "forks.log"
    real = validation.Forked

    def logged(work: Any) -> Any:
        with forks.open("a") as out:  # written in the child: another process
            out.write(f"{os.getpid()}\n")
        return real(work)

    monkeypatch.setattr(validation, "spare_cores", lambda: 1)  # a loaded machine may have none
    monkeypatch.setattr(validation, "Forked", logged)
    config = tmp_path / "config"
    templates = {
        f"templates/t{i}/1.0.yaml": MINIMAL_TEMPLATE.replace("Deployed to", f"Deploy {i} to")
        for i in range(validation._FORK_FROM + 5)
    }
    templates["templates/t7/1.0.yaml"] += "subjct: a key the schema does not know\n"
    write_repo(config, {"routes.yaml": MINIMAL_ROUTES, **templates})
    here = validate_repository(config, with_git=False)
    there = offloop.validate_in_child(config, with_git=False)
    assert [str(p) for p in there.problems] == [str(p) for p in here.problems]
    assert any("templates/t7/1.0.yaml" in str(p) for p in there.problems)
    fixed = config / "templates/t7/1.0.yaml"
    fixed.write_text(MINIMAL_TEMPLATE)
    here = validate_repository(config, with_git=False)
    there = offloop.validate_in_child(config, with_git=False)
    assert here.snapshot is not None and there.snapshot == here.snapshot
    # Each validation forked once, from the child (not from this process, which has threads).
    pids = forks.read_text().split()
    assert len(pids) == 2 and str(os.getpid()) not in pids
