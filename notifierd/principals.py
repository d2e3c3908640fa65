"""Principals: who acts (a producer, a person, the break-glass token, a Slack user), with which
roles, and whether they may acknowledge or resolve a given alert.

A principal's id is what every record names as the actor: ``producer:<id>``, ``person:<name>``,
``slack:<user id>``, ``api-token``, ``anonymous`` (the default queue) or ``anonymous-local``
(the HTTP listener when no credential is configured at all).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from notifierd.config.model import ANONYMOUS_PRODUCER, CalendarFeed, Person, Producer, Snapshot
from notifierd.config.values import ENV_REF_ONLY
from notifierd.request import Request
from notifierd.secrets import Secrets

API_TOKEN_ENV = "NOTIFIERD_API_TOKEN"


class Role(StrEnum):
    PRODUCE = "produce"  # send and trigger
    VIEW = "view"  # read any request's status
    OPERATE = "operate"  # acknowledge and resolve any alert
    ADMIN = "admin"  # reload the config; implies operate and view


EVERY_ROLE = frozenset(Role)


def _granted(names: Iterable[str]) -> frozenset[Role]:
    roles = {Role(name) for name in names}
    if Role.ADMIN in roles:
        roles |= {Role.OPERATE, Role.VIEW}
    return frozenset(roles)


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    roles: frozenset[Role]
    producer: Producer | None = None  # set for producers: what they may act on

    def may(self, role: Role) -> bool:
        return role in self.roles


# The listener with no credential configured anywhere: open, as before principals existed.
ANONYMOUS_LOCAL = Principal("anonymous-local", EVERY_ROLE)
# NOTIFIERD_API_TOKEN: the break-glass token, every role.
API_TOKEN = Principal("api-token", EVERY_ROLE)


def producer_principal(producer: Producer) -> Principal:
    pid = "anonymous" if producer.id == ANONYMOUS_PRODUCER else f"producer:{producer.id}"
    return Principal(pid, _granted(producer.roles), producer)


def person_principal(person: Person) -> Principal:
    return Principal(f"person:{person.name}", _granted(person.roles))


def anonymous_producer(snapshot: Snapshot) -> Principal:
    """The default queue: it may send and trigger; it acts on alerts only as the config grants."""
    configured = snapshot.producers.get(ANONYMOUS_PRODUCER)
    return producer_principal(configured or Producer(ANONYMOUS_PRODUCER))


def queue_producer(snapshot: Snapshot, request: Request) -> Principal:
    """Who pushed ``request``: the producer whose queue it was taken from (``request.producer``),
    else the anonymous producer of the default queue. A producer a reload removed since keeps
    its id but no grants: it acts on the alerts it opened, nothing more."""
    if request.producer is None:
        return anonymous_producer(snapshot)
    producer = snapshot.producers.get(request.producer) or Producer(request.producer)
    return producer_principal(producer)


class CredentialError(ValueError):
    """The credentials cannot tell principals apart (one token for two of them)."""


class FeedKind(StrEnum):
    """What a calendar feed URL reads: one schedule's shifts, or one person's."""

    SCHEDULE = "schedule"
    PERSON = "person"


class Principals:
    """The API tokens of one config snapshot and whose each one is; and the calendar feeds'
    tokens, which read only the feeds they name."""

    def __init__(
        self,
        tokens: list[tuple[bytes, Principal]],
        feeds: list[tuple[bytes, CalendarFeed]] | None = None,
    ) -> None:
        self._tokens = tokens
        self._feeds = feeds or []

    @classmethod
    def of(cls, snapshot: Snapshot, secrets: Secrets) -> Principals:
        """Every principal whose token resolves; CredentialError when two share a value."""
        candidates: list[tuple[str | None, Principal]] = [
            (secrets.get(API_TOKEN_ENV), API_TOKEN),
            *((_resolve(p.token, secrets), producer_principal(p)) for p in _producers(snapshot)),
            *((_resolve(p.token, secrets), person_principal(p)) for p in snapshot.people.values()),
        ]
        tokens: list[tuple[bytes, Principal]] = []
        for value, principal in candidates:
            if not value:
                continue
            token = value.encode("utf-8", "surrogatepass")
            for known, other in tokens:
                if hmac.compare_digest(known, token):
                    raise CredentialError(
                        f"{other.id} and {principal.id} have the same API token: give each "
                        "principal its own, or one could act as the other"
                    )
            tokens.append((token, principal))
        feeds: list[tuple[bytes, CalendarFeed]] = []
        for feed in snapshot.calendar_feeds.values():
            value = _resolve(feed.token, secrets)
            if not value:
                continue  # an unset variable: the feed is off, like a principal without a token
            token = value.encode("utf-8", "surrogatepass")
            holders = [(t, p.id) for t, p in tokens] + [(t, f"feed {f.name}") for t, f in feeds]
            for known, holder in holders:
                if hmac.compare_digest(known, token):
                    raise CredentialError(
                        f"calendar feed {feed.name} has the same token as {holder}: a feed's "
                        "token travels in URLs, so give it one of its own"
                    )
            feeds.append((token, feed))
        return cls(tokens, feeds)

    @property
    def configured(self) -> bool:
        """True when any credential resolved: the listener then requires one."""
        return bool(self._tokens)

    def authenticate(self, header: str | None) -> Principal | None:
        """The principal of ``Authorization: Bearer <token>``; None when it is missing or
        unknown. Every token is compared, in constant time, whichever matches."""
        scheme, _, given = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return None
        presented = given.strip().encode("utf-8", "surrogatepass")
        found = None
        for token, principal in self._tokens:
            if hmac.compare_digest(token, presented):
                found = principal
        return found

    def credential_of(self, principal_id: str) -> tuple[bytes, Principal] | None:
        """The token and principal of ``principal_id`` under these credentials; None when
        no principal of that id has a token (removed from the config, or its token unset)."""
        for token, principal in self._tokens:
            if principal.id == principal_id:
                return token, principal
        return None

    def feed_allows(self, presented: str | None, kind: FeedKind, name: str) -> bool:
        """Whether the token of a feed URL (``?token=``) reads ``kind`` ``name``'s calendar.
        Every feed token is compared, in constant time; the answer is one bit, so a caller
        learns nothing of which feeds exist."""
        if not presented:
            return False
        given = presented.encode("utf-8", "surrogatepass")
        found: CalendarFeed | None = None
        for token, feed in self._feeds:
            if hmac.compare_digest(token, given):
                found = feed
        if found is None:
            return False
        return name in (found.schedules if kind is FeedKind.SCHEDULE else found.people)


def _producers(snapshot: Snapshot) -> list[Producer]:
    return [p for p in snapshot.producers.values() if p.id != ANONYMOUS_PRODUCER]


def _resolve(reference: str | None, secrets: Secrets) -> str | None:
    match = ENV_REF_ONLY.match(reference) if reference else None
    return secrets.get(match.group(1)) if match else None


def slack_actor(snapshot: Snapshot, user_id: str | None) -> Principal:
    """Who pressed a Slack button: the person with that Slack id, else ``slack:<user id>``.

    With ``settings.slack_actions: anyone`` (the default) anyone in the workspace may act, as
    before principals existed; with ``people_only`` only a person holding ``operate``.
    """
    people_only = snapshot.settings.slack_actions == "people_only"
    for person in snapshot.people.values():
        if user_id and user_id in person.slack_ids:
            principal = person_principal(person)
            if people_only:
                return principal
            return Principal(principal.id, principal.roles | {Role.OPERATE})
    return Principal(
        f"slack:{user_id or 'unknown'}", frozenset() if people_only else frozenset({Role.OPERATE})
    )


@dataclass(frozen=True, slots=True)
class Refused:
    """An alert action the actor may not take, and why."""

    reason: str


@dataclass(frozen=True, slots=True)
class Ownership:
    """What deciding who may act on an alert needs: who opened it, and the routes its opening
    request matched."""

    opened_by: str | None
    routes: tuple[str, ...] = ()


def refusal(actor: Principal, alert: Ownership) -> str | None:
    """None when ``actor`` may acknowledge or resolve the alert; otherwise why not."""
    if actor.may(Role.OPERATE):
        return None
    producer = actor.producer
    if producer is None:
        return f"{actor.id} lacks the operate role"
    if alert.opened_by == actor.id and producer.id != ANONYMOUS_PRODUCER:
        return None
    if set(alert.routes) & set(producer.may_act_on_routes):
        return None
    granted = {producer_principal(Producer(p)).id for p in producer.may_act_on_producers}
    if alert.opened_by in granted:
        return None
    if producer.id == ANONYMOUS_PRODUCER:
        return (
            "the anonymous producer (the default queue) may not acknowledge or resolve this "
            "alert: act through the HTTP API with your own token (notifierd alerts ack), or "
            "grant it with producers.anonymous.may_act_on in routes.yaml"
        )
    return f"{actor.id} may act only on alerts it opened or that its may_act_on grants"
