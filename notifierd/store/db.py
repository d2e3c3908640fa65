"""The Store: an asyncpg pool and one method per named query; batch writes use unnest."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from notifierd.errors import InvalidServiceUrl, ServiceUnavailable, mask_url
from notifierd.reconnect import Backoff, until_done
from notifierd.status import COMPLETE_AT_FIRST_WRITE, FINAL_DELIVERY_STATUSES, DeliveryStatus
from notifierd.store.lease import Lease
from notifierd.store.migrate import migrate
from notifierd.store.outcomes import delivery_rows, request_rows
from notifierd.store.queries import q
from notifierd.store.records import DeadRequest, DeliveryRecord, RequestRecord, RetryOutcome
from notifierd.store.rows import (
    AlertGauges,
    DeadLetter,
    DeliverySearch,
    DueRetry,
    HistoryEntry,
    from_rows,
)

# Seconds to open a connection: a server that accepts and never answers is given up on.
CONNECT_TIMEOUT = 10.0


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset of a connection it takes back: nothing to send.

    asyncpg's default sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL`` on every release, a round trip that ``pool.fetch`` waits for before it returns: a
    second trip to Postgres in front of every delivery (the intake's lookup) and behind every
    batch write. Nothing here leaves session state behind (no SET, LISTEN or cursor outside a
    transaction; the migrations' advisory lock is released by them, or their connection
    closed); asyncpg still rolls back a transaction left open before calling this.
    """


def is_transient(exc: BaseException) -> bool:
    """True for a lost or refused connection (worth retrying), False for a bad statement or value."""
    return isinstance(
        exc,
        (
            OSError,
            TimeoutError,
            asyncpg.InterfaceError,
            asyncpg.PostgresConnectionError,
            asyncpg.CannotConnectNowError,
            asyncpg.TooManyConnectionsError,
            asyncpg.AdminShutdownError,
            # A pooled connection left mid-operation when its server connection was cut ("cannot
            # switch to state ..."): the next try gets another connection.
            asyncpg.InternalClientError,
            # A deadlock or serialization failure between concurrent writers: the statement
            # rolled back whole and succeeds when run again.
            asyncpg.TransactionRollbackError,
            # Out of connections, memory or disk (class 53); shutting down, restarting or a
            # statement cancelled by an operator or a timeout (class 57); a failover that left
            # us on a read-only server (25006): all pass once the server is back.
            asyncpg.InsufficientResourcesError,
            asyncpg.OperatorInterventionError,
            asyncpg.ReadOnlySQLTransactionError,
        ),
    )


def storable_text(raw: bytes) -> str:
    """Raw input as text Postgres accepts: invalid UTF-8 and NUL bytes written as escapes."""
    return raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


# The status sets record_outcomes takes, defined once in notifierd.status.
_FINAL = sorted(FINAL_DELIVERY_STATUSES)
_COMPLETE_AT_FIRST_WRITE = sorted(COMPLETE_AT_FIRST_WRITE)


def _storable(value: Any) -> Any:
    # Text from outside — a provider's error body, a header — may hold NUL, which Postgres
    # refuses in text: a refusal would cost the whole batch's records.
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\\x00")
    return value


def _array(values: list[Any]) -> list[Any] | None:
    """A column of a batch as an array parameter of a multi-array ``unnest``, which pads a
    shorter array with NULLs: a column with no value in any row (most of a delivery's in a
    burst) is sent as one NULL, not one NULL per row, which asyncpg checks one by one (~0.15 µs
    each, ~2 µs per request over a batch's columns). Every batch has a column that is a key."""
    for value in values:
        if value is not None:
            return values
    return None


def _columns(rows: Sequence[Any], *names: str) -> list[list[Any] | None]:
    return [_array([_storable(getattr(r, n)) for r in rows]) for n in names]


async def known_deliveries(
    pool: asyncpg.Pool, request_ids: Iterable[str]
) -> dict[tuple[str, str, str], str]:
    """(request, channel, recipient) -> status already recorded for these requests."""
    ids = list(request_ids)
    if not ids:
        return {}
    return _known(await pool.fetch(q("known_deliveries"), ids))


