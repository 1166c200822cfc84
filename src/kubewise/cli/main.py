"""The `kubewise` command: one Typer app, one module per command group.

Entry point declared in pyproject (`kubewise = kubewise.cli.main:app`).
"""

from __future__ import annotations

import typer

from kubewise import __version__
from kubewise.cli.agent import agent
from kubewise.cli.connect import connect
from kubewise.cli.controller import controller
from kubewise.cli.demo import demo
from kubewise.cli.doctor import debug_bundle, doctor
from kubewise.cli.onboard import offboard_command, onboard_command
from kubewise.cli.platform import admin_app, db_app, server
from kubewise.cli.policies import policies_app
from kubewise.cli.savings import savings
from kubewise.cli.simulate import simulate_command
from kubewise.cli.workloads import workloads_app

app = typer.Typer(
    name="kubewise",
    help="Kubernetes cost optimization: what your cluster costs and the cheapest nodes that run it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="savings")(savings)
app.command(name="server")(server)
app.command(name="agent")(agent)
app.command(name="controller")(controller)
app.command(name="simulate")(simulate_command)
app.command(name="demo")(demo)
app.command(name="connect")(connect)
app.command(name="doctor")(doctor)
app.command(name="debug-bundle")(debug_bundle)
app.command(name="onboard")(onboard_command)
app.command(name="offboard")(offboard_command)
app.add_typer(admin_app, name="admin")
app.add_typer(db_app, name="db")
app.add_typer(policies_app, name="policies")
app.add_typer(workloads_app, name="workloads")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kubewise {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """kubewise command line."""
