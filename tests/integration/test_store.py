"""The Store against a real Postgres: migrations, batch writes, idempotent replays, DLQ, reports."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import asyncpg

from notifierd.store.alerts import AlertStore
from notifierd.store.db import Store
from notifierd.store.records import (
    DeadRequest,
    DeliveryRecord,
    RequestRecord,
    RetryOutcome,
    StepRef,
)

NOW = datetime.now(UTC)


def request(rid: str) -> RequestRecord:
    return RequestRecord(
        id=rid,
        kind="notification",
        outcome="routed",
        received_at=NOW,
        payload=json.dumps({"id": rid, "title": "t", "message": "m"}),
        routes=["default"],
    )


async def test_migrations_apply_once(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    try:
        async with store.pool.acquire() as conn:
            from notifierd.store.migrate import migrate

            assert await migrate(conn) == []  # connect() already applied them
            tables = {
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                )
            }
        assert {
            "requests",
            "deliveries",
            "delivery_events",
            "dead_letters",
            "rejected_requests",
        } <= tables
    finally:
        await store.close()


async def test_batch_write_and_status(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    try:
        ok = DeliveryRecord(
            "r1", "ops-slack", "slack", "#ops", "delivered", attempts=1, latency_ms=12.5
        )
        bad = DeliveryRecord(
            "r1", "ops-email", "email", "a@b.c", "dead", attempts=1, last_error="550 no such user"
        )
        await store.write_batch([request("r1")], [ok, bad])
        status = await store.request_status("r1")
        assert status is not None
        assert status["status"] == "partial"
        by_channel = {d["channel"]: d for d in status["deliveries"]}
        assert by_channel["ops-slack"]["status"] == "delivered"
        assert by_channel["ops-email"]["error"] == "550 no such user"
        assert [e["status"] for e in by_channel["ops-email"]["history"]] == ["dead"]
        dlq = await store.dlq_list(None, 10)
        assert [(r.request_id, r.channel, r.error) for r in dlq] == [
            ("r1", "ops-email", "550 no such user")
        ]
        assert await store.request_status("nope") is None
    finally:
        await store.close()


async def test_a_batch_writes_every_row_whatever_its_empty_columns(pg_url: str) -> None:
    # Rows of one batch with and without values in the same field: each keeps its own.
    store = await Store.connect(pg_url)
    try:
        rows = [
            DeliveryRecord(f"e{n}", "hook", "webhook", "", "delivered", attempts=1)
            for n in range(3)
        ]
        mixed = [
            DeliveryRecord("m0", "hook", "webhook", "", "delivered", provider_id="p-0"),
            DeliveryRecord("m1", "hook", "webhook", "", "delivered"),
        ]
        await store.write_batch([request(f"e{n}") for n in range(3)], rows)
        await store.write_batch([request("m0"), request("m1")], mixed)
        async with store.pool.acquire() as conn:
            written = await conn.fetch(
                "SELECT request_id, attempts, provider_id, last_error, next_attempt_at "
                "FROM deliveries ORDER BY request_id"
            )
            requests = await conn.fetch("SELECT id, producer, alert_id FROM requests ORDER BY id")
        assert [tuple(r) for r in written] == [
            ("e0", 1, None, None, None),
            ("e1", 1, None, None, None),
            ("e2", 1, None, None, None),
            ("m0", 0, "p-0", None, None),
            ("m1", 0, None, None, None),
        ]
        assert [tuple(r) for r in requests] == [
            (rid, None, None) for rid in ("e0", "e1", "e2", "m0", "m1")
        ]
    finally:
        await store.close()


async def test_every_field_of_a_batch_lands_in_its_own_column(pg_url: str) -> None:
    # The batch travels as rows of the types request_outcome and delivery_outcome (migration
    # 0022): a field out of order would put a value in a neighbour's column.
    store = await Store.connect(pg_url)
    try:
        at = datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC)
        step = RequestRecord(
            id="a1:r2l3",
            kind="alert",
            outcome="suppressed",
            payload=json.dumps({"id": "a1:r2l3", "title": "t"}),
            received_at=at,
            reason="quiet hours",
            routes=["r-one", "r-two"],
            snapshot_id="cfg-1",
            step=StepRef("a1", 1, 3),
            producer="team-a",
        )
        row = DeliveryRecord(
            "a1:r2l3",
            "pager",
            "webhook",
            "schedule:primary",
            "retrying",
            attempts=2,
            last_error="503 busy",
            latency_ms=12.5,
            template="page@4",
            note="a note",
            rendered=json.dumps({"text": "hi"}),
            provider_id="prov-9",
            snapshot_id="cfg-2",
            next_attempt_at=at + timedelta(seconds=30),
            resolved_person="alice",
            resolved_via="rotation",
            resolved_address="https://example.test/alice",
        )
        await store.write_batch([step], [row])
        async with store.pool.acquire() as conn:
            req = await conn.fetchrow(
                "SELECT id, kind, outcome, reason, payload, routes, snapshot_id, received_at, "
                "alert_id, step_round, step_level, producer FROM requests"
            )
            got = await conn.fetchrow(
                "SELECT id, request_id, channel, channel_type, recipient, status, attempts, "
                "last_error, latency_ms, template, note, rendered, provider_id, snapshot_id, "
                "next_attempt_at, resolved_person, resolved_via, resolved_address FROM deliveries"
            )
        assert dict(req) == {
            "id": "a1:r2l3",
            "kind": "alert",
            "outcome": "suppressed",
            "reason": "quiet hours",
            "payload": json.dumps({"id": "a1:r2l3", "title": "t"}),
            "routes": json.dumps(["r-one", "r-two"]),
            "snapshot_id": "cfg-1",
            "received_at": at,
            "alert_id": "a1",
            "step_round": 1,
            "step_level": 3,
            "producer": "team-a",
        }
        assert dict(got) == {
            "id": row.id,
            "request_id": "a1:r2l3",
            "channel": "pager",
            "channel_type": "webhook",
            "recipient": "schedule:primary",
            "status": "retrying",
            "attempts": 2,
            "last_error": "503 busy",
            "latency_ms": 12.5,
            "template": "page@4",
            "note": "a note",
            "rendered": json.dumps({"text": "hi"}),
            "provider_id": "prov-9",
            "snapshot_id": "cfg-2",
            "next_attempt_at": at + timedelta(seconds=30),
            "resolved_person": "alice",
            "resolved_via": "rotation",
            "resolved_address": "https://example.test/alice",
        }
    finally:
        await store.close()


async def test_nul_in_text_from_outside_is_written_escaped_with_the_rest_of_its_batch(
    pg_url: str,
) -> None:
    # Postgres refuses NUL in text; the batch that holds one is written again with it escaped,
    # every row of it, rather than losing the batch.
    store = await Store.connect(pg_url)
    try:
        refused = request("n1")
        refused.reason = "bad\x00input"
        rows = [
            DeliveryRecord(
                "n1", "hook", "webhook", "", "dead", attempts=1, last_error="upstream \x00 junk"
            ),
            DeliveryRecord("n1", "mail", "email", "a@b.c", "delivered", provider_id="id\x00x"),
        ]
        await store.write_batch([refused, request("n2")], rows)
        async with store.pool.acquire() as conn:
            reasons = await conn.fetch("SELECT id, reason FROM requests ORDER BY id")
            written = await conn.fetch(
                "SELECT channel, last_error, provider_id FROM deliveries ORDER BY channel"
            )
        assert [tuple(r) for r in reasons] == [("n1", "bad\\x00input"), ("n2", None)]
        assert [tuple(r) for r in written] == [
            ("hook", "upstream \\x00 junk", None),
            ("mail", None, "id\\x00x"),
        ]
    finally:
        await store.close()


async def test_nul_in_a_batch_written_in_a_transaction_is_written_escaped_whole(
    pg_url: str,
) -> None:
    # A batch with a dead request is a transaction (the dead request first): refused for a NUL,
    # it rolls back whole and is written again whole, not with the dead request twice or lost.
    store = await Store.connect(pg_url)
    try:
        letter = DeadRequest("t1", "notifierd:requests", '{"id": "t1"}', "internal error")
        row = DeliveryRecord(
            "t2", "hook", "webhook", "", "dead", attempts=1, last_error="body \x00 here"
        )
        await store.write_batch([request("t2")], [row], [letter])
        async with store.pool.acquire() as conn:
            dead = await conn.fetch("SELECT request_id, error FROM dead_requests")
            errors = await conn.fetch("SELECT last_error FROM deliveries")
            letters = await conn.fetch("SELECT error FROM dead_letters")
        assert [tuple(r) for r in dead] == [("t1", "internal error")]
        assert [r["last_error"] for r in errors] == ["body \\x00 here"]
        assert [r["error"] for r in letters] == ["body \\x00 here"]
    finally:
        await store.close()


async def test_replay_never_overwrites_a_final_delivery(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    try:
        await store.write_batch(
            [request("r2")], [DeliveryRecord("r2", "c", "slack", "#x", "delivered", attempts=1)]
        )
        # A recovered request processed again: the same pair arrives as retrying; it must not win.
        await store.write_batch(
            [request("r2")], [DeliveryRecord("r2", "c", "slack", "#x", "retrying", attempts=1)]
        )
        known = await store.known_deliveries(["r2"])
        assert known == {("r2", "c", "#x"): "delivered"}
        status = await store.request_status("r2")
        assert status is not None and len(status["deliveries"]) == 1
        assert status["deliveries"][0]["attempts"] == 1
    finally:
        await store.close()


async def test_history_of_a_delivery_final_at_once_is_its_row(pg_url: str) -> None:
    """Delivered at the first write: no event row, one history entry read off the delivery.
    Anything that passed through another status first keeps every event."""
    store = await Store.connect(pg_url)
    try:
        await store.write_batch(
            [request("h1")],
            [
                DeliveryRecord("h1", "now", "webhook", "", "delivered", attempts=1, latency_ms=7.5),
                DeliveryRecord("h1", "dry", "webhook", "", "dry_run", attempts=1),
                DeliveryRecord(
                    "h1",
                    "later",
                    "webhook",
                    "",
                    "retrying",
                    attempts=1,
                    last_error="HTTP 503",
                    next_attempt_at=NOW,
                ),
            ],
        )
        # The same request replayed after a crash: its retrying delivery now went through.
        await store.write_batch(
            [request("h1")],
            [DeliveryRecord("h1", "later", "webhook", "", "delivered", attempts=1, latency_ms=9)],
        )
        async with store.pool.acquire() as conn:
            events = await conn.fetch(
                "SELECT d.channel, e.status FROM delivery_events e "
                "JOIN deliveries d ON d.id = e.delivery_id ORDER BY e.id"
            )
            updated_at = await conn.fetchval(
                "SELECT updated_at FROM deliveries WHERE channel = 'now'"
            )
        assert [(e["channel"], e["status"]) for e in events] == [
            ("later", "retrying"),
            ("later", "delivered"),
        ]
        status = await store.request_status("h1")
        assert status is not None
        history = {d["channel"]: d["history"] for d in status["deliveries"]}
        assert history["now"] == [
            {
                "status": "delivered",
                "attempt": 1,
                "error": None,
                "latency_ms": 7.5,
                "at": updated_at.isoformat(),
            }
        ]
        assert [e["status"] for e in history["dry"]] == ["dry_run"]
        assert [(e["status"], e["attempt"]) for e in history["later"]] == [
            ("retrying", 1),
            ("delivered", 2),
        ]
    finally:
        await store.close()


async def test_retry_claim_is_exclusive_and_finishes(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    try:
        due = NOW - timedelta(seconds=1)
        recs = [
            DeliveryRecord(
                "r3",
                f"c{i}",
                "webhook",
                "",
                "retrying",
                attempts=1,
                next_attempt_at=due,
                last_error="HTTP 503",
            )
            for i in range(5)
        ]
        await store.write_batch([request("r3")], recs)
        room = {f"c{i}": 1 for i in range(5)}
        first = await store.claim_due_retries({f"c{i}": 1 for i in range(3)}, 60)
        second = await store.claim_due_retries(room, 60)
        assert len(first) == 3 and len(second) == 2
        assert not {r.id for r in first} & {r.id for r in second}
        assert json.loads(first[0].payload)["id"] == "r3"
        await store.finish_retries(
            [RetryOutcome(r.id, "delivered", 2, latency_ms=5.0) for r in first]
            + [RetryOutcome(r.id, "dead", 2, last_error="HTTP 404") for r in second]
        )
        assert await store.claim_due_retries(room, 60) == []
        assert len(await store.dlq_list(None, 10)) == 2
        assert await store.dlq_retry(all_=True) == 2
        again = await store.claim_due_retries(room, 60)
        assert len(again) == 2 and all(r.attempts == 0 for r in again)
        assert await store.dlq_list(None, 10) == []
    finally:
        await store.close()


async def test_retry_claims_compare_with_the_time_given(pg_url: str) -> None:
    """Tests give their clock's time; production gives None: Postgres' now()."""
    store = await Store.connect(pg_url)
    try:
        later = NOW + timedelta(hours=1)
        await store.write_batch(
            [request("r4")],
            [
                DeliveryRecord("r4", c, "webhook", "", "retrying", next_attempt_at=later)
                for c in ("kept", "gone")
            ],
        )
        room = {"kept": 5}
        assert await store.claim_due_retries(room, 60, elsewhere=5) == []  # not yet, by Postgres
        at = later + timedelta(seconds=1)
        assert (
            await store.claim_due_retries(room, 60, elsewhere=5, now=at - timedelta(seconds=2))
            == []
        )
        claimed = await store.claim_due_retries(room, 60, elsewhere=5, now=at)
        assert sorted(r.channel for r in claimed) == ["gone", "kept"]
        # Their leases run from that time too: over 60 s after it, not before.
        within = at + timedelta(seconds=59)
        assert await store.claim_due_retries(room, 60, elsewhere=5, now=within) == []
        over = at + timedelta(seconds=61)
        assert len(await store.claim_due_retries(room, 60, elsewhere=5, now=over)) == 2
    finally:
        await store.close()


async def test_step_claims_compare_with_the_time_given(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    alerts = AlertStore(store.pool)
    try:
        later = NOW + timedelta(hours=1)
        await alerts.open("a1", "k", "p", "t", None, "snap", NOW, [(0, 1, later)], "{}")
        assert await alerts.claim_due_steps(10, 60, "r") == []  # not yet, by Postgres
        assert await alerts.claim_due_steps(10, 60, "r", later - timedelta(seconds=1)) == []
        [due] = await alerts.claim_due_steps(10, 60, "r", later)
        assert (due.step, due.due_at) == (StepRef("a1", 0, 1), later)
        assert await alerts.reclaim_expired_steps(later + timedelta(seconds=59)) == 0
        assert await alerts.reclaim_expired_steps(later + timedelta(seconds=61)) == 1
        # A failed step is due again some seconds after the time given, not after Postgres' now.
        [due] = await alerts.claim_due_steps(10, 60, "r", later)
        await alerts.retry_steps_later([("a1", 0, 1)], 5, later)
        assert await alerts.reclaim_expired_steps(later + timedelta(seconds=4)) == 0
        assert await alerts.reclaim_expired_steps(later + timedelta(seconds=6)) == 1
    finally:
        await store.close()


async def test_metrics_and_history(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    try:
        await store.write_batch(
            [request("a"), request("b")],
            [
                DeliveryRecord(
                    "a", "ops-slack", "slack", "#ops", "delivered", attempts=1, latency_ms=10
                ),
                DeliveryRecord(
                    "b", "ops-slack", "slack", "#ops", "delivered", attempts=3, latency_ms=30
                ),
                DeliveryRecord(
                    "b", "ops-email", "email", "x@y.z", "dead", attempts=4, last_error="boom"
                ),
            ],
        )
        await store.record_rejected("{not json", "not JSON: line 1 column 2")
        m = await store.metrics(NOW - timedelta(hours=1))
        slack = next(c for c in m["channels"] if c["channel"] == "ops-slack")
        assert (slack["total"], slack["delivered"], slack["retries"]) == (2, 2, 2)
        assert slack["avg_latency_ms"] == 20
        assert m["requests"] == {"routed": 2} and m["rejected"] == 1
        rows = await store.history(NOW - timedelta(hours=1), "email", None, 10)
        assert [(r.request_id, r.status) for r in rows] == [("b", "dead")]
        rows = await store.history(NOW - timedelta(hours=1), None, "delivered", 1)
        assert len(rows) == 1
    finally:
        await store.close()


async def test_unreachable_postgres_is_one_line(pg_url: str) -> None:
    from notifierd.errors import ServiceUnavailable

    try:
        await Store.connect("postgresql://postgres:secret@127.0.0.1:1/x")
    except ServiceUnavailable as exc:
        text = str(exc)
        assert "127.0.0.1:1" in text and "secret" not in text and "\n" not in text
    else:
        raise AssertionError("expected ServiceUnavailable")


async def test_the_lookup_before_each_send_uses_the_index_on_a_table_never_analyzed(
    pg_url: str,
) -> None:
    """A deliveries table that grew from empty has no statistics until autovacuum first
    analyzes it; the planner then guessed that a batch's 100 request ids match a third of the
    table and scanned it whole on every lookup (a burst into a new database read 20 million
    rows). The lookups' connections plan the index whatever the statistics, and cache it."""
    from notifierd.store.queries import q

    store = await Store.connect(pg_url)
    sent: list[str] = []
    try:
        async with store.pool.acquire() as conn:
            # Analyzed meanwhile, the table would no longer be the case under test.
            await conn.execute("ALTER TABLE deliveries SET (autovacuum_enabled = off)")
            await conn.execute(
                """INSERT INTO requests (id, kind, outcome, payload, received_at)
                   SELECT 'r' || g, 'notification', 'routed', '{}', now()
                   FROM generate_series(1, 20000) AS g;
                   INSERT INTO deliveries (id, request_id, channel, channel_type, recipient, status)
                   SELECT gen_random_uuid(), 'r' || g, 'hook', 'webhook', '', 'delivered'
                   FROM generate_series(1, 20000) AS g"""
            )
            assert await conn.fetchval(
                "SELECT last_analyze IS NULL AND last_autoanalyze IS NULL FROM pg_stat_user_tables"
                " WHERE relname = 'deliveries'"
            )
        ids = [f"r{n}" for n in range(1, 201, 2)]
        explain = f"EXPLAIN (FORMAT JSON) {q('known_deliveries')}"

        def scans(plan: dict) -> set[str]:
            return {plan["Node Type"]} | {n for sub in plan.get("Plans", []) for n in scans(sub)}

        async with store.pool.acquire() as conn:  # every other query's settings
            [main] = json.loads(await conn.fetchval(explain, ids))
        assert "Seq Scan" in scans(main["Plan"]), "the case this guards against is gone"
        async with store.lookups.acquire() as conn:
            conn.add_query_logger(lambda record: sent.append(record.query))
            [lookup] = json.loads(await conn.fetchval(explain, ids))
        assert "Seq Scan" not in scans(lookup["Plan"])
        sent.clear()

        known = await store.known_deliveries(ids)
        assert len(known) == 100 and known["r1", "hook", ""] == "delivered"
        await asyncio.sleep(0)  # asyncpg calls query loggers on the loop's next turn
        assert sent == [q("known_deliveries")]  # asked on the lookups' connection
    finally:
        await store.close()


