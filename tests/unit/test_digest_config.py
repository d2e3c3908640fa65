"""validate on a rate limit's ``overflow: digest`` and ``digest_after``."""

from __future__ import annotations

from pathlib import Path

from tests.unit.config_repo import MINIMAL_ROUTES, findings, validate


def with_limit(limit: str) -> dict[str, str]:
    return {"routes.yaml": MINIMAL_ROUTES + "rate_limits:\n  - " + limit + "\n"}


def test_a_digest_limit_reaches_the_snapshot(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        with_limit(
            "{channel: ops-slack, limit: 1, window: 1s, overflow: digest, digest_after: 2s}"
        ),
    )
    assert result.problems == []
    assert result.snapshot is not None
    (limit,) = result.snapshot.rate_limits
    assert (limit.overflow, limit.digest_after, limit.digests) == ("digest", 2.0, True)


def test_overflow_defaults_to_delay(tmp_path: Path) -> None:
    result = validate(tmp_path, with_limit("{channel: ops-slack, limit: 1, window: 1s}"))
    assert result.snapshot is not None
    (limit,) = result.snapshot.rate_limits
    assert (limit.overflow, limit.digest_after, limit.digests) == ("delay", None, False)


def test_digest_without_digest_after_is_located(tmp_path: Path) -> None:
    found = findings(
        tmp_path, with_limit("{channel: ops-slack, limit: 1, window: 1s, overflow: digest}")
    )
    assert len(found) == 1 and "overflow: digest needs digest_after" in found[0]
    assert found[0].startswith("routes.yaml:")


def test_digest_after_must_be_positive(tmp_path: Path) -> None:
    found = findings(
        tmp_path,
        with_limit(
            "{channel: ops-slack, limit: 1, window: 1s, overflow: digest, digest_after: 0s}"
        ),
    )
    assert len(found) == 1 and "digest_after must be longer than 0s" in found[0]


def test_digest_after_without_digest_has_no_effect(tmp_path: Path) -> None:
    found = findings(
        tmp_path, with_limit("{channel: ops-slack, limit: 1, window: 1s, digest_after: 2s}")
    )
    assert len(found) == 1 and "'digest_after' applies only to overflow: digest" in found[0]
