"""An alert's roster (the members it stands for) and what changed in it, in people's words.

Pure: the alert service keeps the last roster it heard in Postgres and tells the people already
told about a change, once; a roster heard again (a re-sent payload) is no change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from notifierd.request import Member


@dataclass(frozen=True, slots=True)
class Change:
    """What a new roster says that the last one did not."""

    fired: tuple[Member, ...]  # firing now, and not before (new, or firing again)
    resolved: tuple[Member, ...]  # firing before, resolved (or gone) now
    firing: int  # how many members fire now
    total: int  # how many members there are, those gone since included

    def words(self) -> str:
        """``2 of 3 alerts firing: +DiskFull on db-2; resolved: HighLatency on api-1``."""
        parts = [f"+{m.title}" for m in self.fired]
        if self.resolved:
            parts.append("resolved: " + ", ".join(m.title for m in self.resolved))
        return f"{self.firing} of {self.total} alerts firing: " + "; ".join(parts)


def change(before: Sequence[Member] | None, now: Sequence[Member]) -> Change | None:
    """What ``now`` says that ``before`` did not, or None when nobody needs telling: no member
    started or stopped firing (an identical re-send, or resolved members dropped from the
    list). ``before`` None: nothing was heard yet, which the alert's first message said."""
    if before is None:
        return None
    was = {m.key: m for m in before}
    is_now = {m.key: m for m in now}
    fired = tuple(m for m in now if m.firing and not (m.key in was and was[m.key].firing))
    resolved = tuple(
        is_now.get(m.key, Member(m.key, m.title, False))
        for m in before
        if m.firing and not (m.key in is_now and is_now[m.key].firing)
    )
    if not fired and not resolved:
        return None
    gone = sum(1 for m in resolved if m.key not in is_now)
    return Change(fired, resolved, sum(1 for m in now if m.firing), len(now) + gone)


def roster_json(members: Sequence[Member]) -> str:
    """The roster as the alerts table keeps it (``alerts.members``)."""
    return json.dumps(
        [{"key": m.key, "title": m.title, "status": _status(m)} for m in members],
        separators=(",", ":"),
    )


def roster_from_json(text: str | None) -> tuple[Member, ...] | None:
    """The roster ``roster_json`` wrote; None when the alert has none yet."""
    if text is None:
        return None
    return tuple(
        Member(str(m["key"]), str(m["title"]), m["status"] == "firing") for m in json.loads(text)
    )


def _status(member: Member) -> str:
    return "firing" if member.firing else "resolved"
