"""Alert rows in Postgres: open or join, acknowledge, resolve, timelines and escalation steps."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from notifierd.status import AlertStatus
from notifierd.store.queries import q
from notifierd.store.records import StepRef
from notifierd.store.rows import (
    Alert,
    AlertSummary,
    EventCursor,
    OpenedAlert,
    TimelinePage,
    from_row,
    from_rows,
)

CHANGES_PER_POLL = 1000  # a poll that finds this many continues from the last one next time


@dataclass(frozen=True, slots=True)
class ChangedAlert:
    """An alert as it is now, and when it last changed (its row, or a level that fired)."""

    alert: AlertSummary
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """What one poll of changed alerts found, oldest change first, and when (Postgres'
    clock)."""

    polled_at: datetime
    alerts: list[ChangedAlert]


@dataclass(frozen=True, slots=True)
class DueStep:
    """A claimed escalation step with what firing it needs from its alert."""

    step: StepRef
    due_at: datetime
    alert_status: AlertStatus
    policy: str | None
    dedup_key: str
    title: str | None
    payload: str  # the opening request, as JSON
    requested_by: str | None = None  # who asked for it now ("escalate now"), if someone did

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> DueStep:
        return cls(
            step=StepRef(row["alert_id"], row["round"], row["level"]),
            due_at=row["due_at"],
            requested_by=row["requested_by"],
            alert_status=AlertStatus(row["status"]),
            policy=row["policy"],
            dedup_key=row["dedup_key"],
            title=row["title"],
            payload=row["payload"],
        )


@dataclass(frozen=True, slots=True)
class EscalatedNow:
    """The step an "escalate now" brought forward, or joined: one another request brought
    forward moments before."""

    step: StepRef
    requested_by: str  # who asked for it now (the first to, when joined)
    joined: bool  # True: nothing moved, the step was (or is being) paged already
    following: datetime | None = None  # when the step after it is due now, if one is left


@dataclass(frozen=True, slots=True)
class MembersSwapped:
    """The open alert whose roster was replaced, and what changed in words (None: nothing)."""

    alert_id: str
    news: str | None


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An alert a handoff notice lists."""

    id: str
    title: str | None
    status: str


class AlertStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def open(
        self,
        alert_id: str,
        dedup_key: str,
        policy: str | None,
        title: str | None,
        severity: str | None,
        snapshot_id: str,
        started_at: datetime,
        steps: Sequence[tuple[int, int, datetime]],
        payload: str,
        routes: Sequence[str] = (),
        opened_by: str | None = None,
        members: str | None = None,
    ) -> tuple[OpenedAlert, bool]:
        """(alert, opened): a new alert with its steps, or the open one this trigger joins.

        Its opener is ``opened_by`` (a producer known by the queue it pushed to), else the
        principal recorded for the request id (``Store.record_sender``), else ``anonymous``: the
        default queue. ``members``: the roster a new alert starts with (JSON, see
        ``notifierd.alerts.members``); a join leaves the open alert's as it is."""
        try:
            row = await self.pool.fetchrow(
                q("open_alert"),
                alert_id,
                dedup_key,
                policy,
                title,
                severity,
                snapshot_id,
                started_at,
                payload,
                [s[0] for s in steps],
                [s[1] for s in steps],
                [s[2] for s in steps],
                list(routes),
                opened_by,
                members,
            )
        except asyncpg.UniqueViolationError:
            # This trigger opened an alert that has been resolved since: a replay, not news.
            return from_row(OpenedAlert, await self.pool.fetchrow(q("find_alert"), alert_id)), False
        return from_row(OpenedAlert, row), bool(row["opened"])

    async def find(self, key: str) -> Alert | None:
        """By alert id or dedup key, or by the request id of an escalation step's notification
        (``<alert>:r1l2``): the Acknowledge button of every message an alert sends carries it.
        The step's request row names its alert; the id is not parsed."""
        row = await self.pool.fetchrow(q("find_alert"), key)
        if row is None:
            row = await self.pool.fetchrow(q("alert_of_step"), key)
        return None if row is None else from_row(Alert, row)

    async def transition(
        self, alert_id: str, to: AlertStatus, by: str, via: str, detail: str | None = None
    ) -> bool:
        """acknowledged or resolved; cancels pending steps. False when it was already there."""
        query = q("acknowledge_alert") if to == AlertStatus.ACKNOWLEDGED else q("resolve_alert")
        async with self.pool.acquire() as conn, conn.transaction():
            changed = await conn.fetchval(query, alert_id, by)
            if changed is None:
                return False
            await conn.execute(q("cancel_steps"), alert_id)
            await conn.execute(q("add_alert_event"), alert_id, to, by, via, detail)
            return True

    async def swap_members(
        self, dedup_key: str, roster: str, news: Callable[[str | None], str | None]
    ) -> MembersSwapped | None:
        """Replace the roster of the open alert of ``dedup_key`` with ``roster`` (JSON), under
        its row lock (of two changes at once, the second is compared with the first); None
        when no alert of that key is open. ``news(before)``: what the new roster says that the
        one it had did not, in words, or None; added to the timeline in the same transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(q("lock_open_alert_members"), dedup_key)
            if row is None:
                return None
            words = news(row["members"])
            await conn.execute(q("set_alert_members"), row["id"], roster)
            if words is not None:
                await conn.execute(q("add_alert_event"), row["id"], "updated", None, "queue", words)
            return MembersSwapped(row["id"], words)

    async def escalate_now(
        self,
        alert_id: str,
        now: datetime,
        by: str,
        via: str,
        note: str | None = None,
        join_within: float = 0.0,
    ) -> EscalatedNow | AlertStatus | None:
        """Bring the alert's next level forward to ``now`` and its later steps by as much,
        recording ``by`` on the step and in the timeline, in one transaction under the alert's
        row lock: concurrent requests (any replica) take turns, and a request within
        ``join_within`` seconds of the one that brought a step forward joins that step. The
        alert's status when it is not triggered; None when no step is left to bring forward."""
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(q("lock_alert_status"), alert_id)
            if status != AlertStatus.TRIGGERED:
                # Gone since it was found: retention purges resolved alerts only.
                return AlertStatus(status or AlertStatus.RESOLVED)
            recent = await conn.fetchrow(
                q("step_escalated_moments_ago"), alert_id, now, join_within
            )
            if recent is not None:
                done = EscalatedNow(
                    StepRef(alert_id, recent["round"], recent["level"]),
                    recent["requested_by"],
                    joined=True,
                )
            else:
                moved = await conn.fetch(q("escalate_now"), alert_id, now, by)
                if not moved:
                    return None
                done = EscalatedNow(
                    StepRef(alert_id, moved[0]["round"], moved[0]["level"]),
                    by,
                    joined=False,
                    following=moved[1]["due_at"] if len(moved) > 1 else None,
                )
            await conn.execute(
                q("add_alert_event"),
                alert_id,
                "escalation_requested",
                by,
                via,
                _requested(done, note),
            )
            return done

    async def event(
        self, alert_id: str, kind: str, actor: str | None, via: str, detail: str | None
    ) -> None:
        await self.pool.execute(q("add_alert_event"), alert_id, kind, actor, via, detail)

    async def claim_due_steps(
        self, limit: int, lease: float, replica: str, now: datetime | None = None
    ) -> list[DueStep]:
        """Claim steps due by ``now`` (None: Postgres' clock, as in production)."""
        rows = await self.pool.fetch(q("claim_due_steps"), limit, lease, replica, now)
        return [DueStep.from_row(r) for r in rows]

    async def reclaim_expired_steps(self, now: datetime | None = None) -> int:
        """Make steps whose claimer died (lease over by ``now``) pending again; returns how many."""
        status = await self.pool.execute(q("reclaim_expired_steps"), now)
        return int(status.rsplit(" ", 1)[-1])

    async def retry_steps_later(
        self, steps: Sequence[tuple[str, int, int]], seconds: float, now: datetime | None = None
    ) -> None:
        """Claimed steps whose notification failed: due again (by reclaim_expired_steps) once
        ``seconds`` have passed since ``now``, each on its own."""
        if steps:
            await self.pool.execute(
                q("retry_steps_later"), *[list(c) for c in zip(*steps, strict=True)], seconds, now
            )

    async def finish_steps(
        self,
        done: Sequence[tuple[str, int, int, str]],
        events: Sequence[tuple[str, str, str | None, str, str | None]],
    ) -> None:
        """Close a batch of fired steps and add their timeline events, in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            if done:
                await conn.execute(q("finish_steps"), *[list(c) for c in zip(*done, strict=True)])
            if events:
                await conn.execute(
                    q("add_alert_events"), *[list(c) for c in zip(*events, strict=True)]
                )

    async def vacuum_steps(self) -> bool:
        """VACUUM (ANALYZE) the steps table unless another replica is at it; False if it was.

        Every step row is updated twice (pending, firing, fired) and leaves dead entries in the
        index of pending steps that claims scan; where autovacuum is off or behind, claims grow
        slower with every alert ever fired. VACUUM takes no lock that stops reads or writes.
        """
        async with self.pool.acquire() as conn:
            if not await conn.fetchval(q("try_steps_maintenance_lock")):
                return False
            try:
                # Not the pool's 60 s command timeout: cutting a long VACUUM short would leave
                # the bloated table it is there for as it was.
                await conn.execute("VACUUM (ANALYZE) escalation_steps", timeout=3600)
            finally:
                try:
                    await conn.execute(q("steps_maintenance_unlock"))
                except BaseException:
                    # The lock is the session's and the pool does not reset sessions
                    # (store/db.py keep_session): closed, the connection takes it along.
                    conn.terminate()
                    raise
        return True

    async def next_due(self) -> datetime | None:
        """When the earliest pending step (of any replica) falls due."""
        return await self.pool.fetchval(q("next_due_at"))  # type: ignore[no-any-return]

    async def pending_until(self, until: datetime, limit: int = 10_000) -> list[asyncpg.Record]:
        return await self.pool.fetch(q("next_due_steps"), until, limit)

    async def request_payload(self, request_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(q("alert_request"), request_id)

    async def told(self, alert_id: str) -> list[asyncpg.Record]:
        return await self.pool.fetch(q("told_deliveries"), alert_id)

    async def sent_messages(self, alert_id: str, channels: list[str]) -> list[asyncpg.Record]:
        """The alert's delivered messages (its own and its steps') through ``channels``."""
        return await self.pool.fetch(q("sent_messages_of_alert"), alert_id, channels)

    async def list(self, status: str | None, limit: int) -> list[AlertSummary]:
        return from_rows(AlertSummary, await self.pool.fetch(q("list_alerts"), status, limit))

    async def changed_since(self, after: datetime, limit: int = CHANGES_PER_POLL) -> AlertChanges:
        """The alerts changed after ``after`` (oldest change first, at most ``limit``) and
        Postgres' clock at the poll: one query, whatever changed."""
        rows = await self.pool.fetch(q("alerts_changed_since"), after, limit)
        changed = [
            ChangedAlert(from_row(AlertSummary, r), r["changed_at"])
            for r in rows
            if r["id"] is not None
        ]
        return AlertChanges(rows[0]["polled_at"], changed)

    async def show(self, key: str, page: TimelinePage | None = None) -> dict[str, Any] | None:
        """The alert ``key`` names with its steps and its timeline: every event, or only the
        ``page`` of them (oldest first either way) and then ``timeline_older``, the token of
        the page before it (None: none older)."""
        async with self.pool.acquire() as conn:
            alert = await conn.fetchrow(q("find_alert"), key)
            if alert is None:
                return None
            if page is None:
                timeline = await conn.fetch(q("alert_timeline"), alert["id"])
            else:
                before = page.before
                # One row more than the page: whether an older page exists, without a count.
                newest_first = await conn.fetch(
                    q("alert_timeline_page"),
                    alert["id"],
                    page.limit + 1,
                    before.at if before else None,
                    before.id if before else None,
                )
                timeline = newest_first[: page.limit][::-1]
            steps = await conn.fetch(q("alert_steps"), alert["id"])
        shown = {
            **_jsonable(dict(alert)),
            "timeline": [_timeline_entry(r) for r in timeline],
            "steps": [{**_jsonable(dict(r)), "paged": json.loads(r["paged"])} for r in steps],
        }
        if page is not None:
            older = len(newest_first) > page.limit
            shown["timeline_older"] = (
                EventCursor(timeline[0]["at"], timeline[0]["id"]).token() if older else None
            )
        return shown

    async def open_count(self) -> int:
        return int(await self.pool.fetchval(q("count_open_alerts")))

    async def claim_handoff_notice(
        self, schedule_id: str, shift_start: datetime, person: str, request_id: str
    ) -> bool:
        """True for the one caller (of every replica) that is to tell this shift's person."""
        won = await self.pool.fetchval(
            q("claim_handoff_notice"), schedule_id, shift_start, person, request_id
        )
        return won is not None

    async def open_alerts_on_routes(
        self, routes: Sequence[str], limit: int = 20
    ) -> Sequence[OpenAlert]:
        """Alerts not resolved that matched one of ``routes`` when they opened, oldest first."""
        rows = await self.pool.fetch(q("open_alerts_on_routes"), list(routes), limit)
        return [OpenAlert(r["id"], r["title"], r["status"]) for r in rows]


def _requested(done: EscalatedNow, note: str | None) -> str:
    """The timeline's words for an "escalate now" request."""
    level = f"level {done.step.level} (round {done.step.round + 1})"
    words = (
        f"{level} was brought forward moments ago by {done.requested_by}"
        if done.joined
        else f"{level} now"
    )
    return f"{words}; note: {note}" if note else words


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def _timeline_entry(row: asyncpg.Record) -> dict[str, Any]:
    """A row of query ``alert_timeline`` as ``_jsonable`` makes it, column by column: a
    flapping alert's timeline has thousands (bench/console.py: half the time of the generic
    conversion for 2,000)."""
    return {
        "kind": row["kind"],
        "actor": row["actor"],
        "via": row["via"],
        "detail": row["detail"],
        "at": row["at"].isoformat(),
    }
