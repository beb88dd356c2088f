"""Placeholder: serve (to be built)."""
import click

from mapapp.cli import data_option


@click.command("serve")
@data_option
def serve_command(data):
    """Placeholder."""
    raise click.ClickException("not built yet")
