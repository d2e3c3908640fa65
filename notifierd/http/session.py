"""The web console's sessions: a signed cookie naming a session kept in Postgres, its CSRF
token, and sign-in's limits on guessing.

A browser cannot send a bearer token with a link or a form, so a person signs in once with their
own API token (``/ui/sign-in``) and gets a cookie: a random 256-bit session id and its HMAC.
Postgres keeps only a hash of the id (store/sessions.py), so every worker and replica finds the
session and sign-out ends it everywhere. Each request re-reads the person from the active
config: a person removed, their roles changed or their token replaced takes effect at once.

A session is cached in this process for at most ``cache_seconds`` (5 s) and never past its
expiry, so a sign-out on another worker or replica ends it here within that time; a sign-out
on this process ends it at once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from aiohttp import web

from notifierd.principals import Principal, Principals
from notifierd.store.audit import Action, Outcome

if TYPE_CHECKING:
    from notifierd.http.backend import Backend

COOKIE = "notifierd_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SIGN_IN = "/ui/sign-in"
SIGN_OUT = "/ui/sign-out"
HOME = "/ui/alerts"
SESSION_ID_BYTES = 32  # 256 bits from secrets: not guessable, whatever the request rate
CACHE_LIMIT = 10_000  # sessions remembered per process; beyond it the cache starts afresh
# Methods that change nothing: no CSRF token asked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_REFUSED = "missing or wrong CSRF token"


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """``lifetime``: how long a session lasts from sign-in; ``cache_seconds``: how long a
    process trusts what it read of a session; a failed sign-in answers after
    ``failure_delay`` seconds, and an address with ``max_failures`` failed sign-ins within
    ``failure_window`` seconds (counted in the audit log, across replicas) is refused (429)
    until older ones leave the window."""

    lifetime: timedelta = timedelta(hours=12)
    cache_seconds: float = 5.0
    failure_delay: float = 1.0
    max_failures: int = 10
    failure_window: float = 600.0


DEFAULT_SESSIONS = SessionSettings()


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The session a request came with: who, and the token its actions must send back."""

    principal: Principal
    id_hash: bytes
    csrf_token: str


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str  # the cookie's value
    signed_in: SignedIn


# The request's session, when its cookie authenticated it (never for a bearer token).
SESSION: web.RequestKey[SignedIn] = web.RequestKey("session", SignedIn)
# The token a page's forms and fetches send back with an action; empty for a caller that needs
# none (a bearer token, or an open listener). The console's layout reads it (console/render.py).
CSRF_TOKEN: web.RequestKey[str] = web.RequestKey("csrf_token", str)


@dataclass(frozen=True, slots=True)
class _Cached:
    found: _Found | None
    until: float  # monotonic


@dataclass(frozen=True, slots=True)
class _Found:
    principal: str
    credential: bytes