def _known(rows: Iterable[asyncpg.Record]) -> dict[tuple[str, str, str], str]:
    return {(r["request_id"], r["channel"], r["recipient"]): r["status"] for r in rows}


def _paged(row: asyncpg.Record) -> dict[str, Any]:
    """Who a schedule delivery paged, for the deliveries that name a schedule."""
    if row["resolved_via"] is None:
        return {}
    return {
        "paged": {
            "person": row["resolved_person"],
            "via": row["resolved_via"],
            "address": row["resolved_address"],
        }
    }


async def _insert_fallbacks(conn: asyncpg.Connection, rows: Sequence[DeliveryRecord]) -> None:
    """Fallback deliveries of dead ones just recorded (query insert_fallbacks)."""
    if rows:
        await conn.execute(
            q("insert_fallbacks"),
            *_columns(
                rows,
                "id",
                "request_id",
                "channel",
                "channel_type",
                "recipient",
                "status",
                "last_error",
                "template",
                "note",
                "rendered",
                "snapshot_id",
                "next_attempt_at",
                "attempts",
                "fallback_of",
            ),
            DeliveryStatus.DEAD,
        )


# How long a queued webhook request may go without an outcome before a re-send of its payload
# queues it again (the queue lost it): far longer than any queue backlog should last.
WEBHOOK_REQUEUE_AFTER = timedelta(minutes=10)


async def _open_pool(
    url: str, min_size: int, max_size: int, plan_cache_mode: str, **settings: str
) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        timeout=CONNECT_TIMEOUT,
        command_timeout=60,
        reset=keep_session,
        server_settings={
            "plan_cache_mode": plan_cache_mode,
            "application_name": "notifierd",
            **settings,
        },
    )