async def test_a_connection_goes_back_to_the_pool_without_a_reset_round_trip(pg_url: str) -> None:
    """asyncpg's default reset (pg_advisory_unlock_all, CLOSE ALL, UNLISTEN, RESET ALL) is a
    second trip to Postgres before pool.fetch returns; the pool's connection was last asked the
    query itself, and a transaction left behind is still rolled back."""
    store = await Store.connect(pg_url, min_size=1, max_size=1)
    watcher = await asyncpg.connect(pg_url)
    try:
        await store.pool.fetch("SELECT 1")
        pid = await store.pool.fetchval("SELECT pg_backend_pid()")
        last = await watcher.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        assert last == "SELECT pg_backend_pid()"
        async with store.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()  # never committed: the pool must not hand it on
            await conn.execute("CREATE TEMP TABLE left_behind (x int)")
        async with store.pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None
    finally:
        await watcher.close()
        await store.close()


async def test_a_batch_is_one_statement_and_one_commit_with_a_cached_plan(pg_url: str) -> None:
    """At a steady rate every batch is a request or two: a transaction around a statement per
    table was four trips to Postgres (BEGIN, two statements, COMMIT), and planning the statement
    anew each time was half of Postgres' work for it. A batch with a dead request still writes
    it in the same transaction."""
    from notifierd.store.queries import q

    store = await Store.connect(pg_url, min_size=1, max_size=1)
    sent: list[str] = []
    try:
        for pool in (store.pool, store.writes):
            async with pool.acquire() as conn:
                conn.add_query_logger(lambda record: sent.append(record.query))
        # The first batch prepares its statement (asyncpg introspects types once): not counted.
        await store.write_batch([request("zero")], [])
        await store.write_batch([], [], [DeadRequest("zero", "q", "{}", "x")])
        sent.clear()
        delivered = DeliveryRecord("one", "hook", "webhook", "", "delivered", attempts=1)
        await store.write_batch([request("one")], [delivered])
        await asyncio.sleep(0)  # asyncpg calls query loggers on the loop's next turn
        assert sent == [q("record_outcomes")]
        status = await store.request_status("one")
        assert status is not None and status["deliveries"][0]["status"] == "delivered"

        for n in range(8):  # Postgres tries a generic plan after five custom ones
            await store.write_batch([request(f"more-{n}")], [])
        # Prepared statements are per session: asked on the connection the writes are kept on.
        [prepared] = await store._batches.fetch(
            "SELECT generic_plans FROM pg_prepared_statements WHERE statement = $1",
            q("record_outcomes"),
        )
        assert prepared["generic_plans"] > 0

        await asyncio.sleep(0)
        sent.clear()
        letter = DeadRequest("two", "notifierd:requests", '{"id": "two"}', "internal error")
        await store.write_batch([request("two")], [], [letter])
        await asyncio.sleep(0)
        assert sent == ["BEGIN;", q("upsert_dead_requests"), q("record_outcomes"), "COMMIT;"]
        async with store.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM dead_requests") == 2
            assert await conn.fetchval("SELECT count(*) FROM requests") == 11
    finally:
        await store.close()
