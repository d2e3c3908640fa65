"""A repository `validate` passed is trusted by `test` only while every byte stays the same."""

from __future__ import annotations

from pathlib import Path

from notifierd.validation import validate_repository
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, write_repo


def test_a_clean_validate_is_remembered_until_a_file_changes(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path, {"routes.yaml": MINIMAL_ROUTES, "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE}
    )
    fresh = validate_repository(repo, with_git=False, trust_cache=True)
    assert fresh.snapshot is not None and "deploy@1.0" in fresh.compiled  # checked in full
    validate_repository(repo, with_git=False, remember=True)
    trusted = validate_repository(repo, with_git=False, trust_cache=True)
    assert trusted.snapshot is not None and trusted.compiled == {}  # compiled on use instead
    (repo / "templates/deploy/1.0.yaml").write_text(
        MINIMAL_TEMPLATE.replace("{{ environment }}\n", "{{ environment }\n")
    )
    changed = validate_repository(repo, with_git=False, trust_cache=True)
    assert changed.snapshot is None and changed.errors  # a changed file is checked in full again
