"""Placeholder: gazetteer commands (to be built)."""
import click

from mapapp.cli import data_option


@click.command("gazetteer")
@data_option
def gazetteer_group(data):
    """Placeholder."""
    raise click.ClickException("not built yet")
