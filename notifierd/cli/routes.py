"""``notifierd routes test``: where would this request go, with which template, and when."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import IO, Any

import click

from notifierd.cli import common
from notifierd.cli.args import Instant, read_json
from notifierd.config.model import Snapshot
from notifierd.request import Request
from notifierd.routing.router import PlannedDelivery, Router, RoutingDecision
from notifierd.routing.suppression import window_ends_at

SCALAR_FIELDS = frozenset(
    {
        "id",
        "kind",
        "action",
        "title",
        "message",
        "template",
        "priority",
        "severity",
        "source",
        "protocol",
        "dedup_key",
        "escalation_policy",
    }
)
LIST_FIELDS = frozenset({"tags", "channels", "recipients"})
# `label.env=prod` (or `labels.env=prod`); `context.x` and `metadata.x` likewise.
MAP_PREFIXES = {"label": "labels", "labels": "labels", "context": "context", "metadata": "metadata"}


@click.group()
def routes() -> None:
    """Inspect routing: which routes, channels and recipients a request reaches."""


@routes.command("test")
@click.argument("fields", nargs=-1, metavar="[FIELD=VALUE]...")
@click.option(
    "--config",
    "config_dir",
    default=common.default_config_dir,
    type=click.Path(file_okay=False),
    help=common.CONFIG_OPTION_HELP,
)
@click.option(
    "--json",
    "json_file",
    type=click.File("r"),
    help="Read the request as JSON from FILE ('-' for stdin); FIELD=VALUE pairs override it.",
)
@click.option(
    "--at",
    "at",
    type=Instant(),
    help="Route as of this ISO-8601 time (default: now; naive means UTC).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people, JSON for scripts.",
)
def test(
    fields: tuple[str, ...],
    config_dir: str,
    json_file: IO[str] | None,
    at: datetime | None,
    fmt: str,
) -> None:
    """Show where a request would go.

    FIELD=VALUE builds the request: severity=critical, priority=low, source=ci,
    tags=deploy,web (comma-separated; also channels and recipients), label.env=prod (any other
    name is a label too), context.version=v2. The title defaults to "test".

    \b
    Examples:
      notifierd routes test severity=critical
      notifierd routes test tags=deploy env=prod --at 2026-12-01T01:00:00Z
      echo '{"title": "x", "message": "y"}' | notifierd routes test --json -
    """
    now = at or datetime.now(UTC)
    data = _request_data(fields, json_file)
    request = _build_request(data)
    snapshot = common.load_or_exit(config_dir)
    decision = Router(snapshot).route(request, now)
    report = _report(snapshot, decision, now)
    if fmt == "json":
        common.print_json(report)
    else:
        _print_table(report)


def _request_data(fields: tuple[str, ...], json_file: IO[str] | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if json_file is not None:
        try:
            loaded = read_json(json_file)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(
                f"{json_file.name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}",
                param_hint="--json",
            ) from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(
                f"{json_file.name}: a request is a JSON object, not {type(loaded).__name__}",
                param_hint="--json",
            )
        data = loaded
    for item in fields:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(
                f"{item!r} is not FIELD=VALUE (e.g. severity=critical or label.env=prod)",
                param_hint="FIELD=VALUE",
            )
        head, dot, key = name.partition(".")
        if name in SCALAR_FIELDS:
            data[name] = value
        elif name in LIST_FIELDS:
            data[name] = [part.strip() for part in value.split(",") if part.strip()]
        elif dot and head in MAP_PREFIXES and key:
            data.setdefault(MAP_PREFIXES[head], {})[key] = value
        else:
            data.setdefault("labels", {})[name] = value
    if json_file is None:
        data.setdefault("title", "test")
        if "template" not in data:
            data.setdefault("message", "test")
    return data


def _build_request(data: dict[str, Any]) -> Request:
    errors = _schema_errors(data)
    if errors:
        lines = "\n".join(f"  {line}" for line in errors)
        common.fail(f"the request does not match the request schema:\n{lines}", 2)
    try:
        return Request.from_dict(data)
    except (TypeError, ValueError, AttributeError) as exc:
        common.fail(f"cannot build a request from the input: {exc}", 2)


def _schema_errors(data: dict[str, Any]) -> list[str]:
    """``where: message`` for each way ``data`` breaks ``request.schema.json``."""
    try:
        from notifierd.config.schemas import validator

        found = list(validator("request").iter_errors(data))
    except (ImportError, FileNotFoundError):  # an install without schemas: route what we got
        return []
    found.sort(key=lambda e: [str(p) for p in e.path])
    return [f"{'/'.join(str(p) for p in e.path) or '(request)'}: {e.message}" for e in found]


def _template_text(snapshot: Snapshot, delivery: PlannedDelivery) -> tuple[str | None, str | None]:
    """The resolved ``name@version`` (or the reference as given) and why it does not resolve."""
    from notifierd.templates import TemplateCatalog, TemplateNotFound

    if delivery.template is None:
        return None, None
    try:
        found = TemplateCatalog(snapshot).resolve(delivery.template)
    except TemplateNotFound:
        return str(delivery.template), "no such template in the config"
    return found.ref, None


def _report(snapshot: Snapshot, decision: RoutingDecision, now: datetime) -> dict[str, Any]:
    deliveries = []
    for d in decision.deliveries:
        template, problem = _template_text(snapshot, d)
        channel = snapshot.channels.get(d.channel)
        entry: dict[str, Any] = {
            "channel": d.channel,
            "type": channel.type if channel else None,
            "recipient": d.recipient,
            "template": template,
            "template_from": d.template_from,
            "route": d.route,
        }
        if problem:
            entry["template_error"] = problem
        deliveries.append(entry)
    suppressed = None
    if decision.suppressed_by is not None:
        suppression = next(s for s in snapshot.suppressions if s.name == decision.suppressed_by)
        until = window_ends_at(suppression, now)
        suppressed = {"name": suppression.name, "until": until.isoformat() if until else None}
    return {
        "request_id": decision.request_id,
        "at": now.isoformat(),
        "config": str(snapshot.identity),
        "routes": list(decision.routes),
        "deliveries": deliveries,
        "escalation": decision.escalation,
        "escalation_known": (
            decision.escalation in snapshot.policies if decision.escalation else None
        ),
        "suppressed_by": suppressed,
        "unknown_channels": list(decision.unknown_channels),
        "rejected": list(decision.refused),
    }


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(
        f"request [bold]{report['request_id']}[/] at {report['at']} (config {report['config']})"
    )
    routes = " → ".join(report["routes"]) or "[yellow]none[/] (no route matches)"
    console.print(f"routes: {routes}")
    if report["deliveries"]:
        table = Table()
        for header in ("channel", "type", "recipient", "template", "route"):
            # Fold rather than truncate: a clipped address or route name answers nothing.
            table.add_column(header, overflow="fold")
        for d in report["deliveries"]:
            if d["template"] is None:
                template = "[dim]plain title + message[/]"
            else:
                template = f"{d['template']} [dim]({d['template_from']})[/]"
                if "template_error" in d:
                    template += f" [red]{d['template_error']}[/]"
            table.add_row(
                d["channel"],
                d["type"] or "?",
                d["recipient"] or "[dim]configured target[/]",
                template,
                d["route"] or "[dim]request[/]",
            )
        console.print(table)
    else:
        console.print("deliveries: [yellow]none[/]")
    for reason in report["rejected"]:
        console.print(f"[red]rejected[/] (nothing would be sent): {reason}", soft_wrap=True)
    if report["unknown_channels"]:
        names = ", ".join(report["unknown_channels"])
        console.print(f"[red]unknown channels[/] (would fail permanently): {names}")
    escalation = report["escalation"] or "none"
    if report["escalation"] and not report["escalation_known"]:
        escalation += " [red](no such policy in the config)[/]"
    console.print(f"escalation: {escalation}")
    suppressed = report["suppressed_by"]
    if suppressed is None:
        console.print("suppressed: no")
    else:
        until = suppressed["until"] or "no end in sight"
        console.print(
            f"suppressed: [yellow]{suppressed['name']}[/] until {until} "
            "(deliveries are recorded as suppressed, not sent)"
        )
