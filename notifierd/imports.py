"""Importing some modules of a third-party package without first running its ``__init__``.

A cold ``notifierd validate`` uses slack_sdk's block models and APScheduler's cron trigger, and
each package's ``__init__`` imports far more than that: slack_sdk's its web and webhook clients
(http.client, urllib, ssl, email), APScheduler's ``importlib.metadata`` to read its own version.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any


def defer_package_init(package: str) -> None:
    """Let the modules of ``package`` import without its ``__init__`` having run, unless
    something imported the package already.

    The package's module is made from its spec and put in ``sys.modules`` with its code not yet
    run. Modules under it import as always (their imports only need the package's
    ``__path__``); the package's own code runs the first time anyone asks the package for a
    name it lacks (``from slack_sdk import WebClient``, ``apscheduler.version``), so whoever
    needs the whole package later gets it, the same module object.
    """
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not a package, or one we cannot run later: import it as usual
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def missing(name: str) -> Any:
        # A module under the package (``from slack_sdk import version`` in slack_sdk's own
        # code) is imported as Python would; any other name runs the package's code first.
        if importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")
        del module.__dict__["__getattr__"]
        loader.exec_module(module)
        return getattr(module, name)

    module.__dict__["__getattr__"] = missing  # PEP 562: looked up in the module's dict
    sys.modules[package] = module
