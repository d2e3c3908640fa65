"""The router: (snapshot, request, now) -> which channels and recipients, with which template."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from notifierd.config.matchers import Matcher
from notifierd.config.model import CHANNEL_TYPES, Channel, Person, Route, Snapshot, Suppression
from notifierd.config.recipients import unfit_recipients
from notifierd.request import Request, TemplateRef
from notifierd.routing.allowed import AllowedRecipients
from notifierd.routing.checks import Check
from notifierd.routing.checks import check as _check
from notifierd.routing.checks import getter as _getter
from notifierd.routing.recipients import (
    ScheduleTargets,
    depends_on_request,
    expand_people,
    resolve,
)
from notifierd.routing.silences import NO_SILENCES, Silence, Silences
from notifierd.routing.suppression import Window, window
from notifierd.valueclass import value_class

_MEMO_SIZE = 8192


@value_class
class PlannedDelivery:
    """One (channel, recipient) the request goes to, and what to render it with."""

    channel: str
    recipient: str | None  # None for targeted channels (teams, pagerduty, webhook)
    template: TemplateRef | None  # the request's, else the producing route's, else plain text
    template_from: str  # "request" | "route" | "none"
    route: str | None  # the route that produced it; None when only the request named channels
    # What the daemon records with the delivery besides its status: the request's routing
    # warnings (a recipient of its own that fits none of its channels).
    note: str | None = None


@value_class
class RoutingDecision:
    request_id: str
    routes: tuple[str, ...]  # matched route names, in order
    deliveries: tuple[PlannedDelivery, ...]  # one per distinct (channel, recipient), first wins
    escalation: str | None  # the request's policy, else the first matched route's that has one
    # The suppression window in force, if any; a run-time silence reads ``silence:<id>``.
    suppressed_by: str | None
    unknown_channels: tuple[str, ...]  # request-named channels the snapshot lacks
    # Why the request's own recipients may not be sent to; when any, it has no deliveries and
    # is rejected whole, never rerouted.
    refused: tuple[str, ...] = ()
    # Not failures, but worth saying: each is also the note of every delivery.
    warnings: tuple[str, ...] = ()
    # The run-time silence in force (its id, who, until when, why), when one suppressed it.
    silenced_by: Silence | None = None


def unfit_recipient_warning(recipient: str, channels: tuple[str, ...]) -> str:
    """How the daemon notes a request's recipient that none of its channels can take."""
    return (
        f"recipient {recipient!r} fits none of the request's channels ({', '.join(channels)}): "
        "nothing is sent to it; a channel no recipient fits gets its default_recipients, a "
        "teams, pagerduty or webhook channel its configured target"
    )


@dataclass(frozen=True, slots=True)
class RequestedChannels:
    """What a request's ``channels`` come to: channel names, with each type replaced."""

    names: tuple[str, ...]  # channels to send to, in the request's order, each once
    unknown: tuple[str, ...]  # neither a channel nor a type: dead-lettered as before
    # Types with nowhere to go; when any, the request is rejected whole with these reasons.
    unresolved: tuple[str, ...]


def no_channel_of_type(channel_type: str) -> str:
    """Why a request naming a channel type that resolves to no channel is rejected."""
    return (
        f"no channel of type {channel_type}: the routes chose none and no {channel_type} "
        "channel is default: true"
    )


def requested_channels(
    requested: tuple[str, ...],
    chosen_by_routes: tuple[str, ...],
    channels: Mapping[str, Channel],
) -> RequestedChannels:
    """The one place a request's ``channels`` entries are read, by the processor and by
    ``routes test`` alike.

    An entry that is a channel name is that channel (a name wins over a type of the same
    spelling). A channel type stands for the channels of that type its routes chose; when they
    chose none, for the type's ``default: true`` channel; else it cannot be honoured.
    """
    names: dict[str, None] = {}
    unknown: list[str] = []
    unresolved: list[str] = []
    for entry in requested:
        if entry in channels:
            names[entry] = None
        elif entry in CHANNEL_TYPES:
            of_type = [c for c in chosen_by_routes if c in channels and channels[c].type == entry]
            if not of_type:
                of_type = [c.name for c in channels.values() if c.type == entry and c.default]
            if of_type:
                names.update(dict.fromkeys(of_type))
            else:
                unresolved.append(no_channel_of_type(entry))
        else:
            unknown.append(entry)
    return RequestedChannels(tuple(names), tuple(unknown), tuple(unresolved))


