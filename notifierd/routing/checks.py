"""Matchers as fast checks over a request: the router's and the run-time silences' one way to
test them (a plain attribute or label read, no dispatch per call)."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

from notifierd.config.matchers import REQUEST_FIELDS, Matcher
from notifierd.request import Request

Check = Callable[[Request], bool]


def getter(name: str) -> Callable[[Request], str]:
    """The value a matcher named ``name`` sees (same as ``Request.lookup``, minus dispatch)."""
    if name == "template":
        return lambda r: str(r.template) if r.template else ""
    if name in REQUEST_FIELDS:
        get = attrgetter(name)
        return lambda r: get(r) or ""
    return lambda r: r.labels.get(name, "")


def check(m: Matcher) -> Check:
    """``m`` as a function of a request; equal to ``m.matches``."""
    if m.name == "tags":
        return m.matches
    get, value = getter(m.name), m.value
    if m.op == "=":
        return lambda r: get(r) == value
    if m.op == "!=":
        return lambda r: get(r) != value
    assert m.regex is not None
    fullmatch = m.regex.fullmatch
    if m.op == "=~":
        return lambda r: fullmatch(get(r)) is not None
    return lambda r: fullmatch(get(r)) is None
