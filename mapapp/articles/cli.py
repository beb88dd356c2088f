"""Placeholder: ingest (to be built)."""
import click

from mapapp.cli import data_option


@click.command("ingest")
@data_option
def ingest_command(data):
    """Placeholder."""
    raise click.ClickException("not built yet")