class _CompiledRoute:
    """A route with its matchers turned into checks and its own deliveries worked out."""

    __slots__ = ("checks", "continue_", "deliveries", "route")

    def __init__(
        self,
        route: Route,
        checks: tuple[Check, ...],
        channels: list[Channel],
        people: Mapping[str, Person],
        schedules: ScheduleTargets,
    ):
        self.route = route
        self.checks = checks
        self.continue_ = route.continue_
        template_from = "route" if route.template else "none"
        # Shared by every request that neither overrides channels/recipients nor names a
        # template: the common case costs no allocation. None when the route names a person
        # whose contacts depend on the request's severity or priority.
        self.deliveries: tuple[PlannedDelivery, ...] | None = None
        if not depends_on_request(route.recipients, people):
            recipients, declined = expand_people(
                route.recipients, people, {c.type for c in channels}, None, None
            )
            self.deliveries = tuple(
                PlannedDelivery(ch, rcpt, route.template, template_from, route.name)
                for ch, rcpt in resolve(channels, recipients, declined, schedules)
            )


_META = frozenset(".^$*+?{}[]()|\\")


def _literal_prefix(pattern: str) -> tuple[str, bool]:
    """The literal text every match of ``pattern`` starts with, and whether that is all of it.

    Conservative: anything unusual ends the prefix, and a shorter prefix is still sound. An
    alternation anywhere (``crit.*|error``) means no prefix at all.
    """
    if "|" in pattern:
        return "", False
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
            out.append(pattern[i + 1])  # an escaped punctuation mark such as \. is literal
            i += 2
            continue
        if c in "*+?{":
            if out:
                out.pop()  # the quantifier makes the last character optional or repeated
            return "".join(out), False
        if c in _META:
            return "".join(out), False
        out.append(c)
        i += 1
    return "".join(out), True


def _literal_alternatives(pattern: str) -> list[str] | None:
    """``a|b|c`` of plain literals as ``[a, b, c]``: the regex is then a set test."""
    if "\\|" in pattern:
        return None
    parts = [_literal_prefix(part) for part in pattern.split("|")]
    if all(whole for _, whole in parts):
        return [text for text, _ in parts]
    return None


