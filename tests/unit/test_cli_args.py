"""Bad arguments are one line saying what is wrong and what is accepted (exit 2); a bug or a
service lost mid-command is one line too (exit 1), never a traceback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from notifierd.cli.args import Moment, Since, postgres_url_problem, redis_url_problem
from notifierd.cli.main import _register, cli
from notifierd.errors import mask_url

CONFIG = Path(__file__).resolve().parents[2] / "config"
# Nothing listens here: a command that got as far as connecting would say "cannot reach".
CLOSED = {
    "POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/x",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    _register()
    return CliRunner().invoke(
        cli, list(args), env={**CLOSED, "NOTIFIERD_CONFIG": str(CONFIG), **(env or {})}
    )


def the_error(result: Result) -> str:
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["history", "--hours", "1e12"], ["'--hours'", "'1e12'", "at most 876000"]),
        (["history", "--hours", "nan"], ["'--hours'", "'nan'", "greater than 0"]),
        (["history", "--hours", "-1"], ["'--hours'", "'-1'"]),
        (["history", "--hours", "inf"], ["'--hours'", "'inf'"]),
        (["history", "--hours", "soon"], ["'soon' is not a number"]),
        (["history", "--limit", "-5"], ["'--limit'", "1<=x<=100000"]),
        (["metrics", "--since", "99999999d"], ["'--since'", "'99999999d' is too long"]),
        (["metrics", "--since", "0001-01-01"], ["'--since'", "from 1970-01-01"]),
        (
            ["routes", "test", "--at", "0001-01-01T00:00:00Z", "severity=critical"],
            ["'--at'", "'0001-01-01T00:00:00Z' is out of range", "1970-01-01 to 9990-01-01"],
        ),
        (["routes", "test", "--at", "next tuesday"], ["'--at'", "not an ISO-8601 time"]),
        (["oncall", "--at", "0001-01-01T00:00:00Z"], ["'--at'", "out of range"]),
        (["lint", "--at", "9999-12-31T23:59:59Z"], ["'--at'", "out of range"]),
        (["send", "--title", "x", "--wait", "nan"], ["'--wait'", "at most 86400"]),
        (["send", "--title", "x", "--context", "[" * 100_000], ["--context", "nested too deeply"]),
        (["run", "--heartbeat-ttl", "inf"], ["'--heartbeat-ttl'"]),
        (["run", "--log-level", "loud"], ["'--log-level'", "'loud' is not one of"]),
        (["history", "--no-such-option"], ["no such option", "notifierd history --help"]),
    ],
)
def test_a_bad_option_is_one_line_naming_it(args: list[str], says: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    line = the_error(result)
    for part in says:
        assert part in line


@pytest.mark.parametrize(
    "args",
    [
        ["oncall", "--at", "9990-01-01T00:00:00Z", "--next", "366d"],
        ["oncall", "--at", "1970-01-01T00:00:00Z", "--person", "alice", "--next", "366d"],
        ["routes", "test", "--at", "9990-01-01T00:00:00Z", "source=maintenance:db", "service=db"],
        ["lint", "--at", "9990-01-01T00:00:00Z"],
    ],
)
def test_the_ends_of_the_accepted_range_work(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (
            ["history"],
            {"POSTGRES_URL": "postgres://x:secret@h:notaport/db"},
            "POSTGRES_URL 'postgres://x:***@h:notaport/db' is not a PostgreSQL URL: port "
            "'notaport' is not a number",
        ),
        (["status", "r-1"], {"POSTGRES_URL": "not-a-url"}, "must start with postgresql://"),
        (
            ["send", "--title", "x"],
            {"REDIS_URL": "redis://:secret@h:notaport/0"},
            "REDIS_URL 'redis://:***@h:notaport/0' is not a Redis URL",
        ),
        (["ratelimit", "status"], {"REDIS_URL": "not-a-url"}, "REDIS_URL 'not-a-url'"),
        (["dlq", "retry", "--all"], {"REDIS_URL": "http://x"}, "REDIS_URL 'http://x'"),
    ],
)
def test_a_malformed_service_url_is_a_usage_error_before_connecting(
    args: list[str], env: dict[str, str], says: str
) -> None:
    result = invoke(*args, env=env)
    assert result.exit_code == 2, result.output
    line = the_error(result)
    assert says in line and "secret" not in line


def test_an_unexpected_exception_is_one_line_asking_for_a_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> None:
        raise KeyError("a bug in routing")

    monkeypatch.setattr("notifierd.cli.routes.preview", broken)
    result = invoke("routes", "test", "severity=critical")
    assert result.exit_code == 1
    assert the_error(result) == (
        "error: notifierd failed: KeyError: 'a bug in routing' (this is a bug; please report it)"
    )
    # NOTIFIERD_DEBUG=1 lets it through, for the report.
    debug = invoke("routes", "test", "severity=critical", env={"NOTIFIERD_DEBUG": "1"})
    assert isinstance(debug.exception, KeyError)


def test_a_service_lost_mid_command_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncpg
    import redis.exceptions

    def redis_gone(*args: object) -> None:
        raise redis.exceptions.ConnectionError("Connection reset by peer")

    monkeypatch.setattr("notifierd.cli.routes.preview", redis_gone)
    result = invoke(
        "routes", "test", "severity=critical", env={"REDIS_URL": "redis://:secret@h:6379/0"}
    )
    assert result.exit_code == 1
    assert the_error(result) == (
        "error: lost the connection to Redis at redis://:***@h:6379/0: Connection reset by peer"
    )

    def postgres_gone(*args: object) -> None:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")

    monkeypatch.setattr("notifierd.cli.routes.preview", postgres_gone)
    result = invoke("routes", "test", env={"POSTGRES_URL": "postgresql://u:secret@h/db"})
    assert result.exit_code == 1
    assert the_error(result) == (
        "error: lost the connection to PostgreSQL at postgresql://u:***@h/db: "
        "connection was closed in the middle"
    )


def test_moments_without_an_offset_are_utc() -> None:
    convert = Moment().convert
    assert convert("2026-12-01T02:30:00", None, None) == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    with_offset = convert("2026-12-01T03:30+01:00", None, None)
    assert with_offset == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    assert with_offset.utcoffset() == timedelta(0)
    with pytest.raises(click.BadParameter, match="out of range"):
        convert("1970-01-01T00:00:00+05:00", None, None)  # 1969 in UTC


def test_since_takes_a_duration_back_from_now_or_a_time() -> None:
    convert = Since().convert
    before = datetime.now(UTC)
    back = before - convert("7d", None, None)
    assert abs(back - timedelta(days=7)) < timedelta(seconds=5)
    assert convert("2026-01-01", None, None) == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "postgres://u:p@db/notifierd",
        "postgresql://u@h1:5432,h2:5433/db",
        "postgresql://[::1]:5432/db",
        "postgresql:///db?host=/var/run/postgresql",
    ],
)
def test_postgres_urls_asyncpg_takes_pass(url: str) -> None:
    assert postgres_url_problem(url) is None


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://:p@h:6380/1", "unix:///tmp/redis.sock"]
)
def test_redis_urls_redis_py_takes_pass(url: str) -> None:
    assert redis_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:secret@h:6379/0", "redis://:***@h:6379/0"),
        ("postgresql://u:secret@h/db", "postgresql://u:***@h/db"),
        ("postgres://x:se/cret@h:notaport/db", "postgres://x:***@h:notaport/db"),
        ("postgresql://u:se@cret@h/db", "postgresql://u:***@h/db"),
        ("postgresql://postgres@127.0.0.1:5432/x", "postgresql://postgres@127.0.0.1:5432/x"),
        ("not-a-url", "not-a-url"),
    ],
)
def test_urls_in_messages_never_show_the_password(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_a_group_alone_still_shows_its_help() -> None:
    result = invoke("routes")
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: notifierd routes [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in result.stderr and "error:" not in result.stderr
