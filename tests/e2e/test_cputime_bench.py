"""bench/cputime.py, which the peer and throughput benchmarks read their CPU figures with: each
reading follows real work, and the machine's busy time is at least one process's."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from types import ModuleType

from tests.conftest import ROOT


def cputime() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cputime", ROOT / "bench" / "cputime.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spin(seconds: float) -> None:
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


def test_a_process_spinning_for_half_a_second_is_read_as_about_that() -> None:
    cpu = cputime()
    meter = cpu.CpuMeter(
        {"me": lambda: cpu.cpu_seconds(os.getpid()), "machine": cpu.machine_busy_seconds}
    )
    spin(0.5)
    spent = meter.spent()
    assert 0.45 <= spent["me"] <= 0.7, spent
    assert spent["machine"] >= spent["me"] - 0.02, spent  # ticks of 10 ms either side
    assert cpu.per_delivery({"me": 0.5, "machine": 0.75}, 1000) == {"me": 500.0, "machine": 750.0}


def test_a_program_is_every_process_of_that_name() -> None:
    cpu = cputime()
    name = f"cpu{os.getpid()}"  # a name of this test's own: no other process counts
    code = (
        f"open('/proc/self/comm', 'w').write({name!r})\n"
        "import time\nu = time.process_time() + 0.4\nwhile time.process_time() < u: pass\n"
        "time.sleep(3)"
    )
    spinners = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    try:
        deadline = time.monotonic() + 20
        while (spent := cpu.program_cpu_seconds(name)) < 0.78 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 0.78 <= spent <= 1.2, spent  # both spun 0.4 s (ticks of 10 ms), then slept
        assert cpu.program_cpu_seconds("no-such-program-here") == 0.0
    finally:
        for process in spinners:
            process.kill()
            process.wait(30)
