"""Every example in the README runs as written (issue 17 §2), and so does the CI workflow we
ship for config repositories (``examples/config-repo-workflow.yml``).

The README's ```bash and ```console blocks are run in order, from the repository root, against
the shipped ``config/`` and a dry-run daemon on this test's own Postgres database, Redis key
prefix, queue and port. An example fails when it exits non-zero or prints a traceback; the
failure names its README line. A command that cannot run here is skipped only by ``SKIPPED``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.conftest import ROOT
from tests.e2e.test_crash_recovery import wait_until
from tests.fakes import unused_port
from tests.integration.redis_fixtures import RedisPrefix

README = ROOT / "README.md"
WORKFLOW = ROOT / "examples" / "config-repo-workflow.yml"
NOTIFIERD = Path(sys.executable).parent / "notifierd"  # the venv this test runs in

COMMAND_BLOCKS = ("bash", "sh", "shell", "console")  # ```console: the lines after "$ "
# A line of an unlabelled block that reads like a command: such a block must say what it is.
COMMAND_LIKE = r"(\$ |\.venv/|notifierd |make |curl |redis-cli |docker )"
TRACEBACK = "Traceback (most recent call last)"

# Commands the README shows that cannot run in a test, keyed by the command as written (compared
# word by word, comments aside). A key no README command matches fails the test, so the list
# shrinks with the README and never hides an example that changed.
SKIPPED = {
    # The set-up commands: `make run` never returns (this test runs its daemon instead), and
    # `make test` is the suite this test is part of.
    "make run": "runs the daemon until interrupted",
    "make test": "runs the whole test suite, this test included",
    # Changes who may log in to the shared Redis server, and then logs in as that user.
    "redis-cli ACL SETUSER ci on '>CI_REDIS_PASSWORD' resetkeys '~notifierd:requests:ci' "
    "resetchannels -@all +lpush +rpush +ping": "creates a user on the shared Redis server",
    "redis-cli --user ci --pass CI_REDIS_PASSWORD LPUSH notifierd:requests:ci "
    """'{"title":"Build failed","message":"main is red"}'""": "needs the Redis user above",
    # Daemons that run until interrupted, one of them on every interface with a real token.
    "notifierd run --config config --dry-run --http 9464": "runs until interrupted",
    # The shipped config declares no heartbeat and no producer token to beat one with.
    'curl -fsS -X POST -H "Authorization: Bearer $BACKUP_TOKEN" '
    "http://notifierd:9464/api/v1/heartbeats/nightly-backup": "needs a heartbeat and its producer",
    "NOTIFIERD_API_TOKEN=... notifierd run --config config --http 0.0.0.0:9464": (
        "runs until interrupted, on every interface, with a token"
    ),
    'curl -H "Authorization: Bearer $NOTIFIERD_API_TOKEN" -X POST localhost:9464/-/reload': (
        "needs the token of the daemon above"
    ),
}


@dataclass(frozen=True)
class Example:
    line: int  # 1-based line in the README
    command: str  # as written, continuation lines joined
    block: int  # which command block: an `export` applies to the rest of its block

    def words(self) -> list[str]:
        return shlex.split(self.command, comments=True)

    def __str__(self) -> str:
        return f"README.md:{self.line}: {self.command}"


def examples(text: str) -> Iterator[Example]:
    """The commands of the README's command blocks; an unlabelled block of commands is an error."""
    lines = text.splitlines()
    block, i = 0, 0
    while i < len(lines):
        fence = re.fullmatch(r"```(\S*)\s*", lines[i])
        if not fence:
            i += 1
            continue
        info, start = fence[1], i + 1
        end = next(j for j in range(start, len(lines)) if lines[j].startswith("```"))
        block += 1
        body = lines[start:end]
        if info in COMMAND_BLOCKS:
            yield from _commands(body, start + 1, block, console=info == "console")
        else:
            commands = [line for line in body if re.match(COMMAND_LIKE, line)]
            assert info or not commands, (
                f"README.md:{start}: {commands[0]!r} is in a code block without a language: "
                "label it ```bash to have this test run it, or ```text when it is a synopsis"
            )
        i = end + 1


