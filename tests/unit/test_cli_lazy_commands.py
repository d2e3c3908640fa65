"""`notifierd validate` in CI loads only what validating needs, not the daemon's clients."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / "config"

# Run `notifierd validate` in a fresh interpreter and print which daemon-only modules it loaded.
_PROBE = """
import sys
from notifierd.cli.main import main
sys.argv = ["notifierd", "validate", sys.argv[1]]
try:
    main()
except SystemExit as exc:
    code = exc.code
heavy = ("redis", "asyncpg", "aiohttp", "apscheduler.schedulers", "rich", "slack_sdk.web")
print(code, sorted(name for name in heavy if name in sys.modules))
"""


def test_validate_does_not_import_the_daemons_clients(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(CONFIG)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,  # not a checkout: the notifierd under test is the one imported
    ).stdout
    assert out.splitlines()[-1] == "0 []"


def test_every_command_is_listed_in_help() -> None:
    from click.testing import CliRunner

    from notifierd.cli.main import cli

    result = CliRunner().invoke(cli, ["--help"])
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line}
    assert {"validate", "run", "send", "alerts", "dlq", "oncall", "heartbeats"} <= listed


# `notifierd run --workers 2` up to the moment it would start its workers: which modules the
# supervisor holds (its checks and the config's validation ran in children of their own).
_SUPERVISOR_PROBE = """
import sys
import notifierd.supervisor

def report(worker_args, **kwargs):
    heavy = ("redis", "asyncpg", "aiohttp", "asyncio", "ssl", "jinja2", "yaml", "jsonschema",
             "notifierd.daemon", "notifierd.validation", "notifierd.config.model")
    print(len(worker_args), sorted(name for name in heavy if name in sys.modules))
    return 0

notifierd.supervisor.supervise = report
from notifierd.cli.main import main
sys.argv = ["notifierd", "run", "--config", sys.argv[1], "--workers", "2", "--http", "127.0.0.1:1"]
main()
"""


def test_the_supervisor_keeps_no_daemon_module_loaded(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _SUPERVISOR_PROBE, str(CONFIG)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert out.splitlines()[-1] == "2 []"
