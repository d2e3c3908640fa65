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
heavy = ("redis", "asyncpg", "aiohttp", "apscheduler.schedulers", "rich")
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
