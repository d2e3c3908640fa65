"""The alert lifecycle: trigger opens or joins, acknowledge and resolve move it on and tell people."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from notifierd.active import Active
from notifierd.alerts.members import change, roster_from_json, roster_json
from notifierd.alerts.planned import StepsPlanned
from notifierd.alerts.schedule import plan
from notifierd.channels.base import Failed, MessageUpdater, Senders
from notifierd.errors import Conflict
from notifierd.pipeline.deliver import message_from_json
from notifierd.pipeline.deliveries import Deliveries
from notifierd.pipeline.failures import infrastructure_failure
from notifierd.pipeline.outcome import Write, no_alert_named, request_payload
from notifierd.principals import Ownership, Principal, Refused, queue_producer, refusal
from notifierd.reconnect import until_done
from notifierd.request import Request
from notifierd.status import AlertStatus
from notifierd.store.alerts import AlertStore, EscalatedNow
from notifierd.store.audit import Action, AuditEntry, AuditLog, Outcome
from notifierd.store.rows import Alert, OpenedAlert
from notifierd.templates import RenderedMessage

log = logging.getLogger("notifierd.alerts")

T = TypeVar("T")

# Seconds after an "escalate now" during which another one joins it instead of paging a
# further level: people pressing Escalate on the same message together, or again because the
# first press seemed to do nothing, mean the same level.
ESCALATE_JOIN_WINDOW = 10.0

# What a delivered row without its rendered message is rewritten from.
UNRENDERED = RenderedMessage(subject="", text="")


class AlertService:
    def __init__(
        self,
        store: AlertStore,
        deliveries: Deliveries,
        write: Write,
        active: Callable[[], Active],
        clock: Callable[[], datetime],
        planned: StepsPlanned,
        senders: Senders | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.store = store
        self.audit = audit
        self.deliveries = deliveries
        self.write = write
        self.active = active
        self.clock = clock
        self.planned = planned  # the escalator listens: it sets the timers
        self.senders = senders

    async def trigger(
        self,
        active: Active,
        request: Request,
        policy_id: str | None,
        routes: tuple[str, ...] = (),
    ) -> tuple[OpenedAlert, bool]:
        """Open an alert for ``request`` (with its escalation plan) or join the open one;
        ``routes``: those the request matched, which may_act_on grants refer to."""
        now = self.clock()
        policy = active.snapshot.policies.get(policy_id) if policy_id else None
        if policy_id and policy is None:
            log.error(
                "alert %s names escalation policy %r, which is not in config %s; it will not escalate",
                request.id,
                policy_id,
                active.id,
                extra={"request_id": request.id},
            )
        steps = [(s.round, s.level, s.due_at) for s in plan(policy, now)] if policy else []
        alert, opened = await self.store.open(
            request.id,
            request.dedup_key or request.id,
            policy.id if policy else None,
            request.title,
            request.severity,
            active.id,
            now,
            steps,
            request_payload(request),
            routes,
            opened_by=queue_producer(active.snapshot, request).id if request.producer else None,
            members=roster_json(request.members) if request.members else None,
        )
        if opened and steps:
            self.planned.announce(alert.id, [s[2] for s in steps])
        if not opened and request.members:
            # A trigger joining with a roster is an update of the open alert, told in its
            # thread (refused: the join stands, the roster is not heard; logged).
            await self._members_changed(request, alert.dedup_key)
        return alert, opened

    async def update(self, request: Request) -> tuple[str, str]:
        """An ``update`` request: the open alert of its dedup key hears its new roster, and the
        people already told hear what changed, once, in its thread. It never opens an alert."""
        key = request.dedup_key
        if not key:
            return "ignored", no_alert_named(request.action)
        if not request.members:
            return "ignored", "an update request names the alert's members"
        told = await self._members_changed(request, key)
        if told is None:
            return "ignored", f"no open alert with dedup_key {key!r}"
        if isinstance(told, Refused):
            return "refused", told.reason
        alert_id, news = told
        if news is None:
            return "unchanged", f"alert {alert_id}: no member started or stopped firing"
        return "updated", f"alert {alert_id}: {news}"

    async def _members_changed(
        self, request: Request, key: str
    ) -> tuple[str, str | None] | Refused | None:
        """Swap the open alert's roster for the request's and tell the change, if there is
        one: (alert id, the change in words, or None for none); None when no alert is open;
        Refused when the producer may not act on the alert (as for acknowledge and resolve:
        what people read in the alert's thread is its opener's, or whom the config grants).

        Swapped first and told after, as acknowledge is: a crash between the two loses this
        one message, never sends it twice (a re-sent roster is no change)."""
        found = await self.store.find(key)
        if found is None or found.status == AlertStatus.RESOLVED:
            return None
        actor = queue_producer(self.active().snapshot, request)
        refused = refusal(actor, Ownership(found.opened_by, found.routes))
        if refused is not None:
            log.warning(
                "update of alert %s by %s refused: %s",
                found.id,
                actor.id,
                refused,
                extra={"request_id": request.id, "event": "alert_action_refused"},
            )
            return Refused(refused)
        members = request.members

        def news(before: str | None) -> str | None:
            changed = change(roster_from_json(before), members)
            return None if changed is None else changed.words()

        swapped = await self.store.swap_members(key, roster_json(members), news)
        if swapped is None:
            return None
        words = swapped.news
        if words is None:
            return swapped.alert_id, None
        # Committed: from here a Postgres outage is waited out, or the news would be lost.
        alert = await _durably(lambda: self.store.find(swapped.alert_id), "reading the alert")
        if alert is None:  # purged meanwhile: retention takes resolved alerts only
            return swapped.alert_id, words
        try:
            await self._tell(alert, "update", f"Updated: {alert.title or alert.id}", words, request)
        except Exception:  # the roster stands; telling people is best effort, logged
            log.exception("telling the channels that alert %s changed failed", alert.id)
        return alert.id, words

    async def from_request(self, request: Request) -> tuple[str, str]:
        """An acknowledge, resolve or update that came through a queue: (outcome, reason).

        Its actor is the producer whose queue it came from — the anonymous producer for the
        default queue — whatever the request says: a ``by`` in its metadata is a note only."""
        if request.action == "update":
            return await self.update(request)
        key = request.dedup_key
        if not key:
            return "ignored", no_alert_named(request.action)
        actor = queue_producer(self.active().snapshot, request)
        note = request.metadata.get("by")
        act = self.acknowledge if request.action == "acknowledge" else self.resolve
        done = await act(key, actor, "queue", note=str(note) if note else None)
        if done is None:
            return "ignored", f"no alert with id or dedup_key {key!r}"
        if isinstance(done, Refused):
            return "refused", done.reason
        return (
            "acknowledged" if request.action == "acknowledge" else "resolved"
        ), f"alert {done['id']}"

    async def acknowledge(
        self,
        alert_id: str,
        actor: Principal,
        via: str,
        note: str | None = None,
        context: dict[str, Any] | None = None,
        origin: str | None = None,
    ) -> dict[str, Any] | Refused | None:
        """Acknowledge as ``actor``; None: no such alert; Refused: the actor may not. ``origin``:
        where the actor called from (a client address), for the audit log."""
        done = await self._move(alert_id, AlertStatus.ACKNOWLEDGED, actor, via, note, context)
        await self._audit(Action.ACKNOWLEDGE, alert_id, actor, via, origin, note, done)
        return done

    async def resolve(
        self,
        alert_id: str,
        actor: Principal,
        via: str,
        note: str | None = None,
        context: dict[str, Any] | None = None,
        origin: str | None = None,
    ) -> dict[str, Any] | Refused | None:
        """Resolve as ``actor``; None: no such alert; Refused: the actor may not. ``origin``:
        where the actor called from (a client address), for the audit log."""
        done = await self._move(alert_id, AlertStatus.RESOLVED, actor, via, note, context)
        await self._audit(Action.RESOLVE, alert_id, actor, via, origin, note, done)
        return done

    async def escalate(
        self,
        alert_id: str,
        actor: Principal,
        via: str,
        note: str | None = None,
        context: dict[str, Any] | None = None,
        origin: str | None = None,
    ) -> dict[str, Any] | Refused | Conflict | None:
        """Fire the alert's next level now, as ``actor`` asked; recorded in the audit log."""
        done = await self._escalate(alert_id, actor, via, note)
        await self._audit(Action.ESCALATE, alert_id, actor, via, origin, note, done)
        return done

    async def _escalate(
        self, alert_id: str, actor: Principal, via: str, note: str | None
    ) -> dict[str, Any] | Refused | Conflict | None:
        """Fire the alert's next level now, as ``actor`` asked ("escalate now"); its later
        levels keep their gaps, counted from now. After the last level the policy's next round
        starts, if ``repeat`` left one. The alert (with ``escalation``: which step, by whom)
        when done, or joined when that level was on its way already; None: no such alert;
        Refused: the actor may not act on it; Conflict: its state refuses it, and why."""
        alert = await self.store.find(alert_id)
        if alert is None:
            return None
        refused = refusal(actor, Ownership(alert.opened_by, alert.routes))
        if refused is not None:
            log.warning(
                "escalation of alert %s by %s via %s refused: %s",
                alert.id,
                actor.id,
                via,
                refused,
                extra={"request_id": alert.id, "event": "alert_action_refused"},
            )
            return Refused(refused)
        if alert.policy is None:
            return Conflict(f"alert {alert.id} has no escalation policy")
        now = self.clock()
        done = await self.store.escalate_now(
            alert.id, now, actor.id, via, note, join_within=ESCALATE_JOIN_WINDOW
        )
        if isinstance(done, AlertStatus):
            return Conflict(f"alert {alert.id} is {done}: escalation has stopped")
        if done is None:
            return Conflict(
                f"alert {alert.id} is at its last level and its policy has no repeat left"
            )
        if not done.joined:
            log.info(
                "alert %s: level %d (round %d) brought forward by %s via %s",
                alert.id,
                done.step.level,
                done.step.round + 1,
                actor.id,
                via,
                extra={"request_id": alert.id, "event": "alert_escalated_now"},
            )
            # The escalator here fires it at once (any replica's poll would, a moment later).
            self.planned.announce(alert.id, [now, *([done.following] if done.following else [])])
        shown = await self.store.show(alert.id)
        return None if shown is None else {**shown, "escalation": _escalation(done)}

    async def _audit(
        self,
        action: Action,
        key: str,
        actor: Principal,
        via: str,
        origin: str | None,
        note: str | None,
        done: dict[str, Any] | Refused | Conflict | None,
    ) -> None:
        """One audit row for an action on an alert that exists, allowed or refused."""
        if self.audit is None or done is None:
            return
        detail: dict[str, Any] = {"note": note} if note else {}
        if isinstance(done, Refused | Conflict):
            outcome, detail["reason"] = Outcome.REFUSED, done.reason
            target = key
        else:
            outcome, target = Outcome.DONE, str(done.get("id", key))
            if (escalation := done.get("escalation")) is not None:
                detail["escalation"] = escalation
        await self.audit.record(AuditEntry(actor.id, action, via, target, origin, outcome, detail))

    async def _move(
        self,
        key: str,
        to: AlertStatus,
        actor: Principal,
        via: str,
        note: str | None,
        context: dict[str, Any] | None,
    ) -> dict[str, Any] | Refused | None:
        alert = await self.store.find(key)
        if alert is None:
            return None
        refused = refusal(actor, Ownership(alert.opened_by, alert.routes))
        if refused is not None:
            log.warning(
                "%s of alert %s by %s via %s refused: %s",
                to,
                alert.id,
                actor.id,
                via,
                refused,
                extra={"request_id": alert.id, "event": "alert_action_refused"},
            )
            return Refused(refused)
        # The actor is the authenticated principal; a caller's own words are only a note.
        detail = {**(context or {}), **({"note": note} if note else {})}
        by = actor.id
        changed = await self.store.transition(
            alert.id, to, by, via, json.dumps(detail) if detail else None
        )
        if changed:
            log.info(
                "alert %s %s by %s via %s",
                alert.id,
                to,
                by,
                via,
                extra={"request_id": alert.id, "event": f"alert_{to}"},
            )
            try:
                await self._follow_up(alert, to, by, via)
            except Exception:  # the state change stands; telling people is best effort, logged
                log.exception("telling the channels that alert %s was %s failed", alert.id, to)
        return await self.store.show(alert.id)

    async def _follow_up(self, alert: Alert, to: str, by: str, via: str) -> None:
        """Tell every channel the alert reached: a reply in the Slack thread (and the original
        message updated), PagerDuty acknowledge/resolve on the same dedup key, a message elsewhere."""
        action = "acknowledge" if to == "acknowledged" else "resolve"
        verb = "Acknowledged" if to == "acknowledged" else "Resolved"
        title = alert.title or alert.id
        told = await self._tell(alert, action, f"{verb}: {title}", f"{verb} by {by} (via {via}).")
        if not told:
            return
        active = self.active()
        note = f"{verb} by {by}"
        if to == "resolved" and alert.acknowledged_by:
            note = f"Acknowledged by {alert.acknowledged_by} · {note}"
        await self._update_sent(active, alert.id, told, note)

    async def _tell(
        self, alert: Alert, action: str, title: str, message: str, cause: Request | None = None
    ) -> set[str]:
        """Send a follow-up (``action``: acknowledge, resolve or update) to every place the
        alert's notifications were delivered, each a reply to the first message there (a Slack
        thread); returns the channels told. ``cause``: the update request it follows, whose id
        names the follow-up (an alert is updated many times, acknowledged and resolved once)."""
        told = await _durably(lambda: self.store.told(alert.id), "reading where it was told")
        if not told:
            return set()
        active = self.active()
        request = Request.from_dict(
            {
                "id": f"{alert.id}:{action}" + (f":{cause.id}" if cause is not None else ""),
                "kind": "alert",
                "action": action,
                "dedup_key": alert.dedup_key,
                "title": title,
                "message": message,
                "severity": alert.severity,
                "source": "notifierd",
            }
        )
        # Each a reply to the message it follows up, where its channel can tell (a Slack thread).
        targets = [
            (row["channel"], row["recipient"] or None, _own_ref(active, row)) for row in told
        ]
        processed = await self.deliveries.deliver_to(active, request, targets, self.clock())
        # Sent: recorded whatever it takes, or a second resolve would not know it was told.
        await _durably(lambda: self.write([processed]), "recording the follow-up")
        return {row["channel"] for row in told}

    async def _update_sent(self, active: Active, alert_id: str, told: set[str], note: str) -> None:
        """Rewrite in place every message of the alert (its own and its escalation steps')
        whose channel can (a MessageUpdater): no more buttons, and who acknowledged or
        resolved the alert."""
        if self.senders is None:
            return
        updaters: dict[str, MessageUpdater] = {}
        for name in sorted(told):
            channel = active.snapshot.channels.get(name)
            sender = self.senders.get(channel) if channel is not None else None
            if isinstance(sender, MessageUpdater):
                updaters[name] = sender
        if not updaters:
            return
        for row in await self.store.sent_messages(alert_id, list(updaters)):
            if _own_ref(active, row) is None:
                continue
            message = message_from_json(row["rendered"]) if row["rendered"] else UNRENDERED
            result = await updaters[row["channel"]].update(row["provider_id"], message, note)
            if isinstance(result, Failed):
                log.warning(
                    "could not rewrite a message of alert %s in %s: %s",
                    alert_id,
                    row["channel"],
                    result.reason,
                    extra={"request_id": alert_id},
                )


def _escalation(done: EscalatedNow) -> dict[str, Any]:
    """What an "escalate now" did, as the API answers it."""
    return {
        "round": done.step.round + 1,  # as people count, like the step's id
        "level": done.step.level,
        "requested_by": done.requested_by,
        "joined": done.joined,
        "next_due_at": done.following.isoformat() if done.following else None,
    }


def _own_ref(active: Active, row: Any) -> str | None:
    """The row's provider reference, if the channel of that name still has the type that made
    it: a reference is for its own channel type alone to read."""
    channel = active.snapshot.channels.get(row["channel"])
    return (
        row["provider_id"] if channel is not None and channel.type == row["channel_type"] else None
    )


async def _durably(op: Callable[[], Awaitable[T]], what: str) -> T:
    """``op()``, again while Redis or Postgres is away: the state change it follows is
    committed already, so giving up would leave the channels untold for good."""
    return await until_done(op, what=what, retry_if=infrastructure_failure, logger=log)
