"""A config directory as it was at a git revision, extracted into a temporary directory."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path


class GitRefError(ValueError):
    pass


def extract(directory: Path, ref: str, into: Path) -> Path:
    """Write ``directory`` as of ``ref`` under ``into``; returns the extracted config root."""
    directory = directory.resolve()
    try:
        top = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitRefError(f"cannot run git: {exc}") from None
    if top.returncode != 0:
        raise GitRefError(f"{directory} is not inside a git checkout")
    root = Path(top.stdout.strip())
    rel = directory.relative_to(root).as_posix() or "."
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", ref, "--", rel],
        capture_output=True,
        timeout=60,
    )
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip().splitlines()
        raise GitRefError(
            f"cannot read {rel} at {ref!r}: {message[-1] if message else 'git archive failed'}"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / rel