def _commands(body: list[str], first_line: int, block: int, *, console: bool) -> Iterator[Example]:
    i = 0
    while i < len(body):
        line, number = body[i], first_line + i
        i += 1
        if console:
            if not line.startswith("$ "):
                continue  # what the command prints
            line = line[2:]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\") and i < len(body):
            line = line[:-1].rstrip() + " " + body[i].strip()
            i += 1
        yield Example(number, line.strip(), block)


def skipped(example: Example) -> str | None:
    words = example.words()
    return next((why for key, why in SKIPPED.items() if shlex.split(key) == words), None)


@dataclass
class Sandbox:
    """Where the examples run: this checkout's notifierd, this test's services and port."""

    env: dict[str, str]
    port: int
    redis_url: str
    queue: str

    def as_written_here(self, command: str) -> str:
        """The command with the README's fixed places mapped to this test's: the venv in use,
        the daemon's port, and the private queue (notifierd reads it from $NOTIFIERD_QUEUE)."""
        command = command.replace(".venv/bin/notifierd", str(NOTIFIERD))
        for address in ("127.0.0.1:9464", "localhost:9464"):
            command = command.replace(address, f"127.0.0.1:{self.port}")
        command = command.replace("notifierd:requests", self.queue)
        if command.startswith("redis-cli "):
            command = f"redis-cli -u {shlex.quote(self.redis_url)} " + command[len("redis-cli ") :]
        return command


