"""No argument makes the command line print a traceback.

Every command and subcommand, found in the click group (a new one is covered by itself), runs
with generated option values, arguments and service URLs: numbers with NaN, infinities, huge and
negative values, durations and times beyond the calendar, odd strings, bad JSON and FIELD=VALUE
pairs, malformed and unreachable REDIS_URL / POSTGRES_URL. Whatever it is given, a command ends
with exit 0, 1 or 2, never a traceback or the "this is a bug" line, and a usage error (2) is one
``error:`` line.

Nothing reaches the shared services' data: Redis is always unreachable or malformed, Postgres is
a database made for this module (or unreachable), and the API is a closed port.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifierd.cli.args import BoundedNumber, Moment, Since
from notifierd.cli.main import _register, cli
from tests.integration.pg_fixtures import create_database, drop_database

# A copy of the shipped config: a command given one of its files for output (`oncall --ics`)
# may overwrite it, and the repository's own must stay as it is.
SHIPPED = Path(__file__).resolve().parents[2] / "config"
COPY = Path(tempfile.mkdtemp(prefix="notifierd-cli-arguments-"))
CONFIG = COPY / "config"
shutil.copytree(SHIPPED, CONFIG)
shutil.copytree(SHIPPED.parent / "schemas", COPY / "schemas")
atexit.register(shutil.rmtree, COPY, ignore_errors=True)  # also when no test here runs
# A password that must never be printed, in every URL that has one.
PASSWORD = "pw-leak-check"


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


_register()
COMMANDS = list(_commands(cli))


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


# --- generated values -------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.sampled_from(
        ["nan", "NaN", "inf", "-inf", "1e12", "1e400", "-0", "0", "-1", "0.0001", "1_000", " 5 "]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
DURATIONS = st.sampled_from(
    ["24h", "0s", "99999999d", "1e3s", "5x", "1h30m", "-1h", "10000000w", "0.5ms", "9" * 400 + "s"]
)
INSTANTS = st.sampled_from(
    [
        "now",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
        "9990-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00+05:00",
        "2026-12-01T02:30:00+01:00",
        "2026-13-45T99:00",
        "2026-12-01T02:30:00+25:00",
        "2026-12-01",
    ]
)
FIELDS = st.sampled_from(
    [
        "severity=critical",
        "priority=bogus",
        "a=b",
        "=x",
        "x",
        "label.=v",
        "tags=,,",
        "channels=nope",
        "recipients=@x",
        "context.=1",
        "kind=alert",
        "action=resolve",
        "template=nope@9",
        "title=",
        "id=",
        "source=maintenance:db",
    ]
)
JSONISH = st.sampled_from(
    [
        "{}",
        "[]",
        '{"a":',
        "null",
        '"s"',
        "@/nonexistent/x.json",
        "@-",
        '{"environment": 1}',
        "1e999",
        "[" * 100_000,  # deeper than any parser follows
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ]
)
ODD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


def _config_names() -> list[str]:
    """Names the shipped config defines: values that get past the first checks."""
    from notifierd.validation import load_snapshot

    snapshot = load_snapshot(CONFIG)
    templates = sorted(snapshot.templates)
    return [*sorted(snapshot.channels), *templates, f"{templates[0]}@1.0", "slack", "email"]


PATHS = st.sampled_from(
    [str(CONFIG), str(CONFIG / "routes.yaml"), str(CONFIG.parent / "schemas"), "-", "/"]
)
VALUES = st.one_of(
    NUMBERS, DURATIONS, INSTANTS, FIELDS, JSONISH, ODD, PATHS, st.sampled_from(_config_names())
)
# What a command reading "-" gets on stdin.
STDIN = st.one_of(JSONISH, ODD, st.sampled_from(['{"title": "x"}\n{"title": 5}\n', b"\xff\xfe{}"]))
# Channel secrets stay unset: `channel test` then fails before any network call.
UNSET = sorted(set(re.findall(r"\$\{(\w+)\}", (CONFIG / "routes.yaml").read_text())))

POSTGRES_URLS = [
    f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/none",
    "not-a-url",
    f"postgres://x:{PASSWORD}@h:notaport/db",
    "postgresql://127.0.0.1:1/x?sslmode=bogus",
    "postgresql://[::1",
    "postgresql://127.0.0.1:1/x?target_session_attrs=zzz",
    "",
]
REDIS_URLS = [
    f"redis://:{PASSWORD}@127.0.0.1:1/0",
    "not-a-url",
    f"redis://x:{PASSWORD}@h:notaport/0",
    "unix:///nonexistent/redis.sock",
    "redis://127.0.0.1:6379/99999",  # a database the server does not have: nothing is written
    "",
]
# `run` is never given a reachable Postgres (it would serve) nor more than one worker: workers
# are processes of their own, outside what this test captures, and slow to start.
LIMITED = {("run", "workers"): st.sampled_from(["0", "1", "-1", "65", "nan", "x"])}


# Where an option that writes a file (`oncall --ics`) may write: never into the config.
OUTPUTS = ["out.txt", "-", "/", "/nonexistent/dir/out.txt", "x" * 300, ""]


def _writes(param: click.Parameter) -> bool:
    return isinstance(param.type, click.File) and "w" in param.type.mode


def _likely(param: click.Parameter) -> st.SearchStrategy[str] | None:
    """Values of the kind an option takes (half of what it is given): a bad one of the right
    kind gets further into the command than a string at random."""
    kind, name = param.type, param.name or ""
    if isinstance(kind, click.Choice):
        return st.sampled_from([str(c) for c in kind.choices])
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType | BoundedNumber):
        return NUMBERS
    if isinstance(kind, Moment | Since):
        return st.one_of(INSTANTS, DURATIONS)
    if isinstance(kind, click.Path | click.File):
        return PATHS
    if any(word in name for word in ("context", "metadata", "json", "requests")):
        return JSONISH
    if name == "fields":
        return FIELDS
    return None


def _param_args(path: tuple[str, ...], param: click.Parameter) -> st.SearchStrategy[list[str]]:
    if isinstance(param, click.Argument):
        count = (0, 3) if param.nargs == -1 else (0, 1) if not param.required else (1, 1)
        likely = _likely(param)
        value = VALUES if likely is None else st.one_of(likely, VALUES)
        return st.lists(value, min_size=count[0], max_size=count[1])
    assert isinstance(param, click.Option)
    flag = param.opts[0]
    if param.is_flag:
        return st.just([flag])
    value = LIMITED.get((*path, param.name or ""))
    if value is None and _writes(param):
        value = st.sampled_from(OUTPUTS)
    if value is None:
        likely = _likely(param)
        value = VALUES if likely is None else st.one_of(likely, VALUES)
    return st.lists(value, min_size=1, max_size=2 if param.multiple else 1).map(
        lambda drawn: [part for v in drawn for part in (flag, v)]
    )


def _arguments(path: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    """A few of the command's options (with all of them at once nearly every example would stop
    at its first bad value, before the code behind the others runs), then its arguments."""
    params = [p for p in _command(path).params if not getattr(p, "hidden", False)]
    options = [_param_args(path, p) for p in params if isinstance(p, click.Option)]
    positional = [_param_args(path, p) for p in params if isinstance(p, click.Argument)]
    some_options = (
        st.lists(st.sampled_from(options), max_size=3).flatmap(lambda chosen: st.tuples(*chosen))
        if options
        else st.just(())
    )
    return st.tuples(some_options, *positional).map(
        lambda parts: [a for chunk in parts[0] for a in chunk] + [a for p in parts[1:] for a in p]
    )


# --- the property -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database for this module only: commands that reach Postgres read (and migrate) it."""
    name, url = asyncio.run(create_database())
    try:
        yield url
    finally:
        asyncio.run(drop_database(name))


