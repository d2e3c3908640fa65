"""The web console's sessions in Postgres (migration 0020): created at sign-in, found on each
request, ended at sign-out; and the key that signs their cookies, shared by every process.

Only a hash of a session id is stored, and only an HMAC of the credential it was opened with:
nothing here signs anyone in by itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from notifierd.store.queries import q

KEY_BYTES = 32
COOKIE_KEY = "session-cookie"  # console_keys.name of the cookie and CSRF key


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session that has not expired: whose it is, the HMAC of the credential it was opened
    with, and how long it has left (by Postgres' clock, when it was read)."""

    principal: str
    credential: bytes
    seconds_left: float


class SessionStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def key(self, name: str = COOKIE_KEY) -> bytes:
        """The named key: made at random by the first process that asks, then the same for
        every worker and replica on this database."""
        for _ in range(2):
            found = await self.pool.fetchval(q("console_key"), name, secrets.token_bytes(KEY_BYTES))
            if found is not None:
                return bytes(found)
            # Another process made it while this statement ran: its snapshot could not see the
            # row it waited for, the next statement's can.
        raise RuntimeError(f"console key {name!r} neither made nor found")

    async def create(
        self,
        id_hash: bytes,
        principal: str,
        credential: bytes,
        lifetime: timedelta,
        origin: str | None,
    ) -> datetime:
        """Store a new session; returns when it expires."""
        expires: datetime = await self.pool.fetchval(
            q("create_session"),
            id_hash,
            principal,
            lifetime.total_seconds(),
            credential,
            origin,
        )
        return expires

    async def find(self, id_hash: bytes) -> StoredSession | None:
        """The session with this id hash, if it exists and has not expired."""
        row = await self.pool.fetchrow(q("find_session"), id_hash)
        if row is None:
            return None
        return StoredSession(row["principal"], bytes(row["credential"]), row["seconds_left"])

    async def end(self, id_hash: bytes) -> str | None:
        """Delete the session; returns whose it was, None when there was none."""
        return await self.pool.fetchval(q("end_session"), id_hash)  # type: ignore[no-any-return]
