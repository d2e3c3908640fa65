"""deploy/systemd/notifierd-config-pull against a real git repository: each new commit is
published whole by swapping the ``current`` symlink, a failed pull leaves it alone, and old
revisions are pruned."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT

PULL = ROOT / "deploy" / "systemd" / "notifierd-config-pull"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


def commit(repo: Path, routes: str) -> str:
    (repo / "config").mkdir(parents=True, exist_ok=True)
    (repo / "config" / "routes.yaml").write_text(routes)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", routes)
    return git(repo, "rev-parse", "HEAD")


def pull(origin: Path, base: Path, branch: str = "main") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NOTIFIERD_CONFIG_REPO": f"file://{origin}",
        "NOTIFIERD_CONFIG_BRANCH": branch,
        "NOTIFIERD_CONFIG_BASE": str(base),
    }
    return subprocess.run(
        [str(PULL)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_each_commit_is_published_by_a_symlink_swap(tmp_path: Path) -> None:
    origin, base = tmp_path / "origin", tmp_path / "base"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    first = commit(origin, "# one\n")

    assert pull(origin, base).returncode == 0
    current = base / "current"
    assert os.readlink(current) == f"revisions/{first}"
    assert (current / "config" / "routes.yaml").read_text() == "# one\n"

    again = pull(origin, base)  # nothing new: nothing published
    assert (again.returncode, again.stdout) == (0, "")

    second = commit(origin, "# two\n")
    published = pull(origin, base)
    assert published.returncode == 0, published.stderr
    assert os.readlink(current) == f"revisions/{second}"
    assert (current / "config" / "routes.yaml").read_text() == "# two\n"
    # The revision just replaced stays: a reload may still be reading it.
    assert (base / "revisions" / first).is_dir()

    for text in ("# three\n", "# four\n"):
        commit(origin, text)
        assert pull(origin, base).returncode == 0
    kept = sorted(p.name for p in (base / "revisions").iterdir())
    assert len(kept) == 3  # the current one and the two before it
    assert first not in kept
    assert (current / "config" / "routes.yaml").read_text() == "# four\n"


def test_a_failed_pull_leaves_the_published_revision(tmp_path: Path) -> None:
    origin, base = tmp_path / "origin", tmp_path / "base"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    first = commit(origin, "# one\n")
    assert pull(origin, base).returncode == 0

    missing = pull(origin, base, branch="no-such-branch")
    assert missing.returncode == 1
    assert "no branch no-such-branch" in missing.stderr
    assert os.readlink(base / "current") == f"revisions/{first}"
    assert [p.name for p in (base / "revisions").iterdir()] == [first]  # no half clone left