def _invoke(
    path: tuple[str, ...], args: list[str], env: dict[str, str | None], stdin: str | bytes
) -> Result:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    here = os.getcwd()
    try:
        # In an empty directory of its own: a relative file a command writes lands there.
        with tempfile.TemporaryDirectory(dir=COPY) as empty:
            os.chdir(empty)
            return CliRunner().invoke(cli, [*path, *args], env=env, input=stdin)
    finally:
        os.chdir(here)
        # `run` points the root logger at the runner's stderr, closed after each call.
        root.handlers[:], root.level = handlers, level


def _env(postgres_url: str, redis_url: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {name: None for name in UNSET}
    return env | {
        "POSTGRES_URL": postgres_url,
        "REDIS_URL": redis_url,
        "NOTIFIERD_API_URL": "http://127.0.0.1:1",
        "NOTIFIERD_CONFIG": str(CONFIG),
        "NOTIFIERD_QUEUE": "test:cli-arguments:requests",
        "NOTIFIERD_DEBUG": "",
        # One process, whatever the machine's cores (the default): see LIMITED.
        "NOTIFIERD_WORKERS": "1",
    }


def _assert_clean(result: Result, path: tuple[str, ...], args: list[str]) -> None:
    """Exit 0, 1 or 2, no traceback, no bug report, no password; a usage error is one line."""
    shown = f"notifierd {' '.join(path)} {[a[:80] for a in args]!r}\n{result.output[-2000:]}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(shown) from result.exception
    assert "Traceback" not in result.output, shown
    assert "this is a bug" not in result.output, shown
    assert PASSWORD not in result.output, shown
    assert result.exit_code in (0, 1, 2), shown
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len([line for line in lines if line.startswith("error:")]) == 1, shown
        assert not any(line.startswith(("Usage:", "Error:")) for line in lines), shown


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_generated_arguments_never_end_in_a_traceback(path: tuple[str, ...], database: str) -> None:
    postgres = [*POSTGRES_URLS, *([] if path == ("run",) else [database] * 3)]

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        args=_arguments(path),
        postgres_url=st.sampled_from(postgres),
        redis_url=st.sampled_from(REDIS_URLS),
        stdin=STDIN,
    )
    def check(args: list[str], postgres_url: str, redis_url: str, stdin: str | bytes) -> None:
        _assert_clean(_invoke(path, args, _env(postgres_url, redis_url), stdin), path, args)

    check()


