"""Adding and ending run-time silences and schedule overrides, each checked and audited.

The one place the rules live, for the API and the CLI alike: matchers parse as the config's do
and name something; a silence or an override ends in the future and within the bound of
``settings.runtime``; an override names a schedule and a person the config has. Every change
writes an audit row (who, via what, from where).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from notifierd.config.matchers import MatcherError, parse_matcher
from notifierd.config.model import Snapshot
from notifierd.config.values import format_duration, parse_duration
from notifierd.store.audit import Action, AuditEntry, AuditLog
from notifierd.store.rows import OverrideRow, SilenceRow
from notifierd.store.runtime import RuntimeStore

MAX_REASON = 500
MAX_MATCHERS = 20
# Beyond the longest bound the config allows (366d), checked before date arithmetic overflows.
_LONGEST = 400 * 86400.0


class NotGranted(ValueError):
    """A request for a silence or an override that cannot be granted: the message says why
    (HTTP 400, CLI exit 2)."""


class NotFound(LookupError):
    """No silence or override has that id (HTTP 404)."""


class AlreadyEnded(Exception):
    """The silence or override ended before (HTTP 409); ``row`` is it as it stands."""

    def __init__(self, message: str, row: SilenceRow | OverrideRow) -> None:
        super().__init__(message)
        self.row = row


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks, for the row and the audit log: a principal id (``cli:<user>`` from the CLI),
    how it arrived (``http``, ``console``, ``cli``) and from where."""

    id: str
    via: str
    origin: str | None = None


def end_of(now: datetime, until: datetime | None, duration: str | None, what: str) -> datetime:
    """When a silence or override asked for with ``until`` or ``duration`` ends."""
    if (until is None) == (duration is None):
        raise NotGranted(f"give the {what}'s end: until (an ISO-8601 time) or duration (e.g. 2h)")
    if duration is not None:
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise NotGranted(f"duration: {exc}") from None
        if not seconds <= _LONGEST:  # also NaN and infinity: far past any bound
            raise NotGranted(f"duration {duration!r} is far longer than any bound allows")
        return now + timedelta(seconds=seconds)
    assert until is not None
    return until


def check_bound(now: datetime, end: datetime, bound: float, what: str, key: str) -> None:
    if bound <= 0:
        raise NotGranted(
            f"run-time {what}s are turned off: settings.runtime.{key} is 0s in routes.yaml"
        )
    if end <= now:
        raise NotGranted(f"the {what} must end in the future (it would end at {end.isoformat()})")
    if end - now > timedelta(seconds=bound):
        raise NotGranted(
            f"a run-time {what} may last at most {format_duration(bound)} "
            f"(settings.runtime.{key} in routes.yaml); this one would last "
            f"{format_duration(round((end - now).total_seconds()))}: shorten it, or make the "
            "change in the repository"
        )


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise NotGranted("give a reason: it is shown with the silence or override and audited")
    if len(text) > MAX_REASON or not text.isprintable():
        raise NotGranted(f"reason: at most {MAX_REASON} printable characters")
    return text


def check_matchers(texts: Sequence[str]) -> list[str]:
    """The matcher strings, each parsed as the config's; at least one must need a value
    (matchers every request passes would silence everything)."""
    if not texts:
        raise NotGranted('give at least one matcher, e.g. service="db"')
    if len(texts) > MAX_MATCHERS:
        raise NotGranted(f"at most {MAX_MATCHERS} matchers")
    parsed = []
    for text in texts:
        try:
            parsed.append(parse_matcher(text))
        except MatcherError as exc:
            raise NotGranted(f"matcher {text!r}: {exc}") from None
    if all(m.matches_value("") for m in parsed):
        raise NotGranted(
            "these matchers also match a request with none of their fields, so they would "
            'silence everything: match a value, e.g. service="db"'
        )
    return [str(m) for m in parsed]


