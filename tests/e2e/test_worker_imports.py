"""A worker loads the libraries its config and flags use, and no others: memory is per worker,
so a client library or a server a worker does not use costs every worker for nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import DaemonProcess, write_sink_config
from tests.e2e.test_crash_recovery import wait_until
from tests.e2e.test_service_restarts import delivered, push
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.redis_fixtures import RedisPrefix

# `python -m notifierd run ...` as the supervisor starts a worker, then, once SIGTERM has
# stopped it, which of these modules it had loaded, written to the file named first.
_PROBE = """
import json, sys
out, sys.argv = sys.argv[1], ["notifierd", *sys.argv[2:]]
from notifierd.cli.main import main
try:
    main()
except SystemExit:
    pass
heavy = (
    "aiohttp", "slack_sdk", "sendgrid", "aiosmtplib", "python_http_client", "rich",
    "notifierd.console", "notifierd.http.app", "notifierd.http.listener", "watchfiles",
    "fastjsonschema", "notifierd.channels.webhook",
)
with open(out, "w") as fh:
    json.dump(sorted(name for name in heavy if name in sys.modules), fh)
"""


async def test_a_webhook_only_worker_without_a_listener_loads_no_other_client(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, daemons: list[DaemonProcess]
) -> None:
    sink = WebhookSink()
    await sink.start()
    loaded = tmp_path / "modules.json"
    daemon = DaemonProcess(
        write_sink_config(tmp_path / "config"),
        redis_prefix.prefix,
        redis_prefix.url,
        pg_url,
        sink.url,
        tmp_path / "daemon.log",
    )
    assert daemon.args[1:3] == ["-m", "notifierd"]
    daemon.args[1:3] = ["-c", _PROBE, str(loaded)]
    daemons.append(daemon.start())
    try:
        await push(redis_prefix.redis, f"{redis_prefix.prefix}:requests", ["imports-1"])

        async def sent() -> bool:
            return await delivered(pg_url, ["imports-1"]) == 1

        await wait_until(sent, 30, "the delivery")
        assert await daemon.terminate() == 0, daemon.log.read_text()[-3000:]
    finally:
        await sink.stop()
    # It delivered through the webhook sender, and loaded nothing else on this list: no other
    # channel's client, no aiohttp (the webhook posts with http11), no listener or console
    # (no --http), no file watcher (--no-watch), no terminal tables, and no schema compiler (the
    # request schema's check is generated ahead of time).
    assert json.loads(loaded.read_text()) == ["notifierd.channels.webhook"]
