"""Placeholder: geoparse and evaluate (to be built)."""
import click

from mapapp.cli import data_option


@click.command("geoparse")
@data_option
def geoparse_command(data):
    """Placeholder."""
    raise click.ClickException("not built yet")


@click.command("evaluate")
@data_option
def evaluate_command(data):
    """Placeholder."""
    raise click.ClickException("not built yet")
