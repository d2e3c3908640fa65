"""The import graph of notifierd/: no cycle between packages, and no lower layer importing a higher one.

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``. A unit is a
subpackage (``config``, ``routing``, …) or a top-level module (``daemon``, ``request``, …);
``notifierd`` is the package's own ``__init__`` (``__version__``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "notifierd"

# Import nothing from notifierd but the package's own __init__ and valueclass (the decorator
# their values are declared with).
LEAVES = frozenset(
    {
        "notifierd",
        "request",
        "cancelling",
        "defaults",
        "errors",
        "forked",
        "imports",
        "jsonenc",
        "logs",
        "metrics",
        "options",
        "secrets",
        "status",
        "valueclass",
    }
)
BASE = LEAVES | {"config"}

# What each unit may import, lowest layers first. A new edge must be added here on purpose;
# one that points up a layer is a design change, not a line to add.
ALLOWED: Mapping[str, frozenset[str]] = {
    **{leaf: frozenset({"notifierd", "valueclass"}) - {leaf} for leaf in LEAVES},
    "reconnect": frozenset(),
    "config": LEAVES,
    # routing and templates sit side by side on config: neither imports the other.
    "routing": BASE,
    "templates": BASE,
    # Who is on call, computed from a snapshot's schedules; routing will resolve them through it.
    "schedules": BASE,
    # Who acts, with which roles, on which alerts: pure over a snapshot and the credentials.
    "principals": BASE,
    # Whole validation (config + templates) and the active config (+ routing) sit above both.
    "validation": BASE | {"schedules", "templates"},
    # active lays the run-time silences (routing) and overrides (schedules) over the config, and
    # validates in-process when offloop's child fails it.
    "active": BASE | {"offloop", "routing", "schedules", "templates", "validation"},
    # A reload's validation in a forked child, for the daemon.
    "offloop": BASE | {"validation"},
    "reloads": BASE | {"active"},
    # channels sends what templates rendered; it knows nothing of the pipeline around it.
    "channels": BASE | {"templates"},
    "store": BASE | {"reconnect"},
    "redisio": BASE | {"reconnect"},
    "intake": BASE | {"reconnect", "redisio"},
    "pipeline": BASE
    | {
        "active",
        "channels",
        "intake",
        "reconnect",
        "redisio",
        "routing",
        "schedules",
        "store",
        "templates",
    },
    # alerts rewrites sent messages through the channels' MessageUpdater capability.
    # alerts tells the incoming on-call person their shift started (schedules: who, when).
    "alerts": BASE
    | {
        "active",
        "channels",
        "pipeline",
        "principals",
        "reconnect",
        "schedules",
        "store",
        "templates",
    },
    # Run-time silences and overrides: checked, stored, audited, read into the active config.
    "runtime": BASE | {"active", "reconnect", "routing", "schedules", "store"},
    "configtest": BASE | {"intake", "pipeline", "routing", "schedules", "templates"},
    # diff checks the sample requests it replays as the daemon's intake would.
    "diff": BASE | {"active", "intake", "pipeline", "schedules"},
    "client": BASE | {"intake", "redisio", "store"},
    # http serves a Backend protocol; it never imports the daemon that implements it.
    # Who is on call, served as JSON and calendar feeds.
    # The console's views: the store's listing records, rate-limit status, the active config's
    # last reload, and template previews (the records and functions the CLI shows).
    "http": BASE
    | {
        "active",
        "intake",
        "pipeline",
        "principals",
        "runtime",
        "schedules",
        "store",
        "templates",
    },
    # The web console's pages: served behind http's middlewares, on the same Backend.
    "console": BASE | {"http", "principals", "schedules", "store", "templates"},
    "services": BASE
    | {
        "active",
        "alerts",
        "channels",
        "intake",
        "offloop",
        "pipeline",
        "redisio",
        "reloads",
        "runtime",
        "store",
    },
    "daemon": BASE
    | {
        # the console's reads: the active config's last reload, its template catalog
        "active",
        "templates",
        "configwatch",
        "console",
        "http",
        # storm control of webhook intake (intake/storm.py)
        "intake",
        "pipeline",
        "principals",
        "reconnect",
        "runtime",
        "services",
        "store",
        "validation",
    },
    # Watching the config directory: files and symlink swaps, nothing of the daemon.
    "configwatch": BASE,
    "supervisor": BASE,
    # The supervisor's last good config: it copies files and calls the validation it is given.
    "lastgood": BASE,
    "cli": BASE
    | {
        "active",
        "channels",
        "client",
        "configtest",
        "daemon",
        "diff",
        "http",
        "intake",
        "lastgood",
        "offloop",
        "pipeline",
        "principals",
        "redisio",
        "routing",
        "runtime",
        "schedules",
        "store",
        "supervisor",
        "templates",
        "validation",
    },
    "__main__": frozenset({"cli"}),
}


@dataclass(frozen=True)
class Edge:
    source: str  # the importing unit
    target: str  # the imported unit
    where: str  # file:line of the import

    def __str__(self) -> str:
        return f"{self.where}: {self.source} imports {self.target}"


def unit_of(module: str) -> str | None:
    """The unit a dotted module name belongs to; None outside notifierd."""
    parts = module.split(".")
    if parts[0] != "notifierd":
        return None
    return parts[1] if len(parts) > 1 else "notifierd"


def source_unit(path: Path, package: Path = PACKAGE) -> str:
    relative = path.relative_to(package)
    if relative == Path("__init__.py"):
        return "notifierd"
    return relative.parts[0].removesuffix(".py")


def imported_modules(node: ast.AST, package: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module != "notifierd":
            return [node.module]
        # `from notifierd import metrics` imports a module; `import __version__` the __init__.
        return [
            f"notifierd.{alias.name}"
            if (package / f"{alias.name}.py").exists() or (package / alias.name).is_dir()
            else "notifierd"
            for alias in node.names
        ]
    if isinstance(node, ast.ImportFrom) and node.level > 0:
        raise AssertionError(f"relative import at line {node.lineno}: write it absolute")
    return []


def edges(package: Path = PACKAGE) -> Iterator[Edge]:
    """Every import from one unit of notifierd into another, wherever it is written."""
    for path in sorted(package.rglob("*.py")):
        source = source_unit(path, package)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for module in imported_modules(node, package):
                target = unit_of(module)
                if target is not None and target != source:
                    where = f"{path.relative_to(package.parent)}:{getattr(node, 'lineno', 0)}"
                    yield Edge(source, target, where)


def cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle in ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def offending(found: list[Edge], rule: str) -> str:
    return f"{rule}:\n" + "\n".join(f"  {edge}" for edge in found)


ALL_EDGES = list(edges())


def test_every_unit_is_in_the_table() -> None:
    units = {source_unit(path) for path in PACKAGE.rglob("*.py")}
    assert units <= set(ALLOWED), f"add {sorted(units - set(ALLOWED))} to ALLOWED with its layer"


def test_no_import_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for edge in ALL_EDGES:
        graph.setdefault(edge.source, set()).add(edge.target)
    found = cycle(graph)
    if found is not None:
        steps = [
            next(e for e in ALL_EDGES if (e.source, e.target) == pair) for pair in pairwise(found)
        ]
        raise AssertionError(offending(steps, f"import cycle {' -> '.join(found)}"))


def test_every_import_follows_the_layers() -> None:
    bad = [e for e in ALL_EDGES if e.target not in ALLOWED.get(e.source, frozenset())]
    assert not bad, offending(bad, "imports outside the allowed table (ALLOWED)")


def test_config_and_the_leaves_import_no_higher_package() -> None:
    bad = [e for e in ALL_EDGES if e.source in BASE and e.target not in LEAVES]
    assert not bad, offending(bad, "config and leaf modules import only leaf modules")


def test_routing_and_templates_stand_on_config_alone() -> None:
    bad = [e for e in ALL_EDGES if e.source in ("routing", "templates") and e.target not in BASE]
    assert not bad, offending(bad, "routing and templates import only config and leaf modules")


def test_channels_know_nothing_of_the_pipeline_around_them() -> None:
    above = {"pipeline", "alerts", "store", "daemon", "services", "active", "intake", "http"}
    bad = [e for e in ALL_EDGES if e.source == "channels" and e.target in above]
    assert not bad, offending(bad, "channels import no pipeline, alerts, store or daemon")


def test_only_the_command_line_imports_cli() -> None:
    bad = [e for e in ALL_EDGES if e.target == "cli" and e.source not in ("cli", "__main__")]
    assert not bad, offending(bad, "only cli/ and __main__ import cli")


def test_http_does_not_know_the_daemon() -> None:
    bad = [e for e in ALL_EDGES if e.source == "http" and e.target in ("daemon", "services")]
    assert not bad, offending(bad, "http serves a protocol; it imports no daemon")


def test_the_walk_sees_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    package = tmp_path / "notifierd"
    (package / "config").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "config" / "__init__.py").write_text("")
    (package / "config" / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from notifierd.routing.router import Router\n"
        "def f() -> None:\n"
        "    import notifierd.daemon\n"
    )
    found = [str(e) for e in edges(package)]
    assert found == [
        "notifierd/config/x.py:3: config imports routing",
        "notifierd/config/x.py:5: config imports daemon",
    ]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}}) is None
