"""The console benchmark, small (bench/console.py has the full size): it loads 20,000
deliveries and 500 alerts, times every call of its table against a running daemon, and writes
the query plans behind them. Timings are printed, never asserted: a shared machine's are noise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.integration.pg_fixtures import ADMIN_URL

BENCH = Path(__file__).resolve().parents[2] / "bench" / "console.py"
ROW = re.compile(
    r"^(?P<label>.+?)\s+(?P<p50>\d+\.\d)\s+(?P<p95>\d+\.\d)\s+(?P<max>\d+\.\d)"
    r"\s+(?P<cpu>\d+\.\d)\s+(?P<pg>\d+\.\d)\s+(?P<answer>\S.*)$"
)


async def test_the_quick_console_bench_times_every_call_and_writes_its_plans(
    tmp_path: Path,
) -> None:
    plans = tmp_path / "plans.txt"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--plans", str(plans), "--url", "/healthz"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NOTIFIERD_BENCH_PG_ADMIN": ADMIN_URL},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "loaded: 20,000 deliveries" in out, out
    measured = re.search(r"measuring (\d+) calls, 3 runs each", out)
    assert measured is not None, out
    table = out[out.index("call ") :].splitlines()[1:]
    rows = [m for line in table if (m := ROW.match(line))]
    labels = [m["label"] for m in rows]
    # Every call of the table has its figures, the extra --url too, each once.
    assert len(rows) == int(measured[1]) and len(set(labels)) == len(labels), table
    assert "/healthz" in labels
    assert all(float(m["p50"]) <= float(m["p95"]) <= float(m["max"]) for m in rows), table
    # The CPU of the daemon and of its Postgres backends was counted (per call it may round
    # to 0.0: the kernel counts in 10 ms ticks).
    assert sum(float(m["cpu"]) for m in rows) > 0 and sum(float(m["pg"]) for m in rows) > 0
    by_label = {m["label"]: m["answer"] for m in rows}
    assert by_label["deliveries: first page"].startswith("50 deliveries")
    assert by_label["deliveries: request id"].startswith("3 deliveries")
    # The API answers a page of the newest 500 unless asked for fewer.
    assert by_label["alert: long timeline (2,000 events), default page"].startswith("500 timeline")
    assert by_label["alert: long timeline, newest 200"].startswith("200 timeline")
    assert by_label["audit log"].startswith("50 entries")
    # Every console page was timed, authenticated (the daemon has a token: an unauthenticated
    # page would have answered 401 and stopped the bench).
    pages = [label for label in labels if label.startswith("page: ")]
    assert {"page: alerts", "page: alert, long timeline", "page: on call", "page: deliveries",
            "page: request", "page: dead letters", "page: config", "page: audit"} <= set(pages)  # fmt: skip
    assert all(by_label[label].endswith(" B") for label in pages)
    # One plan per query behind a call, each an EXPLAIN ANALYZE with its buffers.
    text = plans.read_text()
    written = re.search(r"(\d+) query plans", out)
    assert written is not None and int(written[1]) >= 30, out
    sections = text.split("=== ")[1:]
    assert len(sections) == int(written[1])
    assert all("Execution Time:" in s and "Buffers:" in s for s in sections)
    assert any("search_deliveries" in s for s in sections)
    # The database it made is gone (no --keep-db).
    database = re.search(r"^database: (\S+) \(dropped at the end\)$", out, re.MULTILINE)
    assert database is not None, out
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        left = await admin.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = $1", database[1]
        )
    finally:
        await admin.close()
    assert left == 0
