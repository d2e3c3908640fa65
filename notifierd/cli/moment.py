"""``--at TIME``: an ISO-8601 moment on the command line, read as an aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, datetime

import click


class Moment(click.ParamType):
    """ISO-8601 with a trailing ``Z`` or an offset; a naive time means UTC. Every accepted
    value is representable in UTC, so comparing it with the config's times cannot overflow."""

    name = "TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            # Python 3.10's fromisoformat does not read a trailing Z.
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
        except ValueError:
            self.fail(
                f"{text!r} is not an ISO-8601 time; e.g. 2026-12-01T02:30:00Z or "
                "2026-12-01T03:30+01:00",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            self.fail(f"{text!r} is outside the years 1 to 9999 in UTC", param, ctx)