class Store:
    def __init__(
        self,
        pool: asyncpg.Pool,
        url: str = "",
        writes: asyncpg.Pool | None = None,
        lookups: asyncpg.Pool | None = None,
    ) -> None:
        self.pool = pool
        self.url = url
        # The batch writes' and the lookups' own connections (see connect); the main pool's
        # when not given.
        self.writes = writes or pool
        self.lookups = lookups or pool
        # The two calls made for every request at a steady rate, each on a connection kept.
        self._lookups = Lease(self.lookups)
        # Two leases on one pool could keep both connections of a pool of two.
        self._batches = Lease(self.writes) if self.writes is not self.lookups else self._lookups

    @classmethod
    async def connect(
        cls, url: str, *, min_size: int = 2, max_size: int = 10, apply_migrations: bool = True
    ) -> Store:
        """Open a pool (and migrate); a server that is down is a one-line ServiceUnavailable."""
        try:
            # Plan each execution: a generic plan cached while the tables were still empty
            # keeps scanning them whole once they hold millions of rows.
            pool = await _open_pool(url, min_size, max_size, "force_custom_plan")
            # The batch write (record_outcomes) reads no table, so its plan does not depend on
            # their sizes; planning it, five CTEs, is most of Postgres' work for a batch of one
            # (~240 µs of ~475), which is every batch at a steady rate. Its connections keep
            # Postgres' cached plan; opened on the first write (commands that only read never do).
            writes = await _open_pool(url, 0, 2, "auto")
            # The lookup before each send (known_deliveries) must use the index on request_id
            # whatever Postgres knows of the table. Until autovacuum first analyzes it (a
            # minute at the soonest), a deliveries table that grew from empty has no
            # statistics, and the planner, guessing that 100 request ids match a third of it,
            # scanned it whole for every batch taken: a burst into a new database read 20
            # million rows for 60,000 requests, half of Postgres' work (bench/README.md). With
            # sequential scans off, the index is the plan at every size, so it is also
            # cached (plan_cache_mode auto), where the main pool plans every execution.
            # One connection kept (Lease), the rest for lookups made at once (requests waiting
            # behind an earlier one of their alert look up one by one).
            lookups = await _open_pool(url, 0, min(4, max_size), "auto", enable_seqscan="off")
        except (ValueError, asyncpg.ClientConfigurationError) as exc:
            raise InvalidServiceUrl(
                f"invalid PostgreSQL URL {mask_url(url)}: {exc}; set POSTGRES_URL, e.g. "
                "postgresql://user:password@127.0.0.1:5432/notifierd"
            ) from None
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            # A server that accepts but never answers times out with no message of its own.
            reason = str(exc) or f"no answer within {CONNECT_TIMEOUT:g}s"
            raise ServiceUnavailable(
                f"cannot reach PostgreSQL at {mask_url(url)}: {reason}. Start it (e.g. `pg_ctlcluster 15 "
                "main start`) or set POSTGRES_URL"
            ) from None
        store = cls(pool, url, writes, lookups)
        if apply_migrations:
            await store._migrate()
        return store

    async def _migrate(self, attempts: int = 6) -> None:
        """Apply migrations; a connection lost meanwhile (Postgres restarting) is retried: each
        migration is one transaction, so a retry starts from what was committed."""

        async def once() -> None:
            async with self.pool.acquire() as conn:
                try:
                    await migrate(conn)
                except BaseException:
                    # It may still hold the migrations' advisory lock, which the pool does
                    # not reset (keep_session): closed, not handed to the next user.
                    conn.terminate()
                    raise

        try:
            await until_done(
                once,
                what="migrating",
                retry_if=is_transient,
                max_attempts=attempts,
                backoff=Backoff(initial=0.2),
            )
        except Exception as exc:
            if not is_transient(exc):
                raise
            await self.close()
            raise ServiceUnavailable(
                f"lost PostgreSQL at {mask_url(self.url)} while migrating, {attempts} times: {exc}"
            ) from None

    async def close(self) -> None:
        # Every step runs even when one before it fails; the leases before their pools, which
        # wait for every connection to come back.
        async with contextlib.AsyncExitStack() as steps:
            steps.push_async_callback(self.pool.close)
            for own in (self.writes, self.lookups):
                if own is not self.pool:
                    steps.push_async_callback(own.close)
            steps.push_async_callback(self._batches.close)
            steps.push_async_callback(self._lookups.close)

    async def ping(self) -> bool:
        try:
            async with self.pool.acquire(timeout=2) as conn:
                return await conn.fetchval("SELECT 1") == 1
        except Exception:
            return False

    async def write_batch(
        self,
        requests: Sequence[RequestRecord],
        deliveries: Sequence[DeliveryRecord],
        dead: Sequence[DeadRequest] = (),
    ) -> None:
        """Requests, delivery outcomes, events and dead letters of a batch, in one transaction:
        a batch without dead requests or fallbacks (nearly all) is one statement, so one round
        trip and one commit."""
        if not requests and not deliveries and not dead:
            return
        try:
            await self._write_batch(requests, deliveries, dead, escape_nul=False)
        except asyncpg.CharacterNotInRepertoireError:
            # Text from outside (a provider's error body, a header) may hold NUL, which Postgres
            # refuses in text. Rather than look for one in every value of every batch, the rare
            # batch that has one is written again with it escaped: the refused statement, or
            # its transaction, wrote nothing.
            await self._write_batch(requests, deliveries, dead, escape_nul=True)

    async def _write_batch(
        self,
        requests: Sequence[RequestRecord],
        deliveries: Sequence[DeliveryRecord],
        dead: Sequence[DeadRequest],
        *,
        escape_nul: bool,
    ) -> None:
        outcomes = (
            request_rows(requests, escape_nul),
            delivery_rows(deliveries, escape_nul),
            _FINAL,
            _COMPLETE_AT_FIRST_WRITE,
        )
        fallbacks = [f for d in deliveries for f in d.fallbacks]
        if not dead and not fallbacks:
            await self._batches.execute(q("record_outcomes"), *outcomes)
            return
        # insert_fallbacks reads deliveries: planned each time, on the main pool.
        async with self.pool.acquire() as conn, conn.transaction():
            if dead:
                await conn.execute(
                    q("upsert_dead_requests"),
                    *_columns(dead, "request_id", "queue", "raw", "error"),
                )
            await conn.execute(q("record_outcomes"), *outcomes)
            await _insert_fallbacks(conn, fallbacks)

    async def known_deliveries(self, request_ids: Iterable[str]) -> dict[tuple[str, str, str], str]:
        """(request, channel, recipient) -> status already recorded for these requests."""
        ids = list(request_ids)
        if not ids:
            return {}
        return _known(await self._lookups.fetch(q("known_deliveries"), ids))

    async def claim_due_retries(
        self,
        room: Mapping[str, int],
        lease_seconds: float,
        *,
        elsewhere: int = 0,
        now: datetime | None = None,
    ) -> list[DueRetry]:
        """Retries due by ``now`` (None: Postgres' clock, as in production), at most
        ``room[channel]`` of each channel; and up to ``elsewhere`` of channels not in ``room``
        (gone from the config), in the same round."""
        channels = [name for name, n in room.items() if n > 0]
        rows: list[asyncpg.Record] = []
        if channels:
            rows = await self.pool.fetch(
                q("claim_due_retries"), channels, [room[c] for c in channels], lease_seconds, now
            )
        if elsewhere > 0:
            rows += await self.pool.fetch(
                q("claim_due_retries_elsewhere"), list(room), elsewhere, lease_seconds, now
            )
        return from_rows(DueRetry, rows)

    async def finish_retries(self, outcomes: Sequence[RetryOutcome]) -> None:
        """Outcomes of claimed retries; a dead one's fallbacks in the same transaction."""
        if not outcomes:
            return
        columns = _columns(
            outcomes,
            "id",
            "status",
            "attempts",
            "last_error",
            "latency_ms",
            "provider_id",
            "next_attempt_at",
            "resolved_person",
            "resolved_via",
            "resolved_address",
        )
        fallbacks = [f for o in outcomes for f in o.fallbacks]
        if not fallbacks:  # the common case: one statement, no transaction around it
            await self.pool.execute(q("finish_retries"), *columns)
            return
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(q("finish_retries"), *columns)
            await _insert_fallbacks(conn, fallbacks)

    async def record_rejected(self, raw: str, reason: str, size: int | None = None) -> None:
        """``raw``: what is kept of the request (a prefix of a large one); ``size``: how many
        bytes it had, when ``raw`` is not all of it."""
        await self.pool.execute(q("insert_rejected"), raw, reason, size)

    async def record_sender(self, request_id: str, principal: str) -> None:
        """Remember who sent ``request_id`` over the API, before it is queued."""
        await self.pool.execute(q("record_request_principal"), request_id, principal)

    async def webhook_intake(
        self,
        source: str,
        requests: Sequence[tuple[str, str]],
        principal: str | None,
        push: Callable[[list[bytes]], Awaitable[None]],
    ) -> int:
        """Commit a webhook payload's ``requests`` ((id, JSON) each) and ``push`` those not
        queued yet; returns how many were pushed. Durable before anything is queued: the rows
        (and, for a named ``principal``, who sent each) commit first; then, under their row
        locks, ``push`` and the mark that they are queued. A ``push`` that raises leaves them
        unqueued for the sender's retry, which queues them then and nothing twice. One queued
        more than WEBHOOK_REQUEUE_AFTER ago that still has no outcome was lost with Redis' queue:
        a re-send queues it again."""
        ids = [request_id for request_id, _ in requests]
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                await conn.execute(
                    q("record_webhook_requests"),
                    ids,
                    source,
                    [payload for _, payload in requests],
                    principal or "anonymous",
                )
                if principal is not None:
                    await conn.executemany(
                        q("record_request_principal"), [(i, principal) for i in ids]
                    )
            async with conn.transaction():
                rows = await conn.fetch(q("unqueued_webhook_requests"), ids, WEBHOOK_REQUEUE_AFTER)
                if not rows:
                    return 0
                await push([row["payload"].encode() for row in rows])
                await conn.execute(q("mark_webhook_requests_queued"), [row["id"] for row in rows])
        return len(rows)

    async def known_webhook_requests(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` a webhook payload brought before."""
        rows = await self.pool.fetch(q("known_webhook_requests"), list(ids))
        return {row["id"] for row in rows}

    async def alert_open(self, dedup_key: str) -> bool:
        """Whether an alert with ``dedup_key`` is open (a trigger for it would join it)."""
        return bool(await self.pool.fetchval(q("open_alert_for_key"), dedup_key))

    async def sender(self, request_id: str) -> str | None:
        """The principal recorded for ``request_id``; None for the default queue's requests."""
        return await self.pool.fetchval(q("request_principal"), request_id)  # type: ignore[no-any-return]

    async def request_status(self, request_id: str) -> dict[str, Any] | None:
        """The request, its deliveries and their histories, or None when unknown."""
        async with self.pool.acquire() as conn:
            req = await conn.fetchrow(q("request_by_id"), request_id)
            if req is None:
                return None
            deliveries = await conn.fetch(q("deliveries_of_request"), request_id)
            events = await conn.fetch(q("events_of_request"), request_id)
        by_delivery: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for e in events:
            by_delivery.setdefault(e["delivery_id"], []).append(
                {
                    "status": e["status"],
                    "attempt": e["attempt"],
                    "error": e["error"],
                    "latency_ms": e["latency_ms"],
                    "at": e["at"].isoformat(),
                }
            )
        items = []
        for d in deliveries:
            history = by_delivery.get(d["id"])
            if history is None and d["status"] in COMPLETE_AT_FIRST_WRITE:
                # Written final in one go, so its history is the row itself (record_outcomes).
                history = [
                    {
                        "status": d["status"],
                        "attempt": d["attempts"],
                        "error": d["last_error"],
                        "latency_ms": d["latency_ms"],
                        "at": d["updated_at"].isoformat(),
                    }
                ]
            items.append(
                {
                    "id": str(d["id"]),
                    "channel": d["channel"],
                    "type": d["channel_type"],
                    "recipient": d["recipient"] or None,
                    "status": d["status"],
                    "attempts": d["attempts"],
                    "error": d["last_error"],
                    "latency_ms": d["latency_ms"],
                    "template": d["template"],
                    "note": d["note"],
                    "provider_id": d["provider_id"],
                    "rendered": json.loads(d["rendered"]) if d["rendered"] else None,
                    "next_attempt_at": d["next_attempt_at"].isoformat()
                    if d["next_attempt_at"]
                    else None,
                    "history": history or [],
                    "fallback_of": str(d["fallback_of"]) if d["fallback_of"] else None,
                    "fallbacks": [str(i) for i in d["fallbacks"] or ()],
                    **_paged(d),
                    # The digest this delivery was sent in (status digested), else None.
                    "digested_into": str(d["digested_into"]) if d["digested_into"] else None,
                }
            )
        return {
            "id": req["id"],
            "kind": req["kind"],
            "status": overall_status(req["outcome"], items),
            "outcome": req["outcome"],
            "reason": req["reason"],
            "routes": json.loads(req["routes"]),
            "snapshot": req["snapshot_id"],
            "producer": req["producer"],
            "alert_id": req["alert_id"],
            "step": (
                {"round": req["step_round"], "level": req["step_level"]}
                if req["step_level"] is not None
                else None
            ),
            "received_at": req["received_at"].isoformat(),
            "request": json.loads(req["payload"]),
            "deliveries": items,
        }

    async def search_deliveries(self, search: DeliverySearch) -> list[HistoryEntry]:
        """Deliveries matching ``search``, newest first, at most ``search.limit``."""
        rows = await self.pool.fetch(q("search_deliveries"), *search_arguments(search))
        return from_rows(HistoryEntry, rows)

    async def history(
        self, since: datetime, channel: str | None, status: str | None, limit: int
    ) -> list[HistoryEntry]:
        """Deliveries since ``since``, newest first (``notifierd history``)."""
        return await self.search_deliveries(
            DeliverySearch(
                channel=channel,
                status=DeliveryStatus(status) if status else None,
                since=since,
                limit=limit,
            )
        )

    async def metrics(self, since: datetime) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            channels = await conn.fetch(q("metrics_by_channel"), since)
            outcomes = await conn.fetch(q("request_outcomes"), since)
            rejected = await conn.fetchval(q("count_rejected"), since)
        return {
            "channels": [dict(r) for r in channels],
            "requests": {r["outcome"]: r["n"] for r in outcomes},
            "rejected": rejected,
        }

    async def alert_gauges(self, now: datetime | None = None) -> AlertGauges:
        """Open alerts, and seconds the oldest escalation step that should have fired has
        waited; ``now``: a test's clock (store/due.py), else Postgres' now()."""
        row = await self.pool.fetchrow(q("alert_gauges"), now)
        assert row is not None  # one row, always
        return AlertGauges(int(row["open_alerts"]), float(row["escalation_overdue"]))

    async def dlq_list(self, channel: str | None, limit: int) -> list[DeadLetter]:
        """Dead deliveries and dead requests (``kind``), newest first."""
        return from_rows(DeadLetter, await self.pool.fetch(q("dlq_list"), channel, limit))

    async def dlq_requeue_requests(
        self,
        push: Callable[[str, str], Awaitable[object]],
        *,
        all_: bool,
        request_ids: Sequence[str],
    ) -> int:
        """Put dead requests (all, or those named) back on their queues with ``push(queue, raw)``;
        they count as retried only once every push succeeded."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(q("dlq_take_requests"), all_, list(request_ids))
            for row in rows:
                await push(row["queue"], row["raw"])
        return len(rows)

    async def dlq_requeue(
        self,
        push: Callable[[str, str], Awaitable[object]],
        *,
        all_: bool = False,
        ids: Sequence[str] = (),
    ) -> tuple[int, int]:
        """Requeue dead deliveries for a fresh round of retries and put dead requests back on
        their queues (``push(queue, raw)``): all, or those ``ids`` name. Request ids are often
        UUIDs too, so every id counts as a request id, and as a delivery id when it parses as
        one. Returns (deliveries requeued, requests put back)."""
        deliveries = []
        for value in ids:
            with contextlib.suppress(ValueError):
                deliveries.append(uuid.UUID(value))
        count = await self.dlq_retry(all_=all_, delivery_ids=deliveries, request_ids=list(ids))
        replayed = await self.dlq_requeue_requests(push, all_=all_, request_ids=list(ids))
        return count, replayed

    async def dlq_retry(
        self,
        *,
        all_: bool = False,
        delivery_ids: Sequence[uuid.UUID] = (),
        request_ids: Sequence[str] = (),
    ) -> int:
        return await self.pool.fetchval(q("dlq_retry"), all_, list(delivery_ids), list(request_ids))


def search_arguments(search: DeliverySearch) -> tuple[Any, ...]:
    """The parameters of query ``search_deliveries`` for ``search`` (bench/console.py explains
    the plans of the searches it times with them)."""
    after = search.after
    return (
        search.request_id,
        search.title,
        search.channel,
        search.recipient,
        search.status,
        search.since,
        search.until,
        after.created_at if after else None,
        after.id if after else None,
        search.limit,
    )


def overall_status(outcome: str, deliveries: list[dict[str, Any]]) -> str:
    """One word for a request: its intake outcome, else what its deliveries add up to."""
    if outcome != "routed":
        return outcome
    statuses = {d["status"] for d in deliveries}
    if not statuses:
        return "queued"
    if statuses & {
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENDING,
        DeliveryStatus.RETRYING,
        DeliveryStatus.HELD,
    }:
        return "in_progress"
    if statuses <= {DeliveryStatus.DELIVERED}:
        return "delivered"
    if statuses <= {DeliveryStatus.DRY_RUN}:
        return "dry_run"
    if statuses <= {DeliveryStatus.DEAD}:
        return "failed"
    if DeliveryStatus.DEAD in statuses:
        return "partial"
    return "delivered"