class _RouteIndex:
    """Which routes can match a request, found by lookups instead of running every matcher.

    Each route is filed under one positive matcher: an equality (``service="db"``), a regex
    that is a set of literals (``severity=~"error|critical"``), or a regex with a literal
    prefix (``source=~"ci:.*"``). A request is looked up by the values it has; routes with no
    such matcher are always candidates. Tags are looked up tag by tag, since any tag matching
    is enough.
    """

    def __init__(self) -> None:
        self.unindexed: list[int] = []
        self._exact: dict[str, dict[str, list[int]]] = {}
        self._prefix: dict[str, dict[str, list[int]]] = {}
        self._lookups: list[tuple[str, Callable[[Request], str], dict, dict, tuple[int, ...]]] = []

    def add(self, i: int, matchers: tuple[Matcher, ...]) -> Matcher | None:
        """File route ``i``; returns the matcher the index fully implies (need not be re-run)."""
        for m in matchers:
            if m.op == "=":
                self._exact.setdefault(m.name, {}).setdefault(m.value, []).append(i)
                return m
        for m in matchers:
            literals = _literal_alternatives(m.value) if m.op == "=~" else None
            if literals is not None:
                table = self._exact.setdefault(m.name, {})
                for literal in dict.fromkeys(literals):
                    table.setdefault(literal, []).append(i)
                return m
        prefixes = [(_literal_prefix(m.value)[0], m) for m in matchers if m.op == "=~"]
        best = max(prefixes, key=lambda p: len(p[0]), default=None)
        if best is not None and best[0]:
            self._prefix.setdefault(best[1].name, {}).setdefault(best[0], []).append(i)
        else:
            self.unindexed.append(i)
        return None

    def freeze(self) -> None:
        """Prepare the lookups once every route is filed."""
        names = sorted({*self._exact, *self._prefix})
        self._lookups = [
            (
                name,
                _getter(name),
                self._exact.get(name, {}),
                self._prefix.get(name, {}),
                tuple(sorted({len(p) for p in self._prefix.get(name, {})})),
            )
            for name in names
        ]

    def candidates(self, request: Request) -> list[int]:
        """Indexes of the routes that may match ``request``, in config order."""
        extra: list[int] = []
        for name, get, exact, prefix, lengths in self._lookups:
            # No tags at all reads as one empty tag, as in Matcher.matches.
            values = (request.tags or ("",)) if name == "tags" else (get(request),)
            for value in values:
                hit = exact.get(value)
                if hit:
                    extra += hit
                for length in lengths:
                    if length > len(value):
                        break
                    hit = prefix.get(value[:length])
                    if hit:
                        extra += hit
        if not extra:
            return self.unindexed
        return sorted({*self.unindexed, *extra})


