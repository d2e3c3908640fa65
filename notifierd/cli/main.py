"""The ``notifierd`` command group; each subcommand lives in its own module."""

from __future__ import annotations

import click

from notifierd import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="notifierd")
def cli() -> None:
    """notifierd — declarative, GitOps notification daemon."""


def _register() -> None:
    # Imported here so each command module stays import-light and self-contained.
    from notifierd.cli import alerts, channel, dlq, routes, run, send, status, template, validate
    from notifierd.cli import test as config_test
    from notifierd.cli.diff import diff
    from notifierd.cli.heartbeats import heartbeats
    from notifierd.cli.lint import lint
    from notifierd.cli.oncall import oncall
    from notifierd.cli.ratelimit import ratelimit

    cli.add_command(validate.validate)
    cli.add_command(config_test.test)
    cli.add_command(lint)
    cli.add_command(diff)
    cli.add_command(routes.routes)
    cli.add_command(template.template)
    cli.add_command(run.run)
    cli.add_command(run.migrate)
    cli.add_command(send.send)
    cli.add_command(status.status)
    cli.add_command(status.history)
    cli.add_command(status.metrics)
    cli.add_command(dlq.dlq)
    cli.add_command(channel.channel)
    cli.add_command(alerts.alerts)
    cli.add_command(ratelimit)
    cli.add_command(oncall)
    cli.add_command(heartbeats)


def main() -> None:
    _register()
    cli(prog_name="notifierd")
