"""The listener's connection cap and file-descriptor budget (no sockets: the bookkeeping)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, cast

import pytest

from notifierd.http.connections import ConnectionLimits, Connections, GuardedHandler


class Connection:
    """Stands in for a GuardedHandler: Connections only ever closes an idle one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.closed_because: str | None = None

    def close_idle(self, why: str) -> None:
        self.closed_because = why


def _admit(connections: Connections, connection: Connection) -> bool:
    return connections.admit(cast(GuardedHandler, connection))


def test_at_the_cap_the_longest_idle_connection_makes_room() -> None:
    connections = Connections(cap=2)
    first, second, third = Connection("first"), Connection("second"), Connection("third")
    assert _admit(connections, first) and _admit(connections, second)
    assert _admit(connections, third)
    assert first.closed_because == "the listener is at its connection cap"
    assert second.closed_because is None and third.closed_because is None


def test_a_connection_busy_with_a_request_is_never_evicted() -> None:
    connections = Connections(cap=2)
    working, waiting = Connection("working"), Connection("waiting")
    _admit(connections, working)
    _admit(connections, waiting)
    connections.busy(cast(GuardedHandler, working))
    assert _admit(connections, Connection("new"))
    assert working.closed_because is None and waiting.closed_because is not None


def test_when_every_connection_is_busy_a_newcomer_is_refused() -> None:
    connections = Connections(cap=1)
    working = Connection("working")
    _admit(connections, working)
    connections.busy(cast(GuardedHandler, working))
    assert not _admit(connections, Connection("new"))
    connections.closed(cast(GuardedHandler, working))
    assert _admit(connections, Connection("later")) and len(connections) == 1


def _share_in_a_process(soft: int, hard: int, **limits: Any) -> tuple[int, int]:
    """listener_share() in a child whose RLIMIT_NOFILE is (soft, hard): (share, soft after)."""
    code = (
        "import json, resource\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))\n"
        "from notifierd.http.connections import ConnectionLimits, listener_share\n"
        f"share = listener_share(ConnectionLimits(**{limits!r}))\n"
        "print(json.dumps([share, resource.getrlimit(resource.RLIMIT_NOFILE)[0]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    share, after = json.loads(out.stdout)
    return share, after


def test_a_low_soft_limit_is_raised_to_the_hard_limit_first() -> None:
    assert _share_in_a_process(600, 4096) == (512, 4096)


def test_a_low_hard_limit_shrinks_the_listeners_share_not_the_deliveries() -> None:
    share, after = _share_in_a_process(700, 700)
    assert (share, after) == (700 - ConnectionLimits().reserved_fds, 700)


def test_the_share_never_drops_to_nothing() -> None:
    assert _share_in_a_process(300, 300)[0] == 1


@pytest.mark.parametrize("cap", [1, 64])
def test_a_configured_cap_below_the_budget_is_kept(cap: int) -> None:
    assert _share_in_a_process(4096, 4096, max_connections=cap)[0] == cap