class Router:
    """Routing for one snapshot; build once per snapshot, then call :meth:`route` per request.

    A request runs the full matchers only of the routes :class:`_RouteIndex` names, in config
    order as first-match needs, and recent answers are remembered per matcher-visible values.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.channels = snapshot.channels
        self.people = snapshot.people
        self.schedules = ScheduleTargets(snapshot)
        checks: dict[Matcher, Check] = {}  # equal matchers share one check

        def compiled(m: Matcher) -> Check:
            if m not in checks:
                checks[m] = _check(m)
            return checks[m]

        self._routes: list[_CompiledRoute] = []
        self._index = _RouteIndex()
        for i, route in enumerate(snapshot.routes):
            implied = self._index.add(i, route.matchers)
            rest = tuple(compiled(m) for m in route.matchers if m is not implied)
            channels = [self.channels[c] for c in route.channels if c in self.channels]
            self._routes.append(
                _CompiledRoute(route, rest, channels, snapshot.people, self.schedules)
            )
        self._index.freeze()
        # Which routes match depends only on the values the matchers read, and live traffic
        # repeats them (the same service, severity, tags), so remember recent answers.
        names = sorted({m.name for r in snapshot.routes for m in r.matchers} - {"tags"})
        self._key_getters = tuple(_getter(name) for name in names)
        self._key_tags = any(m.name == "tags" for r in snapshot.routes for m in r.matchers)
        self._memo: dict[tuple[object, ...], tuple[_CompiledRoute, ...]] = {}
        self._suppressions: list[tuple[Suppression, tuple[Check, ...], Window]] = [
            (s, tuple(compiled(m) for m in s.matchers), window(s)) for s in snapshot.suppressions
        ]
        self._active: (
            tuple[datetime, datetime | None, list[tuple[Suppression, tuple[Check, ...]]]] | None
        ) = None
        # Request overrides recur (the same bot, the same channels), so remember their pairs.
        self._override_pairs: dict[tuple[object, ...], list[tuple[str, str | None]]] = {}
        self.allowed = AllowedRecipients(snapshot)
        self._refusals: dict[tuple[object, ...], tuple[str, ...]] = {}
        self._unfit_memo: dict[tuple[object, ...], tuple[str, ...]] = {}

    def matching_routes(self, request: Request) -> list[Route]:
        """The routes that match ``request``, in order, down to the first without continue."""
        return [c.route for c in self._match(request)]

    def _match(self, request: Request) -> tuple[_CompiledRoute, ...]:
        key: tuple[object, ...] = tuple([get(request) for get in self._key_getters])
        if self._key_tags:
            key += (request.tags,)
        matched = self._memo.get(key)
        if matched is None:
            matched = self._match_all(request)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()  # bounded; a cold start costs only the index walk
            self._memo[key] = matched
        return matched

    def _match_all(self, request: Request) -> tuple[_CompiledRoute, ...]:
        matched = []
        routes = self._routes
        for i in self._index.candidates(request):
            compiled = routes[i]
            for check in compiled.checks:
                if not check(request):
                    break
            else:
                matched.append(compiled)
                if not compiled.continue_:
                    break
        return tuple(matched)

    def suppression(self, request: Request, now: datetime) -> Suppression | None:
        """The first suppression in force for ``request`` at ``now``."""
        for s, checks in self._active_suppressions(now):
            for check in checks:
                if not check(request):
                    break
            else:
                return s
        return None

    def _active_suppressions(self, now: datetime) -> list[tuple[Suppression, tuple[Check, ...]]]:
        """The suppressions whose window is open at ``now``; recomputed only when one opens or closes."""
        cached = self._active
        if cached is not None and cached[0] <= now and (cached[1] is None or now < cached[1]):
            return cached[2]
        active = []
        valid_until = None  # the answer holds from now until the first window opens or closes
        for s, checks, win in self._suppressions:
            _, until, inside = win.answer(now)
            if until is not None and (valid_until is None or until < valid_until):
                valid_until = until
            if inside:
                active.append((s, checks))
        self._active = (now, valid_until, active)
        return active

    def route(
        self, request: Request, now: datetime, silences: Silences = NO_SILENCES
    ) -> RoutingDecision:
        """Decide where ``request`` goes at ``now``; pure apart from caches. ``silences``: the
        run-time ones (Active.silences), honoured after the config's suppression windows."""
        matched = self._match(request)
        unknown: tuple[str, ...] = ()
        unresolved: tuple[str, ...] = ()
        override_channels = request.channels
        if override_channels is not None:
            requested = self._requested(override_channels, matched)
            override_channels, unknown, unresolved = (
                requested.names,
                requested.unknown,
                requested.unresolved,
            )

        deliveries: list[PlannedDelivery] = []
        seen: set[tuple[str, str | None]] = set()
        template = request.template
        # When any, no deliveries: rejected whole.
        refused = unresolved + self._refused(request, override_channels, matched)
        if matched and not refused:
            for compiled in matched:
                if (
                    override_channels is None
                    and request.recipients is None
                    and compiled.deliveries is not None
                ):
                    planned = compiled.deliveries
                    if template is not None:
                        planned = tuple(
                            PlannedDelivery(d.channel, d.recipient, template, "request", d.route)
                            for d in planned
                        )
                else:
                    route = compiled.route
                    pairs = self._pairs(
                        override_channels if override_channels is not None else route.channels,
                        request.recipients if request.recipients is not None else route.recipients,
                        request,
                    )
                    tref, source = (
                        (template, "request")
                        if template is not None
                        else (route.template, "route" if route.template else "none")
                    )
                    planned = tuple(
                        PlannedDelivery(c, r, tref, source, route.name) for c, r in pairs
                    )
                for d in planned:
                    pair = (d.channel, d.recipient)
                    if pair not in seen:
                        seen.add(pair)
                        deliveries.append(d)
        elif override_channels is not None and not refused:
            source = "request" if template is not None else "none"
            for c, r in self._pairs(override_channels, request.recipients or (), request):
                if (c, r) not in seen:
                    seen.add((c, r))
                    deliveries.append(PlannedDelivery(c, r, template, source, None))

        warnings = self._unfit(request, override_channels, matched) if request.recipients else ()
        if warnings:
            note = "; ".join(warnings)
            deliveries = [replace(d, note=note) for d in deliveries]

        escalation = request.escalation_policy
        if escalation is None:
            escalation = next((c.route.escalation for c in matched if c.route.escalation), None)
        suppressed = self.suppression(request, now)
        silenced = silences.match(request, now) if suppressed is None and silences else None
        return RoutingDecision(
            request_id=request.id,
            routes=tuple(c.route.name for c in matched),
            deliveries=tuple(deliveries),
            escalation=escalation,
            suppressed_by=(suppressed.name if suppressed else silenced.name if silenced else None),
            unknown_channels=unknown,
            refused=refused,
            warnings=warnings,
            silenced_by=silenced,
        )

    def _requested(
        self, entries: tuple[str, ...], matched: tuple[_CompiledRoute, ...]
    ) -> RequestedChannels:
        if all(e in self.channels for e in entries):  # the common case: names only
            return RequestedChannels(tuple(dict.fromkeys(entries)), (), ())
        chosen = tuple(c for m in matched for c in m.route.channels)
        return requested_channels(entries, chosen, self.channels)

    def _unfit(
        self,
        request: Request,
        override: tuple[str, ...] | None,
        matched: tuple[_CompiledRoute, ...],
    ) -> tuple[str, ...]:
        """A warning for each of the request's own recipients that fits none of its channels.

        Not a failure (PRODUCT.md: a channel no recipient fits gets its default_recipients), but
        the recipient is reached nowhere, which its producer did not mean. People are left to
        their contact preferences, which may pick none of the channels on purpose.
        """
        recipients = request.recipients or ()
        chosen = (
            override
            if override is not None
            else tuple(c for m in matched for c in m.route.channels)
        )
        names = tuple(dict.fromkeys(c for c in chosen if c in self.channels))
        if not names:
            return ()  # nothing is sent at all: the outcome says so, not a warning
        key = (names, recipients)
        found = self._unfit_memo.get(key)
        if found is None:
            channels = [self.channels[c] for c in names]
            found = tuple(
                unfit_recipient_warning(r, names)
                for r in unfit_recipients(channels, recipients)
                if r not in self.people and self.schedules.target(r) is None
            )
            if len(self._unfit_memo) >= 4096:
                self._unfit_memo.clear()  # bounded; recomputing is cheap
            self._unfit_memo[key] = found
        return found

    def _refused(
        self,
        request: Request,
        override: tuple[str, ...] | None,
        matched: tuple[_CompiledRoute, ...],
    ) -> tuple[str, ...]:
        """Why the request's own recipients may not go where it would send them."""
        recipients = request.recipients
        if not recipients:
            return ()
        if override is not None:
            names = override
        else:
            names = tuple(dict.fromkeys(c for m in matched for c in m.route.channels))
        key = (names, recipients)
        found = self._refusals.get(key)
        if found is None:
            channels = [self.channels[c] for c in names if c in self.channels]
            found = self.allowed.refusals(channels, recipients)
            if len(self._refusals) >= 4096:
                self._refusals.clear()  # bounded; recomputing is cheap
            self._refusals[key] = found
        return found

    def _pairs(
        self, channel_names: tuple[str, ...], recipients: tuple[str, ...], request: Request
    ) -> list[tuple[str, str | None]]:
        key: tuple[object, ...] = (channel_names, recipients)
        if depends_on_request(recipients, self.people):
            key += (request.severity, request.priority)
        pairs = self._override_pairs.get(key)
        if pairs is None:
            channels = [self.channels[c] for c in channel_names if c in self.channels]
            expanded, declined = expand_people(
                recipients,
                self.people,
                {c.type for c in channels},
                request.severity,
                request.priority,
            )
            pairs = resolve(channels, expanded, declined, self.schedules)
            if len(self._override_pairs) >= 4096:
                self._override_pairs.clear()  # bounded; recomputing is cheap
            self._override_pairs[key] = pairs
        return pairs
