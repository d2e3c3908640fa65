"""deploy/systemd: the units pass ``systemd-analyze verify``, run commands and options the CLI
has, and the environment file names what the daemon, its config and the config pull read."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.unit.test_deploy_kubernetes import (
    assert_real_command,
    config_references,
    daemon_reads,
    served_paths,
)

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = ("notifierd.service", "notifierd-config-pull.service", "notifierd-config-pull.timer")
PULL = SYSTEMD / "notifierd-config-pull"
INSTALLED = {  # where the units expect things, and where they are in this checkout
    "/opt/notifierd/bin/notifierd": str(Path(sys.executable).parent / "notifierd"),
    "/usr/local/libexec/notifierd-config-pull": str(PULL),
}


def directives(unit: str) -> dict[str, list[str]]:
    """``Section.Key`` -> its values, in order (a key may repeat)."""
    found: dict[str, list[str]] = {}
    section = ""
    for line in (SYSTEMD / unit).read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(f"{section}.{key}", []).append(value)
    return found


def env_file() -> dict[str, str]:
    lines = (SYSTEMD / "notifierd.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    for unit in UNITS:
        text = (SYSTEMD / unit).read_text()
        for expected, here in INSTALLED.items():  # verify wants the programs to exist
            text = text.replace(expected, here)
        (tmp_path / unit).write_text(text)
    verified = subprocess.run(
        [analyze, "verify", *UNITS], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == "", verified.stderr  # unknown keys are only warnings


def test_the_daemon_unit_runs_the_cli_as_it_is() -> None:
    unit = directives("notifierd.service")
    [start] = unit["Service.ExecStart"]
    argv = shlex.split(start)
    assert argv[0] in INSTALLED
    assert_real_command(["notifierd", *argv[1:]])
    port = argv[argv.index("--http") + 1].rsplit(":", 1)[1]
    assert f"EXPOSE {port}" in (ROOT / "Dockerfile").read_text()
    assert {"/healthz", "/readyz", "/metrics"} <= served_paths()
    environment = dict(e.split("=", 1) for e in unit["Service.Environment"])
    for name in environment:
        assert daemon_reads(name), name
    # The daemon reads the checkout the pull publishes.
    pull = dict(
        e.split("=", 1) for e in directives("notifierd-config-pull.service")["Service.Environment"]
    )
    assert environment["NOTIFIERD_CONFIG"].startswith(pull["NOTIFIERD_CONFIG_BASE"] + "/current")
    assert unit["Service.ExecReload"] == ["/bin/kill -HUP $MAINPID"]  # SIGHUP reloads


def test_hardening_keeps_the_daemon_read_only_and_unprivileged() -> None:
    unit = directives("notifierd.service")
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
        "User": "notifierd",
    }.items():
        assert unit[f"Service.{key}"] == [value], key
    # ProtectSystem=strict leaves one writable place: the validation cache.
    environment = dict(e.split("=", 1) for e in unit["Service.Environment"])
    assert environment["NOTIFIERD_CACHE_DIR"] == "/var/cache/" + unit["Service.CacheDirectory"][0]


def test_environment_file_names_what_is_read() -> None:
    names = set(env_file())
    assert {"REDIS_URL", "POSTGRES_URL", "NOTIFIERD_API_TOKEN"} <= names
    assert config_references() <= names
    pull = PULL.read_text()
    for name in names - config_references():
        assert daemon_reads(name) or f"${{{name}" in pull, name
    for unit in ("notifierd.service", "notifierd-config-pull.service"):
        assert directives(unit)["Service.EnvironmentFile"] == ["/etc/notifierd/notifierd.env"]


def test_the_timer_starts_the_pull() -> None:
    timer = directives("notifierd-config-pull.timer")
    assert "Timer.OnUnitActiveSec" in timer
    # A timer starts the service of its own name; the daemon waits for the first pull.
    daemon = directives("notifierd.service")
    assert "notifierd-config-pull.service" in daemon["Unit.After"][0].split()
