"""CPU time read from /proc: one process's, every process of one program's, and the machine's.

The burst drains of bench/peer.py are bound by the machine's cores, not by one process: on two
cores the daemon's workers, Postgres, Redis and the sink share them. What each spent per delivery
says what a faster drain would have to take away, and from whom."""

from __future__ import annotations

import os
from collections.abc import Callable

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far, its exited children's included (a
    Postgres backend that ends during a measurement counts in the postmaster that reaped it)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / TICK


def program_cpu_seconds(name: str) -> float:
    """CPU time of every process named ``name`` (its ``comm``: ``postgres`` counts backends,
    WAL writer and checkpointer; ``redis-server`` the machine's Redis)."""
    total = 0.0
    tag = f"({name})"
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                if tag in fh.read(64):
                    total += cpu_seconds(int(entry))
        except OSError:  # gone meanwhile
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU time every core spent working here, summed over the cores (``/proc/stat``: user,
    nice, system, irq and softirq — the kernel's work for loopback traffic included; not idle,
    iowait, or steal, which a hypervisor gave to other machines)."""
    with open("/proc/stat") as fh:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, fh.readline().split()[1:8])
    # guest and guest_nice are already counted in user and nice.
    return (user + nice + system + irq + softirq) / TICK


class CpuMeter:
    """CPU spent by named parts since the meter was made; each part a function returning its
    CPU seconds so far."""

    def __init__(self, parts: dict[str, Callable[[], float]]) -> None:
        self.parts = parts
        self.start = {name: read() for name, read in parts.items()}

    def spent(self) -> dict[str, float]:
        return {name: read() - self.start[name] for name, read in self.parts.items()}


def per_delivery(spent: dict[str, float], n: int) -> dict[str, float]:
    """Seconds spent -> µs per delivery."""
    return {name: seconds / n * 1e6 for name, seconds in spent.items()}
