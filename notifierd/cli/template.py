"""``notifierd template list|render``: the templates of a config and what each channel gets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from notifierd.cli import common
from notifierd.cli.args import parse_json
from notifierd.cli.tables import TABLE_FORMAT, print_table


@click.group()
def template() -> None:
    """List templates and preview what each channel would receive."""


@template.command("list")
@common.config_option()
@click.option("--category", help="Only templates of this category (e.g. incident, deployment).")
@TABLE_FORMAT
def list_(config_dir: str, category: str | None, fmt: str) -> None:
    """List every template with its versions (the newest is what `name` resolves to)."""
    from notifierd.templates import TemplateCatalog

    catalog = TemplateCatalog(common.load_or_exit(config_dir))
    rows: list[dict[str, Any]] = []
    categories: set[str] = set()
    for name in catalog.names():
        versions = catalog.versions(name)
        newest = versions[-1]
        if newest.category:
            categories.add(newest.category)
        if category and (newest.category or "").lower() != category.lower():
            continue
        required = (newest.variables or {}).get("required") or []
        rows.append(
            {
                "name": name,
                "versions": [tv.version for tv in versions],
                "newest": newest.version,
                "category": newest.category,
                "description": newest.description,
                "required": list(required),
                "variants": list(newest.variants()),
            }
        )
    if category and not rows:
        # Exit 0 with nothing listed, as a filter that matches nothing does; stderr says
        # which categories would have.
        known = ", ".join(sorted(categories)) or "none"
        click.echo(f"no template has category {category!r}; categories: {known}", err=True)
    if fmt == "json":
        common.print_json(rows)
        return
    print_table(
        f"{len(rows)} template(s)",
        ["name", "versions", "newest", "category", "variants", "description"],
        [
            [
                row["name"],
                ", ".join(row["versions"]),
                row["newest"],
                row["category"],
                ", ".join(row["variants"]) or "-",
                row["description"],
            ]
            for row in rows
        ],
    )


def _read_context(value: str) -> dict[str, Any]:
    """``--context``: a JSON object inline, from ``@file``, or ``@-`` for stdin."""
    source = "--context"
    text = value
    if value.startswith("@"):
        source = value[1:] or "-"
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.reason if isinstance(exc, UnicodeDecodeError) else exc.strerror or exc
            common.fail(f"cannot read --context file {source!r}: {reason}")
    try:
        data = parse_json(text)
    except json.JSONDecodeError as exc:
        common.fail(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}")
    if not isinstance(data, dict):
        common.fail(f"{source}: the context must be a JSON object, not {type(data).__name__}")
    return data


@template.command("render")
@click.argument("ref", metavar="NAME[@VERSION]")
@common.config_option()
@click.option(
    "--context",
    "context_arg",
    metavar="JSON|@FILE",
    help="The context as a JSON object, or @file (@- for stdin). Alone it is the whole "
    "context; with --example N it is laid over that example.",
)
@click.option(
    "--channel",
    help="A channel type (slack, email, ...) or a channel name; default: every channel type.",
)
@click.option(
    "--example",
    type=click.IntRange(min=1),
    help="Start from the template's example N (1-based); default: the first example, "
    "unless --context is given.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Readable text, or JSON with each channel type's content.",
)
def render(
    ref: str,
    config_dir: str,
    context_arg: str | None,
    channel: str | None,
    example: int | None,
    fmt: str,
) -> None:
    """Show exactly what each channel type would receive from a template.

    \b
    Examples:
      notifierd template render deployment_complete
      notifierd template render deployment_complete@1.0 --context '{"environment": "prod",
        "version": "v2", "deployer": "ann"}' --channel slack
      notifierd template render incident_alert --example 2 --format json
    """
    from notifierd.templates import TemplateCatalog
    from notifierd.templates.preview import PreviewRefused, channel_targets, preview

    extra = _read_context(context_arg) if context_arg is not None else None
    snapshot = common.load_or_exit(config_dir)
    targets = channel_targets(snapshot, channel)
    if isinstance(targets, str):
        raise click.BadParameter(targets, param_hint="--channel")
    shown = preview(TemplateCatalog(snapshot), targets, ref, extra, example)
    if isinstance(shown, PreviewRefused):
        if shown.about == "example":
            raise click.BadParameter(shown.reason, param_hint="--example")
        hint = (
            " (give them in --context, or add --example 1 to lay --context over an example)"
            if shown.try_example
            else ""
        )
        common.fail(f"{ref}: {shown.reason}{hint}")
    if fmt == "json":
        common.print_json(
            {"template": shown.template, "context": shown.context, "channels": shown.channels}
        )
        return
    _print_text(shown.template, shown.channels)


def _print_text(ref: str, rendered: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.rule import Rule

    console = Console(highlight=False, soft_wrap=True)
    for label, content in rendered.items():
        console.print(Rule(f"{ref} → {label}", align="left"))
        for key, value in content.items():
            if value is None:
                continue
            if isinstance(value, (dict, list)):
                value = json.dumps(value, indent=2, ensure_ascii=False)
            text = str(value)
            if "\n" in text:
                console.print(f"[bold]{key}:[/bold]")
                console.print(text, markup=False)
            else:
                console.print(f"[bold]{key}:[/bold] ", end="")
                console.print(text, markup=False)
        console.print()
