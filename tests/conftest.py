"""Shared fixtures: the repository root and the shipped config."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Shared 2-core machines can be slow for a while: property tests check behaviour, not speed.
settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shared-machine")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shipped_config() -> Path:
    return ROOT / "config"


@pytest.fixture(autouse=True, scope="session")
def _private_validation_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the validated-repository cache of the tests (and their subprocesses) out of ~/.cache."""
    import os

    os.environ["NOTIFIERD_CACHE_DIR"] = str(tmp_path_factory.mktemp("notifierd-cache"))