class RuntimeChanges:
    """Add and end run-time silences and overrides; ``clock`` decides "now"."""

    def __init__(self, store: RuntimeStore, audit: AuditLog, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.audit = audit
        self.clock = clock

    async def add_silence(
        self,
        snapshot: Snapshot,
        actor: Actor,
        matchers: Sequence[str],
        reason: str | None,
        *,
        until: datetime | None = None,
        duration: str | None = None,
    ) -> SilenceRow:
        now = self.clock()
        texts = check_matchers(matchers)
        text = check_reason(reason)
        end = end_of(now, until, duration, "silence")
        check_bound(now, end, snapshot.settings.max_silence, "silence", "max_silence")
        row = await self.store.add_silence(texts, now, end, text, actor.id)
        await self._audit(
            actor,
            Action.SILENCE,
            f"silence:{row.id}",
            {"matchers": texts, "starts_at": now.isoformat(), "ends_at": end.isoformat()}
            | {"reason": text},
        )
        return row

    async def expire_silence(self, silence_id: int, actor: Actor) -> SilenceRow:
        now = self.clock()
        row = await self.store.expire_silence(silence_id, actor.id, now)
        if row is None:
            found = await self.store.silence(silence_id)
            if found is None:
                raise NotFound(f"no silence {silence_id}")
            raise AlreadyEnded(f"silence {silence_id} has already ended", found)
        await self._audit(
            actor,
            Action.SILENCE_EXPIRE,
            f"silence:{row.id}",
            {"matchers": row.matchers, "was_until": row.ends_at.isoformat()},
        )
        return row

    async def add_override(
        self,
        snapshot: Snapshot,
        actor: Actor,
        schedule: str,
        person: str,
        reason: str | None,
        *,
        starts_at: datetime | None = None,
        until: datetime | None = None,
        duration: str | None = None,
    ) -> OverrideRow:
        now = self.clock()
        sid = schedule.removeprefix("schedule:")
        if sid not in snapshot.schedules:
            known = ", ".join(sorted(snapshot.schedules)) or "none"
            raise NotGranted(f"no schedule {schedule!r} in the config; schedules: {known}")
        if person not in snapshot.people:
            raise NotGranted(f"no person {person!r} in people: of routes.yaml")
        text = check_reason(reason)
        bound = snapshot.settings.max_override
        # Paging that happened cannot change: an override starts now at the earliest.
        start = max(starts_at or now, now)
        # Its end is bounded, so its start is too (and stays far from the calendar's end).
        if bound > 0 and start - now >= timedelta(seconds=bound):
            raise NotGranted(
                f"a run-time override must end within {format_duration(bound)} "
                "(settings.runtime.max_override in routes.yaml), so it cannot start at "
                f"{start.isoformat()}"
            )
        end = end_of(start, until, duration, "override")
        check_bound(now, end, bound, "override", "max_override")
        if end <= start:
            raise NotGranted("the override must end after it starts")
        row = await self.store.add_override(sid, person, start, end, text, actor.id)
        await self._audit(
            actor,
            Action.OVERRIDE,
            f"override:{row.id}",
            {
                "schedule": sid,
                "person": person,
                "starts_at": start.isoformat(),
                "ends_at": end.isoformat(),
                "reason": text,
            },
        )
        return row

    async def remove_override(self, override_id: int, actor: Actor) -> OverrideRow:
        now = self.clock()
        row = await self.store.remove_override(override_id, actor.id, now)
        if row is None:
            found = await self.store.override(override_id)
            if found is None:
                raise NotFound(f"no override {override_id}")
            raise AlreadyEnded(f"override {override_id} has already ended", found)
        await self._audit(
            actor,
            Action.OVERRIDE_REMOVE,
            f"override:{row.id}",
            {"schedule": row.schedule, "person": row.person, "was_until": row.ends_at.isoformat()},
        )
        return row

    async def _audit(
        self, actor: Actor, action: Action, target: str, detail: dict[str, Any]
    ) -> None:
        await self.audit.record(
            AuditEntry(actor.id, action, actor.via, target, actor.origin, detail=detail)
        )
