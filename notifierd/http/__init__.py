"""The optional HTTP listener (``run --http HOST:PORT``): health, metrics, reload, API, Slack.

Started from ``listener.py``. This file imports nothing, so a daemon without a listener, which
imports only ``backend.py`` (the protocol the listener serves), never loads aiohttp's server.
"""
