"""The audit log: who did what, when, from where, and whether it was allowed.

Every action a person or producer takes — signing in, acknowledging, resolving, escalating,
retrying a dead letter, adding a silence or an override, reloading the config — is one row
(migration 0019). Recording never blocks the action it describes: a failed write is logged and
counted, and the action stands (it has its own record: an alert's timeline, a delivery's
history).
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from notifierd import jsonenc
from notifierd.store.queries import q

log = logging.getLogger("notifierd.audit")


class Action(StrEnum):
    SIGN_IN = "sign-in"
    SIGN_OUT = "sign-out"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    RETRY = "retry"
    SILENCE = "silence"
    SILENCE_EXPIRE = "silence-expire"
    OVERRIDE = "override"
    OVERRIDE_REMOVE = "override-remove"
    RELOAD = "reload"


class Outcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"  # the actor may not, or the state refused it
    FAILED = "failed"  # a wrong credential, or the action could not be carried out


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action. ``via``: how it arrived (``http``, ``console``, ``slack``, ``queue``,
    ``cli``, ``config-watch``); ``origin``: from where (a client address), when known;
    ``dedup``: several replicas recording the same event write one row."""

    actor: str
    action: Action
    via: str
    target: str | None = None
    origin: str | None = None
    outcome: Outcome = Outcome.DONE
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None  # None: Postgres' clock
    dedup: str | None = None
    id: int | None = None  # set on rows read back

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat() if self.at else None,
            "actor": self.actor,
            "action": str(self.action),
            "target": self.target,
            "via": self.via,
            "origin": self.origin,
            "outcome": str(self.outcome),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """The keyset (at, id) of the last row seen, carried by callers as an opaque token."""

    at: datetime
    id: int

    def token(self) -> str:
        return base64.urlsafe_b64encode(f"{self.at.isoformat()}|{self.id}".encode()).decode()

    @classmethod
    def parse(cls, token: str) -> AuditCursor | None:
        """The cursor ``token`` stands for; None when it is not one."""
        try:
            at, _, ident = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
            moment = datetime.fromisoformat(at)
            return cls(moment, int(ident)) if moment.tzinfo is not None else None
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """Every filter optional; newest first."""

    actor: str | None = None
    action: Action | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: AuditCursor | None = None
    limit: int = 100


class AuditLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, entry: AuditEntry) -> bool:
        """Write ``entry``; False (logged) when Postgres refused it: the action stands."""
        try:
            await self.pool.execute(
                q("record_audit"),
                entry.at,
                entry.actor,
                str(entry.action),
                entry.target,
                entry.via,
                entry.origin,
                str(entry.outcome),
                jsonenc.dumps(entry.detail).decode(),
                entry.dedup,
            )
        except Exception:
            log.exception(
                "could not record %s of %s by %s in the audit log",
                entry.action,
                entry.target,
                entry.actor,
                extra={"event": "audit_write_failed"},
            )
            return False
        return True

    async def count_recent(
        self, action: Action, outcome: Outcome, origin: str, seconds: float
    ) -> int:
        """How many ``action`` rows with ``outcome`` came from ``origin`` in the last
        ``seconds`` (Postgres' clock), across every worker and replica."""
        found = await self.pool.fetchval(
            q("count_recent_audit"), str(action), str(outcome), origin, seconds
        )
        return int(found or 0)

    async def search(self, search: AuditSearch) -> list[AuditEntry]:
        after = search.after
        rows = await self.pool.fetch(
            q("search_audit"),
            search.actor,
            str(search.action) if search.action else None,
            search.target,
            search.since,
            search.until,
            after.at if after else None,
            after.id if after else None,
            search.limit,
        )
        return [_entry(row) for row in rows]


def _entry(row: asyncpg.Record) -> AuditEntry:
    detail = row["detail"]
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=Action(row["action"]),
        target=row["target"],
        via=row["via"],
        origin=row["origin"],
        outcome=Outcome(row["outcome"]),
        detail=json.loads(detail) if isinstance(detail, str) else dict(detail or {}),
    )
