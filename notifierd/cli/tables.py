"""Every table the CLI prints: a rich table on a terminal, tab-separated rows through a pipe.

A CI log, ``| less`` or ``| grep`` is not a terminal; rich would lay a table out for 80 columns
there and split ids and secret names mid-word. Through a pipe a table is therefore a header row
and one line per row, columns separated by tabs, never cut or wrapped, so ``cut -f`` and
``awk -F'\\t'`` can rely on the positions.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from rich.console import Console

# A cell: what the command has; None and "" both print as nothing.
Cell = str | int | float | None

TABLE_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table (tab-separated with a header row when stdout is not a terminal), "
    "or JSON for scripts.",
)


def stdout_is_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def cell_text(value: Cell) -> str:
    return "" if value is None else str(value)


def plain_cell(value: Cell) -> str:
    """A value on one tab-separated line: tabs and line breaks inside it become spaces."""
    text = cell_text(value)
    return text.replace("\r\n", " ").replace("\t", " ").replace("\n", " ").replace("\r", " ")


def plain_lines(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[str]:
    """The header row and one line per row, tab-separated, every column kept."""
    return ["\t".join(plain_cell(v) for v in line) for line in [list(columns), *rows]]


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    """Print one table on stdout in the form that suits where stdout goes.

    On a terminal the title is shown and columns with nothing in any row are left out; through
    a pipe every column is kept (positions matter more than room) and the title is left out,
    so the first line is always the header row.
    """
    if not stdout_is_terminal():
        for line in plain_lines(columns, rows):
            click.echo(line)
        return
    from rich.table import Table
    from rich.text import Text

    keep = [i for i in range(len(columns)) if any(cell_text(row[i]) for row in rows)] or list(
        range(len(columns))
    )
    table = Table(title=title, title_justify="left")
    for i in keep:
        # Fold rather than truncate: a clipped id or address answers nothing.
        table.add_column(columns[i], overflow="fold")
    for row in rows:
        # Text, not markup: a title or an error may hold square brackets.
        table.add_row(*[Text(cell_text(row[i])) for i in keep])
    stdout_console().print(table)


def stdout_console() -> Console:
    """Where a command prints rich text: markup on a terminal; through a pipe, lines are
    never wrapped at an imagined width of 80 columns."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=not stdout_is_terminal())
