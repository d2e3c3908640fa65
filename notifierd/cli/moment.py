"""``--at TIME``: an ISO-8601 moment on the command line, read as an aware UTC datetime."""

from __future__ import annotations

from datetime import datetime

import click

from notifierd.schedules.listing import parse_moment


class Moment(click.ParamType):
    """ISO-8601 with a trailing ``Z`` or an offset; a naive time means UTC. Every accepted
    value is representable in UTC, so comparing it with the config's times cannot overflow."""

    name = "TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        moment = parse_moment(str(value))
        if isinstance(moment, str):
            self.fail(moment, param, ctx)
        return moment
