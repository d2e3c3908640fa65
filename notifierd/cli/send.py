"""``notifierd send``: build a request from options (or JSON), validate it, push it onto the queue."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from notifierd.cli.args import WAIT_SECONDS, parse_json, read_json
from notifierd.cli.progress import progress
from notifierd.cli.services import default_queue, postgres_url, redis_url, run_async

if TYPE_CHECKING:
    from notifierd.client import Client


def _json_option(value: str | None, what: str) -> Any:
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        try:
            with open(value[1:], encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise click.BadParameter(
                f"cannot read {value[1:]!r}: {reason}", param_hint=what
            ) from None
    try:
        return parse_json(text)
    except ValueError as exc:
        raise click.BadParameter(f"{what} is not valid JSON: {exc}") from None


def _labels(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"labels are KEY=VALUE, got {pair!r}", param_hint="--label")
        out[key] = value
    return out


@click.command()
@click.option("--title", help="Short title (the subject when no template is used).")
@click.option("--message", help="The message body.")
@click.option("--template", help="Template name or name@version.")
@click.option("--context", help="Template context as JSON, or @file.json.")
@click.option(
    "--kind", type=click.Choice(["notification", "alert"]), help="notification (default) or alert."
)
@click.option(
    "--action", type=click.Choice(["trigger", "acknowledge", "resolve"]), help="For alerts."
)
@click.option("--priority", type=click.Choice(["low", "medium", "high", "critical"]))
@click.option("--severity", type=click.Choice(["info", "warning", "error", "critical"]))
@click.option(
    "--channel",
    "channels",
    multiple=True,
    help="Override the routes' channels (repeatable): a channel name, or a type (slack, "
    "email, ...) for the routes' channels of that type, else its default: true channel.",
)
@click.option("--recipient", "recipients", multiple=True, help="Override recipients (repeatable).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--label", "labels", multiple=True, help="A label KEY=VALUE (repeatable).")
@click.option("--metadata", help="Metadata as JSON, or @file.json.")
@click.option("--source", help="Who sends this, e.g. ci:deploy or maintenance:db.")
@click.option("--protocol", help="e.g. P-OPS-POSTMORTEM.")
@click.option(
    "--dedup-key", help="Requests with the same key within the dedup window are sent once."
)
@click.option("--escalation-policy", help="Escalation policy id (alerts).")
@click.option("--id", "request_id", help="Idempotency key (generated when absent).")
@click.option(
    "--json",
    "json_file",
    type=click.File("r"),
    help="Read the whole request from a JSON file, or - for stdin.",
)
@click.option(
    "--queue", default=default_queue, show_default="$NOTIFIERD_QUEUE or notifierd:requests"
)
@click.option(
    "--wait",
    "wait",
    type=WAIT_SECONDS,
    default=None,
    metavar="SECONDS",
    help="Wait up to SECONDS for the outcome and print it.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def send(
    title: str | None,
    message: str | None,
    template: str | None,
    context: str | None,
    kind: str | None,
    action: str | None,
    priority: str | None,
    severity: str | None,
    channels: tuple[str, ...],
    recipients: tuple[str, ...],
    tags: tuple[str, ...],
    labels: tuple[str, ...],
    metadata: str | None,
    source: str | None,
    protocol: str | None,
    dedup_key: str | None,
    escalation_policy: str | None,
    request_id: str | None,
    json_file: Any,
    queue: str,
    wait: float | None,
    fmt: str,
) -> None:
    """Validate a request and push it onto the queue; prints its id."""
    from notifierd.client import Client, InvalidRequest, build_request

    base: dict[str, Any] = {}
    if json_file is not None:
        try:
            base = read_json(json_file)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--json") from None
        if not isinstance(base, dict):
            raise click.BadParameter("the request must be a JSON object", param_hint="--json")
    fields = {
        "id": request_id,
        "kind": kind,
        "action": action,
        "title": title,
        "message": message,
        "template": template,
        "context": _json_option(context, "--context"),
        "priority": priority,
        "severity": severity,
        "channels": list(channels),
        "recipients": list(recipients),
        "tags": list(tags),
        "labels": _labels(labels),
        "metadata": _json_option(metadata, "--metadata"),
        "source": source,
        "protocol": protocol,
        "dedup_key": dedup_key,
        "escalation_policy": escalation_policy,
    }
    request = {**base, **{k: v for k, v in fields.items() if v not in (None, [], {})}}

    try:
        # Checked first, so a request that cannot be sent connects to nothing.
        payload = build_request(request)
    except InvalidRequest as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    # Malformed URLs are usage errors here, before anything is pushed.
    redis_at = redis_url()
    postgres_at = postgres_url() if wait else None

    def announce(status: dict[str, Any] | None) -> None:
        # One line per event, the same object each time: the id as soon as it is queued, and
        # with --wait the outcome last (`head -1` / `tail -1` in scripts).
        if fmt == "json":
            click.echo(json.dumps({"id": payload["id"], "queue": queue, "status": status}))
        elif status is None:
            click.echo(payload["id"])

    async def main() -> dict[str, Any] | None:
        async with Client(redis_at, postgres_at, queue) as client:
            if wait:
                await _can_wait(client)
            rid = await client.send(payload)
            announce(None)
            if not wait:
                return None
            try:
                with progress(f"waiting for {rid} to be delivered"):
                    return await client.wait(rid, wait)
            except Exception as exc:  # whatever it was, the request is on the queue: say so
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise click.ClickException(
                    f"the request WAS queued with id {rid}, but waiting for its outcome failed: "
                    f"{reason}; check it with `notifierd status {rid}`"
                ) from None

    status = run_async(main())
    if status is not None:
        if fmt == "json":
            announce(status)
            return
        click.echo(f"status: {status['status']}")
        if status.get("reason"):  # e.g. rejected: a channel type with no channel to go to
            click.echo(f"reason: {status['reason']}")
        for d in status["deliveries"]:
            click.echo(
                f"  {d['channel']:<20} {d['recipient'] or '-':<28} {d['status']:<10} {d['error'] or ''}"
            )
    elif wait:
        click.echo(
            f"not processed within {wait:g}s (is the daemon running on queue {queue}?); "
            f"check it later with `notifierd status {payload['id']}`",
            err=True,
        )


async def _can_wait(client: Client) -> None:
    """Postgres answers, or a usage-level error saying nothing was sent: --wait reads the
    outcome from there, and a request pushed that cannot be waited for tempts a second send."""
    from notifierd.errors import InvalidServiceUrl, ServiceUnavailable

    try:
        await client.connect_status()
    except ServiceUnavailable as exc:
        # A URL asyncpg cannot use is the user's to fix (usage, 2); a server down is not (1).
        kind = _BadUrl if isinstance(exc, InvalidServiceUrl) else click.ClickException
        raise kind(
            f"{exc}; nothing was sent: --wait reads the outcome from PostgreSQL "
            "(fix POSTGRES_URL, or send without --wait)"
        ) from None


class _BadUrl(click.ClickException):
    exit_code = 2
