"""A snapshot's identity: content hash of its files, and the git commit when in a checkout."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path

from notifierd.config.model import SnapshotId


def content_hash(files: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for rel_path, raw in sorted(files):
        digest.update(rel_path.encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(raw).digest())
    return digest.hexdigest()


def _in_git_checkout(root: Path) -> bool:
    return any((parent / ".git").exists() for parent in (root, *root.parents))


def git_state(root: Path) -> tuple[str | None, bool]:
    """(HEAD commit, dirty) for the checkout holding ``root``; (None, False) outside git."""
    if not _in_git_checkout(root.resolve()):
        return None, False
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None, False
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return head.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, False


def identify(root: Path, files: Iterable[tuple[str, bytes]], with_git: bool = True) -> SnapshotId:
    commit, dirty = git_state(root) if with_git else (None, False)
    return SnapshotId(content_hash=content_hash(files), git_commit=commit, git_dirty=dirty)
