"""Reliable Redis intake: the queue consumer and request parsing."""

from notifierd.intake.consumer import Consumer, recover
from notifierd.intake.parse import Rejection, parse_request

__all__ = ["Consumer", "Rejection", "parse_request", "recover"]
