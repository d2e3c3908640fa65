"""Reliable Redis intake: the queue consumer, request parsing, dedup and rate limits."""

from notifierd.intake.connect import connect_redis
from notifierd.intake.consumer import Consumer, recover
from notifierd.intake.dedup import Deduplicator
from notifierd.intake.keys import Keys
from notifierd.intake.parse import Rejection, parse_request
from notifierd.intake.ratelimit import RateLimiter, RateLimitTimeout, limits_for

__all__ = [
    "Consumer",
    "Deduplicator",
    "Keys",
    "RateLimitTimeout",
    "RateLimiter",
    "Rejection",
    "connect_redis",
    "limits_for",
    "parse_request",
    "recover",
]