class Sessions:
    """Opens, finds and ends console sessions for ``backend``; one per HTTP application."""

    def __init__(
        self,
        backend: Backend,
        settings: SessionSettings,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self._monotonic = monotonic
        self._key: bytes | None = None
        self._key_lock = asyncio.Lock()
        self._cache: dict[bytes, _Cached] = {}

    async def key(self) -> bytes:
        """The database's cookie key, read once per process."""
        if self._key is None:
            async with self._key_lock:
                if self._key is None:
                    self._key = await self.backend.session_store().key()
        return self._key

    def _mac(self, key: bytes, purpose: bytes, value: bytes) -> bytes:
        return hmac.new(key, purpose + b"\0" + value, hashlib.sha256).digest()

    async def open(self, principal: Principal, token: bytes, origin: str | None) -> NewSession:
        """A new session for ``principal``, who presented ``token``."""
        key = await self.key()
        sid = secrets.token_bytes(SESSION_ID_BYTES)
        id_hash = hashlib.sha256(sid).digest()
        await self.backend.session_store().create(
            id_hash,
            principal.id,
            self._mac(key, b"credential", token),
            self.settings.lifetime,
            origin,
        )
        cookie = f"{_b64(sid)}.{_b64(self._mac(key, b'cookie', sid))}"
        return NewSession(cookie, SignedIn(principal, id_hash, self._csrf(key, sid)))

    def _csrf(self, key: bytes, sid: bytes) -> str:
        # Derived, not stored: the session's id is the secret it comes from.
        return self._mac(key, b"csrf", sid).hex()

    async def resolve(self, cookie: str, principals: Principals) -> SignedIn | None:
        """The session ``cookie`` names, with its principal as the active config has it now;
        None for a cookie that is forged, expired, signed out, or whose person is gone or has
        another token."""
        sid = _unb64(cookie.partition(".")[0])
        mac = _unb64(cookie.partition(".")[2])
        if sid is None or mac is None or len(sid) != SESSION_ID_BYTES:
            return None
        key = await self.key()
        if not hmac.compare_digest(mac, self._mac(key, b"cookie", sid)):
            return None  # refused before any query: forged cookies cost no database work
        id_hash = hashlib.sha256(sid).digest()
        found = await self._find(id_hash)
        if found is None:
            return None
        held = principals.credential_of(found.principal)
        if held is None or not hmac.compare_digest(
            found.credential, self._mac(key, b"credential", held[0])
        ):
            # Refused, not deleted: during a reload that reaches workers one after another, a
            # worker still on the old config must not end a session opened on the new one.
            return None
        return SignedIn(held[1], id_hash, self._csrf(key, sid))

    async def _find(self, id_hash: bytes) -> _Found | None:
        now = self._monotonic()
        cached = self._cache.get(id_hash)
        if cached is not None and now < cached.until:
            return cached.found
        stored = await self.backend.session_store().find(id_hash)
        if stored is None:
            self._cache.pop(id_hash, None)
            return None
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        # Never trusted past its expiry: Postgres said how long it has left.
        until = now + min(self.settings.cache_seconds, stored.seconds_left)
        found = _Found(stored.principal, stored.credential)
        self._cache[id_hash] = _Cached(found, until)
        return found

    async def end(self, id_hash: bytes) -> str | None:
        """End the session: here at once, elsewhere within ``cache_seconds``."""
        self._cache.pop(id_hash, None)
        return await self.backend.session_store().end(id_hash)

    def csrf_ok(self, signed: SignedIn, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            signed.csrf_token.encode(), (presented or "").encode("utf-8", "surrogatepass")
        )

    async def too_many_failures(self, origin: str | None) -> bool:
        """Whether ``origin`` has failed to sign in ``max_failures`` times within the window."""
        if origin is None:
            return False
        failed = await self.backend.count_recent_audit(
            Action.SIGN_IN, Outcome.FAILED, origin, self.settings.failure_window
        )
        return failed >= self.settings.max_failures


SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions", Sessions)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes | None:
    if not text or len(text) > 128 or not text.isascii():
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def https(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a proxy that says so)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def set_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    lifetime = request.app[SESSIONS].settings.lifetime
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=https(request),
    )


def clear_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: ``target`` when it is a console page on this site, else
    the alerts page. Anything else (another host, ``//host``, a scheme, a backslash that some
    browsers read as a slash, the sign-in page itself) is refused: no open redirect."""
    if not target or len(target) > 2000 or not target.isprintable() or "\\" in target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return HOME
    if not (parts.path == "/ui" or parts.path.startswith("/ui/")):
        return HOME
    if parts.path in (SIGN_IN, SIGN_OUT) or "/.." in parts.path:
        return HOME
    return target


def sign_in_location(request: web.Request) -> str:
    """The sign-in page, asked to come back to this request's page."""
    return f"{SIGN_IN}?next={quote(request.path_qs, safe='/')}"


def same_origin(request: web.Request) -> bool:
    """False for a form posted from another site (its Origin header names another host):
    refused at sign-in, so no site can sign a browser in as someone else."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host
