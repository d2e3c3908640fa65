"""``notifierd routes test``: where would this request go, with which template, and when."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from os.path import isdir
from typing import IO, Any

import click

from notifierd.active import Active
from notifierd.cli import common
from notifierd.cli.args import Moment, read_json
from notifierd.cli.runtime import RUNTIME_OPTION, read_runtime
from notifierd.cli.tables import TABLE_FORMAT, print_table, stdout_console
from notifierd.config.model import Snapshot
from notifierd.pipeline.preview import Finding, Preview, PreviewDelivery, preview
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
@common.config_option()
@click.option(
    "--json",
    "json_file",
    type=click.File("r"),
    help="Read the request as JSON from FILE ('-' for stdin); FIELD=VALUE pairs override it.",
)
@click.option(
    "--at",
    "at",
    type=Moment(),
    help="Route as of this ISO-8601 time (default: now; naive means UTC).",
)
@RUNTIME_OPTION
@TABLE_FORMAT
def test(
    fields: tuple[str, ...],
    config_dir: str,
    json_file: IO[str] | None,
    at: datetime | None,
    with_runtime: bool,
    fmt: str,
) -> None:
    """Show where a request would go, and what the daemon would do with it.

    Each delivery with what the daemon would record (send, dead, suppressed), then warnings
    (recorded, still delivered) and failures (rejected, dead-lettered, reaching no one).
    Exit 0 when it would deliver (warnings allowed), 1 when the daemon would reject, ignore or
    dead-letter anything of it, 2 on usage errors.

    FIELD=VALUE builds the request: severity=critical, priority=low, source=ci,
    tags=deploy,web (comma-separated; also channels and recipients), label.env=prod (any other
    name is a label too), context.version=v2. The title defaults to "test".

    The run-time silences and schedule overrides in Postgres apply too when $POSTGRES_URL is
    set and answers (the output says whether they were read); --no-runtime leaves them out.

    \b
    Examples:
      notifierd routes test severity=critical
      notifierd routes test tags=deploy env=prod --at 2026-12-01T01:00:00Z
      echo '{"title": "x", "message": "y"}' | notifierd routes test --json -
    """
    now = at or datetime.now(UTC)
    data = _request_data(fields, json_file)
    snapshot = common.load_or_exit(config_dir)
    runtime = read_runtime(now, with_runtime)
    active = Active.of(snapshot).with_runtime(runtime.runtime.silences, runtime.runtime.overrides)
    result = preview(active, data, now)
    report = _report(snapshot, data, result, now)
    report["runtime"] = {"read": runtime.read, "note": runtime.note}
    if fmt == "json":
        common.print_json(report)
    else:
        _print_table(report)
    if result.fails:
        sys.exit(1)


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
            # `routes test cfg`, as validate takes its directory: say how to name it here.
            hint = f"; to use the config in {item}, write --config {item}" if isdir(item) else ""
            raise click.BadParameter(
                f"{item!r} is not FIELD=VALUE (e.g. severity=critical or label.env=prod){hint}",
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


def _where(finding: Finding) -> dict[str, Any]:
    return {"message": finding.message, "channel": finding.channel, "recipient": finding.recipient}


def _delivery(d: PreviewDelivery) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "channel": d.planned.channel,
        "type": d.channel_type,
        "recipient": d.planned.recipient,
        "template": d.template,
        "template_from": d.planned.template_from,
        "route": d.planned.route,
        "status": str(d.status),
    }
    if d.error is not None:
        entry["error"] = d.error
    if d.note is not None:
        entry["note"] = d.note
    return entry


def _report(
    snapshot: Snapshot, data: dict[str, Any], result: Preview, now: datetime
) -> dict[str, Any]:
    decision = result.decision
    request_id = result.request.id if result.request else data.get("id")
    suppressed: dict[str, Any] | None = None
    if decision is not None and decision.silenced_by is not None:
        silence = decision.silenced_by
        suppressed = {
            "name": silence.name,
            "until": silence.ends_at.isoformat(),
            "runtime": {"by": silence.created_by, "reason": silence.reason},
        }
    elif decision is not None and decision.suppressed_by is not None:
        suppression = next(s for s in snapshot.suppressions if s.name == decision.suppressed_by)
        until = window_ends_at(suppression, now)
        suppressed = {"name": suppression.name, "until": until.isoformat() if until else None}
    escalation = decision.escalation if decision else None
    action = result.alert_action
    return {
        "request_id": request_id,
        "at": now.isoformat(),
        "config": str(snapshot.identity),
        "outcome": result.outcome,
        "reason": result.reason,
        "routes": list(decision.routes) if decision else [],
        "deliveries": [_delivery(d) for d in result.deliveries],
        "alert_action": (
            {"action": action.action, "dedup_key": action.dedup_key} if action else None
        ),
        "escalation": escalation,
        "escalation_known": escalation in snapshot.policies if escalation else None,
        "escalates": result.escalates,
        "suppressed_by": suppressed,
        "unknown_channels": list(result.unknown_channels),
        "rejected": list(decision.refused) if decision else [],
        "failures": [_where(f) for f in result.failures],
        "warnings": [_where(w) for w in result.warnings],
    }


# What the daemon would record for each delivery, as a person reads it.
_SHOWN_STATUS = {"queued": "send", "dead": "dead", "suppressed": "suppressed"}


def _template_cell(delivery: dict[str, Any]) -> str:
    if delivery["template"] is None:
        return "plain title + message"
    return f"{delivery['template']} ({delivery['template_from']})"


def _place(finding: dict[str, Any]) -> str:
    if finding["channel"] is None:
        return ""
    if finding["recipient"] is None:
        return f"{finding['channel']}: "
    return f"{finding['channel']} → {finding['recipient']}: "


def _alert_effect(action: dict[str, Any]) -> str:
    what = (
        "acknowledges it (its escalation stops)"
        if action["action"] == "acknowledge"
        else "resolves it (what is left of its escalation is cancelled)"
    )
    return (
        f"{action['action']}: acts on the open alert with id or dedup_key "
        f"{action['dedup_key']!r}, it is not routed; it {what} if that alert is open and the "
        "sender may act on it (the default queue's anonymous producer may not unless "
        "producers.anonymous.may_act_on grants it)"
    )


def _print_table(report: dict[str, Any]) -> None:
    from rich.markup import escape

    console = stdout_console()
    console.print(
        f"request [bold]{escape(str(report['request_id'] or '(no id)'))}[/] at {report['at']} "
        f"(config {report['config']})"
    )
    action = report["alert_action"]
    routed = action is None and report["outcome"] != "rejected"
    if action is not None and action["dedup_key"]:
        console.print(escape(_alert_effect(action)), soft_wrap=True)
    elif routed or report["routes"]:
        routes = " → ".join(report["routes"]) or "[yellow]none[/] (no route matches)"
        console.print(f"routes: {escape(routes)}")
    if report["deliveries"]:
        print_table(
            None,
            ["channel", "type", "recipient", "template", "route", "status"],
            [
                [
                    d["channel"],
                    d["type"] or "?",
                    d["recipient"] or "(configured target)",
                    _template_cell(d),
                    d["route"] or "(request)",
                    _SHOWN_STATUS.get(d["status"], d["status"]),
                ]
                for d in report["deliveries"]
            ],
        )
    elif routed:
        console.print("deliveries: [yellow]none[/]")
    if routed:
        escalation = report["escalation"] or "none"
        if report["escalation"] and not report["escalation_known"]:
            escalation += " [red](no such policy in the config)[/]"
        if report["escalation"] and not report["escalates"]:
            escalation += " [dim](only a triggered alert escalates)[/]"
        console.print(f"escalation: {escalation}")
        suppressed = report["suppressed_by"]
        if suppressed is None:
            console.print("suppressed: no")
        else:
            until = suppressed["until"] or "no end in sight"
            added = suppressed.get("runtime")
            by = (
                f", a run-time silence by {escape(added['by'])}: {escape(added['reason'])}"
                if added
                else ""
            )
            console.print(
                f"suppressed: [yellow]{suppressed['name']}[/] until {until}{by} "
                "(deliveries are recorded as suppressed, not sent)",
                soft_wrap=True,
            )
    outcome = report["outcome"]
    if report["reason"] and all(f["message"] != report["reason"] for f in report["failures"]):
        outcome += f": {report['reason']}"
    console.print(f"outcome: {escape(outcome)}", soft_wrap=True)
    if "runtime" in report:
        console.print(
            f"run-time silences and overrides: {escape(report['runtime']['note'])}", soft_wrap=True
        )
    for w in report["warnings"]:
        console.print(f"[yellow]warning[/]: {escape(_place(w) + w['message'])}", soft_wrap=True)
    for f in report["failures"]:
        console.print(f"[red]failure[/]: {escape(_place(f) + f['message'])}", soft_wrap=True)