# Every option alone, with each hostile value of its kind: what a random mix reaches rarely.
HOSTILE = {
    "number": ["nan", "inf", "-inf", "-1", "0", "1e12", "1e400", str(10**30), "", "x"],
    "time": [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9990-01-01T00:00:00Z",
        "99999999d",
        "-1h",
        "",
        "x",
    ],
    "path": ["/", "-", str(CONFIG / "routes.yaml"), "x" * 300, ""],
    "choice": ["", "x"],
    "json": ["{}", "[]", '{"a":', "null", "@/nonexistent/x.json", "@-", "[" * 100_000],
    "fields": ["=x", "x", "label.=v", "tags=,,", "channels=,", "kind=alert", "template=nope@9"],
    "text": ["", "-", "x" * 300, "nan", "0001-01-01T00:00:00Z", "{{ 7 }}", "[" * 100_000, "a=b"],
}
# Arguments that get a command past its lookup, for sweeping its options.
PLAUSIBLE = {("template", "render"): ["incident_alert"], ("channel", "test"): ["ops-slack"]}


def _kind(param: click.Parameter) -> str:
    kind, name = param.type, param.name or ""
    if isinstance(kind, click.Choice):
        return "choice"
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType | BoundedNumber):
        return "number"
    if isinstance(kind, Moment | Since):
        return "time"
    if isinstance(kind, click.Path | click.File):
        return "path"
    if any(word in name for word in ("context", "metadata", "json", "requests")):
        return "json"
    return "fields" if name == "fields" else "text"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_each_option_alone_with_hostile_values(path: tuple[str, ...], database: str) -> None:
    command = _command(path)
    required = [p for p in command.params if isinstance(p, click.Argument) and p.required]
    base = PLAUSIBLE.get(path, ["x"] * len(required))
    env = _env(POSTGRES_URLS[0] if path == ("run",) else database, REDIS_URLS[0])
    for param in command.params:
        if getattr(param, "hidden", False) or getattr(param, "is_flag", False):
            continue
        for value in OUTPUTS if _writes(param) else HOSTILE[_kind(param)]:
            if isinstance(param, click.Option):
                args = [param.opts[0], value, *base]
            elif param.required:
                args = [value]
            else:
                args = [*base, value]
            _assert_clean(_invoke(path, args, env, "[" * 100_000), path, args)