def sandbox(pg_url: str, redis: RedisPrefix) -> Sandbox:
    queue = f"{redis.prefix}:requests"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIERD_")}
    env.update(
        {
            "PATH": os.pathsep.join([str(NOTIFIERD.parent), env.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
            "NOTIFIERD_CACHE_DIR": os.environ.get("NOTIFIERD_CACHE_DIR", ""),
            "REDIS_URL": redis.url,
            "POSTGRES_URL": pg_url,
            "NOTIFIERD_QUEUE": queue,
            "NOTIFIERD_KEY_PREFIX": redis.prefix,
        }
    )
    port = unused_port()
    env["NOTIFIERD_API_URL"] = f"http://127.0.0.1:{port}"
    return Sandbox(env, port, redis.url, queue)


async def run(command: str, env: dict[str, str], timeout: float = 30) -> tuple[int, str]:
    """``command`` in bash from the repository root: its exit status and what it printed."""
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode, done.stdout + done.stderr


async def ready(port: int) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/readyz") as resp,
        ):
            return resp.status == 200
    except aiohttp.ClientError:
        return False


async def test_every_readme_example_runs_as_written(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix
) -> None:
    found = list(examples(README.read_text()))
    assert found, "no ```bash or ```console blocks in the README"
    stale = [key for key in SKIPPED if not any(shlex.split(key) == e.words() for e in found)]
    assert not stale, f"SKIPPED names commands the README no longer has: {stale}"

    here = sandbox(pg_url, redis_prefix)
    log = tmp_path / "daemon.log"
    # `make run`'s daemon, on this test's services and port
    args = [
        "run",
        "--config",
        "config",
        "--dry-run",
        "--no-watch",
        "--http",
        f"127.0.0.1:{here.port}",
    ]
    with open(log, "wb") as out:
        daemon = subprocess.Popen(
            [NOTIFIERD, *args],
            cwd=ROOT,
            env=here.env,
            stdout=out,
            stderr=out,
        )
    try:
        await wait_until(lambda: ready(here.port), 30, f"the dry-run daemon; log: {log}")
        failures = []
        exports: dict[int, list[str]] = {}
        for example in found:
            if skipped(example):
                continue
            command = here.as_written_here(example.command)
            if example.words()[0] == "export":
                exports.setdefault(example.block, []).append(command)
            script = "\n".join([*exports.get(example.block, []), command])
            code, output = await run(script, here.env)
            if code != 0 or TRACEBACK in output:
                failures.append(f"{example}\n  exit {code}: {output.strip()[-1500:]}")
        assert not failures, "README examples that do not work as written:\n" + "\n".join(failures)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(daemon.wait, 20)
        except subprocess.TimeoutExpired:
            daemon.kill()
    assert TRACEBACK not in log.read_text(), f"the daemon logged a traceback: {log}"


def test_the_examples_are_found_where_the_readme_has_them() -> None:
    text = "\n".join(
        [
            "intro",
            "```bash",
            "make run    # a comment",
            "notifierd send --title 'a' \\",
            "  --message b",
            "```",
            "```console",
            "$ notifierd validate config",
            "config: 0 error(s)",
            "```",
            "```yaml",
            "notifierd: not a command",
            "```",
        ]
    )
    assert [(e.line, e.command, e.block) for e in examples(text)] == [
        (3, "make run    # a comment", 1),
        (4, "notifierd send --title 'a' --message b", 1),
        (8, "notifierd validate config", 2),
    ]
    assert skipped(Example(3, "make run    # another comment", 1))
    assert not skipped(Example(3, "make runs", 1))


# --- the CI workflow for config repositories -------------------------------------------------

# The GitHub expressions the workflow may use, as this repository's checkout can answer them.
EXPRESSIONS = {"origin/${{ github.base_ref }}": "HEAD"}


def workflow_steps() -> list[dict[str, Any]]:  # the workflow's YAML, as GitHub reads it
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_the_workflow_installs_notifierd_from_the_repository_not_a_release() -> None:
    """No notifierd release exists on PyPI: the workflow installs from a checkout of the
    notifierd repository (or git+https://...@ref), never `pip install notifierd[==x]`."""
    steps = workflow_steps()
    installs = [
        line
        for step in steps
        for line in str(step.get("run", "")).splitlines()
        if re.search(r"\bpip install\b", line)
    ]
    assert installs, "the workflow installs notifierd somewhere"
    checkouts = {
        step["with"]["path"]
        for step in steps
        if str(step.get("uses", "")).startswith("actions/checkout@")
        and "path" in step.get("with", {})
    }
    for line in installs:
        targets = [w for w in shlex.split(line, comments=True)[2:] if not w.startswith("-")]
        for target in targets:
            assert not re.fullmatch(r"notifierd(\[[^\]]*\])?([=<>~!].*)?", target), (
                f"{WORKFLOW.name}: {line.strip()!r} installs a release from PyPI, and there is none"
            )
            from_checkout = any(target.removeprefix("./").startswith(path) for path in checkouts)
            assert target.startswith("git+https://") or from_checkout, (
                f"{WORKFLOW.name}: {line.strip()!r} installs neither a checkout nor git+https"
            )


async def test_the_workflow_runs_real_notifierd_commands(tmp_path: Path) -> None:
    """Each notifierd command of the workflow, against this repository's config (the layout of a
    config repository: `config/` at the top), the base branch being this checkout's HEAD."""
    summary = tmp_path / "summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIERD_")}
    env.update(
        {
            "PATH": os.pathsep.join([str(NOTIFIERD.parent), env.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
            "NOTIFIERD_CACHE_DIR": os.environ.get("NOTIFIERD_CACHE_DIR", ""),
            "GITHUB_STEP_SUMMARY": str(summary),
        }
    )
    commands = [
        line.strip()
        for step in workflow_steps()
        for line in str(step.get("run", "")).splitlines()
        if line.strip().startswith("notifierd ")
    ]
    assert {c.split()[1] for c in commands} >= {"validate", "test", "diff"}, commands
    for command in commands:
        for expression, value in EXPRESSIONS.items():
            command = command.replace(expression, value)
        assert "${{" not in command, f"{command!r}: a GitHub expression this test cannot answer"
        code, output = await run(command, env, timeout=60)
        assert code == 0 and TRACEBACK not in output, f"{command}\n  exit {code}: {output}"
    assert summary.read_text().startswith("### notifierd config diff:")
